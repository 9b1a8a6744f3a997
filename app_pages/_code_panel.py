"""The unit panel of the coding page: one ``st.fragment``, so a decision reruns only this panel.

Navigation, "read, nothing applies", undo, the selected unit with its codes and memos, the
suggestions and the code list. Every widget calls one facade function of :mod:`coding.service`
(those of this page live in :mod:`coding.service.coding_page`). The transcript beside it is
drawn by full runs only; after each decision the keyboard component (:mod:`app_pages._keys`)
moves its highlight and redraws the changed unit's chips.

Widget keys carry the selected unit and a *widget revision* that changes only when the
database changed behind a widget's back (undo, an exclusive frame's replacement, a
suggestion accepted): a plain tick keeps its checkbox, and with it the keyboard focus.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import streamlit as st

from app_pages import _common as common
from app_pages import _keys as keys
from app_pages import _suggestions as suggestions
from app_pages import _transcript as transcript
from coding import service
from coding.errors import CodeframeError

MESSAGE = "_code_message"
REVISION = "_code_revision"  # bumped after every change: suggestion caches and the transcript re-read
WIDGETS = "_code_widgets"  # bumped when the database changed behind the widgets' back
FULL_RUN = "_code_full_run"  # a change the transcript must show at once (undo): rerun the whole page
DRAFTS = "_memo_drafts"  # half-typed memos per unit, kept while the coder moves around
LAST_TICKED = "_code_last_ticked"
GO = "_go"  # the "Unit" number box
DRAFT = "_memo_draft"  # the box of the memo for the next code ticked
SHOWN = "_code_shown"  # the unit the panel showed last
STEPS = "_code_steps"  # this session's changes, newest last: ("coding",) or ("mark", segment id, frames)
FILTER = "code_filter"


@dataclass
class Page:
    """What the full run knows and the panel reuses on its own reruns (plain values)."""

    engine: object
    project: str
    coder: str
    document_id: int
    segments: list  # the transcript's segments (SegmentView), interviewer turns included
    units: list  # its units, in order
    codebook: object
    model: object | None  # the embedding model when suggestions are on
    suggest_revision: int = 0  # the revision of the last full run: suggestions are refitted on full runs


# --------------------------------------------------------------------------- callbacks (one facade call each)


def _say(text: str) -> None:
    st.session_state[MESSAGE] = text


def _changed(*, widgets: bool = False, step: tuple | None = ("coding",)) -> None:
    if step is not None:
        st.session_state.setdefault(STEPS, []).append(step)
    st.session_state[REVISION] = st.session_state.get(REVISION, 0) + 1
    if widgets:
        st.session_state[WIDGETS] = st.session_state.get(WIDGETS, 0) + 1


def _select(segment_id: int | None) -> None:
    if segment_id is not None:
        st.session_state[common.SEG_ID] = segment_id


def _select_clicked() -> None:
    _select(keys.selected_segment())


def _go_to(key: str, units: list) -> None:
    number = st.session_state.get(key)
    if number:
        _select(units[min(max(int(number), 1), len(units)) - 1].id)


def _toggle(p: Page, code, segment_id: int, *, on: bool, frame_label: str) -> None:
    drafts = st.session_state.setdefault(DRAFTS, {})
    try:
        result = service.tick(p.engine, p.project, segment_id=segment_id, code=code.id, coder=p.coder, on=on,
                                  memo=(drafts.get(segment_id) or "").strip() or None if on else None)
    except CodeframeError as exc:
        _say(common.first_line(exc))
        _changed(widgets=True, step=None)
        return
    if on:
        drafts.pop(segment_id, None)
        st.session_state[LAST_TICKED] = code.id
    if result.replaced:
        labels = {c.id: c.label for c in p.codebook.codes()}
        gone = ", ".join(f"“{labels.get(r, r)}”" for r in result.replaced)
        _say(f"“{code.label}” replaced {gone}: {frame_label} takes one code per unit.")
    _changed()


def _remove(p: Page, segment_id: int, code: str) -> None:
    try:
        service.tick(p.engine, p.project, segment_id=segment_id, code=code, coder=p.coder, on=False)
    except CodeframeError as exc:
        _say(common.first_line(exc))
    _changed(widgets=True)


def _star(p: Page, segment_id: int, code: str, starred: bool) -> None:
    try:
        service.set_key_quote(p.engine, p.project, segment_id=segment_id, code=code, coder=p.coder, starred=starred,
                              actor=p.coder)
        _say("Starred as a key quote." if starred else "No longer a key quote.")
    except CodeframeError as exc:
        _say(common.first_line(exc))
    _changed(step=None)


def _save_memo(p: Page, key: str, segment_id: int, code: str) -> None:
    try:
        service.set_memo(p.engine, p.project, segment_id=segment_id, code=code, coder=p.coder,
                         memo=(st.session_state.get(key) or "").strip() or None)
        _say("Memo saved.")
    except CodeframeError as exc:
        _say(common.first_line(exc))
    _changed()


def _keep_draft(key: str, segment_id: int) -> None:
    st.session_state.setdefault(DRAFTS, {})[segment_id] = st.session_state.get(key) or ""


def _next_unread(p: Page, position: int, frames: list[str]) -> None:
    found = service.next_unread(p.engine, p.project, p.document_id, coder=p.coder, after_position=position,
                                    frames=frames)
    if found.segment_id is None:
        _say("Every unit of this transcript is read: it carries your codes or is marked “nothing applies”.")
    elif found.wrapped:
        _say("Wrapped around: no unread unit below, so this is the first unread one from the top.")
    _select(found.segment_id)


def _nothing_applies(p: Page, segment_id: int, frames: list[str], marked: bool, after: int | None) -> None:
    try:
        if marked:
            service.set_nothing_applies(p.engine, p.project, segment_id=segment_id, coder=p.coder,
                                            frames=frames, on=False)
            _say("The “nothing applies” mark is lifted.")
            _changed(step=None)
            return
        elif not frames:
            _say("This unit carries your codes in every frame shown: nothing to mark.")
        else:
            service.set_nothing_applies(p.engine, p.project, segment_id=segment_id, coder=p.coder, frames=frames)
            _select(after)
            _changed(step=("mark", segment_id, tuple(frames)))
            return
    except CodeframeError as exc:
        _say(common.first_line(exc))
    _changed(step=None)


def _undo(p: Page, key: str | None = None) -> None:
    """Undo the last change: a "nothing applies" mark of this session is lifted, a coding change is
    reverted through the history (``key``: undo that many coding changes at once)."""
    steps = st.session_state.setdefault(STEPS, [])
    if key is None and steps and steps[-1][0] == "mark":
        _, segment_id, frames = steps.pop()
        try:
            service.set_nothing_applies(p.engine, p.project, segment_id=segment_id, coder=p.coder,
                                            frames=list(frames), on=False)
            _say("Undid the “nothing applies” mark.")
            _select(segment_id)
        except CodeframeError as exc:
            _say(common.first_line(exc))
        _changed(widgets=True, step=None)
        st.session_state[FULL_RUN] = True
        return
    count = int(st.session_state.get(key) or 1) if key else 1
    try:
        done = service.undo_changes(p.engine, p.project, coder=p.coder, steps=count)
        _say(f"Undid {done} change{'s' if done != 1 else ''} (logged in the history)." if done
             else "Nothing to undo.")
    except CodeframeError as exc:
        _say(common.first_line(exc))
    for _ in range(count):
        if steps and steps[-1][0] == "coding":
            steps.pop()
    _changed(widgets=True, step=None)
    st.session_state[FULL_RUN] = True


def _remember(source_key: str, target_key: str) -> None:
    st.session_state[target_key] = st.session_state.get(source_key)


# --------------------------------------------------------------------------- the panel


def _describe(change, labels: dict[str, str], number: dict[int, int]) -> str:
    verb = {"add": "added", "remove": "removed", "memo": "memo on"}.get(change.action, change.action)
    where = (f"unit {number[change.segment_id]}" if change.segment_id in number  # this transcript
             else f"{change.document} · unit {change.unit}" if change.document else "a removed unit")
    text = f"{verb} “{labels.get(change.code, change.code)}” · {where}"
    if change.replaced:
        text += " (replacing " + ", ".join(labels.get(r, r) for r in change.replaced) + ")"
    return text


def write_url(coder: str, document_id: int, segment_id: int) -> None:
    """Coder, transcript, unit, frames and filter in the address, so F5 or a shared link comes back here."""
    wanted = {"coder": coder, "doc": str(document_id), "unit": str(segment_id)}
    if st.session_state.get(common.FRAMES):
        wanted["frames"] = ",".join(st.session_state[common.FRAMES])
    if st.session_state.get(FILTER):
        wanted["filter"] = st.session_state[FILTER]
    if {k: st.query_params.get(k) for k in st.query_params} != wanted:
        st.query_params.from_dict(wanted)


@st.fragment
def panel(p: Page) -> None:
    if st.session_state.pop(FULL_RUN, False):
        st.rerun()  # the transcript must show what undo changed
    units = p.units
    unit_by_id = {s.id: s for s in units}
    number = {s.id: n for n, s in enumerate(units, start=1)}
    seg_id = st.session_state.get(common.SEG_ID)
    if seg_id not in unit_by_id:
        seg_id = st.session_state[common.SEG_ID] = units[0].id
    left = st.session_state.get(SHOWN)  # the unit shown before: a decision there (a mark) must reach the transcript
    st.session_state[SHOWN] = seg_id
    also = [left] if left in unit_by_id and left != seg_id else []
    state = service.panel_state(p.engine, p.project, p.document_id, segment_id=seg_id, viewer=p.coder,
                                    also=also)
    selected = state.unit
    position = units.index(unit_by_id[seg_id])
    codebook = p.codebook
    labels = {c.id: c.label for c in codebook.codes()}
    frame_of = {c.id: c.frame for c in codebook.codes()}
    frame_labels = {f.id: f.label for f in codebook.frames}
    chosen = [f for f in st.session_state.get(common.FRAMES, []) if f in frame_labels]
    active = chosen or list(frame_labels)
    mine = [c for c in selected.codings if c.coder == p.coder]
    others = [c for c in selected.codings if c.coder != p.coder]
    coded_frames = {frame_of.get(c.code) for c in mine}
    marked_here = state.marks.get(seg_id, frozenset())
    widgets = st.session_state.get(WIDGETS, 0)
    write_url(p.coder, p.document_id, seg_id)

    # navigation
    nav = st.columns([1, 2, 1, 3], vertical_alignment="bottom")
    nav[0].button("", icon=":material/chevron_left:", key="cf_prev", help="Previous unit (k, ↑ or ←)",
                  disabled=position == 0, width="stretch", on_click=_select,
                  args=(units[position - 1].id if position else None,))
    # Keys carry the unit: a value set from the server into a kept widget can race with the browser's
    # own copy (seen: the unit box sent the previous unit back after a move), a new widget cannot.
    go_key = f"{GO}_{seg_id}"
    nav[1].number_input("Unit", min_value=1, max_value=len(units), value=position + 1, step=1, key=go_key,
                        on_change=_go_to, args=(go_key, units))
    nav[2].button("", icon=":material/chevron_right:", key="cf_next", help="Next unit (j, ↓ or →)",
                  disabled=position == len(units) - 1, width="stretch", on_click=_select,
                  args=(units[position + 1].id if position < len(units) - 1 else None,))
    nav[3].button("Next unread", icon=":material/skip_next:", key="cf_next_unread", width="stretch",
                  type="primary", help="The next unit without your codes or a “nothing applies” mark (n)",
                  on_click=_next_unread, args=(p, selected.position, chosen))
    act = st.columns([5, 3, 2], vertical_alignment="center")
    mark_frames = [f for f in active if f not in coded_frames]
    act[0].button(
        "Nothing applies ✓" if marked_here else "Read, nothing applies", key="cf_nothing", width="stretch",
        icon=":material/do_not_disturb_on:",
        help=("Lift the “nothing applies” mark (0)" if marked_here else
              "Mark this unit read with no code of " + (", ".join(frame_labels[f] for f in mark_frames) or "—")
              + " applying, then go to the next unit (0)"),
        on_click=_nothing_applies,
        args=(p, seg_id, sorted(marked_here) if marked_here else mark_frames, bool(marked_here),
              units[position + 1].id if position < len(units) - 1 else None),
    )
    act[1].button("Undo", icon=":material/undo:", key="cf_undo", width="stretch", on_click=_undo, args=(p,),
                  help="Undo your last change (u); it is logged in the history")
    # lazy: the history is read only while the popover is open, not on every decision
    history = act[2].popover("", icon=":material/history:", help="Your last changes; undo several at once",
                             key="cf_history", on_change="rerun")
    if history.open:
        with history:
            _history(p, labels, number, widgets)

    read = len(state.coded | state.marks.keys())
    st.caption(
        f"**{read} of {len(units)} units read** · {len(state.coded)} with your codes · "
        f"{len(state.marks)} nothing applies" + (" · transcript finished" if state.done else "")
        + " · press **?** for the keys"
    )
    st.progress(1.0 if state.done else read / len(units))
    message = st.session_state.pop(MESSAGE, None)
    if message:
        st.info(message)

    # the selected unit, with the interviewer's question before it
    question = [s for s in _previous_turn(p, selected)]
    context = (f'<div class="cf-context">{html.escape(question[0].speaker or "Interviewer")}: '
               f'{html.escape(" ".join(s.text for s in question))}</div>' if question else "")
    flag = ""
    if marked_here:
        which = ("every frame" if set(marked_here) >= set(frame_labels) else
                 ", ".join(frame_labels.get(f, f) for f in sorted(marked_here)))
        flag = f' · <span class="cf-muted" title="{html.escape(which, quote=True)}">nothing applies</span>'

    st.html(f'{context}<div class="cf-quote"><span class="cf-speaker">'
            f'{html.escape(selected.speaker or "Respondent")} · unit {number[seg_id]} of {len(units)}{flag}</span>'
            f"{html.escape(selected.text)}</div>")

    _codes_and_memos(p, seg_id, mine, others, widgets)
    _analytic_memos(p, seg_id, number[seg_id], mine, widgets)
    if p.model is not None:
        ctx = suggestions.Context(engine=p.engine, project=p.project, coder=p.coder, document_id=p.document_id,
                                  revision=p.suggest_revision,
                                  changed=lambda: _changed(widgets=True), message_key=MESSAGE)
        suggestions.unit_panel(ctx, p.model, segment_id=seg_id, frames=active, frame_labels=frame_labels,
                               coded_frames=coded_frames,
                               exclusive={f.id for f in codebook.frames if f.mutually_exclusive})
    _code_list(p, seg_id, chosen, {c.code for c in mine}, widgets, frame_labels)

    units_changed = {s: {"chips": transcript.chips(codings, p.coder), "read": s in state.coded or s in state.marks,
                         "marked": s in state.marks}
                     for s, codings in [(seg_id, selected.codings), *state.also.items()]}
    keys.keyboard(selected=seg_id, units=units_changed, on_select=_select_clicked)


def _history(p: Page, labels: dict[str, str], number: dict[int, int], widgets: int) -> None:
    """The coder's last changes, newest first, and "undo the last N" (inside the open history popover)."""
    changes = service.recent_changes(p.engine, p.project, coder=p.coder)
    if not changes:
        st.caption("No change to undo.")
        return
    st.markdown("\n".join(f"{n}. {html.escape(_describe(c, labels, number))}" for n, c in enumerate(changes, start=1)))
    steps_key = f"_undo_steps_{widgets}"
    st.number_input("Undo the last", min_value=1, max_value=len(changes), value=1, key=steps_key)
    st.button("Undo these", key="cf_undo_n", on_click=_undo, args=(p, steps_key))


