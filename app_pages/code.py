"""Code a transcript: the conversation on the left, one editing panel for the selected unit on the right.

Keyboard first: one key per decision (``?`` lists them, see :mod:`app_pages._keys`). The panel
is a fragment (:mod:`app_pages._code_panel`), so a tick, a move or an accept reruns only the
panel; the transcript is ONE html block drawn by full runs, kept in step by the keyboard
component. Coder, transcript, unit, frames and filter live in the address (``st.query_params``),
so F5 or a shared link returns to the same unit. Every change is saved at once. With
**Suggestions** on (off by default), the panel also shows the model's suggestions for the
selected unit, and an expander pre-codes the transcript (see :mod:`app_pages._suggestions`).
"""

from __future__ import annotations

import streamlit as st

from app_pages import _code_panel as panel
from app_pages import _common as common
from app_pages import _suggestions as suggestions
from app_pages import _transcript as transcript
from coding import service
from coding.errors import CodeframeError

engine, project = common.engine(), common.project_name()
common.inject_css()
st.html(transcript.CSS)

st.title("Code a transcript")

documents = service.list_documents(engine, project)
if not documents:
    st.info("No documents yet — import transcripts on the **Import** page.", icon=":material/upload_file:")
    st.stop()
coder = common.require_coder()
if coder is None:
    st.stop()

ids = [d.id for d in documents]
by_id = {d.id: d for d in documents}

# A fresh session (F5, a shared link) starts where the address says.
if not st.session_state.get("_code_url_read"):
    st.session_state["_code_url_read"] = True
    params = st.query_params
    if params.get("doc", "").isdigit() and int(params["doc"]) in by_id:
        st.session_state[common.DOC_ID] = int(params["doc"])
        if params.get("unit", "").isdigit():
            st.session_state[common.SEG_ID] = int(params["unit"])
    if params.get("frames"):
        st.session_state[common.FRAMES] = params["frames"].split(",")
    if params.get("filter"):
        st.session_state[panel.FILTER] = params["filter"]


def _pick_document(key: str) -> None:
    st.session_state[common.DOC_ID] = st.session_state.get(key)
    st.session_state.pop(common.SEG_ID, None)


def _set_done(key: str, document_id: int, was_done: bool) -> None:
    done = bool(st.session_state.get(key, was_done))
    if done != was_done:
        service.mark_done(engine, project, document_id, coder=coder, done=done)
    panel._changed(step=None)


if st.session_state.get(common.DOC_ID) not in by_id:
    st.session_state[common.DOC_ID] = ids[0]
top = st.columns([6, 2, 2], vertical_alignment="bottom")
top[0].selectbox(
    "Transcript",
    ids,
    index=ids.index(st.session_state[common.DOC_ID]),
    key="_doc_pick",
    format_func=lambda i: f"{by_id[i].name} — respondent {by_id[i].respondent} ({by_id[i].units} units)",
    on_change=_pick_document,
    args=("_doc_pick",),
)
doc_id = st.session_state[common.DOC_ID]

view = service.document_view(engine, project, doc_id, viewer=coder)
units = [s for s in view.segments if s.is_unit]
if not units:
    st.warning("This transcript has no respondent segments to code.")
    st.stop()
number = {s.id: n for n, s in enumerate(units, start=1)}

revision = st.session_state.get(panel.REVISION, 0)
done_key = f"_done_{doc_id}_{revision}"
top[1].toggle("Transcript done", value=view.done, key=done_key, on_change=_set_done, args=(done_key, doc_id, view.done),
              help="Mark the transcript as done once you have read every unit; you can still change codes later.")
suggesting = suggestions.switch(top[2])

attributes = " · ".join(f"{k}: {v}" for k, v in view.document.attributes.items())
visibility = (
    "everyone's codings are visible (yours solid, others' dashed)"
    if view.visible_coders is None
    else f"blind coding: only {', '.join(view.visible_coders)}'s codings are shown"
)
st.caption(f"Respondent **{view.document.respondent}**{' · ' + attributes if attributes else ''}  \n"
           f"You are coding as **{coder}** · {visibility}")

if st.session_state.get(common.SEG_ID) not in number:
    first = service.next_unread(engine, project, doc_id, coder=coder).segment_id
    st.session_state[common.SEG_ID] = first if first is not None else units[0].id
seg_id = st.session_state[common.SEG_ID]

codebook = service.project_codebook(engine, project)
frame_labels = {f.id: f.label for f in codebook.frames}
chosen = [f for f in st.session_state.get(common.FRAMES, []) if f in frame_labels]

# Suggestions (off by default): the model loads and fits only once the coder turns them on.
model = None
if suggesting and frame_labels:
    try:
        model = suggestions.embedder(engine, project)
    except (CodeframeError, OSError, ImportError) as exc:
        st.error(f"The embedding model could not be loaded, so there are no suggestions: {exc}")
if model is not None:
    suggestions.precode_and_queue(
        suggestions.Context(engine=engine, project=project, coder=coder, document_id=doc_id, revision=revision,
                            changed=panel._changed, message_key=panel.MESSAGE),
        model, frame_labels=frame_labels, preferred=chosen, number=number)

coded = frozenset(s.id for s in units if any(c.coder == coder for c in s.codings))
marks = service.unit_marks(engine, project, doc_id, coder=coder)
left, right = st.columns([3, 2], gap="large")
with left:
    with st.container(height=720, border=True, key="cf_transcript"):
        st.html(transcript.transcript_html(view.segments, coder=coder, selected=seg_id, number=number, coded=coded,
                                           marks=marks))
with right:
    panel.panel(panel.Page(engine=engine, project=project, coder=coder, document_id=doc_id,
                           segments=view.segments, units=units, codebook=codebook, model=model,
                           suggest_revision=revision))
