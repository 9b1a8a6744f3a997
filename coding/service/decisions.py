"""Decisions of the coding view: events bound to their unit, applied once, acknowledged.

Part of the facade :mod:`coding.service` (re-exported there). The coding view draws each decision at
once and sends it as an event ``{id, seq, unit_id, action, code/frame, text}``. :func:`apply_decision`
applies it in one transaction and records it by its client id, so a resent event (after a reconnect,
an F5, a lost reply) is a no-op that returns the same acknowledgement. ``seq`` orders a coder's
decisions: an event older than one already applied on the same unit is refused as superseded, so a
request sent before an F5 cannot land after a newer decision. A refusal (a permission, a conflict)
is recorded with its reason, and the view rolls the decision back on screen.

Each applied decision records what it changed (codes added and removed with their previous values,
marks set or lifted, feedback), and ``undo`` reverts exactly the coder's last decision that is not
undone yet and says which unit it was on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.database import queries
from coding.database.retry import retry_locked
from coding.database.tables import (
    Code,
    CodeFrame,
    Coder,
    Coding,
    Decision,
    Memo,
    Project,
    SuggestionFeedback,
    UnitMark,
    utcnow,
)
from coding.errors import CodeframeError
from coding.service.codings import _log, _upsert_coding, snapshot
from coding.service.common import DEFAULT_PROJECT
from coding.service.permissions import _check_may_edit

ACTIONS = ("tick", "untick", "nothing", "clear_nothing", "accept", "reject", "memo", "undo")
_SOURCE = {"accept": "suggestion", "reject": "suggestion"}


@dataclass(frozen=True)
class DecisionEvent:
    """One decision as the view sends it; ``frames`` names the frames of "nothing applies"."""

    id: str
    seq: int
    unit_id: int
    action: str
    code: str | None = None
    frames: tuple[str, ...] = ()
    text: str | None = None
    score: float | None = None
    model_id: str | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "DecisionEvent":
        """Read an event sent by the view (a refusal names the bad field)."""
        try:
            frames = raw.get("frames", raw.get("frame")) or ()
            return cls(id=str(raw["id"]), seq=int(raw["seq"]), unit_id=int(raw["unit_id"]),
                       action=str(raw["action"]), code=raw.get("code") or None,
                       frames=(frames,) if isinstance(frames, str) else tuple(str(f) for f in frames),
                       text=raw.get("text"), score=raw.get("score"), model_id=raw.get("model_id"))
        except (KeyError, TypeError, ValueError) as exc:
            raise CodeframeError(f"a decision needs id, seq, unit_id and action: {exc}") from exc


@dataclass(frozen=True)
class Ack:
    """The answer to one event: applied or refused (with the reason), and the unit as it now is.

    ``unit_id`` is the unit the decision acted on (for an undo: the unit it undid); ``codes`` and
    ``marks`` are the coder's codes and "nothing applies" frames there afterwards, so the view can
    correct what it drew. ``repeated`` says the event had been applied before (a resend).
    """

    id: str
    status: str  # applied | refused
    unit_id: int
    reason: str | None = None
    codes: tuple[str, ...] = ()
    marks: tuple[str, ...] = ()
    message: str = ""
    repeated: bool = False
    changes: dict[str, Any] = field(default_factory=dict)


class _Refused(CodeframeError):
    """A decision that cannot be applied; recorded as refused with this reason."""


def _unit_state(session: Session, coder_id: int, segment_id: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    codes = session.exec(select(Code.key).join(Coding, Coding.code_id == Code.id).where(
        Coding.segment_id == segment_id, Coding.coder_id == coder_id).order_by(Code.position)).all()
    marks = session.exec(select(UnitMark.frame_key).where(
        UnitMark.segment_id == segment_id, UnitMark.coder_id == coder_id).order_by(UnitMark.frame_key)).all()
    return tuple(codes), tuple(marks)


def _ack(session: Session, decision: Decision, *, repeated: bool) -> Ack:
    changes = dict(decision.changes or {})
    unit_id = int(changes.get("unit_id", decision.segment_id))
    codes, marks = _unit_state(session, decision.coder_id, unit_id)
    return Ack(decision.client_id, decision.status, unit_id, decision.reason, codes, marks,
               str(changes.get("message", "")), repeated, changes)


def _code_row(session: Session, project_id: int, key: str | None) -> Code:
    if not key:
        raise _Refused("this decision needs a code")
    row = session.exec(select(Code).where(Code.project_id == project_id, Code.key == key)).first()
    if row is None:
        raise _Refused(f"no code {key!r} in this project's codebook")
    if not row.active:
        raise _Refused(f"code {key!r} is no longer in the codebook (inactive); it cannot be applied")
    return row


def _lift_mark(session: Session, coder_id: int, segment_id: int, frame_key: str) -> list[str]:
    mark = session.exec(select(UnitMark).where(UnitMark.segment_id == segment_id, UnitMark.coder_id == coder_id,
                                               UnitMark.frame_key == frame_key)).first()
    if mark is None:
        return []
    session.delete(mark)
    return [frame_key]


def _add(session, project, segment, target, acting, event, source, reason) -> dict[str, Any]:
    """Apply a code (replacing the coder's other code of an exclusive frame); what changed."""
    code = _code_row(session, project.id, event.code)
    frame = session.get(CodeFrame, code.frame_id)
    _check_may_edit(acting, target, source)
    before = queries.coding_for_update(session, segment.id, code.id, target.id)
    replaced = []
    if frame.mutually_exclusive:
        replaced = [snapshot(c) | {"code": k} for c, k in session.exec(
            select(Coding, Code.key).join(Code, Code.id == Coding.code_id).where(
                Coding.segment_id == segment.id, Coding.coder_id == target.id, Code.frame_id == frame.id,
                Coding.code_id != code.id)).all()]
    score = event.score if source == "suggestion" else None
    model_id = event.model_id if source == "suggestion" else None
    _upsert_coding(session, project, segment, code, target, acting, source=source, score=score,
                   model_id=model_id, memo=None, reason=reason, mutually_exclusive=frame.mutually_exclusive)
    unmarked = _lift_mark(session, target.id, segment.id, frame.key)
    return {"added": [] if before is not None else [code.key], "removed": replaced, "unmarked": unmarked}


def _remove(session, project, segment, target, acting, key: str | None, reason: str | None) -> dict[str, Any]:
    code = _code_row(session, project.id, key)
    existing = queries.coding_for_update(session, segment.id, code.id, target.id)
    if existing is None:
        return {"removed": []}
    _check_may_edit(acting, target, existing.source)
    gone = snapshot(existing) | {"code": code.key}
    _log(session, project.id, existing, "remove", before=snapshot(existing), after=None, actor_id=acting.id,
         reason=reason)
    session.delete(existing)
    return {"removed": [gone]}


def _restore(session, project, segment, target, acting, gone: dict[str, Any], reason: str) -> None:
    code = session.exec(select(Code).where(Code.project_id == project.id, Code.key == gone["code"])).first()
    if code is None or queries.coding_for_update(session, segment.id, code.id, target.id) is not None:
        return
    _upsert_coding(session, project, segment, code, target, acting, source=gone.get("source") or "hand",
                   score=gone.get("score"), model_id=gone.get("model_id"), memo=gone.get("memo"), reason=reason,
                   mutually_exclusive=False)


def _nothing(session, project, segment, target, event, on: bool) -> dict[str, Any]:
    """Mark (or unmark) "nothing applies" in the event's frames; frames carrying a code are left out."""
    frames = event.frames or tuple(session.exec(select(CodeFrame.key).where(
        CodeFrame.project_id == project.id).order_by(CodeFrame.position)).all())
    known = queries.frames_by_key(session, project.id)
    unknown = [f for f in frames if f not in known]
    if unknown:
        raise _Refused(f"no code frame(s) {', '.join(unknown)} in this project")
    coded = set(session.exec(select(CodeFrame.key).join(Code, Code.frame_id == CodeFrame.id)
                             .join(Coding, Coding.code_id == Code.id)
                             .where(Coding.segment_id == segment.id, Coding.coder_id == target.id)).all())
    existing = {m.frame_key: m for m in session.exec(select(UnitMark).where(
        UnitMark.segment_id == segment.id, UnitMark.coder_id == target.id))}
    if not on:
        for frame in frames:
            if frame in existing:
                session.delete(existing[frame])
        return {"unmarked": [f for f in frames if f in existing]}
    free = [f for f in frames if f not in coded]
    if not free:
        raise _Refused(f"this unit carries your codes in {', '.join(sorted(set(frames)))}: "
                       "remove them before marking 'nothing applies'")
    marked = [f for f in free if f not in existing]
    for frame in marked:
        session.add(UnitMark(segment_id=segment.id, coder_id=target.id, frame_key=frame))
    return {"marked": marked, "kept": [f for f in frames if f in coded]}


def _set_marks(session, coder_id: int, segment_id: int, add: Sequence[str], drop: Sequence[str]) -> None:
    for frame in drop:
        _lift_mark(session, coder_id, segment_id, frame)
    for frame in add:
        if not session.exec(select(UnitMark.id).where(UnitMark.segment_id == segment_id, UnitMark.coder_id == coder_id,
                                                      UnitMark.frame_key == frame)).first():
            session.add(UnitMark(segment_id=segment_id, coder_id=coder_id, frame_key=frame))


def _feedback(session, segment_id: int, code: Code, coder_id: int, decision: str, event) -> dict[str, Any]:
    row = session.exec(select(SuggestionFeedback).where(
        SuggestionFeedback.segment_id == segment_id, SuggestionFeedback.code_id == code.id,
        SuggestionFeedback.coder_id == coder_id).with_for_update()).first()
    before = None if row is None else {"decision": row.decision, "score": row.score, "model_id": row.model_id}
    row = row or SuggestionFeedback(segment_id=segment_id, code_id=code.id, coder_id=coder_id, decision=decision)
    row.decision, row.score, row.model_id, row.at = decision, event.score, event.model_id, utcnow()
    session.add(row)
    return {"feedback": {"code": code.key, "before": before}}


def _memo(session, project, segment, target, acting, event) -> dict[str, Any]:
    """A memo on the coder's coding of ``code`` on the unit, or (no code) the coder's memo on the unit."""
    text = (event.text or "").strip() or None
    if event.code:
        code = _code_row(session, project.id, event.code)
        existing = queries.coding_for_update(session, segment.id, code.id, target.id)
        if existing is None:
            raise _Refused(f"{target.name} has not applied {event.code!r} to this unit")
        _check_may_edit(acting, target, existing.source)
        before = snapshot(existing)
        existing.memo, existing.updated = text, utcnow()
        session.add(existing)
        _log(session, project.id, existing, "memo", before=before, after=snapshot(existing), actor_id=acting.id)
        return {"memo": {"code": code.key, "before": before.get("memo")}}
    if target.id != acting.id:
        raise _Refused("an analytic memo is written by its author")
    row = session.exec(select(Memo).where(Memo.project_id == project.id, Memo.coder_id == target.id,
                                          Memo.target_kind == "segment", Memo.target_id == segment.id)
                       .order_by(Memo.updated.desc())).first()
    before = None if row is None else row.text
    if row is None and text is None:
        return {"memo": {"code": None, "before": None}}
    row = row or Memo(project_id=project.id, target_kind="segment", target_id=segment.id, coder_id=target.id, text="")
    if text is None:
        session.delete(row)
    else:
        row.text, row.updated = text, utcnow()
        session.add(row)
    return {"memo": {"code": None, "before": before}}


def _apply(session, project, segment, target, acting, event) -> dict[str, Any]:
    """Do one decision (not undo) in the session; returns what changed, for undo."""
    if event.action == "tick":
        return _add(session, project, segment, target, acting, event, "hand", None)
    if event.action == "accept":
        code = _code_row(session, project.id, event.code)
        _check_may_edit(acting, target, "suggestion")
        done = _add(session, project, segment, target, acting, event, "suggestion", "accepted suggestion")
        return done | _feedback(session, segment.id, code, target.id, "accept", event)
    if event.action == "reject":
        _check_may_edit(acting, target, "suggestion")
        code = _code_row(session, project.id, event.code)
        return _feedback(session, segment.id, code, target.id, "reject", event)
    if event.action == "untick":
        return _remove(session, project, segment, target, acting, event.code, None)
    if event.action in ("nothing", "clear_nothing"):
        _check_may_edit(acting, target, "hand")
        return _nothing(session, project, segment, target, event, on=event.action == "nothing")
    if event.action == "memo":
        return _memo(session, project, segment, target, acting, event)
    raise _Refused(f"unknown action {event.action!r}; one of {', '.join(ACTIONS)}")


def _undo(session, project, target, acting, event, decision_id_reason: str) -> dict[str, Any]:
    """Revert the coder's last applied decision not undone yet; what it was and where."""
    last = session.exec(select(Decision).where(
        Decision.project_id == project.id, Decision.coder_id == target.id, Decision.status == "applied",
        Decision.action != "undo", Decision.undone_by == None).order_by(Decision.id.desc())).first()  # noqa: E711
    if last is None:
        raise _Refused("nothing to undo")
    segment, _ = queries.segment_in_project(session, project.id, last.segment_id)
    changes = last.changes or {}
    for key in changes.get("added", []):
        _remove(session, project, segment, target, acting, key, decision_id_reason)
    for gone in changes.get("removed", []):
        _check_may_edit(acting, target, gone.get("source") or "hand")
        _restore(session, project, segment, target, acting, gone, decision_id_reason)
    _set_marks(session, target.id, segment.id, add=changes.get("unmarked", []), drop=changes.get("marked", []))
    if (feedback := changes.get("feedback")) is not None:
        _restore_feedback(session, project, segment.id, target.id, feedback)
    if (memo := changes.get("memo")) is not None:
        _apply(session, project, segment, target, acting, DecisionEvent(
            id="", seq=0, unit_id=segment.id, action="memo", code=memo["code"], text=memo["before"]))
    what = {"action": last.action, "code": (changes.get("code") or ""), "frames": changes.get("frames", []),
            "decision": last.id}
    return {"unit_id": segment.id, "undid": what, "undoes": last.id,
            "message": f"undid {_describe(last)}"}


def _restore_feedback(session, project, segment_id: int, coder_id: int, feedback: dict[str, Any]) -> None:
    code = session.exec(select(Code).where(Code.project_id == project.id, Code.key == feedback["code"])).first()
    if code is None:
        return
    row = session.exec(select(SuggestionFeedback).where(
        SuggestionFeedback.segment_id == segment_id, SuggestionFeedback.code_id == code.id,
        SuggestionFeedback.coder_id == coder_id).with_for_update()).first()
    before = feedback.get("before")
    if row is not None and before is None:
        session.delete(row)
    elif row is not None:
        row.decision, row.score, row.model_id = before["decision"], before.get("score"), before.get("model_id")
        session.add(row)


def _describe(decision: Decision) -> str:
    changes = decision.changes or {}
    code, frames = changes.get("code") or "", ", ".join(changes.get("frames") or [])
    return {
        "tick": f"code {code}", "untick": f"removing {code}", "accept": f"accepting {code}",
        "reject": f"rejecting {code}", "nothing": f"'nothing applies' ({frames})",
        "clear_nothing": f"clearing 'nothing applies' ({frames})", "memo": "the memo",
    }.get(decision.action, decision.action)


def _newer_exists(session, project_id: int, coder_id: int, event: DecisionEvent) -> bool:
    """Whether an applied decision of this coder with a higher seq is there (on this unit; any unit for undo)."""
    stmt = select(func.max(Decision.seq)).where(Decision.project_id == project_id, Decision.coder_id == coder_id,
                                                Decision.status == "applied")
    if event.action != "undo":
        stmt = stmt.where(Decision.segment_id == event.unit_id, Decision.action != "undo")
    newest = session.exec(stmt).one()
    return newest is not None and newest > event.seq


def _decide(session, project: Project, target: Coder, acting: Coder, event: DecisionEvent) -> dict[str, Any]:
    if event.action not in ACTIONS:
        raise _Refused(f"unknown action {event.action!r}; one of {', '.join(ACTIONS)}")
    if _newer_exists(session, project.id, target.id, event):
        raise _Refused("superseded: a newer decision on this unit was saved first")
    if event.action == "undo":
        _check_may_edit(acting, target, "hand")
        return _undo(session, project, target, acting, event, f"undo of decision {event.id}")
    segment, _ = queries.segment_in_project(session, project.id, event.unit_id)
    if not segment.is_unit:
        raise _Refused(f"segment {event.unit_id} is not a unit of coding")
    changes = _apply(session, project, segment, target, acting, event)
    return changes | {"code": event.code, "frames": list(changes.get("marked", []) or changes.get("unmarked", [])
                                                         if event.action in ("nothing", "clear_nothing") else [])}


@retry_locked
def apply_decision(engine: Engine, project: str = DEFAULT_PROJECT, actor: str = "", event: Any = None, *,
                   coder: str | None = None) -> Ack:
    """Apply one decision of the coding view once, keyed by its id; returns its acknowledgement.

    ``actor`` is who pressed the key (the signed-in user); ``coder`` whose codings change (default the
    actor; someone else's only for a supervisor or admin). A resent event returns the first answer with
    ``repeated`` set and changes nothing. A decision that cannot be applied (permission, conflict,
    superseded by a newer one, unknown code) is refused with the reason and changes nothing; it is
    recorded, so a resend is refused the same way. An event naming no unit of this project raises
    :class:`coding.errors.NotFound`.
    """
    if not isinstance(event, DecisionEvent):
        event = DecisionEvent.from_dict(event)
    if not event.id or len(event.id) > 100:
        raise CodeframeError("a decision needs an id of 1 to 100 characters")
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        acting = queries.coder_by_name(session, row.id, actor)
        target = queries.coder_by_name(session, row.id, coder) if coder else acting
        found = session.exec(select(Decision).where(Decision.client_id == event.id)).first()
        if found is not None:
            if found.project_id != row.id or found.coder_id != target.id:
                raise CodeframeError(f"decision id {event.id!r} was used for another coder")
            return _ack(session, found, repeated=True)
        queries.segment_in_project(session, row.id, event.unit_id)
        ids = (row.id, target.id)
        try:
            changes, status, reason = _decide(session, row, target, acting, event), "applied", None
        except CodeframeError as exc:  # a refusal (permission, conflict, superseded): nothing of it stays
            session.rollback()
            changes, status, reason = {}, "refused", str(exc)
        decision = Decision(client_id=event.id, project_id=ids[0], coder_id=ids[1], segment_id=event.unit_id,
                            seq=event.seq, action=event.action, status=status, reason=reason, changes=changes)
        session.add(decision)
        session.flush()
        if status == "applied" and event.action == "undo":
            undone = session.get(Decision, changes["undoes"])
            undone.undone_by = decision.id
            session.add(undone)
        session.commit()
        return _ack(session, decision, repeated=False)


def apply_decisions(engine: Engine, project: str, actor: str, events: Sequence[Any], *,
                    coder: str | None = None) -> list[Ack]:
    """Apply events in order (each its own transaction); an event naming no unit is refused, not raised."""
    acks = []
    for raw in events:
        try:
            acks.append(apply_decision(engine, project, actor, raw, coder=coder))
        except CodeframeError as exc:
            event_id = str(raw.get("id", "")) if isinstance(raw, dict) else getattr(raw, "id", "")
            unit = raw.get("unit_id", 0) if isinstance(raw, dict) else getattr(raw, "unit_id", 0)
            acks.append(Ack(event_id, "refused", int(unit or 0), str(exc)))
    return acks


def unit_memos(engine: Engine, project: str = DEFAULT_PROJECT, document_id: int = 0, *,
               coder: str) -> dict[int, str]:
    """The coder's analytic memos on the units of a transcript: segment id -> text (the newest per unit)."""
    from coding.database.tables import Segment

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        author = queries.coder_by_name(session, row.id, coder)
        queries.document_in_project(session, row.id, document_id)
        found = session.exec(
            select(Memo.target_id, Memo.text).join(Segment, Segment.id == Memo.target_id)
            .where(Memo.project_id == row.id, Memo.coder_id == author.id, Memo.target_kind == "segment",
                   Segment.document_id == document_id).order_by(Memo.updated)).all()
    return {segment_id: text for segment_id, text in found}