def _previous_turn(p: Page, selected) -> list:
    return [s for s in p.segments if s.turn_index == selected.turn_index - 1 and s.role == "interviewer"]


def _codes_and_memos(p: Page, seg_id: int, mine: list, others: list, widgets: int) -> None:
    """The coder's codes on the unit, each with its memo (editable at any time), and the memo for the next tick."""
    last = st.session_state.get(LAST_TICKED)
    mine = sorted(mine, key=lambda c: c.code != last)  # the code ticked last first: "m" opens its memo
    with st.container(key="cf_memos"):
        if mine:
            for c in mine:
                row = st.columns([7, 1, 1], vertical_alignment="bottom")
                row[0].html(common.chip(c.code, c.label, title=f"{c.code}: {c.label}"))
                memo_key = f"_cm_{seg_id}_{c.code}_{widgets}"
                row[0].text_input(f"Memo on {c.label}", value=c.memo or "", key=memo_key, label_visibility="collapsed",
                                  placeholder="Memo on this code (m, Enter saves)", on_change=_save_memo,
                                  args=(p, memo_key, seg_id, c.code))
                row[1].button("", icon=":material/star:" if c.key_quote else ":material/star_border:",
                              key=f"_kq_{seg_id}_{c.code}", type="primary" if c.key_quote else "secondary",
                              help=("A key quote for this code: the findings report quotes it first (click to unstar)"
                                    if c.key_quote else "Star as a key quote for this code (the findings report "
                                    "quotes starred units first)"),
                              on_click=_star, args=(p, seg_id, c.code, not c.key_quote))
                row[2].button("", icon=":material/close:", key=f"_rm_{seg_id}_{c.code}", help=f"Remove {c.label}",
                              on_click=_remove, args=(p, seg_id, c.code))
        else:
            st.caption("No codes of yours on this unit yet: tick codes below (1–9).")
        draft_key = f"{DRAFT}_{seg_id}"
        st.text_input("Memo for the next code you tick", key=draft_key,
                      value=st.session_state.get(DRAFTS, {}).get(seg_id, ""), on_change=_keep_draft,
                      args=(draft_key, seg_id),
                      placeholder="Saved with the next code you tick on this unit",
                      label_visibility="collapsed" if mine else "visible")
    if others:
        st.html('<span class="cf-muted">Other coders: </span>'
                + "".join(common.chip(c.code, c.label, coder=c.coder, own=False) for c in others))


