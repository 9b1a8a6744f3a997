"""The coding page's keyboard and transcript navigator: a small ``st.components.v2`` component.

Mounted once inside the unit panel's fragment, it

* answers single keys (ignored while the coder types in a text box; Escape leaves the box):
  ``j``/``k`` or the arrows for the next/previous unit, ``1``–``9`` to toggle the listed codes,
  ``0`` for "read, nothing applies", ``n`` for the next unread unit, ``a``/``x`` to accept or
  reject the top suggestion, ``m`` for the memo, ``u`` to undo, ``?`` for the list of keys.
  A key clicks the page's own button or checkbox, so each change runs the same callback as a
  click and only the fragment reruns;
* turns a click on a sentence of the transcript into the ``select`` trigger (the unit's id);
* keeps the transcript in step without re-sending it: after each fragment run it moves the
  highlight to the selected unit, replaces that unit's chips and marks, scrolls it into view,
  and puts the focus back on the code list after a tick.
"""

from __future__ import annotations

from typing import Callable

import streamlit as st

KEY = "cf_keys"

SHORTCUTS = [
    ("j  ↓  →", "next unit"),
    ("k  ↑  ←", "previous unit"),
    ("1 – 9", "toggle the numbered code"),
    ("0", "read, nothing applies (then the next unit)"),
    ("n", "next unread unit"),
    ("a / x", "accept / reject the top suggestion"),
    ("m", "write a memo (Esc leaves the box)"),
    ("u", "undo the last change"),
    ("?", "show or hide these keys"),
]

HTML = (
    '<div class="cf-keys-help" hidden><b>Keyboard</b><table>'
    + "".join(f"<tr><td><kbd>{k}</kbd></td><td>{v}</td></tr>" for k, v in SHORTCUTS)
    + "</table><div class=\"cf-keys-close\">? or Esc to close</div></div>"
)

CSS = """
.cf-keys-help{position:fixed;right:24px;bottom:24px;z-index:1000;background:#fff;border:1px solid #d5d9de;
  border-radius:8px;box-shadow:0 4px 18px rgba(0,0,0,.15);padding:12px 16px;font-size:.85rem;line-height:1.5}
.cf-keys-help td{padding:1px 10px 1px 0}
.cf-keys-help kbd{font-family:ui-monospace,monospace;background:#f3f4f6;border:1px solid #d5d9de;border-radius:4px;
  padding:0 5px}
.cf-keys-close{color:#8a8f98;font-size:.75rem;margin-top:4px}
"""

