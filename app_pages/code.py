"""Code a transcript: the conversation on the left, one editing panel for the selected unit on the right.

The transcript is ONE html block (chips included), and only the selected unit gets widgets,
so a transcript of hundreds of segments re-renders quickly after each click. Every change is
saved at once through :mod:`coding.service`. With **Suggestions** on (off by default), the
panel also shows the model's suggestions for the selected unit, and an expander pre-codes the
transcript and lists the units the model is least sure about (see :mod:`app_pages._suggestions`).
"""

from __future__ import annotations

import html
import json

import streamlit as st

from app_pages import _common as common
from app_pages import _suggestions as suggestions
from coding import service
from coding.errors import CodeframeError

engine, project = common.engine(), common.project_name()
common.inject_css()

st.title("Code a transcript")

documents = service.list_documents(engine, project)
if not documents:
    st.info("No documents yet — import transcripts on the **Import** page.", icon=":material/upload_file:")
    st.stop()
coder = common.require_coder()
if coder is None:
    st.stop()

MESSAGE = "_code_message"
REVISION = "_code_revision"  # bumped after every change, so the code checkboxes re-read the database

# Widget values come from the database through ``value=``/``index=`` and keys that change with
# what they show (segment, revision); the pages never write widget state through st.session_state,
# which would make Streamlit report unchanged widgets as changed.


# --------------------------------------------------------------------------- callbacks (one service call each)


def _remember(source_key: str, target_key: str) -> None:
    if source_key in st.session_state:
        st.session_state[target_key] = st.session_state[source_key]


def _select_segment(segment_id: int | None) -> None:
    if segment_id is not None:
        st.session_state[common.SEG_ID] = segment_id


def _changed() -> None:
    st.session_state[REVISION] = st.session_state.get(REVISION, 0) + 1


def _toggle_code(key: str, segment_id: int, code: str, was_applied: bool) -> None:
    applied = st.session_state.get(key, was_applied)
    if applied == was_applied:
        return
    memo_key = f"_memo_{segment_id}"
    try:
        if applied:
            service.add_coding(engine, project, segment_id=segment_id, code=code, coder=coder,
                               memo=(st.session_state.get(memo_key) or "").strip() or None)
            st.session_state[memo_key] = ""
        else:
            service.remove_coding(engine, project, segment_id=segment_id, code=code, coder=coder)
    except CodeframeError as exc:
        st.session_state[MESSAGE] = str(exc).split("\n", 1)[0]
    _changed()


def _remove_code(segment_id: int, code: str) -> None:
    try:
        service.remove_coding(engine, project, segment_id=segment_id, code=code, coder=coder)
    except CodeframeError as exc:
        st.session_state[MESSAGE] = str(exc).split("\n", 1)[0]
    _changed()


def _next_uncoded(document_id: int, after_position: int) -> None:
    found = service.next_uncoded_segment(engine, project, document_id, coder=coder, after_position=after_position)
    if found is None:
        st.session_state[MESSAGE] = "Every unit of this transcript carries at least one of your codes."
    _select_segment(found)


def _set_done(key: str, document_id: int, was_done: bool) -> None:
    done = bool(st.session_state.get(key, was_done))
    if done != was_done:
        service.mark_done(engine, project, document_id, coder=coder, done=done)
    _changed()


# --------------------------------------------------------------------------- document choice

ids = [d.id for d in documents]
by_id = {d.id: d for d in documents}
if st.session_state.get(common.DOC_ID) not in by_id:
    st.session_state[common.DOC_ID] = ids[0]
top = st.columns([6, 2, 2], vertical_alignment="bottom")
top[0].selectbox(
    "Transcript",
    ids,
    index=ids.index(st.session_state[common.DOC_ID]),
    key="_doc_pick",
    format_func=lambda i: f"{by_id[i].name} — respondent {by_id[i].respondent} ({by_id[i].units} units)",
    on_change=_remember,
    args=("_doc_pick", common.DOC_ID),
)
doc_id = st.session_state[common.DOC_ID]

view = service.document_view(engine, project, doc_id, viewer=coder)
units = [s for s in view.segments if s.is_unit]
if not units:
    st.warning("This transcript has no respondent segments to code.")
    st.stop()
number = {s.id: n for n, s in enumerate(units, start=1)}
unit_by_id = {s.id: s for s in units}
own_coded = sum(1 for s in units if any(c.coder == coder for c in s.codings))

