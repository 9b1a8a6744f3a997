"""Share tables (Figure 1) from the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from coding.database import queries
from coding.database.tables import Project
from coding.errors import CodeframeError, NotFound, PermissionDenied
from coding.service.agreement import _coder_universes, _frame_codes, agreement_report
from coding.service.audit import _is_missing
from coding.service.codebook import project_codebook
from coding.service.common import CONSENSUS, DEFAULT_PROJECT
from coding.service.review import visible_coders
from coding.service.scope import excluded, refuse_excluded
from coding.shares import default_share_coder


def _respondents_and_codings(session: Session, project: Project, frame: str | None,
                             documents: Sequence[str] | None = None):
    """Every respondent in scope (with attributes) and respondent-level codings of a frame."""
    import pandas as pd

    skip_docs, _ = excluded(session, project.id)
    docs = [d for d in queries.documents(session, project.id) if d.id not in skip_docs]
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


@dataclass
class ShareReport:
    frame: str
    coder: str
    n: int
    table: "Any"  # coding.shares.share_table
    crosstab: "Any | None"
    matrix: "Any"
    quotes: "Any"  # the quotes of ``coder`` only
    notes: list[str] = field(default_factory=list)
    covered: int = 0  # respondents in scope the coder covered in the frame
    total: int = 0  # respondents in scope
    denominator: str = "all"
    spread_coders: list[str] = field(default_factory=list)  # whose shares give coder_min / coder_max

    @property
    def coverage(self) -> str:
        """'consensus coded this frame for 10 of 24 respondents'."""
        from coding.review import coverage_line

        return coverage_line(self.coder, self.covered, self.total)

    @property
    def partial(self) -> bool:
        return self.covered < self.total


def share_report(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    frame: str,
    by: str | None = None,
    coder: str | None = None,
    documents: Sequence[str] | None = None,
    with_agreement: bool = True,
    denominator: str = "all",
    viewer: str | None = None,
) -> ShareReport:
    """Figure 1 from the database: share of respondents mentioning each code of a frame.

    The denominator is every respondent in scope (all documents not excluded from analysis, or
    ``documents``), including respondents nobody coded; ``denominator="covered"`` divides by the
    respondents the coder covered in the frame instead. The report states that coverage. Parent
    codes count respondents with any descendant. Each row carries a Wilson interval, the spread
    across the individual coders who covered every respondent, and the code's respondent-level
    agreement over the coders who double-coded the most. In blind mode a coder ``viewer`` gets
    their own codings only.
    """
    from coding import review, shares

    if denominator not in review.DENOMINATORS:
        raise CodeframeError(f"denominator must be one of {', '.join(review.DENOMINATORS)}, not {denominator!r}")
    codebook = project_codebook(engine, project)
    try:
        frame_obj = codebook.frame(frame)
    except Exception:
        raise NotFound(f"no code frame {frame!r} in this project") from None
    keys = [c.id for c in frame_obj.codes]
    labels = {c.id: c.label for c in frame_obj.codes}
    hierarchy = {k: codebook.descendants(k) for k in keys}
    visible = visible_coders(engine, project, viewer)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        respondents, codings = _respondents_and_codings(session, row, frame, documents)
        _, skip_coders = excluded(session, row.id)
        refuse_excluded([coder] if coder else visible or [], skip_coders)
        codings = codings[~codings["coder"].isin(skip_coders)]  # an excluded coder is never counted
        if visible is not None:
            codings = codings[codings["coder"].isin(visible)]
        chosen = (visible[0] if visible and coder is None else coder) or default_share_coder(codings, frame)
        if visible is not None and chosen not in visible:
            raise PermissionDenied(f"blind mode: {viewer} sees only their own codings")
        individual = sorted(set(codings["coder"]) - {CONSENSUS} - skip_coders)
        frame_row, _ = _frame_codes(session, row, frame)
        units = queries.units_frame(session, row.id)
        universes = _coder_universes(session, row, frame_row, sorted({chosen, *individual}), units)
    respondent_of = dict(zip(units["segment_id"], units["respondent"]))
    in_scope = set(respondents["respondent"]) if not respondents.empty else set()
    covered_by = {c: {respondent_of[u] for u in universes[c] if u in respondent_of} & in_scope for c in universes}
    total, covered = len(in_scope), len(covered_by.get(chosen, set()))
    notes = []
    from coding.service.codebook_versions import codebook_restructure_note

    if restructured := codebook_restructure_note(engine, project, codes=keys):
        notes.append(restructured)  # codes merged or split during coding (issue 30)
    if codings.empty:
        notes.append(f"nobody has coded frame {frame!r} yet: every share is 0 of {len(respondents)}")
    if chosen not in set(codings["coder"]) and coder is not None:
        known = ", ".join(sorted(set(codings["coder"]))) or "none"
        raise CodeframeError(f"coder {coder!r} has no codings in frame {frame!r} (coders with codings: {known})")
    if denominator == "covered":
        respondents = respondents[respondents["respondent"].isin(covered_by.get(chosen, set()))]
    scope = set(respondents["respondent"]) if not respondents.empty else set()
    agreement_by_code = agreement_reason = None
    if with_agreement and visible is None and len(individual) >= 2:
        try:
            report = agreement_report(engine, project, frame=frame, unit="respondent", n_boot=0)
        except CodeframeError:
            report = None
        if report is not None:
            agreement_by_code = dict(zip(report.table["code"], report.table["alpha"]))
            agreement_reason = dict(zip(report.table["code"], report.table["reason"]))
            for key in keys:
                if hierarchy[key] and key in agreement_by_code and _is_missing(agreement_by_code[key]):
                    agreement_reason[key] = "parent code: α is computed per sub-code, not for the roll-up"
    spread_coders = review.spread_coders({c: covered_by.get(c, set()) for c in individual}, scope)
    own = codings[codings["coder"] == chosen][["respondent", "coder", "code"]]
    table = shares.share_table(respondents, own, codes=keys, hierarchy=hierarchy, labels=labels,
                               agreement=agreement_by_code)
    if agreement_reason is not None:
        table["agreement_reason"] = [None if not _is_missing(a) else agreement_reason.get(c) or "undefined"
                                     for c, a in zip(table["code"], table["agreement"])]
    if len(spread_coders) >= 2:
        spread = codings[codings["coder"].isin(spread_coders)]
        per_coder = shares.share_table(respondents, spread[["respondent", "coder", "code"]], codes=keys,
                                       hierarchy=hierarchy, labels=labels)
        table["coder_min"] = per_coder["coder_min"].to_numpy()
        table["coder_max"] = per_coder["coder_max"].to_numpy()
    else:
        spread_coders = []
    line = review.coverage_line(chosen, covered, total)
    table["counted_from"] = chosen
    table["coverage"] = line
    cross = None
    if by is not None:
        if by not in respondents.columns:
            known = ", ".join(c for c in respondents.columns if c != "respondent") or "none"
            raise CodeframeError(f"no respondent attribute {by!r} (attributes: {known})")
        cross = shares.crosstab(respondents, own, by=by, codes=keys, hierarchy=hierarchy, labels=labels)
        cross["coverage"] = line
    matrix = shares.case_code_matrix(respondents, own, codes=keys, hierarchy=hierarchy)
    quotes = codings[codings["coder"] == chosen]
    quotes = quotes[quotes["respondent"].isin(scope)].merge(respondents, on="respondent", how="left")
    quotes = quotes.assign(label=quotes["code"].map(labels))
    return ShareReport(frame=frame, coder=chosen, n=len(respondents), table=table, crosstab=cross,
                       matrix=matrix, quotes=quotes, notes=notes, covered=covered, total=total,
                       denominator=denominator, spread_coders=spread_coders)
