"""Queries shared by the facade: lookups by name, and the bulk reads behind reports.

Every function takes an open Session and neither commits nor opens one: the unit of
work belongs to :mod:`coding.service`.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sqlalchemy import func
from sqlmodel import Session, select

from coding.database.tables import (
    Code,
    CodeFrame,
    Coder,
    Coding,
    Document,
    Project,
    Segment,
)
from coding.errors import NotFound


def project_by_name(session: Session, name: str) -> Project:
    project = session.exec(select(Project).where(Project.name == name)).first()
    if project is None:
        raise NotFound(f"no project named {name!r}; create it with `codeframe init`")
    return project


def find_coder(session: Session, project_id: int, name: str) -> Coder | None:
    """The project's coder of that name, or None."""
    return session.exec(select(Coder).where(Coder.project_id == project_id, Coder.name == name)).first()


def coder_by_name(session: Session, project_id: int, name: str) -> Coder:
    coder = find_coder(session, project_id, name)
    if coder is None:
        raise NotFound(f"no coder named {name!r} in this project")
    return coder


def coders_in_order(session: Session, project_id: int) -> list[Coder]:
    """The project's coders, by name."""
    return list(session.exec(select(Coder).where(Coder.project_id == project_id).order_by(Coder.name)))


def consensus_coder(session: Session, project_id: int, name: str) -> Coder:
    """The consensus coder called ``name``, created (a supervisor) when the project has none yet."""
    consensus = find_coder(session, project_id, name)
    if consensus is None:
        consensus = Coder(project_id=project_id, name=name, role="supervisor", is_consensus=True)
        session.add(consensus)
        session.flush()
    return consensus


def coding_for_update(session: Session, segment_id: int, code_id: int, coder_id: int) -> Coding | None:
    """The coding of (segment, code, coder), locked until the transaction ends (PostgreSQL: concurrent
    writers of the same coding queue here)."""
    return session.exec(
        select(Coding).where(
            Coding.segment_id == segment_id, Coding.code_id == code_id, Coding.coder_id == coder_id
        ).with_for_update()
    ).first()


def codes_by_key(session: Session, project_id: int) -> dict[str, Code]:
    return {c.key: c for c in session.exec(select(Code).where(Code.project_id == project_id))}


def frames_by_key(session: Session, project_id: int) -> dict[str, CodeFrame]:
    rows = session.exec(select(CodeFrame).where(CodeFrame.project_id == project_id))
    return {f.key: f for f in rows}


def coders_by_name(session: Session, project_id: int) -> dict[str, Coder]:
    return {c.name: c for c in session.exec(select(Coder).where(Coder.project_id == project_id))}


def documents(session: Session, project_id: int) -> list[Document]:
    return list(
        session.exec(select(Document).where(Document.project_id == project_id).order_by(Document.name))
    )


def document_in_project(session: Session, project_id: int, document_id: int) -> Document:
    document = session.get(Document, document_id)
    if document is None or document.project_id != project_id:
        raise NotFound(f"no document with id {document_id} in this project")
    return document


def segment_in_project(session: Session, project_id: int, segment_id: int) -> tuple[Segment, Document]:
    row = session.exec(
        select(Segment, Document)
        .join(Document, Segment.document_id == Document.id)
        .where(Segment.id == segment_id, Document.project_id == project_id)
    ).first()
    if row is None:
        raise NotFound(f"no segment with id {segment_id} in this project")
    return row


def segments_of(session: Session, document_id: int) -> list[Segment]:
    return list(
        session.exec(select(Segment).where(Segment.document_id == document_id).order_by(Segment.position))
    )


def unit_counts_by_document(session: Session, project_id: int) -> dict[int, int]:
    rows = session.exec(
        select(Segment.document_id, func.count(Segment.id))
        .join(Document, Segment.document_id == Document.id)
        .where(Document.project_id == project_id, Segment.is_unit == True)  # noqa: E712
        .group_by(Segment.document_id)
    )
    return dict(rows.all())


