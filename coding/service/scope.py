"""What analysis counts: the documents and coders not excluded (the ``exclusion`` table)."""

from __future__ import annotations

from sqlmodel import Session, select

from coding.database.tables import Coder, Exclusion
from coding.service.common import CONSENSUS


def excluded(session: Session, project_id: int) -> tuple[set[int], set[str]]:
    """Ids of the documents and names of the coders excluded from analysis."""
    rows = session.exec(select(Exclusion.kind, Exclusion.target_id).where(Exclusion.project_id == project_id)).all()
    doc_ids = {t for k, t in rows if k == "document"}
    coder_ids = {t for k, t in rows if k == "coder"}
    names = set()
    if coder_ids:
        names = set(session.exec(select(Coder.name).where(Coder.id.in_(coder_ids))).all())
    return doc_ids, names


def in_scope(frame, excluded_documents: set[int]):
    """``frame`` (with a ``document_id`` column) without the excluded documents."""
    if not excluded_documents or frame.empty:
        return frame
    return frame[~frame["document_id"].isin(excluded_documents)]


def analysed_coders(session: Session, row, skip_coders: set[str]) -> list[str]:
    """The project's individual coders (not the consensus, not excluded), by name."""
    names = session.exec(select(Coder.name).where(Coder.project_id == row.id, Coder.is_consensus == False)).all()  # noqa: E712
    return sorted(set(names) - {CONSENSUS} - skip_coders)
