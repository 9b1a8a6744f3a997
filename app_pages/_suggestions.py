"""Code suggestions on the coding page: the switch, the panel for the selected unit, pre-coding, uncertain first.

A thin layer over the suggestion functions of :mod:`coding.service`: each widget calls one
service function. Nothing runs until the coder turns **Suggestions** on, so opening a
transcript stays instant. The embedding model is loaded once per server process
(``st.cache_resource``); suggestions for a whole transcript are computed once per
(database, project, frame, coder, document, model) and kept (``st.cache_data``) until this
session changes something — the page's revision counter is part of the key, with a
per-session token, so one tab's edits never serve stale suggestions to another.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Callable, Collection

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from app_pages import _coding_view as coding_view
from app_pages import _common as common
from coding import service
from coding.errors import CodeframeError

ON = "suggestions_on"  # the switch (plain bool, survives page changes)
TOOL_FRAME = "suggest_frame"  # the frame pre-coding and the uncertain-first queue work on
MIN_SCORE = "precode_min_score"
TOKEN = "_suggest_session"  # separates this session's cached results from other sessions'
REVISION = "_suggest_revision"  # bumped when the suggestions must be refitted (bulk accept, refresh)
ALLOW_NONE = "suggest_allow_none"  # exclusive frames may answer "nothing applies" (the coder turns it on)
DEFAULT_MIN_SCORE = 0.7
QUEUE_LENGTH = 10
TOP_K = 3  # suggestions per unit, across frames

MATCHED = {
    "label": "its label",
    "definition": "its definition",
    "include": "an inclusion criterion",
    "example": "an example",
}

@dataclass
class Context:
    """What the callbacks need about the page: who codes what, and how to report back."""

    engine: Engine
    project: str
    coder: str
    document_id: int
    revision: int
    changed: Callable[[], None]  # bumps the page's revision after a write
    message_key: str  # where the page shows a one-off message


# --------------------------------------------------------------------------- switch & caches


def _remember(source_key: str, target_key: str) -> None:
    if source_key in st.session_state:
        st.session_state[target_key] = st.session_state[source_key]


def switch(container) -> bool:
    """The **Suggestions** toggle (off by default, remembered for the session); True when on."""
    container.toggle(
        "Suggestions",
        value=bool(st.session_state.get(ON, False)),
        key="_suggest_toggle",
        on_change=_remember,
        args=("_suggest_toggle", ON),
        help="Suggest codes with the embedding model: each unit's best codes with their scores and why, "
             "pre-coding of the whole transcript, and the units the model is least sure about.",
    )
    return bool(st.session_state.get(ON, False))


@st.cache_resource(show_spinner="Loading the embedding model…", max_entries=4)
def _embedder(url: str, project: str, model_id: str, _engine: Engine):
    return service.embedder_for(_engine, project)


def embedder(engine: Engine, project: str):
    """The project's embedding model, loaded once per server process (a spinner the first time)."""
    model_id = service.get_project(engine, project).embedding_model
    return _embedder(engine.url.render_as_string(hide_password=True), project, model_id, engine)


def _session_token() -> str:
    if TOKEN not in st.session_state:
        st.session_state[TOKEN] = uuid.uuid4().hex
    return st.session_state[TOKEN]


def _key(ctx: Context, model) -> tuple:
    return (ctx.engine.url.render_as_string(hide_password=True), ctx.project, ctx.coder, ctx.document_id,
            model.model_id, _session_token(), ctx.revision)


@st.cache_data(show_spinner=False, max_entries=256, ttl=3600)
def _suggest(key: tuple, frame: str, allow_none: bool, _engine: Engine, _model) -> list[service.SuggestionView]:
    _, project, coder, document_id, *_ = key
    return service.suggest(_engine, project, frame=frame, coder=coder, document_id=document_id,
                           allow_none=allow_none, embedder=_model)


@st.cache_data(show_spinner=False, max_entries=256, ttl=3600)
def _precode(key: tuple, frame: str, min_score: float, _engine: Engine, _model) -> list[service.SuggestionView]:
    _, project, coder, document_id, *_ = key
    return service.precode_document(_engine, project, frame=frame, coder=coder, document_id=document_id,
                                    min_score=min_score, embedder=_model)


