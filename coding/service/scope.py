"""What analysis counts: the documents and coders not excluded (the ``exclusion`` table)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlmodel import Session, select

from coding.database.tables import Coder, Exclusion
from coding.errors import CodeframeError, NotFound
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


def excluded_coder_message(names: Sequence[str]) -> str:
    """The refusal for asking an excluded coder by name, and how to include them again."""
    who = ", ".join(names)
    return (f"{who} {'is' if len(names) == 1 else 'are'} excluded from analysis and never counted; include them "
            f"again in Settings (admin) or with `codeframe coders include {' '.join(names)}`")


def refuse_excluded(names: Iterable[str], skip_coders: set[str]) -> None:
    """Raise :class:`CodeframeError` when any of ``names`` is an excluded coder."""
    refused = [n for n in dict.fromkeys(names) if n in skip_coders]
    if refused:
        raise CodeframeError(excluded_coder_message(refused))


def counted_coders(session: Session, row, names: Sequence[str] | None, *, skip_coders: set[str] | None = None,
                   passthrough: str | None = None, allow_consensus: bool = False) -> list[str]:
    """The individual coders an analysis counts: ``names`` (order kept, repeats dropped) or, when
    None or empty, every coder not excluded (:func:`analysed_coders`).

    The one place that decides which coders count (agreement, disagreements, adjudication views,
    coverage, shares, drift, report, retrieve): a named coder who is unknown, excluded from
    analysis, or the consensus (unless ``allow_consensus``) is refused with the reason. A name
    starting with ``passthrough`` (``"model:"``) is not a stored coder and is kept as it is.
    """
    if skip_coders is None:
        skip_coders = excluded(session, row.id)[1]
    if not names:
        return analysed_coders(session, row, skip_coders)
    chosen = list(dict.fromkeys(names))
    stored = [c for c in chosen if not (passthrough and c.startswith(passthrough))]
    known = set(session.exec(select(Coder.name).where(Coder.project_id == row.id)).all())
    unknown = [c for c in stored if c not in known]
    if unknown:
        raise NotFound(f"no coder named {', '.join(unknown)} in this project")
    if CONSENSUS in stored and not allow_consensus:
        raise CodeframeError("compare individual coders; the consensus is what adjudication writes")
    refuse_excluded(stored, skip_coders)
    return chosen
