"""Below the coding view: memos on the codes applied, key quotes, and analytic memos on the unit, the
transcript and the codes, for the unit the view shows. One popover, read only while it is open, so the
view's decisions (which rerun its fragment) never redraw more than a closed button here.
"""

from __future__ import annotations

import streamlit as st

from app_pages import _common as common
from coding import service
from coding.errors import CodeframeError

MESSAGE = "_extras_message"


def _say(text: str) -> None:
    st.session_state[MESSAGE] = text


def _star(engine, project: str, coder: str, segment_id: int, code: str, starred: bool) -> None:
    try:
        service.set_key_quote(engine, project, segment_id=segment_id, code=code, coder=coder, starred=starred,
                              actor=coder)
        _say("Starred as a key quote." if starred else "No longer a key quote.")
    except CodeframeError as exc:
        _say(common.first_line(exc))


def _save_memo(engine, project: str, coder: str, key: str, segment_id: int, code: str) -> None:
    try:
        service.set_memo(engine, project, segment_id=segment_id, code=code, coder=coder,
                         memo=(st.session_state.get(key) or "").strip() or None)
        _say("Memo saved.")
    except CodeframeError as exc:
        _say(common.first_line(exc))


def _save_analytic(engine, project: str, coder: str, key: str, kind: str, target: str, memo_id: int | None) -> None:
    text = (st.session_state.get(key) or "").strip()
    try:
        if memo_id is not None and text:
            service.edit_memo(engine, project, memo_id=memo_id, text=text, actor=coder)
        elif text:
            service.add_memo(engine, project, kind=kind, target=target if kind == "code" else int(target),
                             coder=coder, text=text, actor=coder)
        else:
            _say("A memo cannot be emptied here; write the new text instead.")
            return
        _say("Memo saved.")
    except CodeframeError as exc:
        _say(common.first_line(exc))


def extras(engine, project: str, *, coder: str, document_id: int, unit, number: int, labels: dict[str, str]) -> None:
    """The popover for ``unit`` (a SegmentView): its content is built only while it is open."""
    message = st.session_state.pop(MESSAGE, None)
    if message:
        st.caption(message)
    box = st.popover(f"Memos & key quotes · unit {number}", icon=":material/sticky_note_2:", key="cf_extras",
                     on_change="rerun")
    if not box.open:
        return
    mine = [c for c in unit.codings if c.coder == coder]
    with box:
        for c in mine:
            row = st.columns([7, 1], vertical_alignment="bottom")
            key = f"_cm_{unit.id}_{c.code}"
            row[0].text_input(f"Memo on “{labels.get(c.code, c.code)}”", value=c.memo or "", key=key,
                              on_change=_save_memo, args=(engine, project, coder, key, unit.id, c.code))
            row[1].button("", icon=":material/star:" if c.key_quote else ":material/star_border:",
                          key=f"_kq_{unit.id}_{c.code}", type="primary" if c.key_quote else "secondary",
                          help="Key quote for this code: the findings report quotes it first (click to change)",
                          on_click=_star, args=(engine, project, coder, unit.id, c.code, not c.key_quote))
        found = service.own_memos(engine, project, coder=coder, segment_id=unit.id, document_id=document_id,
                                  codes=[c.code for c in mine])
        targets = [("document", str(document_id), "Analytic memo on this transcript")]
        targets += [("code", c.code, f"Analytic memo on the code “{labels.get(c.code, c.code)}”") for c in mine]
        for kind, target, label in targets:
            memo_id, text = found.get((kind, target), (None, ""))
            key = f"_am_{kind}_{target}"
            st.text_area(label, value=text, key=key, height=68, on_change=_save_analytic,
                         args=(engine, project, coder, key, kind, target, memo_id),
                         placeholder="Ctrl+Enter or click outside saves")
        st.caption("The memo on the unit itself: press **m** in the view.")
