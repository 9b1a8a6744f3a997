"""The coding view: transcript, unit panel and keys as ONE client-side ``st.components.v2`` component.

Its HTML is built by ``coding_view/*.js`` (model, draw, view; styles in ``view.css``), shipped beside this module
and read once; nothing is fetched at run time. The browser draws every decision at once and sends it
as an event bound to its unit (``{id, seq, unit_id, action, code/frames, text}``) through the
component's ``outbox`` state, which holds every event not acknowledged yet. Each run of the view's
fragment applies those events in order through :func:`coding.service.apply_decision` (once per id:
a resent event is a no-op) and hands the acknowledgements back in the next render. Python never moves
the selection, except on an explicit request (``select`` with a new nonce: a jump from the
"uncertain first" list, the unit of the address). The browser reports the selected unit (``selected``,
debounced) so that the address keeps it.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import streamlit as st

from app_pages import _common as common
from app_pages import _new_code as new_code
from app_pages import _unit_extras as unit_extras
from coding import service

KEY = "cf_view"
ACKS = "_view_acks"  # event id -> acknowledgement (dict), this session's, oldest first
REJECTED = "_view_rejected"  # document id -> {unit id: [codes]} rejected in this session
SELECT = "_view_select"  # (unit, nonce): the unit Python asks the view to show
KEEP_ACKS = 400
QUESTION_CHARS = 300
_HERE = Path(__file__).resolve().parent / "coding_view"
_nonce = itertools.count(1)

_component = st.components.v2.component(
    "codeframe_coding_view",
    html='<div class="cf-mount"></div>',
    css=(_HERE / "view.css").read_text(encoding="utf-8"),
    # one ES module, kept in three files (each under 500 lines): the model, the drawing, the actions and renders
    js="\n".join((_HERE / name).read_text(encoding="utf-8") for name in ("model.js", "draw.js", "view.js")),
    isolate_styles=True,
)


def _state_value(name: str) -> Any:
    state = st.session_state.get(KEY)
    if state is None:
        return None
    value = getattr(state, name, None)
    if value is None and isinstance(state, dict):
        value = state.get(name)
    return value


def request_select(unit_id: int) -> None:
    """Ask the view to show ``unit_id`` (its next render moves there once)."""
    st.session_state[SELECT] = (int(unit_id), f"{unit_id}:{next(_nonce)}")
    st.session_state[common.SEG_ID] = int(unit_id)


def reported_selection() -> int | None:
    """The unit the coder has selected in the view, as it last reported it."""
    value = _state_value("selected")
    return int(value) if isinstance(value, (int, float, str)) and str(value).lstrip("-").isdigit() else None


def process_outbox(engine, project: str, coder: str) -> list[dict]:
    """Apply the events waiting in the view's outbox (this coder's only, each once); their acknowledgements."""
    outbox = _state_value("outbox") or {}
    events = [e for e in (outbox.get("events") or []) if isinstance(e, dict)]
    acks: dict[str, dict] = st.session_state.setdefault(ACKS, {})
    waiting = []
    for raw in events:
        if raw.get("coder") != coder:
            continue  # made as another coder (the sidebar changed): stays queued for that coder
        event_id = str(raw.get("id", ""))
        waiting.append(event_id)
        if event_id in acks:
            continue
        ack = service.apply_decisions(engine, project, coder, [raw])[0]
        acks[event_id] = {"id": ack.id, "status": ack.status, "unit_id": ack.unit_id, "reason": ack.reason,
                          "message": ack.message, "action": raw.get("action")}
        if ack.status == "applied" and raw.get("action") == "reject":
            _remember_rejection(raw)
        undid = ack.changes.get("undid") or {} if ack.status == "applied" else {}
        if undid.get("action") == "reject":  # the suggestion may be shown again
            codes = st.session_state.get(REJECTED, {}).get(str(ack.unit_id), [])
            if undid.get("code") in codes:
                codes.remove(undid["code"])
    while len(acks) > KEEP_ACKS:
        acks.pop(next(iter(acks)))
    return [acks[i] for i in waiting if i in acks]


def _remember_rejection(raw: dict) -> None:
    rejected = st.session_state.setdefault(REJECTED, {})
    rejected.setdefault(str(raw.get("unit_id")), []).append(raw.get("code"))


def _frames(codebook) -> list[dict]:
    return [{"key": f.id, "label": f.label, "exclusive": f.mutually_exclusive,
             "codes": [{"key": c.id, "label": ("↳ " if c.parent else "") + c.label, "definition": c.definition,
                        "colour": list(common.code_colour(c.id))} for c in f.codes]}
            for f in codebook.frames]


def payload(engine, project: str, *, coder: str, document_id: int, view, codebook, chosen: list[str],
            suggestions: dict | None, suggestions_note: str, acks: list[dict], doubtful: list[int] = (),
            suggestions_status: str = "") -> dict:
    """Everything the view draws for one transcript (plain JSON)."""
    units = [s for s in view.segments if s.is_unit]
    number = {s.id: n for n, s in enumerate(units, start=1)}
    segments, state = [], {}
    question = ""
    for s in view.segments:
        if not s.is_unit:
            question = f"{s.speaker or 'Interviewer'}: {s.text}"[:QUESTION_CHARS] if s.role == "interviewer" else ""
            segments.append({"id": s.id, "unit": False, "speaker": s.speaker, "text": s.text})
            continue
        segments.append({"id": s.id, "unit": True, "n": number[s.id], "speaker": s.speaker, "text": s.text,
                         "question": question})
        state[str(s.id)] = {"mine": [c.code for c in s.codings if c.coder == coder],
                            "others": [{"code": c.code, "coder": c.coder} for c in s.codings if c.coder != coder],
                            "marks": []}
    for segment_id, frames in service.unit_marks(engine, project, document_id, coder=coder).items():
        state[str(segment_id)]["marks"] = sorted(frames)
    for segment_id, text in service.unit_memos(engine, project, document_id, coder=coder).items():
        if str(segment_id) in state:
            state[str(segment_id)]["memo"] = text
    select = st.session_state.get(SELECT)
    return {
        "project": project, "coder": coder, "doc": document_id, "segments": segments, "state": state,
        "frames": _frames(codebook), "chosen": chosen, "suggestions": suggestions,
        "suggestions_note": suggestions_note, "acks": acks,
        "doubtful": list(doubtful), "suggestions_status": suggestions_status,  # least certain unit first
        "rejected": st.session_state.get(REJECTED, {}),
        "select": {"unit": select[0], "nonce": select[1]} if select else None,
    }


def mount(data: dict) -> None:
    """Draw (or update) the view; its events reach :func:`process_outbox` on the fragment's next run."""
    _component(key=KEY, data=data, on_outbox_change=_noop, on_selected_change=_noop, height="content")


