// Codeframe's coding view, part 1 of 3 (model.js, draw.js, view.js are joined in that order, one module):
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
  ["d", "next doubtful unit (least certain suggestion first)"],
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

