"""Code a transcript: the transcript, the unit panel and the keys in one client-side view.

Keyboard first: one key per decision (``?`` lists them). The view (:mod:`app_pages._coding_view`)
draws each decision at once and sends it as an event bound to the unit it was made on; the
facade applies it once and acknowledges it, so a background rerun, a slow server or a cut
connection never moves a decision to another unit. Coder, transcript, unit and frames live in the
address (``st.query_params``), so F5 or a shared link returns to the same unit. With
**Suggestions** on (off by default), the view shows the model's top suggestion for the unit
(``a``/``x`` accept or reject it), and an expander pre-codes the transcript (see
:mod:`app_pages._suggestions`).
"""

from __future__ import annotations

import streamlit as st

from app_pages import _coding_view as coding_view
from app_pages import _common as common
from app_pages import _suggestions as suggestions
from coding import service
from coding.errors import CodeframeError

VIEW_DOC = "_view_doc"  # the transcript the view was last told to open

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


def _pick_document(key: str) -> None:
    st.session_state[common.DOC_ID] = st.session_state.get(key)
    st.session_state.pop(common.SEG_ID, None)


def _set_done(key: str, document_id: int, was_done: bool) -> None:
    done = bool(st.session_state.get(key, was_done))
    if done != was_done:
        service.mark_done(engine, project, document_id, coder=coder, done=done)


def _remember(source_key: str, target_key: str) -> None:
    st.session_state[target_key] = st.session_state.get(source_key)


if st.session_state.get(common.DOC_ID) not in by_id:
    st.session_state[common.DOC_ID] = ids[0]
codebook = service.project_codebook(engine, project, viewer=coder)  # the coder's own proposals too
frame_labels = {f.id: f.label for f in codebook.frames}
chosen = [f for f in st.session_state.get(common.FRAMES, []) if f in frame_labels]

top = st.columns([5, 4, 2, 2], vertical_alignment="bottom")
top[0].selectbox(
    "Transcript", ids, index=ids.index(st.session_state[common.DOC_ID]), key="_doc_pick",
    format_func=lambda i: f"{by_id[i].name} — respondent {by_id[i].respondent} ({by_id[i].units} units)",
    on_change=_pick_document, args=("_doc_pick",),
)
top[1].multiselect("Frames", list(frame_labels), default=chosen, key="_frames_pick", format_func=frame_labels.get,
                   on_change=_remember, args=("_frames_pick", common.FRAMES),
                   placeholder="All frames: choose some to narrow the codes")
doc_id = st.session_state[common.DOC_ID]

view = service.document_view(engine, project, doc_id, viewer=coder)
units = [s for s in view.segments if s.is_unit]
if not units:
    st.warning("This transcript has no respondent segments to code.")
    st.stop()

done_key = f"_done_{doc_id}_{view.done}"
top[2].toggle("Transcript done", value=view.done, key=done_key, on_change=_set_done, args=(done_key, doc_id, view.done),
              help="Mark the transcript as done once you have read every unit; you can still change codes later.")
suggesting = suggestions.switch(top[3])

attributes = " · ".join(f"{k}: {v}" for k, v in view.document.attributes.items())
visibility = (
    "everyone's codings are visible (yours solid, others' dashed)"
    if view.visible_coders is None
    else f"blind coding: only {', '.join(view.visible_coders)}'s codings are shown"
)
st.caption(f"Respondent **{view.document.respondent}**{' · ' + attributes if attributes else ''} · "
           f"coding as **{coder}** · {visibility} · press **?** for the keys")

unit_ids = {s.id for s in units}
if st.session_state.get(VIEW_DOC) != doc_id or st.session_state.get(common.SEG_ID) not in unit_ids:
    # the view opens this transcript: at the unit of the address, or the first unread one
    start = st.session_state.get(common.SEG_ID)
    if start not in unit_ids:
        first = service.next_unread(engine, project, doc_id, coder=coder).segment_id
        start = first if first is not None else units[0].id
    st.session_state[VIEW_DOC] = doc_id
    coding_view.request_select(start)

# Suggestions (off by default): the model loads and fits only once the coder turns them on.
model = None
if suggesting and frame_labels:
    try:
        model = suggestions.embedder(engine, project)
    except (CodeframeError, OSError, ImportError) as exc:
        st.error(f"The embedding model could not be loaded, so there are no suggestions: {exc}")
ctx = suggestions.Context(engine=engine, project=project, coder=coder, document_id=doc_id,
                          revision=suggestions.revision(), changed=suggestions.bump_revision,
                          message_key="_code_message")
suggest = None
if model is not None:
    def suggest():
        return suggestions.for_view(ctx, model, frames=chosen or list(frame_labels),
                                    exclusive={f.id for f in codebook.frames if f.mutually_exclusive})

coding_view.fragment(engine, project, coder, doc_id, chosen, suggest)

if model is not None:
    number = {s.id: n for n, s in enumerate(units, start=1)}
    suggestions.precode_and_queue(ctx, model, frame_labels=frame_labels, preferred=chosen, number=number)
