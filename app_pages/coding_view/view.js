// Codeframe's coding view: the transcript, the unit panel and the keys, as one st.components.v2 component.
//
// Every decision is drawn at once and becomes an event {id, seq, unit_id, action, code/frames, text}
// bound to the unit it was made on. Events wait in a queue kept in localStorage (one key per tab and
// coder) and go to Python in order through the "outbox" state; Python applies each one once (by its
// id) and acknowledges it in the next render. The screen is always "what the server said" plus the
// pending events replayed on top, so a refused event rolls back by itself and a resent one is a no-op.
// Renders from Python never move the selection, except an explicit request (data.select with a new nonce)
// and the unit an undo acted on. All text is set with textContent: user text is text, never markup.

const RESEND_MS = 1500;
const SELECT_DEBOUNCE_MS = 400;
const KEYS = [
  ["j  ↓  →", "next unit"], ["k  ↑  ←", "previous unit"], ["1 – 9", "toggle the numbered code"],
  ["0", "nothing applies (in the frames shown), then the next unit"], ["n", "next unread unit"],
  ["a / x", "accept / reject the top suggestion"], ["u", "undo your last decision (jumps to its unit)"],
  ["m", "memo on this unit (Enter saves, Esc closes)"], ["/", "filter the codes"], ["?", "show or hide these keys"],
];

let S = null; // the one live view (a page holds one)

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

function button(label, key, title, onClick, extra) {
  const b = el("button", { type: "button", class: "cf-btn " + (extra || ""), title, onclick: onClick });
  if (key) b.append(el("kbd", { text: key }));
  b.append(el("span", { text: label }));
  return b;
}

// ------------------------------------------------------------------ queue (localStorage, one key per tab)

function tabId() {
  let id = sessionStorage.getItem("cf-tab");
  if (!id) { id = Math.random().toString(36).slice(2) + Date.now().toString(36); sessionStorage.setItem("cf-tab", id); }
  return id;
}

function queueKey(d) { return `cf-queue:${d.project}:${d.coder}:${tabId()}`; }

function loadQueue(d) {
  try { return JSON.parse(localStorage.getItem(queueKey(d)) || "[]"); } catch (e) { return []; }
}

function saveQueue() {
  try { localStorage.setItem(queueKey(S.data), JSON.stringify(S.queue)); } catch (e) { /* private mode: memory only */ }
  if (S.view) S.view.dataset.pending = String(S.queue.length);
}

function nextSeq() {
  const last = Number(localStorage.getItem("cf-seq") || 0);
  const seq = Math.max(last + 1, Date.now() * 1000);
  try { localStorage.setItem("cf-seq", String(seq)); } catch (e) { /* memory only */ }
  return seq;
}

function newId() {
  return (crypto.randomUUID ? crypto.randomUUID() : Math.random().toString(36).slice(2) + Date.now().toString(36));
}

function send(force) {
  if (!S || !S.setStateValue) return;
  if (!S.queue.length) return;
  const now = Date.now();
  if (!force && now - S.sentAt < RESEND_MS && S.sentLength === S.queue.length) return;
  S.sentAt = now;
  S.sentLength = S.queue.length;
  S.setStateValue("outbox", { events: S.queue.slice(0, 40), nonce: now + ":" + Math.random() });
}

// ------------------------------------------------------------------ the model: server state + pending replay

function frameOf(code) { return S.codes[code] ? S.codes[code].frame : null; }

function replay(unitId) {
  const base = S.server[unitId] || { mine: [], marks: [], memo: "" };
  const u = { mine: new Set(base.mine), marks: new Set(base.marks), memo: base.memo || "", pending: 0, undoing: false };
  for (const e of S.queue) {
    const target = e.action === "undo" ? (e.inverse ? e.inverse.unit : e.unit_id) : e.unit_id;
    if (target !== unitId) continue;
    u.pending += 1;
    if (e.action === "undo" && e.inverse) { invert(u, e.inverse); continue; }
    const frame = frameOf(e.code);
    if (e.action === "tick" || e.action === "accept") {
      if (frame && S.frames[frame] && S.frames[frame].exclusive) {
        for (const c of [...u.mine]) if (frameOf(c) === frame) u.mine.delete(c);
      }
      u.mine.add(e.code);
      if (frame) u.marks.delete(frame);
    } else if (e.action === "untick") u.mine.delete(e.code);
    else if (e.action === "nothing") {
      const coded = new Set([...u.mine].map(frameOf));
      for (const f of e.frames) if (!coded.has(f)) u.marks.add(f);
    } else if (e.action === "clear_nothing") for (const f of e.frames) u.marks.delete(f);
    else if (e.action === "memo") u.memo = e.text || "";
    else if (e.action === "undo") u.undoing = true;
  }
  return u;
}

