"""Progress of coders: next uncoded unit, transcript done, finished frames (coverage)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.codings_table import read_csv_table
from coding.database import queries
from coding.database.retry import retry_locked
from coding.database.tables import Coder, Coding, DocumentProgress, FrameCoverage, Segment, utcnow
from coding.errors import CodingsError, NotFound, Problem
from coding.service.common import DEFAULT_PROJECT, _source

COVERAGE_COLUMNS = ("document", "coder", "frame")


def next_uncoded_segment(engine: Engine, project: str, document_id: int, *, coder: str,
                         after_position: int = -1) -> int | None:
    """Id of the coder's next unit without any code after ``after_position`` (wrapping), or None."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        queries.document_in_project(session, row.id, document_id)
        coded = select(Coding.segment_id).where(Coding.coder_id == target.id)
        units = session.exec(
            select(Segment.id, Segment.position)
            .where(Segment.document_id == document_id, Segment.is_unit == True, Segment.id.not_in(coded))  # noqa: E712
            .order_by(Segment.position)
        ).all()
        for seg_id, position in units:
            if position > after_position:
                return seg_id
        return units[0][0] if units else None


@retry_locked
def mark_done(engine: Engine, project: str, document_id: int, *, coder: str, done: bool = True,
              frames: Sequence[str] = ()) -> None:
    """Mark a transcript done (or not) for a coder, and record the ``frames`` they finished on it.

    Finished frames make the segments the coder left uncoded count as 'not applied' in agreement.
    """
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        queries.document_in_project(session, row.id, document_id)
        known = queries.frames_by_key(session, row.id)
        unknown = [f for f in frames if f not in known]
        if unknown:
            raise NotFound(f"no code frame(s) {', '.join(unknown)} in this project")
        _set_coverage(session, document_id, target.id, frames, done)
        progress = session.exec(
            select(DocumentProgress).where(
                DocumentProgress.document_id == document_id, DocumentProgress.coder_id == target.id
            )
        ).first() or DocumentProgress(document_id=document_id, coder_id=target.id)
        progress.done, progress.updated = done, utcnow()
        session.add(progress)
        session.commit()


def _set_coverage(session: Session, document_id: int, coder_id: int, frames: Iterable[str], done: bool) -> None:
    for frame in frames:
        existing = session.exec(select(FrameCoverage).where(
            FrameCoverage.document_id == document_id, FrameCoverage.coder_id == coder_id,
            FrameCoverage.frame_key == frame)).first()
        if done and existing is None:
            session.add(FrameCoverage(document_id=document_id, coder_id=coder_id, frame_key=frame))
        elif not done and existing is not None:
            session.delete(existing)


@retry_locked
def import_coverage(engine: Engine, project: str, coverage) -> int:
    """Record which frames each coder finished on which documents, from a CSV ``document,coder,frame``
    (read with the codings tables' encodings and size limit)."""
    name, path, data = _source(coverage)
    table = read_csv_table(name, data if data is not None else path.read_bytes(), required=COVERAGE_COLUMNS,
                           what="coverage file")
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        docs = {d.name: d.id for d in queries.documents(session, row.id)}
        coders = queries.coders_by_name(session, row.id)
        frames = queries.frames_by_key(session, row.id)
        problems, wanted = list(table.problems), []
        for line, record in table.records():
            for column, known in (("document", docs), ("coder", coders), ("frame", frames)):
                if record[column] not in known:
                    problems.append(Problem(f"unknown {column} {record[column]!r}", file=name, line=line, field=column))
            wanted.append(record)
        if problems:
            problems.sort(key=lambda p: p.line)
            raise CodingsError(f"{len(problems)} problem(s) in the coverage file; nothing was imported", problems)
        for record in wanted:
            _set_coverage(session, docs[record["document"]], coders[record["coder"]].id, [record["frame"]], True)
        session.commit()
        return len(wanted)


def progress_by_coder(engine: Engine, project: str = DEFAULT_PROJECT) -> "Any":
    """Per coder: units coded (with at least one code), of all units, and documents marked done."""
    import pandas as pd

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        total_units = sum(queries.unit_counts_by_document(session, row.id).values())
        coded = queries.codings_per_coder(session, row.id, distinct_segments=True)
        done = dict(
            session.exec(
                select(Coder.name, func.count(DocumentProgress.id))
                .join(DocumentProgress, DocumentProgress.coder_id == Coder.id)
                .where(Coder.project_id == row.id, DocumentProgress.done == True)  # noqa: E712
                .group_by(Coder.name)
            ).all()
        )
        names = [c.name for c in queries.coders_in_order(session, row.id)]
    return pd.DataFrame(
        [
            {"coder": n, "segments_coded": coded.get(n, 0), "segments_total": total_units,
             "documents_done": done.get(n, 0)}
            for n in names
        ],
        columns=["coder", "segments_coded", "segments_total", "documents_done"],
    )