@st.cache_data(show_spinner=False, max_entries=256, ttl=3600)
def _uncertain(key: tuple, frame: str, _engine: Engine, _model) -> list[service.UncertainSegment]:
    _, project, coder, document_id, *_ = key
    return service.uncertain_first(_engine, project, frame=frame, coder=coder, document_id=document_id,
                                   limit=QUEUE_LENGTH, embedder=_model)


@st.cache_data(show_spinner=False, max_entries=256, ttl=3600)
def _notes(key: tuple, frame: str, _engine: Engine, _model) -> list[str]:
    _, project, coder, *_ = key
    return service.suggestion_notes(_engine, project, frame=frame, coder=coder, embedder=_model)


# --------------------------------------------------------------------------- callbacks (one service call each)


def _bulk_accept(ctx: Context, model, frame: str, min_score: float) -> None:
    try:
        accepted = service.bulk_accept(ctx.engine, ctx.project, frame=frame, coder=ctx.coder,
                                       document_id=ctx.document_id, min_score=min_score, embedder=model)
        st.session_state["_precode_message"] = (
            "success", f"Accepted {accepted} suggestion{'s' if accepted != 1 else ''} scoring {min_score:.2f} or more.")
    except CodeframeError as exc:
        st.session_state["_precode_message"] = ("error", common.first_line(exc))
    ctx.changed()


def _jump_to_row(key: str, segment_ids: list[int]) -> None:
    state = st.session_state.get(key)
    rows = list(state.selection.rows) if state is not None else []
    if rows:
        coding_view.request_select(segment_ids[rows[0]])


def _jump(key: str) -> None:
    segment_id = st.session_state.get(key)
    if segment_id is not None:
        coding_view.request_select(segment_id)


# --------------------------------------------------------------------------- the view's suggestions


def revision() -> int:
    """The suggestions' revision: bumped by bulk accept and "Refresh suggestions", so they are refitted then."""
    return int(st.session_state.get(REVISION, 0))


def bump_revision() -> None:
    st.session_state[REVISION] = revision() + 1


def for_view(ctx: Context, model, *, frames: list[str],
             exclusive: Collection[str] = ()) -> tuple[dict, str, list[int], str]:
    """For the coding view: the top suggestions of every unit of the transcript in ``frames`` (at most
    :data:`TOP_K` per unit, the most probable first), a note for a unit without one, the units from the
    least to the most certain (:func:`coding.service.confidence_order`) and a status line of what the
    suggestions are standardised over and warnings (:func:`coding.service.suggestion_notes`)."""
    allow_none = bool(st.session_state.get(ALLOW_NONE, False))
    found: list[service.SuggestionView] = []
    problems, notes = [], []
    for frame in frames:
        try:
            found += _suggest(_key(ctx, model), frame, allow_none and frame in exclusive, ctx.engine, model)
            notes += [n for n in _notes(_key(ctx, model), frame, ctx.engine, model) if n not in notes]
        except CodeframeError as exc:
            problems.append(f"{frame}: {common.first_line(exc)}")
    shown = service.limit_per_unit(found, TOP_K)
    note = ("No suggestion here: the model abstains (no code above its threshold), or you coded this unit in "
            "the frames shown." + (" " + "; ".join(problems) if problems else ""))
    doubtful = list(dict.fromkeys(s.segment_id for s in service.confidence_order(shown)))
    return coding_view.suggestion_payload(shown), note, doubtful, " · ".join(notes)


# --------------------------------------------------------------------------- pre-code & uncertain first


def _tool_frame(frames: list[str], preferred: list[str]) -> str:
    current = st.session_state.get(TOOL_FRAME)
    if current in frames:
        return current
    return preferred[0] if preferred else frames[0]


