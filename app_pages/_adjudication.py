"""The Disagreements tab of the Agreement & adjudication page: the chosen coders' disagreements as cards,
with one-click adjudication (take a coder's decision, or set a new one with a reason).

Every read and write is one :mod:`coding.service` call; the library enforces who may adjudicate.
"""

from __future__ import annotations

import math

import streamlit as st

from app_pages import _common as common
from coding import service
from coding.errors import CodeframeError
from coding.roles import may_adjudicate

PAGE_SIZE = 10  # disagreements per page


def render(*, engine, project: str, frame, code_labels: dict[str, str], coder: str | None, roles: dict[str, str],
           message, fail, changed, message_key: str, revision_key: str) -> None:
    """The tab's body. ``message``, ``fail`` and ``changed`` are the page's one-shot message helpers."""
    frame_id = frame.id
    MESSAGE, REVISION = message_key, revision_key
    _message, _fail, _changed = message, fail, changed

    def _take(segment_id: int, codes: list[str], who: str, reason_key: str) -> None:
        reason = (st.session_state.get(reason_key) or "").strip() or f"took {who}'s decision"
        try:
            service.adjudicate(engine, project, segment_id=segment_id, frame=frame_id, codes=codes, actor=coder,
                               reason=reason)
        except CodeframeError as exc:
            _fail(f"dis_{segment_id}", exc)
        else:
            st.session_state[MESSAGE] = (f"dis_{segment_id}", "success",
                                         f"Consensus set to {who}'s decision: {_names(codes)}.")
        _changed()

    def _decide(segment_id: int, pick_key: str, reason_key: str) -> None:
        picked = st.session_state.get(pick_key)
        codes = [] if picked is None else [picked] if isinstance(picked, str) else list(picked)
        try:
            service.adjudicate(engine, project, segment_id=segment_id, frame=frame_id, codes=codes, actor=coder,
                               reason=st.session_state.get(reason_key) or "")
        except CodeframeError as exc:
            _fail(f"dis_{segment_id}", exc)
            return  # keep what was typed
        st.session_state[MESSAGE] = (f"dis_{segment_id}", "success", f"New consensus decision: {_names(codes)}.")
        _changed()

    def _names(codes) -> str:
        return ", ".join(code_labels.get(c, c) for c in codes) or "no code of this frame"

    def _decision_html(codes: dict[str, str | None]) -> str:
        """One coder's codes with their full labels, ids and memos."""
        if not codes:
            return '<div class="cf-none">no code of this frame</div>'
        parts = []
        for code, memo in codes.items():
            _, border, _ = common.code_colour(code)
            parts.append(
                f'<div class="cf-dcode"><span class="cf-dswatch" style="background:{border};border-color:{border}">'
                f"</span>{common.html_text(code_labels.get(code, code))} <code>{common.html_text(code)}</code></div>"
            )
            if memo:
                parts.append(f'<div class="cf-memo">“{common.html_text(memo)}”</div>')
        return "".join(parts)

    def _disagreement(item: dict, revision: int) -> None:
        segment_id = item["segment_id"]
        consensus = item["consensus"]
        with st.container(border=True, key=f"cf_dis_{segment_id}"):
            st.html(
                f'<div class="cf-dis-head">{common.html_text(item["document"])} · unit {item["unit"]}'
                f' · id {segment_id}</div><div class="cf-quote">{common.html_text(item["text"])}</div>'
            )
            names = list(item["coders"])
            reason_key = f"_reason_{segment_id}_{revision}"
            cells = st.columns(len(names) + 1, gap="medium")
            for cell, name in zip(cells, names):
                cell.html(f'<div class="cf-coder">{common.html_text(name)}</div>{_decision_html(item["coders"][name])}')
            if consensus:
                decision = _decision_html(consensus)
            elif item["decided"]:
                decision = '<div class="cf-dcode">decided: no code of this frame</div>'
            else:
                decision = '<div class="cf-none">not decided yet</div>'
            if item["decided"] and item.get("reason"):
                decision += f'<div class="cf-memo">{common.html_text(item["reason"])}</div>'
            cells[-1].html(f'<div class="cf-coder">Consensus</div><div class="cf-consensus">{decision}</div>')
            buttons = st.columns(len(names) + 1, gap="medium")
            for cell, name in zip(buttons, names):
                codes = item["coders"][name]
                with cell:
                    same = set(codes) == set(consensus) and (bool(consensus or codes) or item["decided"])
                    st.button(
                        f"Take {name}'s decision", key=f"_take_{segment_id}_{name}_{revision}",
                        icon=":material/check:" if same else None, disabled=same, width="stretch",
                        help="The consensus already is this decision" if same else
                             "Set the consensus to exactly this coder's codes (the reason below is optional)",
                        on_click=_take, args=(segment_id, sorted(codes), name, reason_key),
                    )
            pick_key = f"_pick_{segment_id}_{revision}"
            row = st.columns([3, 3, 1], vertical_alignment="bottom")
            if frame.mutually_exclusive:
                row[0].selectbox("Set a new decision", list(code_labels), index=None, format_func=code_labels.get,
                                 key=pick_key, placeholder="Choose a code (none: no code of this frame)",
                                 help="This frame is mutually exclusive: one code at most")
            else:
                row[0].multiselect("Set a new decision", list(code_labels), format_func=code_labels.get, key=pick_key,
                                   placeholder="Choose codes (none: no code of this frame)",
                                   help="Exactly these codes become the consensus; leave empty for 'no code'")
            row[1].text_input("Reason", key=reason_key, placeholder="Why? (required for a new decision)")
            row[2].button("Save decision", key=f"_decide_{segment_id}_{revision}", type="primary", width="stretch",
                          on_click=_decide, args=(segment_id, pick_key, reason_key))
            _message(f"dis_{segment_id}")

    if common.require_coder() is not None and common.allowed(engine, project, may_adjudicate, "adjudication"):
        picks = st.columns([3, 2], vertical_alignment="bottom")
        dis_coders = picks[0].multiselect(
            "Coders to compare", common.counted_coders(engine, project, [n for n in roles if n != service.CONSENSUS],
                                                 key="_dis_coders"), key="_dis_coders",
            placeholder="The coders who double-coded the most",
            help="Two or more. A disagreement is a unit at least two of them covered on which they differ. "
                 "Coders excluded from analysis (Settings) are not offered.")
        show = picks[1].radio("Show", service.DISAGREEMENT_VIEWS, horizontal=True, key="_dis_show",
                              format_func={"all": "All", "undecided": "Undecided", "decided": "Decided"}.get)
        try:
            found = service.disagreement_report(engine, project, frame=frame_id, actor=coder,
                                                coders=dis_coders or None, show=show)
        except CodeframeError as exc:
            common.show_error(exc)
            found = None
        details = found.items if found is not None else None
        if found is not None:
            st.caption(common.md(found.summary()) + ".")
        if details is not None and not details:
            st.success("No disagreements to show: every unit two or more of these coders covered got the "
                       "same codes from each." if found.total == 0 else f"No {show} disagreements here.",
                       icon=":material/done_all:")
        elif details:
            pages = math.ceil(len(details) / PAGE_SIZE)
            head = st.columns([3, 2], vertical_alignment="center")
            page = 1
            if pages > 1:
                with head[1]:
                    page = st.pagination(pages, key=f"_dis_page_{frame_id}", width="stretch")
            first = (page - 1) * PAGE_SIZE
            shown = details[first:first + PAGE_SIZE]
            head[0].markdown(
                f"**{len(details)} units** where the coders' decisions differ"
                + (f" · showing {first + 1}–{first + len(shown)}" if pages > 1 else "")
            )
            st.caption("Take one coder's decision, or set a new one with a reason. Every decision is saved "
                       "as the consensus coder's codings, with the reason in the history.")
            revision = st.session_state.get(REVISION, 0)
            for item in shown:
                _disagreement(item, revision)