def _analytic_memos(p: Page, seg_id: int, number: int, mine: list, widgets: int) -> None:
    """Analytic memos (the coder's own): on this unit, on the transcript, and on each code applied here."""
    found = service.own_memos(p.engine, p.project, coder=p.coder, segment_id=seg_id, document_id=p.document_id,
                              codes=[c.code for c in mine])
    targets = [("segment", str(seg_id), f"On unit {number}"), ("document", str(p.document_id), "On this transcript")]
    targets += [("code", c.code, f"On the code “{c.label}” (analytic)") for c in mine]
    written = sum(1 for kind, target, _ in targets if (kind, target) in found)
    with st.popover(f"Memos on the unit, transcript, codes ({written})", icon=":material/sticky_note_2:",
                    width="stretch"):
        for kind, target, label in targets:
            memo_id, text = found.get((kind, target), (None, ""))
            key = f"_am_{kind}_{target}_{widgets}"
            st.text_area(label, value=text, key=key, height=68, on_change=_save_analytic,
                         args=(p, key, kind, target, memo_id), placeholder="Ctrl+Enter or click outside saves")


def _save_analytic(p: Page, key: str, kind: str, target: str, memo_id: int | None) -> None:
    text = (st.session_state.get(key) or "").strip()
    try:
        if memo_id is not None and text:
            service.edit_memo(p.engine, p.project, memo_id=memo_id, text=text, actor=p.coder)
        elif text:
            service.add_memo(p.engine, p.project, kind=kind, target=target if kind == "code" else int(target),
                             coder=p.coder, text=text, actor=p.coder)
        else:
            _say("A memo cannot be emptied here; write the new text instead.")
            return
        _say("Memo saved.")
    except CodeframeError as exc:
        _say(common.first_line(exc))
    _changed(widgets=True, step=None)