function invert(u, inv) {
  // undo drawn at once: the change the undone decision made, taken back
  for (const c of inv.removeCodes) u.mine.delete(c);
  for (const c of inv.addCodes) u.mine.add(c);
  for (const f of inv.removeMarks) u.marks.delete(f);
  for (const f of inv.addMarks) u.marks.add(f);
  if (inv.memo !== undefined) u.memo = inv.memo;
}

function delta(before, after) {
  const minus = (a, b) => [...a].filter((x) => !b.has(x));
  return { removeCodes: minus(after.mine, before.mine), addCodes: minus(before.mine, after.mine),
           removeMarks: minus(after.marks, before.marks), addMarks: minus(before.marks, after.marks),
           memo: before.memo !== after.memo ? before.memo : undefined };
}

function rejectedHere(unitId) {
  const out = new Set(S.rejected[unitId] || []);
  for (const e of S.queue) {
    if (e.unit_id === unitId && e.action === "reject") out.add(e.code);
    if (e.action === "undo" && e.inverse && e.inverse.unit === unitId && e.inverse.rejected) out.delete(e.inverse.rejected);
  }
  return out;
}

function decide(action, fields) {
  const unit = S.selected;
  const event = { id: newId(), seq: nextSeq(), unit_id: unit, action, coder: S.data.coder, ...fields };
  const before = replay(unit);
  S.queue.push(event);
  saveQueue();
  if (action !== "undo") {
    const inverse = { unit, ...delta(before, replay(unit)), rejected: action === "reject" ? fields.code : null };
    S.history.push({ id: event.id, unit_id: unit, inverse });
  }
  S.touched = (S.touched || 0) + 1;
  drawUnit(unit);
  drawPanel();
  send(true);
  return event;
}

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
  if (!s) {
    box.replaceChildren(el("span", { class: "cf-muted", text: S.data.suggestions_note || "No suggestion for this unit." }));
    return;
  }
  box.replaceChildren(
    el("div", { class: "cf-sugg-head" }, el("span", { class: "cf-muted", text: "Suggested: " }), chip(s.code, true),
       el("span", { class: "cf-score", text: ` score ${s.score.toFixed(2)}` + (s.threshold > 0 ? ` · threshold ${s.threshold.toFixed(2)}` : "") })),
    el("div", { class: "cf-why", text: s.why || "" }),
    el("div", { class: "cf-row" },
       button("Accept", "a", `Accept “${s.label}” as your code`, () => accept(), "cf-accept"),
       button("Reject", "x", `Reject “${s.label}”: not suggested to you here again`, () => reject(), "cf-reject")));
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

// ------------------------------------------------------------------ actions

function select(id, fromClick, fromServer) {
  if (!S.rows[id]) return;
  S.selected = id;
  S.touched = (S.touched || 0) + 1;
  drawPanel();
  const row = S.rows[id].row;
  const box = S.parts.transcript;
  const r = row.getBoundingClientRect(), q = box.getBoundingClientRect();
  if (r.top < q.top || r.bottom > q.bottom) box.scrollTop += r.top - q.top - box.clientHeight / 3;
  if (!fromClick) S.root.focus({ preventScroll: true });
  const url = new URL(window.location.href);
  url.searchParams.set("unit", String(id));
  window.history.replaceState(window.history.state, "", url.toString());
  clearTimeout(S.selectTimer);
  if (!fromServer) S.selectTimer = setTimeout(() => S.setStateValue && S.setStateValue("selected", id), SELECT_DEBOUNCE_MS);
}

