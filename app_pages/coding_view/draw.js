// Codeframe's coding view, part 2 of 3 (after model.js): drawing the transcript and the unit panel.

// ------------------------------------------------------------------ drawing

function chip(code, own, coder) {
  const c = S.codes[code] || { label: code, colour: ["#eee", "#999", "#333"] };
  const span = el("span", { class: "cf-chip" + (own ? "" : " cf-other"), title: `${code}: ${c.label}` + (coder ? ` · ${coder}` : "") });
  span.style.background = c.colour[0];
  span.style.borderColor = c.colour[1];
  span.style.color = c.colour[2];
  span.textContent = c.label + (coder && !own ? ` · ${coder}` : "");
  return span;
}

function buildTranscript() {
  const box = S.parts.transcript;
  box.replaceChildren();
  S.rows = {};
  for (const seg of S.data.segments) {
    if (!seg.unit) {
      box.append(el("div", { class: "cf-ctx" }, el("span", { class: "cf-speaker", text: seg.speaker || "Interviewer" }), seg.text));
      continue;
    }
    const row = el("div", { class: "cf-seg", id: `cf-seg-${seg.id}`, "data-id": seg.id, role: "button", tabindex: "-1",
                            onclick: () => select(seg.id, true) });
    const chips = el("span", { class: "cf-chips" });
    row.append(el("span", { class: "cf-num", text: String(seg.n) }), el("span", { class: "cf-text", text: seg.text }), chips);
    box.append(row);
    S.rows[seg.id] = { row, chips, sig: "" };
  }
  for (const id of S.order) drawUnit(id);
}

function drawUnit(id) {
  const r = S.rows[id];
  if (!r) return;
  const u = replay(id);
  const others = S.others[id] || [];
  const sig = JSON.stringify([[...u.mine].sort(), [...u.marks].sort(), u.pending, others]);
  if (sig === r.sig) return;
  r.sig = sig;
  r.chips.replaceChildren(...[...u.mine].map((c) => chip(c, true)), ...others.map((o) => chip(o.code, false, o.coder)));
  if (u.marks.size) r.chips.append(el("span", { class: "cf-mark", text: u.mine.size ? "nothing else applies" : "nothing applies", title: [...u.marks].map((f) => S.frames[f] ? S.frames[f].label : f).join(", ") }));
  r.row.classList.toggle("cf-read", u.mine.size > 0 || u.marks.size > 0);
  r.row.classList.toggle("cf-pending", u.pending > 0);
}

function activeFrames() {
  return S.data.chosen.length ? S.data.chosen : Object.keys(S.frames);
}

function visibleCodes() {
  const q = S.filter.trim().toLowerCase();
  const out = [];
  for (const f of activeFrames()) {
    for (const code of (S.frames[f] ? S.frames[f].codes : [])) {
      const c = S.codes[code];
      if (!q || code.toLowerCase().includes(q) || c.label.toLowerCase().includes(q) || (c.definition || "").toLowerCase().includes(q)) out.push(code);
    }
  }
  return out;
}

function topSuggestion(id, u) {
  const rejected = rejectedHere(id);
  const active = new Set(activeFrames());
  const codedFrames = new Set([...u.mine].map(frameOf));
  return (S.data.suggestions && S.data.suggestions[id] || []).find(
    (s) => !u.mine.has(s.code) && !rejected.has(s.code) && active.has(s.frame) && !codedFrames.has(s.frame)) || null;
}

function headMarks(u) {
  // per frame: a chip per coded frame; the frames marked "nothing applies" as one chip (each named in its
  // title and in a per-frame marker); never "nothing applies" over a frame that carries a code
  const out = el("span", { class: "cf-framemarks" });
  const open = [], none = [];
  for (const f of activeFrames()) {
    const n = [...u.mine].filter((c) => frameOf(c) === f).length;
    if (n) {
      out.append(el("span", { class: "cf-fm cf-fm-coded", "data-frame": f, "data-state": "coded", title: `${S.frames[f].label}: ${n} code${n > 1 ? "s" : ""}` },
                    el("span", { class: "cf-fml", text: S.frames[f].label }), ` ✓${n > 1 ? n : ""}`));
    } else if (u.marks.has(f)) none.push(f);
    else open.push(S.frames[f].label);
  }
  if (none.length) {
    const chip = el("span", { class: "cf-fm cf-fm-none", title: "Nothing applies in: " + none.map((f) => S.frames[f].label).join(", "),
                              text: none.length === activeFrames().length ? "nothing applies" : `nothing applies in ${none.length} frame${none.length > 1 ? "s" : ""}` });
    for (const f of none) chip.append(el("span", { hidden: true, "data-frame": f, "data-state": "nothing" }));
    out.append(chip);
  }
  if (open.length) out.append(el("span", { class: "cf-fm cf-fm-open", title: "Open: " + open.join(", "),
                                           text: `${open.length} frame${open.length > 1 ? "s" : ""} open` }));
  return out;
}