JS = r"""
const CLICK = {
  j: ".st-key-cf_next button", arrowdown: ".st-key-cf_next button", arrowright: ".st-key-cf_next button",
  k: ".st-key-cf_prev button", arrowup: ".st-key-cf_prev button", arrowleft: ".st-key-cf_prev button",
  n: ".st-key-cf_next_unread button", "0": ".st-key-cf_nothing button", u: ".st-key-cf_undo button",
  a: "[class*='st-key-_sa_'] button", x: "[class*='st-key-_sr_'] button",
};
const TEXT_TYPES = ["text", "search", "email", "number", "password", "url", "tel", ""];

function typing(t) {
  if (!t || !t.tagName) return false;
  if (t.isContentEditable || t.tagName === "TEXTAREA" || t.tagName === "SELECT") return true;
  if (t.getAttribute && t.getAttribute("role") === "combobox") return true;
  return t.tagName === "INPUT" && TEXT_TYPES.includes((t.getAttribute("type") || "").toLowerCase());
}

function codeBoxes() {
  return document.querySelectorAll(".st-key-cf_codes button");
}

function help(show) {
  const box = window.__cfKeys && window.__cfKeys.root.querySelector(".cf-keys-help");
  if (box) box.hidden = show === undefined ? !box.hidden : !show;
}

function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const key = (e.key || "").toLowerCase();
  if (typing(e.target)) {
    if (key === "escape") e.target.blur();
    return;
  }
  let handled = true;
  if (key === "?") help();
  else if (key === "escape") help(false);
  else if (key >= "1" && key <= "9") {
    const box = codeBoxes()[Number(key) - 1];
    if (box) { window.__cfKeys.focusCode = Number(key) - 1; box.click(); box.focus(); }
  } else if (key === "m") {
    const memo = document.querySelector(".st-key-cf_memos input");
    if (memo) memo.focus();
  } else if (CLICK[key]) {
    const button = document.querySelector(CLICK[key]);
    if (button && !button.disabled) button.click();
  } else handled = false;
  if (handled) { e.preventDefault(); e.stopPropagation(); }
}

function onClick(e) {
  const seg = e.target && e.target.closest && e.target.closest(".cf-seg[data-id]");
  if (seg && window.__cfKeys) window.__cfKeys.setTriggerValue("select", Number(seg.dataset.id));
}

function scrollIntoPanel(el) {
  let p = el.parentElement;
  while (p && !(p.scrollHeight > p.clientHeight + 4 && /auto|scroll/.test(getComputedStyle(p).overflowY))) {
    p = p.parentElement;
  }
  if (!p) return;
  const r = el.getBoundingClientRect(), q = p.getBoundingClientRect();
  if (r.top < q.top || r.bottom > q.bottom) p.scrollTop += r.top - q.top - p.clientHeight / 3;
}

function setClass(el, name, on) {
  // only real changes touch the DOM: a no-op classList.add still writes the attribute
  if (el.classList.contains(name) !== on) el.classList.toggle(name, on);
}

function sync(data) {
  for (const [id, unit] of Object.entries(data.units || {})) {
    const seg = document.getElementById("cf-seg-" + id);
    if (!seg) continue;
    const chips = seg.querySelector(".cf-chips");
    if (chips && chips.innerHTML !== unit.chips) chips.innerHTML = unit.chips;
    setClass(seg, "cf-uncoded", !unit.read);
    setClass(seg, "cf-marked", !!unit.marked);
  }
  const selected = document.getElementById("cf-seg-" + data.selected);
  for (const el of document.querySelectorAll(".cf-seg.cf-selected")) {
    if (el !== selected) el.classList.remove("cf-selected");
  }
  if (selected) {
    setClass(selected, "cf-selected", true);
    if (window.__cfKeys.scrolledTo !== data.selected) {
      window.__cfKeys.scrolledTo = data.selected;
      scrollIntoPanel(selected);
    }
  }
  const want = window.__cfKeys.focusCode;
  if (want !== null && want !== undefined) {
    const box = codeBoxes()[want];
    if (box && document.activeElement !== box) box.focus();
    if (box) window.__cfKeys.focusCode = null;
  }
}

export default function (component) {
  const { data, setTriggerValue, parentElement } = component;
  const previous = window.__cfKeys || {};
  window.__cfKeys = { setTriggerValue, root: parentElement, focusCode: previous.focusCode,
                      scrolledTo: previous.scrolledTo };
  if (!window.__cfKeysInstalled) {
    window.__cfKeysInstalled = true;
    document.addEventListener("keydown", onKey, true);
    document.addEventListener("click", onClick, true);
  }
  sync(data || {});
  // the code list may be redrawn just after this component: sync once more when the page settles
  const timer = setTimeout(() => sync(data || {}), 60);
  return () => clearTimeout(timer);
}
"""

_component = st.components.v2.component("codeframe_keys", html=HTML, css=CSS, js=JS, isolate_styles=False)


def keyboard(*, selected: int, units: dict[int, dict], on_select: Callable[[], None]) -> None:
    """Mount the keyboard component; ``units`` maps segment ids to {chips (html), read, marked} to redraw."""
    _component(key=KEY, data={"selected": selected, "units": {str(k): v for k, v in units.items()}},
               on_select_change=on_select, height="content")


def selected_segment() -> int | None:
    """The segment id of the sentence the coder clicked last (inside the ``select`` callback)."""
    state = st.session_state.get(KEY)
    value = getattr(state, "select", None) if state is not None else None
    if value is None and isinstance(state, dict):
        value = state.get("select")
    return int(value) if value is not None else None