function move(step) {
  const i = S.order.indexOf(S.selected) + step;
  if (i >= 0 && i < S.order.length) select(S.order[i]);
}

function nextUnread() {
  const frames = activeFrames();
  const i = S.order.indexOf(S.selected);
  const rotated = [...S.order.slice(i + 1), ...S.order.slice(0, i + 1)];
  const found = rotated.find((id) => {
    const u = replay(id);
    return ![...u.mine].some((c) => frames.includes(frameOf(c))) && !frames.some((f) => u.marks.has(f));
  });
  if (found === undefined) say("Every unit of this transcript is read in the frames shown.");
  else { if (S.order.indexOf(found) <= i) say("Wrapped around to the first unread unit from the top."); select(found); }
}

function toggle(code) {
  const u = replay(S.selected);
  decide(u.mine.has(code) ? "untick" : "tick", { code });
}

function nothingApplies() {
  const u = replay(S.selected);
  const coded = new Set([...u.mine].map(frameOf));
  const free = activeFrames().filter((f) => !coded.has(f));
  if (!free.length) { say("This unit carries your codes in every frame shown: nothing to mark.", true); return; }
  if (free.every((f) => u.marks.has(f))) { decide("clear_nothing", { frames: free }); say("The “nothing applies” mark is lifted."); return; }
  decide("nothing", { frames: free });
  move(1);
}

function accept() {
  const u = replay(S.selected);
  const s = topSuggestion(S.selected, u);
  if (!s) { say("No suggestion to accept on this unit.", true); return; }
  decide("accept", { code: s.code, score: s.score, model_id: s.model_id });
}

function reject() {
  const u = replay(S.selected);
  const s = topSuggestion(S.selected, u);
  if (!s) { say("No suggestion to reject on this unit.", true); return; }
  decide("reject", { code: s.code, score: s.score, model_id: s.model_id });
}

function undo() {
  // this tab knows its own decisions: jump at once to the unit of the last one; the server's answer
  // (it undoes the coder's last decision, wherever it was made) corrects the jump if it differs
  const last = S.history.pop();
  const event = decide("undo", last ? { inverse: last.inverse } : {});
  if (last) drawUnit(last.unit_id);
  if (last && S.rows[last.unit_id] && last.unit_id !== S.selected) select(last.unit_id);
  S.undoAsked = { id: event.id, at: S.touched, guess: last ? last.unit_id : null };
  say("Undoing your last decision…");
}

function openMemo() {
  const p = S.parts;
  p.memoFor = S.selected;
  p.memoBox.hidden = false;
  p.memoText.value = replay(S.selected).memo || "";
  p.memoText.focus();
}

function closeMemo() {
  S.parts.memoBox.hidden = true;
  S.parts.memoFor = null;
  S.root.focus({ preventScroll: true });
}

function saveMemo() {
  const p = S.parts;
  if (p.memoFor !== S.selected) { closeMemo(); return; }
  decide("memo", { text: p.memoText.value.trim() });
  say("Memo saved on this unit.");
  closeMemo();
}

function say(text, error) {
  S.message = text;
  S.messageIsError = !!error;
  if (S.parts) { S.parts.message.textContent = text; S.parts.message.classList.toggle("cf-error", !!error); }
}

function help(show) {
  const box = S.parts.help;
  box.hidden = show === undefined ? !box.hidden : !show;
}

// ------------------------------------------------------------------ keys (one listener for the page)

const TEXT_TYPES = ["text", "search", "email", "number", "password", "url", "tel", ""];

function typing(t) {
  if (!t || !t.tagName) return false;
  if (t.isContentEditable || t.tagName === "TEXTAREA" || t.tagName === "SELECT") return true;
  if (t.getAttribute && t.getAttribute("role") === "combobox") return true;
  return t.tagName === "INPUT" && TEXT_TYPES.includes((t.getAttribute("type") || "").toLowerCase());
}