def unit_places(session: Session, segment_ids: Iterable[int]) -> dict[int, tuple[int, str, int]]:
    """segment id -> (document id, document name, its 1-based number among that document's units)."""
    ids = sorted({int(i) for i in segment_ids})
    if not ids:
        return {}
    segment, document = Segment.__table__, Document.__table__
    other = segment.alias("other")
    number = (select(func.count()).select_from(other)
              .where(other.c.document_id == segment.c.document_id, other.c.is_unit == True,  # noqa: E712
                     other.c.position <= segment.c.position)
              .scalar_subquery())
    rows = session.connection().execute(
        select(segment.c.id, document.c.id, document.c.name, number)
        .join_from(segment, document, segment.c.document_id == document.c.id)
        .where(segment.c.id.in_(ids))).all()
    return {s: (d, name, int(n)) for s, d, name, n in rows}


def codings_per_coder(session: Session, project_id: int, *, segment_ids=None, distinct_segments: bool = False,
                      every_coder: bool = False) -> dict[str, int]:
    """Codings per coder name: of the project, or on ``segment_ids`` (a list or a select of ids).

    ``distinct_segments`` counts the segments a coder coded instead of their codings; ``every_coder``
    also lists the coders with none (count 0).
    """
    counted = func.distinct(Coding.segment_id) if distinct_segments else Coding.id
    stmt = (select(Coder.name, func.count(counted))
            .join(Coding, Coding.coder_id == Coder.id, isouter=every_coder)
            .where(Coder.project_id == project_id))
    if segment_ids is not None:
        stmt = stmt.where(Coding.segment_id.in_(segment_ids))
    return dict(session.exec(stmt.group_by(Coder.name)).all())


def codings_frame(
    session: Session,
    project_id: int,
    *,
    frame: str | None = None,
    coders: Iterable[str] | None = None,
    document_ids: Iterable[int] | None = None,
    codes: Iterable[str] | None = None,
) -> pd.DataFrame:
    """All codings (or those of ``codes``) as a long table: one row per (segment, code, coder) with document context."""
    stmt = (
        select(
            Coding.id.label("coding_id"),
            Segment.id.label("segment_id"),
            Segment.position,
            Segment.start,
            Segment.end,
            Segment.text,
            Document.id.label("document_id"),
            Document.name.label("document"),
            Document.respondent,
            Code.key.label("code"),
            Code.label.label("code_label"),
            CodeFrame.key.label("frame"),
            Coder.name.label("coder"),
            Coding.source,
            Coding.score,
            Coding.model_id,
            Coding.memo,
            Coding.created,
        )
        .join(Segment, Coding.segment_id == Segment.id)
        .join(Document, Segment.document_id == Document.id)
        .join(Code, Coding.code_id == Code.id)
        .join(CodeFrame, Code.frame_id == CodeFrame.id)
        .join(Coder, Coding.coder_id == Coder.id)
        .where(Document.project_id == project_id)
    )
    if frame is not None:
        stmt = stmt.where(CodeFrame.key == frame)
    if coders is not None:
        stmt = stmt.where(Coder.name.in_(list(coders)))
    if document_ids is not None:
        stmt = stmt.where(Document.id.in_(list(document_ids)))
    if codes is not None:
        stmt = stmt.where(Code.key.in_(list(codes)))
    rows = session.exec(stmt.order_by(Document.name, Segment.position, Code.key, Coder.name)).all()
    columns = [
        "coding_id", "segment_id", "position", "start", "end", "text", "document_id", "document",
        "respondent", "code", "code_label", "frame", "coder", "source", "score", "model_id", "memo",
        "created",
    ]
    df = pd.DataFrame([tuple(r) for r in rows], columns=columns)
    for column in ("memo", "model_id"):  # keep missing values as None, not NaN, for callers and JSON
        df[column] = pd.Series([v if isinstance(v, str) else None for v in df[column]], index=df.index, dtype=object)
    return df


def units_frame(session: Session, project_id: int, *, document_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """Every unit of coding (segment with is_unit) with its document and respondent."""
    stmt = (
        select(
            Segment.id.label("segment_id"),
            Segment.position,
            Segment.text,
            Segment.speaker,
            Document.id.label("document_id"),
            Document.name.label("document"),
            Document.respondent,
        )
        .join(Document, Segment.document_id == Document.id)
        .where(Document.project_id == project_id, Segment.is_unit == True)  # noqa: E712
    )
    if document_ids is not None:
        stmt = stmt.where(Document.id.in_(list(document_ids)))
    rows = session.exec(stmt.order_by(Document.name, Segment.position)).all()
    return pd.DataFrame(
        [tuple(r) for r in rows],
        columns=["segment_id", "position", "text", "speaker", "document_id", "document", "respondent"],
    )