def _noop() -> None:
    """State changes are read by the fragment's run itself (every run handles the whole outbox)."""


def suggestion_payload(found: list) -> dict[str, list[dict]]:
    """Suggestions per unit for the view, best first, with a one-line why."""
    out: dict[str, list[dict]] = {}
    for s in found:
        e = s.evidence
        why = f"Matches {e.matched_kind} ({e.matched_similarity:.2f}): “{e.matched_text[:110]}”"
        for n in e.neighbours[:2]:
            why += f" · closest coded: {n.document} ({n.similarity:.2f}): “{n.text[:80]}”"
        if e.exclusion_text:
            why += f" · but close to an exclusion: “{e.exclusion_text[:80]}”"
        out.setdefault(str(s.segment_id), []).append(
            {"code": s.code, "label": s.label, "frame": s.frame, "score": round(float(s.score), 4),
             "margin": round(float(s.margin), 3) if s.margin == s.margin else None,  # NaN: no margin
             "threshold": round(float(s.threshold), 4), "model_id": s.model_id, "why": why})
    return out



def write_url(coder: str, document_id: int, segment_id: int | None) -> None:
    """Coder, transcript, unit and frames in the address, so F5 or a shared link comes back here."""
    # the params the sidebar owns (the project) stay; the view owns the rest
    wanted = {k: st.query_params[k] for k in common.SIDEBAR_PARAMS if k in st.query_params}
    wanted.update({"coder": coder, "doc": str(document_id)})
    if segment_id is not None:
        wanted["unit"] = str(segment_id)
    if st.session_state.get(common.FRAMES):
        wanted["frames"] = ",".join(st.session_state[common.FRAMES])
    if {k: st.query_params.get(k) for k in st.query_params} != wanted:
        st.query_params.from_dict(wanted)


@st.fragment
def fragment(engine, project: str, coder: str, document_id: int, chosen: list[str], suggest=None) -> None:
    """The view and its decisions: a run applies the outbox and redraws nothing but this component.

    ``suggest`` (suggestions on) returns the view's suggestions, a note for the units without one, the units
    from the least to the most certain and a status line (see :func:`app_pages._suggestions.for_view`).
    """
    acks = process_outbox(engine, project, coder)
    view = service.document_view(engine, project, document_id, viewer=coder)
    units = {s.id for s in view.segments if s.is_unit}
    reported = reported_selection()
    if reported in units:
        st.session_state[common.SEG_ID] = reported
    write_url(coder, document_id, st.session_state.get(common.SEG_ID))
    codebook = service.project_codebook(engine, project, viewer=coder)  # with the coder's own proposals
    found, note, doubtful, status = suggest() if suggest is not None else (None, "", [], "")
    mount(payload(engine, project, coder=coder, document_id=document_id, view=view, codebook=codebook,
                  chosen=chosen, suggestions=found, suggestions_note=note, acks=acks, doubtful=doubtful,
                  suggestions_status=status))
    units_in_order = [s for s in view.segments if s.is_unit]
    new_code.control(engine, project, coder, frames={f.id: f.label for f in codebook.frames}, preferred=chosen,
                     unit_ids=[s.id for s in units_in_order], reported=reported_selection)
    shown = next((s for s in units_in_order if s.id == st.session_state.get(common.SEG_ID)), units_in_order[0])
    unit_extras.extras(engine, project, coder=coder, document_id=document_id, unit=shown,
                       number=units_in_order.index(shown) + 1, labels={c.id: c.label for c in codebook.codes()})
