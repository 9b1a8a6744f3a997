// Codeframe's coding view, part 3 of 3 (after model.js and draw.js): actions, keys, the skeleton, renders.

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
  // a move Python asked for is reported too: else the last report (an older unit) would win on the next run
  if (!fromServer || S.reported !== id) S.selectTimer = setTimeout(() => report(id), SELECT_DEBOUNCE_MS);
}

function report(id) {
  if (!S.setStateValue) return;
  S.reported = id;
  S.setStateValue("selected", id);
}

function move(step) {
  const i = S.order.indexOf(S.selected) + step;
  if (i >= 0 && i < S.order.length) select(S.order[i]);
}

function isOpen(id, frames) {
  const u = replay(id);
  return ![...u.mine].some((c) => frames.includes(frameOf(c))) && !frames.some((f) => u.marks.has(f));
}

function nextUnread() {
  const frames = activeFrames();
  const i = S.order.indexOf(S.selected);
  const rotated = [...S.order.slice(i + 1), ...S.order.slice(0, i + 1)];
  const found = rotated.find((id) => isOpen(id, frames));
  if (found === undefined) say("Every unit of this transcript is read in the frames shown.");
  else { if (S.order.indexOf(found) <= i) say("Wrapped around to the first unread unit from the top."); select(found); }
}

function nextDoubtful() {
  // the units with a suggestion, least certain first (the server's confidence order): the next open one
  const order = (S.data.doubtful || []).filter((id) => S.rows[id]);
  if (!S.data.suggestions) { say("Turn Suggestions on to go through the doubtful units first.", true); return; }
  const i = order.indexOf(S.selected);
  const rotated = [...order.slice(i + 1), ...order.slice(0, i + 1)];
  const found = rotated.find((id) => id !== S.selected && isOpen(id, activeFrames()));
  if (found === undefined) { say("No other open unit with a suggestion in the frames shown."); return; }
  const rank = order.indexOf(found) + 1;
  say(`Doubtful ${rank} of ${order.length}: the least certain suggestions first.`);
  select(found);
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
  else if (key === "d") nextDoubtful();
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
                 button("Doubtful", "d", "The next open unit whose suggestion is least certain (d)", () => nextDoubtful()),
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