function onKey(e) {
  if (!S || !S.root.isConnected || e.ctrlKey || e.metaKey || e.altKey) return;
  const target = (e.composedPath && e.composedPath()[0]) || e.target;
  const key = (e.key || "").toLowerCase();
  if (typing(target)) {
    if (target === S.parts.memoText && key === "enter" && !e.shiftKey) { e.preventDefault(); saveMemo(); }
    else if (target === S.parts.memoText && key === "escape") closeMemo();
    else if (target === S.parts.filter && (key === "escape" || key === "enter")) { S.root.focus({ preventScroll: true }); }
    else if (key === "escape") target.blur();
    return;
  }
  if (document.querySelector("[role='dialog'], [data-testid='stDialog']")) return;
  let handled = true;
  if (key === "j" || key === "arrowdown" || key === "arrowright") move(1);
  else if (key === "k" || key === "arrowup" || key === "arrowleft") move(-1);
  else if (key >= "1" && key <= "9") { const code = S.numbered[Number(key) - 1]; if (code) toggle(code); }
  else if (key === "0") nothingApplies();
  else if (key === "n") nextUnread();
  else if (key === "a") accept();
  else if (key === "x") reject();
  else if (key === "u") undo();
  else if (key === "m") openMemo();
  else if (key === "/") S.parts.filter.focus();
  else if (key === "?") help();
  else if (key === "escape") help(false);
  else handled = false;
  if (handled) { e.preventDefault(); e.stopPropagation(); }
}

// ------------------------------------------------------------------ the skeleton, built once per mount

function build(root) {
  const p = {};
  p.transcript = el("div", { class: "cf-transcript", role: "list", "aria-label": "Transcript" });
  p.prev = button("Prev", "k", "Previous unit (k, ↑ or ←)", () => move(-1));
  p.next = button("Next", "j", "Next unit (j, ↓ or →)", () => move(1));
  p.nothing = button("Nothing", "0", "Nothing of the frames shown applies here; then the next unit (0)", () => nothingApplies());
  const bar = el("div", { class: "cf-bar" }, p.prev, p.next,
                 button("Unread", "n", "The next unit without your codes or marks (n)", () => nextUnread()),
                 p.nothing, button("Undo", "u", "Undo your last decision and go to its unit (u)", () => undo()),
                 button("Memo", "m", "Memo on this unit (m)", () => openMemo()),
                 button("", "?", "Show or hide the keys (?)", () => help()));
  p.progress = el("span", { class: "cf-progress", "aria-live": "polite" });
  p.message = el("span", { class: "cf-message", role: "status", "aria-live": "polite" });
  p.head = el("div", { class: "cf-head" });
  p.question = el("div", { class: "cf-question" });
  p.text = el("div", { class: "cf-unittext" });
  p.mine = el("div", { class: "cf-mine" });
  p.memoText = el("textarea", { class: "cf-memotext", rows: "2", "aria-label": "Memo on this unit", placeholder: "Memo on this unit: Enter saves, Esc closes" });
  p.memoBox = el("div", { class: "cf-memo", hidden: true }, p.memoText,
                 el("div", { class: "cf-row" }, button("Save memo", "↵", "Save the memo (Enter)", () => saveMemo()),
                    button("Close", "Esc", "Close without saving (Esc)", () => closeMemo())));
  p.sugg = el("div", { class: "cf-sugg", hidden: true });
  p.filter = el("input", { type: "search", class: "cf-filter", placeholder: "Filter codes (/): id, label or definition", "aria-label": "Filter codes" });
  p.filter.addEventListener("input", () => { S.filter = p.filter.value; drawPanel(); });
  p.codes = el("div", { class: "cf-codes", role: "group", "aria-label": "Codes" });
  p.help = el("div", { class: "cf-help", hidden: true }, el("b", { text: "Keyboard" }),
              el("table", {}, ...KEYS.map(([k, v]) => el("tr", {}, el("td", {}, el("kbd", { text: k })), el("td", { text: v })))),
              el("div", { class: "cf-muted", text: "? or Esc closes" }));
  const panel = el("div", { class: "cf-panel" }, bar, el("div", { class: "cf-status" }, p.progress, p.message),
                   el("div", { class: "cf-unit" }, p.head, p.question, p.text, p.mine), p.memoBox, p.sugg, p.filter, p.codes);
  const view = el("div", { class: "cf-view", tabindex: "-1", "aria-label": "Coding view" }, p.transcript, panel, p.help);
  // inside the mount point of the component's html: its parent also holds the component's <style>
  (root.querySelector(".cf-mount") || root).replaceChildren(view);
  return { view, parts: p };
}