revision = st.session_state.get(REVISION, 0)
done_key = f"_done_{doc_id}_{revision}"
top[1].toggle(
    "Transcript done",
    value=view.done,
    key=done_key,
    on_change=_set_done,
    args=(done_key, doc_id, view.done),
    help="Mark the transcript as done once every unit has your codes; you can still change codes later.",
)
suggesting = suggestions.switch(top[2])

attributes = " · ".join(f"{k}: {v}" for k, v in view.document.attributes.items())
visibility = (
    "everyone's codings are visible (yours solid, others' dashed)"
    if view.visible_coders is None
    else f"blind coding: only {', '.join(view.visible_coders)}'s codings are shown"
)
st.caption(
    f"Respondent **{view.document.respondent}**{' · ' + attributes if attributes else ''}  \n"
    f"You are coding as **{coder}** — {own_coded} of {len(units)} units coded · {visibility}"
)
st.progress(own_coded / len(units))

if st.session_state.get(common.SEG_ID) not in unit_by_id:
    first = service.next_uncoded_segment(engine, project, doc_id, coder=coder)
    st.session_state[common.SEG_ID] = first if first is not None else units[0].id
seg_id = st.session_state[common.SEG_ID]
selected = unit_by_id[seg_id]

codebook = service.project_codebook(engine, project)
labels = {c.id: c.label for c in codebook.codes()}
frame_ids = [f.id for f in codebook.frames]
frame_labels = {f.id: f.label for f in codebook.frames}
chosen = [f for f in st.session_state.get(common.FRAMES, []) if f in frame_labels]

# Suggestions (off by default): the model loads and fits only once the coder turns them on.
model = None
if suggesting and frame_ids:
    try:
        model = suggestions.embedder(engine, project)
    except (CodeframeError, OSError, ImportError) as exc:
        st.error(f"The embedding model could not be loaded, so there are no suggestions: {exc}")
if model is not None:
    suggest_ctx = suggestions.Context(engine=engine, project=project, coder=coder, document_id=doc_id,
                                      revision=revision, changed=_changed, message_key=MESSAGE)
    suggestions.precode_and_queue(suggest_ctx, model, frame_labels=frame_labels, preferred=chosen, number=number)


# --------------------------------------------------------------------------- transcript (one html block)


def _chips(segment) -> str:
    return "".join(
        common.chip(c.code, c.label, coder=c.coder, own=c.coder == coder,
                    title=f"{c.code}: {c.label} — {c.coder}" + (f" — memo: {c.memo}" if c.memo else ""))
        for c in segment.codings
    )


def _transcript_html() -> str:
    turns: list[list] = []
    for s in view.segments:
        if turns and turns[-1][0].turn_index == s.turn_index:
            turns[-1].append(s)
        else:
            turns.append([s])
    parts = []
    for turn in turns:
        head = turn[0]
        # text before the first speaker label (title, date, a notice) is context, not respondent talk
        role = head.role if head.role in ("interviewer", "respondent") else "note"
        speaker = html.escape(head.speaker or {"interviewer": "Interviewer", "respondent": "Respondent",
                                               "note": "Context"}[role])
        body = []
        for s in turn:
            text = html.escape(s.text).replace("\n", "<br>")
            if not s.is_unit:
                body.append(f"<span>{text}</span>")
                continue
            classes = "cf-seg"
            if s.id == seg_id:
                classes += " cf-selected"
            if not any(c.coder == coder for c in s.codings):
                classes += " cf-uncoded"
            body.append(
                f'<span class="{classes}" id="cf-seg-{s.id}"><span class="cf-num">{number[s.id]}</span>{text}</span> '
                f"{_chips(s)}"
            )
        parts.append(
            f'<div class="cf-turn cf-{role}"><span class="cf-speaker">{speaker}</span>{" ".join(body)}</div>'
        )
    return "".join(parts)


left, right = st.columns([3, 2], gap="large")
with left:
    with st.container(height=720, border=True, key="cf_transcript"):
        st.html(_transcript_html())
    # Keep the selected unit in view inside the scrolling transcript. (No "<" directly before a letter:
    # the html sanitizer drops a script whose text looks like markup.)
    st.html(
        "<script>setTimeout(function () { var el = document.getElementById(" + json.dumps(f"cf-seg-{seg_id}")
        + "); if (!el) return; var p = el.parentElement;"
        " while (p && !(p.scrollHeight > p.clientHeight + 4 && /auto|scroll/.test(getComputedStyle(p).overflowY)))"
        " p = p.parentElement; if (!p) return;"
        " var r = el.getBoundingClientRect(), q = p.getBoundingClientRect();"
        " if (r.top < q.top || r.bottom > q.bottom) p.scrollTop += r.top - q.top - p.clientHeight / 3;"
        " }, 80);</script>",
        unsafe_allow_javascript=True,
    )


