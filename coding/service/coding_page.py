"""Facade functions of the keyboard-driven coding page: tick, "read, nothing applies", progress, undo.

Part of the facade :mod:`coding.service` (re-exported there): every function takes an engine
and a project name and does one unit of work in one transaction. A *mark* says that a coder read a unit and found that
nothing of a frame applies; a unit counts as **read** for a coder when it carries one of
their codes, one of their marks, or belongs to a transcript they finished (marked done, or
a frame recorded as finished). Progress and "next unread" are built on that, so a coder who
read a whole transcript and coded a fifth of its sentences is shown as done, not at 20%.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.database import queries
from coding.database.tables import (
    Code,
    CodeFrame,
    Coder,
    Coding,
    CodingEvent,
    Document,
    DocumentProgress,
    FrameCoverage,
    Memo,
    Segment,
    UnitMark,
)
from coding.errors import CodeframeError, NotFound
from coding.service.audit import UNDOABLE_ACTIONS, _undone_event_ids, undo
from coding.service.codings import add_coding, remove_coding
from coding.service.common import DEFAULT_PROJECT
from coding.service.permissions import _visible_coder_ids
from coding.service.results import CodingView, SegmentView

UNDO_LIST = 10


@dataclass(frozen=True)
class TickResult:
    """What a tick did: ``replaced`` lists the codes an exclusive frame removed to make room."""

    applied: bool
    replaced: tuple[str, ...] = ()
    unmarked: bool = False  # a "nothing applies" mark of the code's frame was lifted


@dataclass(frozen=True)
class NextUnit:
    segment_id: int | None
    wrapped: bool  # the search went past the last unit and started again at the top


@dataclass(frozen=True)
class PanelState:
    """What the unit panel shows after each decision: the selected unit as the coder may see it,
    and which units of the transcript the coder has read (coded or marked)."""

    unit: SegmentView
    also: dict[int, list[CodingView]]  # the visible codings of the other units asked for
    coded: frozenset[int]  # units carrying at least one of the coder's codes
    marks: dict[int, frozenset[str]]  # units marked "nothing applies": segment id -> frames
    done: bool  # the coder marked the transcript done or finished a frame of it


@dataclass(frozen=True)
class Change:
    """One undoable change of a coder (newest first in :func:`recent_changes`)."""

    event_id: int
    action: str  # add | remove | memo
    code: str
    segment_id: int
    replaced: tuple[str, ...] = ()  # codes an exclusive frame removed together with this add
    document_id: int | None = None  # where the unit is: its transcript and number there
    document: str = ""
    unit: int | None = None


def _frame_keys(session: Session, project_id: int) -> dict[int, str]:
    return dict(session.exec(select(CodeFrame.id, CodeFrame.key).where(CodeFrame.project_id == project_id)).all())


def tick(engine: Engine, project: str = DEFAULT_PROJECT, *, segment_id: int, code: str, coder: str, on: bool,
         memo: str | None = None) -> TickResult:
    """Apply (``on``) or remove ``code`` on a unit for ``coder``, saying what an exclusive frame replaced.

    Applying a code lifts the coder's "nothing applies" mark of that frame on the unit.
    """
    if not on:
        remove_coding(engine, project, segment_id=segment_id, code=code, coder=coder)
        return TickResult(applied=False)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        code_row = session.exec(select(Code).where(Code.project_id == row.id, Code.key == code)).first()
        if code_row is None:
            raise NotFound(f"no code {code!r} in this project's codebook")
        frame = session.get(CodeFrame, code_row.frame_id)
        others = []
        if frame.mutually_exclusive:
            others = session.exec(
                select(Code.key).join(Coding, Coding.code_id == Code.id)
                .where(Coding.segment_id == segment_id, Coding.coder_id == target.id,
                       Code.frame_id == frame.id, Code.id != code_row.id)
            ).all()
    add_coding(engine, project, segment_id=segment_id, code=code, coder=coder, memo=memo)
    with Session(engine) as session:
        gone = session.exec(delete(UnitMark).where(
            UnitMark.segment_id == segment_id, UnitMark.coder_id == target.id, UnitMark.frame_key == frame.key))
        session.commit()
    return TickResult(applied=True, replaced=tuple(others), unmarked=bool(gone.rowcount))


def set_nothing_applies(engine: Engine, project: str = DEFAULT_PROJECT, *, segment_id: int, coder: str,
                        frames: Sequence[str], on: bool = True) -> list[str]:
    """Mark (or unmark) a unit as read with nothing of ``frames`` applying; returns the frames changed.

    A frame in which the coder already applied a code on the unit is refused: remove the code first.
    """
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        segment, _ = queries.segment_in_project(session, row.id, segment_id)
        if not segment.is_unit:
            raise CodeframeError(f"segment {segment_id} is not a unit of coding")
        known = queries.frames_by_key(session, row.id)
        unknown = [f for f in frames if f not in known]
        if unknown:
            raise NotFound(f"no code frame(s) {', '.join(unknown)} in this project")
        keys = _frame_keys(session, row.id)
        coded = {keys[f] for f in session.exec(
            select(Code.frame_id).join(Coding, Coding.code_id == Code.id)
            .where(Coding.segment_id == segment_id, Coding.coder_id == target.id)).all()}
        existing = {m.frame_key: m for m in session.exec(select(UnitMark).where(
            UnitMark.segment_id == segment_id, UnitMark.coder_id == target.id))}
        if on and coded & set(frames):
            clash = ", ".join(sorted(coded & set(frames)))
            raise CodeframeError(f"this unit carries your codes in {clash}: remove them before marking "
                                 "'nothing applies'")
        changed = []
        for frame in frames:
            if on and frame not in existing:
                session.add(UnitMark(segment_id=segment_id, coder_id=target.id, frame_key=frame))
                changed.append(frame)
            elif not on and frame in existing:
                session.delete(existing[frame])
                changed.append(frame)
        session.commit()
        return changed


def panel_state(engine: Engine, project: str = DEFAULT_PROJECT, document_id: int = 0, *, segment_id: int,
                viewer: str, also: Sequence[int] = ()) -> PanelState:
    """One read for the coding page's panel: the selected unit with the codings ``viewer`` may see
    (blind mode as in :func:`coding.service.document_view`), the codings of the units ``also``
    (the unit the coder just left, which a decision may have changed), and the viewer's read units."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        actor = queries.coder_by_name(session, row.id, viewer)
        segment, document = queries.segment_in_project(session, row.id, segment_id)
        if document.id != document_id:
            raise NotFound(f"segment {segment_id} is not in document {document_id}")
        visible = _visible_coder_ids(session, row, actor, document.id)
        stmt = (
            select(Coding, Code, CodeFrame, Coder)
            .join(Code, Coding.code_id == Code.id)
            .join(CodeFrame, Code.frame_id == CodeFrame.id)
            .join(Coder, Coding.coder_id == Coder.id)
            .join(Segment, Segment.id == Coding.segment_id)
            .where(Coding.segment_id.in_({segment_id, *also}), Segment.document_id == document.id)
        )
        if visible is not None:
            stmt = stmt.where(Coding.coder_id.in_(visible))
        by_segment: dict[int, list[CodingView]] = {s: [] for s in {segment_id, *also}}
        for coding, code, frame, coder in session.exec(stmt.order_by(Code.position, Coder.name)):
            by_segment[coding.segment_id].append(CodingView(
                coding.id, code.key, code.label, frame.key, coder.name, coding.source, coding.score, coding.memo,
                bool(coding.key_quote)))
        codings = by_segment.pop(segment_id)
        unit = SegmentView(
            segment.id, segment.position, segment.turn_index, segment.speaker, segment.role, segment.is_unit,
            segment.start, segment.end, segment.text, segment.time_start, segment.time_end, codings)
        coded = session.exec(
            select(Coding.segment_id).distinct().join(Segment, Segment.id == Coding.segment_id)
            .where(Segment.document_id == document.id, Coding.coder_id == actor.id)
        ).all()
        marks: dict[int, set[str]] = {}
        for seg_id, frame in session.exec(
            select(UnitMark.segment_id, UnitMark.frame_key).join(Segment, Segment.id == UnitMark.segment_id)
            .where(Segment.document_id == document.id, UnitMark.coder_id == actor.id)
        ).all():
            marks.setdefault(seg_id, set()).add(frame)
        done = session.exec(select(DocumentProgress.id).where(
            DocumentProgress.document_id == document.id, DocumentProgress.coder_id == actor.id,
            DocumentProgress.done == True)).first() is not None  # noqa: E712
        done = done or session.exec(select(FrameCoverage.id).where(
            FrameCoverage.document_id == document.id, FrameCoverage.coder_id == actor.id)).first() is not None
    return PanelState(unit, by_segment, frozenset(coded), {k: frozenset(v) for k, v in marks.items()}, done)


