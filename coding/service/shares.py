"""Share tables (Figure 1) from the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from coding.database import queries
from coding.database.tables import Project
from coding.errors import CodeframeError, NotFound
from coding.service.agreement import agreement_report
from coding.service.codebook import project_codebook
from coding.service.common import CONSENSUS, DEFAULT_PROJECT


def _respondents_and_codings(session: Session, project: Project, frame: str | None,
                             documents: Sequence[str] | None = None):
    """Every respondent in scope (with attributes) and respondent-level codings of a frame."""
    import pandas as pd

    docs = queries.documents(session, project.id)
    if documents is not None:
        docs = [d for d in docs if d.name in set(documents)]
    attributes: dict[str, dict] = {}
    for d in docs:
        attributes.setdefault(d.respondent, {}).update(d.attributes)
    respondents = pd.DataFrame([{"respondent": r, **a} for r, a in sorted(attributes.items())])
    if respondents.empty:
        respondents = pd.DataFrame(columns=["respondent"])
    df = queries.codings_frame(session, project.id, frame=frame, document_ids=[d.id for d in docs])
    codings = df[["respondent", "coder", "code", "document", "text", "segment_id"]].copy()
    return respondents, codings


def default_share_coder(codings, frame: str) -> str:
    """Consensus when it has coded the frame, else the only coder who has; otherwise ask."""
    coders = set(codings["coder"])
    if CONSENSUS in coders or not coders:  # nobody coded the frame yet: every share is 0/n
        return CONSENSUS
    if len(coders) == 1:
        return next(iter(coders))
    raise CodeframeError(
        f"frame {frame!r} has no consensus coding yet; choose a coder with --coder ({', '.join(sorted(coders))})"
    )


@dataclass
class ShareReport:
    frame: str
    coder: str
    n: int
    table: "Any"  # coding.shares.share_table
    crosstab: "Any | None"
    matrix: "Any"
    quotes: "Any"
    notes: list[str] = field(default_factory=list)


def share_report(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    frame: str,
    by: str | None = None,
    coder: str | None = None,
    documents: Sequence[str] | None = None,
    with_agreement: bool = True,
) -> ShareReport:
    """Figure 1 from the database: share of respondents mentioning each code of a frame.

    The denominator is every respondent in scope (all documents, or ``documents``), including
    respondents nobody coded. Parent codes count respondents with any descendant. Each row
    carries a Wilson interval, the spread across the individual coders, and the code's
    respondent-level agreement (Krippendorff's alpha) when two or more coders coded the frame.
    """
    from coding import shares

    codebook = project_codebook(engine, project)
    try:
        frame_obj = codebook.frame(frame)
    except Exception:
        raise NotFound(f"no code frame {frame!r} in this project") from None
    keys = [c.id for c in frame_obj.codes]
    labels = {c.id: c.label for c in frame_obj.codes}
    hierarchy = {k: codebook.descendants(k) for k in keys}
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        respondents, codings = _respondents_and_codings(session, row, frame, documents)
    chosen = coder or default_share_coder(codings, frame)
    notes = []
    if codings.empty:
        notes.append(f"nobody has coded frame {frame!r} yet: every share is 0 of {len(respondents)}")
    if chosen not in set(codings["coder"]) and coder is not None:
        known = ", ".join(sorted(set(codings["coder"]))) or "none"
        raise CodeframeError(f"coder {coder!r} has no codings in frame {frame!r} (coders with codings: {known})")
    agreement_by_code = None
    individual = sorted(set(codings["coder"]) - {CONSENSUS})
    if with_agreement and len(individual) >= 2:
        report = agreement_report(engine, project, frame=frame, unit="respondent", coders=individual, n_boot=0)
        agreement_by_code = dict(zip(report.table["code"], report.table["alpha"]))
    spread = codings[codings["coder"].isin(individual)] if len(individual) >= 2 else None
    table = shares.share_table(
        respondents, codings[codings["coder"] == chosen][["respondent", "coder", "code"]], codes=keys,
        hierarchy=hierarchy, labels=labels, agreement=agreement_by_code,
    )
    if spread is not None:
        per_coder = shares.share_table(respondents, spread[["respondent", "coder", "code"]], codes=keys,
                                       hierarchy=hierarchy, labels=labels)
        table["coder_min"] = per_coder["coder_min"].to_numpy()
        table["coder_max"] = per_coder["coder_max"].to_numpy()
    cross = None
    if by is not None:
        if by not in respondents.columns:
            known = ", ".join(c for c in respondents.columns if c != "respondent") or "none"
            raise CodeframeError(f"no respondent attribute {by!r} (attributes: {known})")
        cross = shares.crosstab(respondents, codings[codings["coder"] == chosen][["respondent", "coder", "code"]],
                                by=by, codes=keys, hierarchy=hierarchy, labels=labels)
    matrix = shares.case_code_matrix(respondents, codings[codings["coder"] == chosen][["respondent", "coder", "code"]],
                                     codes=keys, hierarchy=hierarchy)
    quotes = codings.merge(respondents, on="respondent", how="left")
    quotes = quotes.assign(label=quotes["code"].map(labels))
    return ShareReport(frame=frame, coder=chosen, n=len(respondents), table=table, crosstab=cross,
                       matrix=matrix, quotes=quotes, notes=notes)