# --------------------------------------------------------------------------- editing panel (selected unit only)

with right:
    position = units.index(selected)
    nav = st.columns([1, 3, 1], vertical_alignment="bottom")
    nav[0].button("", icon=":material/chevron_left:", key="_prev", help="Previous unit", disabled=position == 0,
                  width="stretch", on_click=_select_segment, args=(units[position - 1].id if position else None,))
    nav[1].selectbox(
        "Unit",
        [s.id for s in units],
        index=position,
        key=f"_seg_pick_{seg_id}",
        format_func=lambda i: f"{number[i]} · {unit_by_id[i].text[:60]}",
        on_change=_remember,
        args=(f"_seg_pick_{seg_id}", common.SEG_ID),
    )
    nav[2].button("", icon=":material/chevron_right:", key="_next", help="Next unit",
                  disabled=position == len(units) - 1, width="stretch", on_click=_select_segment,
                  args=(units[position + 1].id if position < len(units) - 1 else None,))
    st.button("Next uncoded unit", icon=":material/skip_next:", key="_next_uncoded", width="stretch", type="primary",
              on_click=_next_uncoded, args=(doc_id, selected.position))

    message = st.session_state.pop(MESSAGE, None)
    if message:
        st.info(message)

    # The interviewer's turn just before the selected unit's turn, as context.
    question = [s for s in view.segments if s.turn_index == selected.turn_index - 1 and s.role == "interviewer"]
    context = (
        f'<div class="cf-context">{html.escape(question[0].speaker or "Interviewer")}: '
        f'{html.escape(" ".join(s.text for s in question))}</div>'
        if question
        else ""
    )
    st.html(
        f'{context}<div class="cf-quote"><span class="cf-speaker">'
        f'{html.escape(selected.speaker or "Respondent")} · unit {number[seg_id]} of {len(units)}</span>'
        f"{html.escape(selected.text)}</div>"
    )

    mine = [c for c in selected.codings if c.coder == coder]
    others = [c for c in selected.codings if c.coder != coder]
    if mine:
        st.markdown("**Your codes on this unit**")
        for c in mine:
            row = st.columns([6, 1], vertical_alignment="center")
            row[0].html(common.chip(c.code, c.label, title=f"{c.code}: {c.label}")
                        + (f'<span class="cf-muted"> — {html.escape(c.memo)}</span>' if c.memo else ""))
            row[1].button("", icon=":material/close:", key=f"_rm_{seg_id}_{c.code}", help=f"Remove {c.label}",
                          on_click=_remove_code, args=(seg_id, c.code))
    else:
        st.caption("No codes of yours on this unit yet — tick codes below.")
    if others:
        st.html('<span class="cf-muted">Other coders: </span>'
                + "".join(common.chip(c.code, c.label, coder=c.coder, own=False) for c in others))

    if model is not None:
        frame_of = {c.id: c.frame for c in codebook.codes()}
        suggestions.unit_panel(suggest_ctx, model, segment_id=seg_id, frames=chosen or frame_ids,
                               frame_labels=frame_labels, coded_frames={frame_of.get(c.code) for c in mine})

    st.text_input("Memo (optional)", key=f"_memo_{seg_id}",
                  placeholder="Saved with the next code you tick on this unit")

    st.multiselect("Frames", frame_ids, default=chosen, key="_frames_pick", format_func=frame_labels.get,
                   on_change=_remember, args=("_frames_pick", common.FRAMES),
                   placeholder="All frames — choose some to narrow the list")
    query = st.text_input("Filter codes", key="_code_filter", label_visibility="collapsed",
                          placeholder="Filter: id, label or a word of the definition")
    candidates = service.find_codes(codebook, query, frames=chosen or None)
    applied = {c.code for c in mine}
    with st.container(height=380, border=False, key="cf_codes"):
        if not candidates:
            st.caption("No code matches — clear the filter or choose more frames.")
        current_frame = None
        for code in candidates:
            if code.frame != current_frame:
                current_frame = code.frame
                frame = codebook.frame(code.frame)
                st.markdown(
                    f"**{frame.label}**" + (" · *one code per unit*" if frame.mutually_exclusive else "")
                )
            key = f"_c_{seg_id}_{code.id}_{revision}"
            st.checkbox(
                ("↳ " if code.parent else "") + code.label,
                value=code.id in applied,
                key=key,
                help=f"`{code.id}` — {code.definition}",
                on_change=_toggle_code,
                args=(key, seg_id, code.id, code.id in applied),
            )