def precode_and_queue(ctx: Context, model, *, frame_labels: dict[str, str], preferred: list[str],
                      number: dict[int, int]) -> None:
    """Review the whole transcript's suggestions in one frame, bulk-accept above a minimum score,
    and jump to the units the model is least sure about."""
    frames = list(frame_labels)
    if not frames:
        return
    with st.expander("Pre-code this transcript · uncertain first", icon=":material/auto_awesome:"):
        options = st.columns([3, 2], vertical_alignment="center")
        options[0].toggle("“Nothing applies” can be the answer in a one-code frame", key="_suggest_allow_none_pick",
                          value=bool(st.session_state.get(ALLOW_NONE, False)), on_change=_remember,
                          args=("_suggest_allow_none_pick", ALLOW_NONE),
                          help="In a frame with one code per unit the model names its best code for every unit "
                               "(forced choice). On: it says nothing where even its best code is below that "
                               "code's threshold.")
        options[1].button("Refresh suggestions", icon=":material/refresh:", key="_suggest_refresh",
                          on_click=bump_revision, help="Refit the model on your latest codes and redraw the "
                          "suggestions of this transcript.")
        frame = _tool_frame(frames, preferred)
        head = st.columns([3, 3, 2, 4], vertical_alignment="bottom")
        head[0].selectbox("Frame", frames, index=frames.index(frame), key="_precode_frame",
                          format_func=frame_labels.get, on_change=_remember, args=("_precode_frame", TOOL_FRAME))
        min_score = float(st.session_state.get(MIN_SCORE, DEFAULT_MIN_SCORE))
        head[1].slider("Minimum score", 0.0, 1.0, value=min_score, step=0.01, key="_precode_min",
                       on_change=_remember, args=("_precode_min", MIN_SCORE),
                       help="Only suggestions scoring at least this much are listed and bulk-accepted.")
        try:
            with st.spinner("Pre-coding the transcript…"):
                review = _precode(_key(ctx, model), frame, min_score, ctx.engine, model)
                queue = _uncertain(_key(ctx, model), frame, ctx.engine, model)
        except CodeframeError as exc:
            common.show_error(exc)
            return
        head[2].button(
            f"Bulk accept ≥ {min_score:.2f} ({len(review)})", key="_bulk_accept", type="primary", width="stretch",
            disabled=not review, on_click=_bulk_accept, args=(ctx, model, frame, min_score),
            help="Accept every listed suggestion as your coding (source: suggestion, with its score).",
        )
        by_id = {q.segment_id: q for q in queue}
        selected = st.session_state.get(common.SEG_ID)
        queue_key = f"_uncertain_{ctx.revision}_{selected}"
        head[3].selectbox(
            "Uncertain first",
            list(by_id),
            index=None,
            key=queue_key,
            format_func=lambda i: (f"unit {number.get(i, '?')} · uncertainty {by_id[i].uncertainty:.2f} · "
                                   f"{by_id[i].text}"),
            placeholder=f"Jump to one of {len(by_id)} unsure units" if by_id
            else "Nothing left to label in this frame here",
            disabled=not by_id,
            on_change=_jump,
            args=(queue_key,),
            help="Units you have not coded in this frame, the most uncertain first: coding these teaches "
                 "the model the most.",
        )
        message = st.session_state.pop("_precode_message", None)
        if message:
            (st.success if message[0] == "success" else st.error)(message[1])

        if review:
            table = pd.DataFrame(
                {
                    "unit": [number.get(s.segment_id) for s in review],
                    "code": [s.label for s in review],
                    "score": [s.score for s in review],
                    "threshold": [s.threshold for s in review],
                    "text": [s.text for s in review],
                    "why": [f"{MATCHED.get(s.evidence.matched_kind, s.evidence.matched_kind)}: "
                            f"{s.evidence.matched_text}" for s in review],
                }
            )
            table_key = f"_precode_table_{ctx.revision}_{selected}"
            st.dataframe(
                table, hide_index=True, height=min(38 + 35 * len(review), 320), width="stretch",
                key=table_key, selection_mode="single-row",
                on_select=functools.partial(_jump_to_row, table_key, [s.segment_id for s in review]),
                column_config={
                    "unit": st.column_config.NumberColumn("Unit", width=50),
                    "code": st.column_config.TextColumn("Code", width=220),
                    "score": st.column_config.ProgressColumn("Score", min_value=0.0, max_value=1.0,
                                                             format="%.2f", width=90),
                    "threshold": st.column_config.NumberColumn("Threshold", format="%.2f", width=75),
                    "text": st.column_config.TextColumn("Text", width=420),
                    "why": st.column_config.TextColumn("Matched part of the code", width="large"),
                },
            )
            st.caption(f"Select a row to open its unit. Model **{model.model_id}**: a code is suggested only "
                       "when its score clears that code's threshold.")
        else:
            st.caption(f"No suggestion scores {min_score:.2f} or more on the units you have not coded "
                       f"in {frame_labels[frame]}.")