def unit_marks(engine: Engine, project: str = DEFAULT_PROJECT, document_id: int = 0, *,
               coder: str) -> dict[int, frozenset[str]]:
    """The coder's "nothing applies" marks on a transcript: segment id -> frames."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        queries.document_in_project(session, row.id, document_id)
        found: dict[int, set[str]] = {}
        for seg_id, frame in session.exec(
            select(UnitMark.segment_id, UnitMark.frame_key).join(Segment, Segment.id == UnitMark.segment_id)
            .where(Segment.document_id == document_id, UnitMark.coder_id == target.id)
        ).all():
            found.setdefault(seg_id, set()).add(frame)
        return {k: frozenset(v) for k, v in found.items()}


def next_unread(engine: Engine, project: str = DEFAULT_PROJECT, document_id: int = 0, *, coder: str,
                after_position: int = -1, frames: Sequence[str] = ()) -> NextUnit:
    """The coder's next unit after ``after_position`` with neither a code nor a mark (in ``frames``, or any),
    wrapping to the top once; ``wrapped`` says that it did."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        queries.document_in_project(session, row.id, document_id)
        coded = select(Coding.segment_id).join(Code, Code.id == Coding.code_id).where(Coding.coder_id == target.id)
        marked = select(UnitMark.segment_id).where(UnitMark.coder_id == target.id)
        if frames:
            frame_ids = select(CodeFrame.id).where(CodeFrame.project_id == row.id, CodeFrame.key.in_(frames))
            coded = coded.where(Code.frame_id.in_(frame_ids))
            marked = marked.where(UnitMark.frame_key.in_(frames))
        units = session.exec(
            select(Segment.id, Segment.position)
            .where(Segment.document_id == document_id, Segment.is_unit == True,  # noqa: E712
                   Segment.id.not_in(coded), Segment.id.not_in(marked))
            .order_by(Segment.position)
        ).all()
    for seg_id, position in units:
        if position > after_position:
            return NextUnit(seg_id, wrapped=False)
    return NextUnit(units[0][0], wrapped=True) if units else NextUnit(None, wrapped=False)


