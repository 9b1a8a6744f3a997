"""Suggestions as views for coders: suggest, pre-code, accept, reject, bulk accept, the uncertain-first queue."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.database import queries
from coding.database.retry import retry_locked
from coding.database.tables import Coder, Project, SuggestionFeedback, utcnow
from coding.errors import CodeframeError
from coding.service.codings import _code, _upsert_coding
from coding.service.common import DEFAULT_PROJECT
from coding.service.permissions import _check_may_edit
from coding.service.suggestions import (
    FittedSuggester,
    SuggestionEvidence,
    SuggestionNeighbour,
    SuggestionView,
    UncertainSegment,
    fitted_suggester,
)


def _views(fitted: FittedSuggester, suggestions) -> list[SuggestionView]:
    columns, row_of = fitted.columns, fitted.row_of
    out = []
    for s in suggestions:
        segment_id = int(s.segment_id)
        i = row_of[segment_id]
        neighbours = []
        for n in s.evidence.neighbours:
            j = row_of.get(int(n.segment_id))
            if j is not None:
                neighbours.append(SuggestionNeighbour(
                    int(n.segment_id), str(columns["document"][j]), int(columns["position"][j]),
                    str(columns["text"][j]), round(float(n.similarity), 4)))
        matched = s.evidence.matched_part
        out.append(SuggestionView(
            segment_id=segment_id, document_id=int(columns["document_id"][i]),
            document=str(columns["document"][i]), respondent=str(columns["respondent"][i]),
            position=int(columns["position"][i]), text=str(columns["text"][i]), frame=fitted.frame,
            code=s.code, label=fitted.labels[s.code], score=float(s.score), threshold=float(s.threshold),
            model_id=fitted.model_id, margin=round(float(s.margin), 4),
            evidence=SuggestionEvidence(
                matched.kind, matched.text, round(float(matched.similarity), 4), neighbours,
                s.evidence.exclusion.text if s.evidence.exclusion else None),
        ))
    return out


def suggest(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    frame: str,
    coder: str,
    document_id: int | None = None,
    top_k: int = 3,
    include_coded: bool = False,
    allow_none: bool = False,
    order: str = "document",
    embedder=None,
) -> list[SuggestionView]:
    """Codes of ``frame`` suggested for ``coder``'s units (one document, or all), best first per segment.

    A mutually exclusive frame gives every unit its best code with its probability (forced choice;
    with ``allow_none`` a unit whose best code fails its presence threshold gets nothing). Other
    frames give the codes at or above their thresholds, at most ``top_k`` per segment, by
    probability. Segments the coder has already coded in the frame are skipped unless
    ``include_coded``; a (segment, code) the coder rejected is never suggested to them again (the
    next best takes its place). ``order="uncertain"``: units from the least to the most certain
    (:func:`confidence_order`).
    """
    if top_k < 1:
        raise CodeframeError(f"top_k must be 1 or more, not {top_k}")
    _check_order(order)
    fitted = fitted_suggester(engine, project, frame=frame, coder=coder, embedder=embedder, document_id=document_id)
    segment_ids = fitted.columns["segment_id"]
    keep = [
        i for i, (s, d) in enumerate(zip(segment_ids, fitted.columns["document_id"]))
        if (document_id is None or d == document_id) and (include_coded or int(s) not in fitted.coded)
    ]
    if not keep:
        return []
    raw = fitted.model.suggest([int(segment_ids[i]) for i in keep], fitted.matrix[keep], top_k=top_k,
                               allow_none=allow_none, rejected=fitted.rejected)
    views = _views(fitted, raw)
    return confidence_order(views) if order == "uncertain" else views


ORDERS = ("document", "uncertain")


def _check_order(order: str) -> None:
    if order not in ORDERS:
        raise CodeframeError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")


def confidence_order(found: Sequence[SuggestionView]) -> list[SuggestionView]:
    """The suggestions with their units from the least to the most certain: a unit's certainty is the
    margin of its best suggestion over the next code (standardised, so comparable across frames);
    within a unit, the most probable first. For a coder who checks the doubtful units first."""
    certainty: dict[int, float] = {}
    for s in found:
        value = s.margin if s.margin == s.margin else float("inf")  # NaN (no margin) last
        certainty[s.segment_id] = max(certainty.get(s.segment_id, -float("inf")), value)
    return sorted(found, key=lambda s: (certainty[s.segment_id], s.document, s.position, s.segment_id, -s.score,
                                        s.frame, s.code))


def suggestion_notes(engine: Engine, project: str = DEFAULT_PROJECT, *, frame: str, coder: str,
                     embedder=None) -> list[str]:
    """What the suggestions of ``frame`` for ``coder`` are standardised over, and warnings when that
    background is too small or dominated by one code (for the coding view)."""
    return list(fitted_suggester(engine, project, frame=frame, coder=coder, embedder=embedder).notes)


def suggest_frames(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    frames: Sequence[str],
    coder: str,
    document_id: int | None = None,
    top_k: int = 3,
    include_coded: bool = False,
    allow_none: Sequence[str] = (),
    order: str = "document",
    embedder=None,
) -> list[SuggestionView]:
    """Suggestions of several frames at once: at most ``top_k`` per unit across all of them, the
    most probable first (not grouped by frame). ``allow_none``: the exclusive frames where
    "nothing applies" is turned on. Ordered by document, position, then probability; with
    ``order="uncertain"`` units from the least to the most certain (:func:`confidence_order`)."""
    _check_order(order)
    found: list[SuggestionView] = []
    for frame in frames:
        found += suggest(engine, project, frame=frame, coder=coder, document_id=document_id, top_k=top_k,
                         include_coded=include_coded, allow_none=frame in allow_none, embedder=embedder)
    found = limit_per_unit(found, top_k)
    return confidence_order(found) if order == "uncertain" else found


def limit_per_unit(found: Sequence[SuggestionView], top_k: int) -> list[SuggestionView]:
    """At most ``top_k`` suggestions per unit, the most probable first, units in document order."""
    found = sorted(found, key=lambda s: (s.document, s.position, s.segment_id, -s.score, s.frame, s.code))
    per_unit: Counter = Counter()
    out = []
    for s in found:
        if per_unit[s.segment_id] < top_k:
            per_unit[s.segment_id] += 1
            out.append(s)
    return out


def precode_document(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    frame: str,
    coder: str,
    document_id: int,
    min_score: float | None = None,
    top_k: int = 3,
    embedder=None,
) -> list[SuggestionView]:
    """Suggestions to review for every uncoded unit of one transcript (at or above ``min_score`` if given)."""
    if min_score is not None and not 0 <= min_score <= 1:
        raise CodeframeError(f"min_score must be between 0 and 1, not {min_score}")
    found = suggest(engine, project, frame=frame, coder=coder, document_id=document_id, top_k=top_k,
                    embedder=embedder)
    return [s for s in found if min_score is None or s.score >= min_score]


def _check_suggestion_inputs(score: float | None, model_id: str | None) -> None:
    import math

    if score is not None and not (isinstance(score, (int, float)) and math.isfinite(score) and 0 <= score <= 1):
        raise CodeframeError(f"a suggestion score lies between 0 and 1, not {score!r}")
    if model_id is not None and not str(model_id).strip():
        raise CodeframeError("a suggestion needs the id of the model that made it")


def _record_feedback(session: Session, segment_id: int, code_id: int, coder_id: int, decision: str,
                     score: float | None, model_id: str | None) -> None:
    existing = session.exec(
        select(SuggestionFeedback).where(
            SuggestionFeedback.segment_id == segment_id, SuggestionFeedback.code_id == code_id,
            SuggestionFeedback.coder_id == coder_id,
        ).with_for_update()
    ).first()
    row = existing or SuggestionFeedback(segment_id=segment_id, code_id=code_id, coder_id=coder_id, decision=decision)
    row.decision, row.score, row.model_id, row.at = decision, score, model_id, utcnow()
    session.add(row)


def _accept(session: Session, row: Project, target: Coder, acting: Coder, segment_id: int, code: str,
            score: float | None, model_id: str | None) -> int:
    segment, _ = queries.segment_in_project(session, row.id, segment_id)
    code_row = _code(session, row, code)
    coding_id = _upsert_coding(
        session, row, segment, code_row, target, acting, source="suggestion", score=score, model_id=model_id,
        memo=None, reason="accepted suggestion",
    )
    _record_feedback(session, segment.id, code_row.id, target.id, "accept", score, model_id)
    return coding_id


@retry_locked
def accept_suggestion(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    segment_id: int,
    code: str,
    coder: str,
    score: float,
    model_id: str,
    actor: str | None = None,
) -> int:
    """Save a suggested code as ``coder``'s coding (source "suggestion", with score and model id,
    history written) and remember the accept as a labelled example. Returns the coding id."""
    _check_suggestion_inputs(score, model_id)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        acting = queries.coder_by_name(session, row.id, actor) if actor else target
        _check_may_edit(acting, target, "suggestion")
        coding_id = _accept(session, row, target, acting, segment_id, code, score, model_id)
        session.commit()
        return coding_id


@retry_locked
def reject_suggestion(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    segment_id: int,
    code: str,
    coder: str,
    score: float | None = None,
    model_id: str | None = None,
    actor: str | None = None,
) -> None:
    """Remember that ``coder`` rejected ``code`` for a segment: a negative example from now on,
    and never suggested to them again there. Existing codings are left as they are."""
    _check_suggestion_inputs(score, model_id)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        acting = queries.coder_by_name(session, row.id, actor) if actor else target
        _check_may_edit(acting, target, "suggestion")
        segment, _ = queries.segment_in_project(session, row.id, segment_id)
        code_row = _code(session, row, code)
        _record_feedback(session, segment.id, code_row.id, target.id, "reject", score, model_id)
        session.commit()


def bulk_accept(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    frame: str,
    coder: str,
    document_id: int,
    min_score: float,
    actor: str | None = None,
    embedder=None,
) -> int:
    """Accept every suggestion for a transcript scoring at least ``min_score``, in one transaction.

    Returns how many were accepted (one per segment in a mutually exclusive frame).
    """
    if min_score is None:
        raise CodeframeError("bulk accept needs a minimum score")
    chosen = precode_document(engine, project, frame=frame, coder=coder, document_id=document_id,
                              min_score=min_score, embedder=embedder)
    return _accept_many(engine, project, coder=coder, actor=actor, suggestions=chosen)


@retry_locked
def _accept_many(engine: Engine, project: str, *, coder: str, actor: str | None,
                 suggestions: Sequence[SuggestionView]) -> int:
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        acting = queries.coder_by_name(session, row.id, actor) if actor else target
        _check_may_edit(acting, target, "suggestion")
        for s in suggestions:
            _accept(session, row, target, acting, s.segment_id, s.code, s.score, s.model_id)
        session.commit()
        return len(suggestions)


def uncertain_first(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    frame: str,
    coder: str,
    limit: int = 20,
    document_id: int | None = None,
    embedder=None,
) -> list[UncertainSegment]:
    """The units the model is least sure about, most uncertain first (an active-learning queue).

    Only units the coder has not labelled yet in the frame: not coded there, and not in a
    document they finished the frame on. Coding these first teaches the model the most. The order
    is the confidence order of :func:`confidence_order`: the smallest margin of the best code over
    the next first; ``uncertainty`` is ``exp(-|margin|)``.
    """
    import numpy as np

    if limit < 1:
        raise CodeframeError(f"limit must be 1 or more, not {limit}")
    fitted = fitted_suggester(engine, project, frame=frame, coder=coder, embedder=embedder, document_id=document_id)
    units = fitted.units
    keep = [
        i for i, (s, d) in enumerate(zip(units["segment_id"], units["document_id"]))
        if (document_id is None or d == document_id) and int(s) not in fitted.coded
        and d not in fitted.covered_documents
    ]
    if not keep:
        return []
    x = fitted.matrix[keep]
    margins = fitted.model.margins(x)
    uncertainty = np.exp(-np.abs(margins))
    scores = fitted.model.score(x)
    thresholds = fitted.model.thresholds
    order = np.argsort(-uncertainty, kind="stable")[:limit]
    out = []
    for o in order:
        i = keep[o]
        best = int(np.argmax(scores[o] - thresholds))
        out.append(UncertainSegment(
            segment_id=int(units["segment_id"].iat[i]), document_id=int(units["document_id"].iat[i]),
            document=str(units["document"].iat[i]), position=int(units["position"].iat[i]),
            text=str(units["text"].iat[i]), uncertainty=float(uncertainty[o]), best_code=fitted.model.codes[best],
            best_score=float(scores[o, best]), threshold=float(thresholds[best]), margin=float(margins[o]),
        ))
    return out