def _code_list(p: Page, seg_id: int, chosen: list[str], applied: set[str], widgets: int,
               frame_labels: dict[str, str]) -> None:
    """Frames, the filter, and each frame's codes as one row of pills; the first nine numbered for the keys 1–9.

    One element per frame (not one checkbox per code) keeps each decision's redraw small; each code is
    one tab stop, and the definitions are one popover away.
    """
    st.multiselect("Frames", list(frame_labels), default=chosen, key="_frames_pick", format_func=frame_labels.get,
                   on_change=_remember, args=("_frames_pick", common.FRAMES),
                   placeholder="All frames: choose some to narrow the list")
    query = st.text_input("Filter codes", key="_code_filter", value=st.session_state.get(FILTER) or "",
                          placeholder="Filter: id, label or a word of the definition", label_visibility="collapsed",
                          on_change=_remember, args=("_code_filter", FILTER))
    candidates = service.find_codes(p.codebook, query, frames=chosen or None)
    numbered = {code.id: n for n, code in enumerate(candidates[:9], start=1)}
    with st.container(key="cf_codes"):
        if not candidates:
            st.caption("No code matches: clear the filter or choose more frames.")
        by_frame: dict[str, list] = {}
        for code in candidates:
            by_frame.setdefault(code.frame, []).append(code)
        for frame_id, codes in by_frame.items():
            frame = p.codebook.frame(frame_id)
            ids = [c.id for c in codes]
            names = {c.id: (f"{numbered[c.id]} · " if c.id in numbered else "") + ("↳ " if c.parent else "") + c.label
                     for c in codes}
            key = f"_p_{seg_id}_{frame_id}_{widgets}"
            mine = [c for c in ids if c in applied]
            single = frame.mutually_exclusive
            st.pills(
                frame.label + (" · one code per unit" if single else ""), ids, key=key, format_func=names.get,
                selection_mode="single" if single else "multi",
                default=(mine[0] if mine else None) if single else mine,
                on_change=_pick, args=(p, key, seg_id, frame, set(mine)),
            )
    with st.popover("Definitions", icon=":material/menu_book:"):
        st.markdown("\n\n".join(f"**{c.label}** `{c.id}` — {c.definition}" for c in candidates))


def _pick(p: Page, key: str, segment_id: int, frame, was: set[str]) -> None:
    value = st.session_state.get(key)
    now = set(value if isinstance(value, list) else [value] if value else [])
    codes = {c.id: c for c in p.codebook.codes()}
    for code in sorted(now - was):
        _toggle(p, codes[code], segment_id, on=True, frame_label=frame.label)
    for code in sorted(was - now):
        if not (frame.mutually_exclusive and now):  # a single-choice frame replaces, the service removes the old
            _toggle(p, codes[code], segment_id, on=False, frame_label=frame.label)