function drawPanel() {
  const id = S.selected, p = S.parts;
  const i = S.order.indexOf(id);
  const seg = S.segById[id];
  const u = replay(id);
  p.head.replaceChildren(el("span", { class: "cf-unitno", text: `Unit ${i + 1} of ${S.order.length}` }), headMarks(u));
  if (u.pending) p.head.append(el("span", { class: "cf-pend", text: u.undoing ? "undoing…" : "saving…" }));
  p.question.textContent = seg && seg.question ? seg.question : "";
  p.question.hidden = !(seg && seg.question);
  p.text.textContent = seg ? seg.text : "";
  const mine = [...u.mine];
  p.mine.replaceChildren(...mine.map((c) => {
    const x = el("button", { type: "button", class: "cf-x", title: `Remove ${S.codes[c] ? S.codes[c].label : c}`, "aria-label": `Remove ${c}`,
                             onclick: () => decide("untick", { code: c }), text: "×" });
    return el("span", { class: "cf-minechip" }, chip(c, true), x);
  }), ...(S.others[id] || []).map((o) => chip(o.code, false, o.coder)));
  if (!mine.length) p.mine.append(el("span", { class: "cf-muted", text: "No codes of yours here yet: 1–9 or click a code." }));
  drawSuggestion(id, u);
  drawCodes(u);
  const read = S.order.filter((x) => { const v = replay(x); return v.mine.size || v.marks.size; }).length;
  p.progress.textContent = `${read} of ${S.order.length} units read` + (S.queue.length ? ` · ${S.queue.length} saving` : " · all saved");
  p.progress.classList.toggle("cf-pending", S.queue.length > 0);
  p.message.textContent = S.message || "";
  p.message.classList.toggle("cf-error", !!S.messageIsError);
  p.prev.disabled = i <= 0;
  p.next.disabled = i >= S.order.length - 1;
  p.nothing.querySelector("span").textContent = activeFrames().every((f) => u.marks.has(f) || [...u.mine].some((c) => frameOf(c) === f)) && u.marks.size ? "Nothing ✓" : "Nothing";
  if (!p.memoBox.hidden && p.memoFor !== id) closeMemo();
  for (const r of Object.values(S.rows)) r.row.classList.remove("cf-selected");
  if (S.rows[id]) S.rows[id].row.classList.add("cf-selected");
}

function drawSuggestion(id, u) {
  const box = S.parts.sugg;
  if (!S.data.suggestions) { box.hidden = true; return; }
  box.hidden = false;
  const s = topSuggestion(id, u);
  const status = S.data.suggestions_status
    ? el("div", { class: "cf-sugg-status", role: "status", text: S.data.suggestions_status }) : null;
  if (!s) {
    box.replaceChildren(el("span", { class: "cf-muted", text: S.data.suggestions_note || "No suggestion for this unit." }));
    if (status) box.append(status);
    return;
  }
  const margin = typeof s.margin === "number" ? ` · margin ${s.margin.toFixed(2)}` : "";
  box.replaceChildren(
    el("div", { class: "cf-sugg-head" }, el("span", { class: "cf-muted", text: "Suggested: " }), chip(s.code, true),
       el("span", { class: "cf-score", title: "margin: how far the code stands above the next best one (in sd); small = doubtful",
                    text: ` score ${s.score.toFixed(2)}` + (s.threshold > 0 ? ` · threshold ${s.threshold.toFixed(2)}` : "") + margin })),
    el("div", { class: "cf-why", text: s.why || "" }),
    el("div", { class: "cf-row" },
       button("Accept", "a", `Accept “${s.label}” as your code`, () => accept(), "cf-accept"),
       button("Reject", "x", `Reject “${s.label}”: not suggested to you here again`, () => reject(), "cf-reject")));
  if (status) box.append(status);
}

function drawCodes(u) {
  const box = S.parts.codes;
  const codes = visibleCodes();
  S.numbered = codes.slice(0, 9);
  box.replaceChildren();
  let frame = null;
  codes.forEach((code, n) => {
    const c = S.codes[code];
    if (c.frame !== frame) {
      frame = c.frame;
      box.append(el("div", { class: "cf-frame", text: S.frames[frame].label + (S.frames[frame].exclusive ? " · one code per unit" : "") }));
    }
    const on = u.mine.has(code);
    const b = el("button", { type: "button", class: "cf-code" + (on ? " cf-on" : ""), "aria-pressed": on ? "true" : "false",
                             "data-code": code, title: c.definition || c.label, onclick: () => toggle(code) });
    b.append(el("kbd", { text: n < 9 ? String(n + 1) : "" }), el("span", { text: c.label }));
    box.append(b);
  });
  if (!codes.length) box.append(el("div", { class: "cf-muted", text: "No code matches: clear the filter or choose more frames." }));
}