def reading_progress(engine: Engine, project: str = DEFAULT_PROJECT) -> Any:
    """Per coder: units read (coded, marked "nothing applies", or in a finished transcript), units coded,
    all units, and transcripts finished (marked done, or with a frame recorded as finished)."""
    import pandas as pd

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        units = session.exec(
            select(Segment.id, Segment.document_id).join(Document, Document.id == Segment.document_id)
            .where(Document.project_id == row.id, Segment.is_unit == True)  # noqa: E712
        ).all()
        document_of = dict(units)
        coders = session.exec(select(Coder.id, Coder.name).where(Coder.project_id == row.id).order_by(Coder.name)).all()
        coded: dict[int, set[int]] = {}
        for coder_id, seg_id in session.exec(
            select(Coding.coder_id, Coding.segment_id).distinct().join(Coder, Coder.id == Coding.coder_id)
            .where(Coder.project_id == row.id)
        ).all():
            coded.setdefault(coder_id, set()).add(seg_id)
        marked: dict[int, set[int]] = {}
        for coder_id, seg_id in session.exec(
            select(UnitMark.coder_id, UnitMark.segment_id).distinct().join(Coder, Coder.id == UnitMark.coder_id)
            .where(Coder.project_id == row.id)
        ).all():
            marked.setdefault(coder_id, set()).add(seg_id)
        finished: dict[int, set[int]] = {}
        for coder_id, doc_id in [
            *session.exec(select(DocumentProgress.coder_id, DocumentProgress.document_id)
                          .join(Coder, Coder.id == DocumentProgress.coder_id)
                          .where(Coder.project_id == row.id, DocumentProgress.done == True)).all(),  # noqa: E712
            *session.exec(select(FrameCoverage.coder_id, FrameCoverage.document_id).distinct()
                          .join(Coder, Coder.id == FrameCoverage.coder_id).where(Coder.project_id == row.id)).all(),
        ]:
            finished.setdefault(coder_id, set()).add(doc_id)
    rows = []
    for coder_id, name in coders:
        done_docs = finished.get(coder_id, set())
        read = coded.get(coder_id, set()) | marked.get(coder_id, set())
        read |= {s for s, d in document_of.items() if d in done_docs}
        rows.append({"coder": name, "units_read": len(read & document_of.keys()),
                     "units_coded": len(coded.get(coder_id, set()) & document_of.keys()),
                     "units_total": len(document_of), "documents_done": len(done_docs)})
    return pd.DataFrame(rows, columns=["coder", "units_read", "units_coded", "units_total", "documents_done"])