function fit() {
  if (!S || !S.view.isConnected) return;
  const top = S.view.getBoundingClientRect().top + window.scrollY;
  S.view.style.height = Math.max(440, window.innerHeight - top - 16) + "px";
}

// ------------------------------------------------------------------ a render from Python

function takeData(d) {
  S.data = d;
  S.frames = {};
  S.codes = {};
  for (const f of d.frames) {
    S.frames[f.key] = { label: f.label, exclusive: f.exclusive, codes: f.codes.map((c) => c.key) };
    for (const c of f.codes) S.codes[c.key] = { ...c, frame: f.key };
  }
  S.server = {};
  S.others = {};
  S.rejected = d.rejected || {};
  for (const [id, u] of Object.entries(d.state)) {
    S.server[Number(id)] = { mine: u.mine, marks: u.marks, memo: u.memo || "" };
    if (u.others && u.others.length) S.others[Number(id)] = u.others;
  }
}

function takeAcks(acks) {
  const done = new Map((acks || []).map((a) => [a.id, a]));
  if (!done.size) return;
  const left = [];
  for (const e of S.queue) {
    const a = done.get(e.id);
    if (!a) { left.push(e); continue; }
    if (a.status === "refused") S.history = S.history.filter((h) => h.id !== e.id);
    if (a.status === "refused") say(`Not saved (unit ${S.order.indexOf(e.unit_id) + 1}): ${a.reason}`, true);
    else if (e.action === "undo") {
      const n = S.order.indexOf(a.unit_id) + 1;
      say(`Undid ${a.message.replace(/^undid /, "")}` + (n ? ` on unit ${n}` : " in another transcript") + ".");
      // jump to the unit it acted on, unless the coder moved on since pressing u
      const asked = S.undoAsked && S.undoAsked.id === e.id ? S.undoAsked : null;
      if (n && asked && S.touched === asked.at && S.selected !== a.unit_id) select(a.unit_id);
    }
  }
  if (left.length !== S.queue.length) { S.queue = left; saveQueue(); S.sentLength = -1; }
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (!data) return undefined;
  const fresh = !S || S.parentElement !== parentElement || !S.view || !S.view.isConnected;
  if (fresh) {
    S = { parentElement, queue: loadQueue(data), sentAt: 0, sentLength: -1, filter: "", message: "", selectNonce: null,
          doc: null, touched: 0, numbered: [], history: [] };
    const built = build(parentElement);
    S.view = built.view; S.root = built.view; S.parts = built.parts;
    if (!window.__cfViewKeys) {
      window.__cfViewKeys = true;
      document.addEventListener("keydown", (e) => onKey(e), true);
      window.addEventListener("resize", () => fit());
      window.addEventListener("online", () => send(true));
      setInterval(() => { if (S && S.queue.length) send(false); }, RESEND_MS);
    }
  }
  S.setStateValue = setStateValue;
  if (S.data && S.data.coder !== data.coder) { S.queue = loadQueue(data); }
  takeData(data);
  const newDoc = S.doc !== data.doc;
  if (newDoc) {
    S.doc = data.doc;
    S.segById = {};
    S.order = [];
    for (const seg of data.segments) if (seg.unit) { S.segById[seg.id] = seg; S.order.push(seg.id); }
    buildTranscript();
  }
  takeAcks(data.acks);
  const wanted = data.select && data.select.nonce !== S.selectNonce ? data.select : null;
  if (wanted) S.selectNonce = wanted.nonce;
  if (wanted && S.rows[wanted.unit]) select(wanted.unit, false, true);
  else if (!S.rows[S.selected]) select(S.order[0], false, true);
  for (const id of S.order) drawUnit(id);
  drawPanel();
  if (newDoc) {
    // keys work at once after a transcript switch: the focus leaves the transcript picker
    const active = document.activeElement;
    if (active && active !== document.body && typing(active)) active.blur();
    S.root.focus({ preventScroll: true });
  }
  fit();
  if (S.queue.length) send(fresh);
  S.view.dataset.ready = "1";
  S.view.dataset.pending = String(S.queue.length);
  return undefined;
}