def recent_changes(engine: Engine, project: str = DEFAULT_PROJECT, *, coder: str,
                   limit: int = UNDO_LIST) -> list[Change]:
    """The coder's last ``limit`` changes that :func:`coding.service.undo` would revert, newest first
    (an add that replaced a code of an exclusive frame is one change, as undo treats it), each with
    the transcript and unit number it was made on."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        mine = (CodingEvent.project_id == row.id, CodingEvent.coder_id == target.id)
        undo_events = session.exec(select(CodingEvent).where(*mine, CodingEvent.action == "undo")).all()
        undone = _undone_event_ids(undo_events)
        # the newest undoable events are enough: each change is one event, or an add with its replacements
        window = (limit + len(undone)) * 4 + 8
        events = list(reversed(session.exec(
            select(CodingEvent).where(*mine, CodingEvent.action.in_(UNDOABLE_ACTIONS))
            .order_by(CodingEvent.id.desc()).limit(window)
        ).all()))
        keys = {c.id: c.key for c in session.exec(select(Code).where(Code.project_id == row.id))}
        stack = [e for e in events if e.action in UNDOABLE_ACTIONS and e.id not in undone]
        found: list[tuple[CodingEvent, tuple[str, ...]]] = []
        while stack and len(found) < limit:
            event = stack.pop()
            replaced: list[str] = []
            if event.action == "add":
                marker = f"replaced by {keys.get(event.code_id)} (mutually exclusive frame)"
                while (stack and stack[-1].action == "remove" and stack[-1].segment_id == event.segment_id
                       and stack[-1].reason == marker):
                    replaced.append(keys.get(stack.pop().code_id, "?"))
            found.append((event, tuple(replaced)))
        places = queries.unit_places(session, [e.segment_id for e, _ in found])
    return [Change(e.id, e.action, keys.get(e.code_id, "?"), e.segment_id, replaced,
                   *places.get(e.segment_id, (None, "", None))) for e, replaced in found]


def undo_changes(engine: Engine, project: str = DEFAULT_PROJECT, *, coder: str, steps: int = 1) -> int:
    """The coder undoes their own last ``steps`` changes (each logged in the history as an 'undo' event)."""
    return undo(engine, project, coder=coder, actor=coder, steps=steps)



def own_memos(engine: Engine, project: str = DEFAULT_PROJECT, *, coder: str, segment_id: int, document_id: int,
              codes: Sequence[str] = ()) -> dict[tuple[str, str], tuple[int, str]]:
    """The coder's analytic memos (:func:`coding.service.add_memo`) on a unit, its document and ``codes``:
    (kind, segment id / document id / code key as text) -> (memo id, text), the newest per target."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        author = queries.coder_by_name(session, row.id, coder)
        code_ids = dict(session.exec(select(Code.id, Code.key).where(Code.project_id == row.id,
                                                                     Code.key.in_(list(codes)))).all())
        wanted = [(Memo.target_kind == "segment") & (Memo.target_id == segment_id),
                  (Memo.target_kind == "document") & (Memo.target_id == document_id)]
        if code_ids:
            wanted.append((Memo.target_kind == "code") & Memo.target_id.in_(list(code_ids)))
        found = session.exec(select(Memo).where(Memo.project_id == row.id, Memo.coder_id == author.id,
                                                or_(*wanted)).order_by(Memo.updated)).all()
    memos = {}
    for m in found:
        target = code_ids.get(m.target_id) if m.target_kind == "code" else str(m.target_id)
        memos[(m.target_kind, target)] = (m.id, m.text)
    return memos
