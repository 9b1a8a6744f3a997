"""Embedding-based suggestions: the unit embeddings and the fitted model, cached per process.

A fitted model is kept for each (database, project, frame, coder, model) and refitted when
the data version changes (codings, history, feedback, coverage, units or the frame's codes),
so suggestions follow the coder after every accept or reject. Database reads happen in one
short session per call; embedding and fitting run outside it."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.database import queries
from coding.database.tables import (
    Assignment,
    Code,
    Coder,
    Coding,
    CodingEvent,
    Document,
    FrameCoverage,
    Segment,
    SuggestionFeedback,
)
from coding.errors import CodeframeError
from coding.roles import may_see_others
from coding.service.agreement import _frame_codes
from coding.service.common import CONSENSUS, DEFAULT_PROJECT
from coding.service.projects import get_project

SUGGESTION_DECISIONS = ("accept", "reject")
_SUGGESTION_LOCK = threading.Lock()
_UNIT_VECTORS: dict[tuple, tuple] = {}  # (db, project id, model id) -> (units version, units, matrix)
_FITTED: dict[tuple, tuple] = {}  # (db, project id, frame, coder, model id) -> (data version, FittedSuggester)


@dataclass
class SuggestionNeighbour:
    """An already-coded passage close to the suggested segment (evidence)."""

    segment_id: int
    document: str
    position: int
    text: str
    similarity: float


@dataclass
class SuggestionEvidence:
    """Why a code was suggested: the part of its definition matched, and nearby coded passages."""

    matched_kind: str  # label | definition | include | example
    matched_text: str
    matched_similarity: float
    neighbours: list[SuggestionNeighbour] = field(default_factory=list)
    exclusion_text: str | None = None  # an exclusion criterion the segment is even closer to


@dataclass
class SuggestionView:
    """One suggested code for one segment: accept it with ``score`` and ``model_id`` as given."""

    segment_id: int
    document_id: int
    document: str
    respondent: str
    position: int
    text: str
    frame: str
    code: str
    label: str
    score: float
    threshold: float
    model_id: str
    evidence: SuggestionEvidence

    def row(self) -> dict:
        """A flat record for tables and CSV."""
        nearest = "; ".join(f"{n.document}#{n.position} ({n.similarity:.2f}): {n.text}"
                            for n in self.evidence.neighbours)
        return {
            "segment_id": self.segment_id, "document": self.document, "position": self.position,
            "frame": self.frame, "code": self.code, "score": self.score, "threshold": self.threshold,
            "text": self.text, "matched": f"{self.evidence.matched_kind}: {self.evidence.matched_text}",
            "matched_similarity": self.evidence.matched_similarity, "nearest_coded": nearest,
            "model_id": self.model_id,
        }


@dataclass
class UncertainSegment:
    """A segment the model is unsure about (active-learning queue), with its best guess."""

    segment_id: int
    document_id: int
    document: str
    position: int
    text: str
    uncertainty: float
    best_code: str
    best_score: float
    threshold: float


@dataclass
class FittedSuggester:
    """A fitted model and what the facade needs around it (internal)."""

    model: Any
    model_id: str
    frame: str
    exclusive: bool
    labels: dict[str, str]
    units: Any  # DataFrame of all units (units_frame)
    matrix: Any  # embeddings, rows follow ``units``
    coded: set  # segment ids the coder coded in the frame
    covered_documents: set  # documents the coder finished the frame on
    rejected: set  # (segment id, code) the coder rejected
    columns: dict = field(init=False)  # the unit columns as plain lists, built once per fit
    row_of: dict = field(init=False)  # segment id -> row of ``units``

    def __post_init__(self) -> None:
        # plain lists: building a suggestion view reads many fields; one pandas lookup each was the cost
        self.columns = {name: self.units[name].tolist() for name in
                        ("segment_id", "document_id", "document", "respondent", "position", "text")}
        self.row_of = {int(s): i for i, s in enumerate(self.columns["segment_id"])}


def _remember(cache: dict, key: tuple, value: tuple, *, size: int = 32) -> None:
    """Store in a small per-process cache, forgetting the oldest entries beyond ``size``."""
    cache.pop(key, None)
    cache[key] = value
    while len(cache) > size:
        cache.pop(next(iter(cache)))


def _engine_key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def clear_suggestion_cache() -> None:
    """Forget fitted models and in-memory unit embeddings (the database cache stays)."""
    with _SUGGESTION_LOCK:
        _UNIT_VECTORS.clear()
        _FITTED.clear()


def embedder_for(engine: Engine, project: str = DEFAULT_PROJECT):
    """The project's :class:`~coding.embeddings.Embedder` (its ``embedding_model``), loaded once per process."""
    from coding.embeddings import load_embedder

    return load_embedder(get_project(engine, project).embedding_model)


def embedding_precision(engine: Engine, project: str = DEFAULT_PROJECT) -> str:
    """Which precision the project's model runs in on this machine, and why (no model load)."""
    from coding.embeddings import model_precision

    return model_precision(get_project(engine, project).embedding_model)


def _cache_key(embedder) -> str:
    """The model id with its precision (bf16 vectors are kept apart, see coding.precision)."""
    return getattr(embedder, "cache_id", embedder.model_id)


def default_embedder(engine: Engine, project: str = DEFAULT_PROJECT):
    """The embedder used when a caller passes none: :func:`embedder_for`, looked up on
    :mod:`coding.service` at call time, so replacing ``coding.service.embedder_for`` (a test,
    a benchmark) reaches every fallback inside the package."""
    from coding import service

    return service.embedder_for(engine, project)


def _embed_cached(engine: Engine, embedder, texts: Sequence[str]):
    from coding.database.embedding_store import SqlEmbeddingStore
    from coding.embeddings import embed_with_cache

    return embed_with_cache(embedder, list(texts), SqlEmbeddingStore(engine))


def embed_units(engine: Engine, project: str = DEFAULT_PROJECT, *, embedder=None,
                document_ids: Iterable[int] | None = None):
    """The units of coding (all, or of ``document_ids``) and their embeddings, rows aligned.

    Vectors come from the ``embedding_cache`` table where (model id, text hash) is known, so
    re-running or re-opening a project never re-embeds unchanged text; a different model id
    misses the cache and embeds once. Returns ``(units DataFrame, float32 matrix)``.
    """
    embedder = embedder or default_embedder(engine, project)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        if document_ids is not None:
            document_ids = [int(d) for d in document_ids]
            for document_id in document_ids:
                queries.document_in_project(session, row.id, document_id)
        units = queries.units_frame(session, row.id, document_ids=document_ids)
    return units, _embed_cached(engine, embedder, units["text"].tolist())


def _units_version(session: Session, project_id: int) -> tuple:
    return tuple(session.exec(
        select(func.count(Segment.id), func.max(Segment.id), func.min(Segment.id))
        .join(Document, Segment.document_id == Document.id)
        .where(Document.project_id == project_id, Segment.is_unit == True)  # noqa: E712
    ).one())


def _project_unit_vectors(engine: Engine, project: str, project_id: int, version: tuple, embedder):
    """All units and their embeddings, kept in memory while the project's units do not change."""
    key = (_engine_key(engine), project_id, _cache_key(embedder))
    with _SUGGESTION_LOCK:
        hit = _UNIT_VECTORS.get(key)
    if hit is not None and hit[0] == version:
        return hit[1], hit[2]
    units, matrix = embed_units(engine, project, embedder=embedder)
    with _SUGGESTION_LOCK:
        _remember(_UNIT_VECTORS, key, (version, units, matrix))
    return units, matrix


def _suggestion_data_version(session: Session, project_id: int, frame_key: str) -> tuple:
    """Changes whenever anything the fitted model depends on changes."""
    events = session.exec(select(func.max(CodingEvent.id)).where(CodingEvent.project_id == project_id)).one()
    codings = session.exec(
        select(func.count(Coding.id), func.max(Coding.id))
        .join(Coder, Coding.coder_id == Coder.id).where(Coder.project_id == project_id)
    ).one()
    feedback = session.exec(
        select(func.count(SuggestionFeedback.id), func.max(SuggestionFeedback.id),
               func.sum(case((SuggestionFeedback.decision == "reject", 1), else_=0)))
        .join(Coder, SuggestionFeedback.coder_id == Coder.id).where(Coder.project_id == project_id)
    ).one()
    coverage = session.exec(
        select(func.count(FrameCoverage.id), func.max(FrameCoverage.id))
        .join(Coder, FrameCoverage.coder_id == Coder.id)
        .where(Coder.project_id == project_id, FrameCoverage.frame_key == frame_key)
    ).one()
    assignments = session.exec(
        select(func.count(Assignment.id), func.sum(case((Assignment.released == True, 1), else_=0)))  # noqa: E712
        .join(Coder, Assignment.coder_id == Coder.id).where(Coder.project_id == project_id)
    ).one()
    return (events, *codings, *(int(v or 0) for v in feedback), *coverage, *(int(v or 0) for v in assignments))


def _code_objects(codes: Sequence[Code]) -> list:
    from types import SimpleNamespace

    return [
        SimpleNamespace(id=c.key, label=c.label, definition=c.definition, include=list(c.inclusion),
                        exclude=list(c.exclusion), examples=list(c.examples))
        for c in codes if c.active and c.proposed_by is None  # a proposal is suggested once accepted
    ]


def _codes_fingerprint(code_objects: Sequence) -> str:
    payload = [[c.id, c.label, c.definition, c.include, c.exclude, c.examples] for c in code_objects]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()


def _code_part_embeddings(engine: Engine, embedder, code_objects: Sequence) -> dict:
    from coding.suggestions import code_texts, embed_code_texts

    texts = {c.id: code_texts(c) for c in code_objects}
    return embed_code_texts(texts, lambda batch: _embed_cached(engine, embedder, batch))


def fitted_suggester(engine: Engine, project: str, *, frame: str, coder: str, embedder=None,
               document_id: int | None = None) -> FittedSuggester:
    """The fitted model for (project, frame, coder): cached, refitted when the data changed.

    Positives: the coder's and the consensus's codings in the frame (hand, accepted
    suggestions, adjudications). Negatives: suggestions the coder rejected. A segment
    counts as reviewed (every code not applied is a negative) when it carries a code of
    the frame or its document is one the coder or the consensus finished the frame on.
    The consensus teaches only where the coder may see others' codings (the rule of
    :func:`_visible_coder_ids`): never for a coder while the project is in blind mode, and
    not on documents of the coder's unreleased blind double-coding sample, so suggestions and
    their evidence cannot reveal the adjudicated answer.
    """
    from coding.suggestions import LabeledExamples, SuggestionModel

    embedder = embedder or default_embedder(engine, project)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        if document_id is not None:
            queries.document_in_project(session, row.id, document_id)
        frame_row, code_rows = _frame_codes(session, row, frame)
        code_objects = _code_objects(code_rows)
        if not code_objects:
            raise CodeframeError(f"frame {frame!r} has no active codes to suggest")
        key = (_engine_key(engine), row.id, frame, target.id, _cache_key(embedder))
        version = (_suggestion_data_version(session, row.id, frame), _units_version(session, row.id),
                   _codes_fingerprint(code_objects), bool(frame_row.mutually_exclusive))
        with _SUGGESTION_LOCK:
            hit = _FITTED.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        consensus = queries.find_coder(session, row.id, CONSENSUS)
        sees_others = may_see_others(target.role) or not row.blind_mode
        teachers = [target.name] + ([CONSENSUS] if sees_others and consensus is not None
                                    and consensus.id != target.id else [])
        codings = queries.codings_frame(session, row.id, frame=frame, coders=teachers)
        blind = set(session.exec(
            select(Assignment.document_id).where(Assignment.coder_id == target.id, Assignment.released == False)  # noqa: E712
        ).all())
        teacher_ids = [target.id] + ([consensus.id] if CONSENSUS in teachers else [])
        coverage = session.exec(
            select(FrameCoverage.document_id, FrameCoverage.coder_id)
            .where(FrameCoverage.frame_key == frame, FrameCoverage.coder_id.in_(teacher_ids))
        ).all()
        feedback = session.exec(
            select(SuggestionFeedback.segment_id, Code.key)
            .join(Code, SuggestionFeedback.code_id == Code.id)
            .where(SuggestionFeedback.coder_id == target.id, SuggestionFeedback.decision == "reject",
                   Code.frame_id == frame_row.id)
        ).all()
        units_version = _units_version(session, row.id)
    units, matrix = _project_unit_vectors(engine, project, row.id, units_version, embedder)
    parts = _code_part_embeddings(engine, embedder, code_objects)

    keys = [c.id for c in code_objects]
    own = codings[codings["coder"] == target.name]
    teach = codings[(codings["coder"] == target.name) | ~codings["document_id"].isin(blind)]
    positive: dict[int, set[str]] = defaultdict(set)
    for segment_id, code in zip(teach["segment_id"], teach["code"]):
        if code in keys:
            positive[int(segment_id)].add(code)
    negative: dict[int, set[str]] = defaultdict(set)
    for segment_id, code in feedback:
        negative[int(segment_id)].add(code)
    reviewed_documents = {d for d, c in coverage if c == target.id or d not in blind}
    covered_by_coder = {d for d, c in coverage if c == target.id}
    rows = [
        i for i, (s, d) in enumerate(zip(units["segment_id"], units["document_id"]))
        if s in positive or s in negative or d in reviewed_documents
    ]
    examples = None
    if rows:
        ids = [int(units["segment_id"].iat[i]) for i in rows]
        examples = LabeledExamples(
            segment_ids=ids, embeddings=matrix[rows],
            positive=[positive.get(s, set()) for s in ids], negative=[negative.get(s, set()) for s in ids],
            reviewed=[bool(positive.get(s)) or int(units["document_id"].iat[i]) in reviewed_documents
                      for s, i in zip(ids, rows)],
            groups=[str(units["respondent"].iat[i]) for i in rows],
        )
    model = SuggestionModel().fit_codes(
        keys, parts, exclusive=bool(frame_row.mutually_exclusive), examples=examples,
        background=matrix if len(matrix) >= 20 else None,
    )
    fitted = FittedSuggester(
        model=model, model_id=embedder.model_id, frame=frame, exclusive=bool(frame_row.mutually_exclusive),
        labels={c.id: c.label for c in code_objects}, units=units, matrix=matrix,
        coded={int(s) for s in own["segment_id"]}, covered_documents=covered_by_coder,
        rejected={(int(s), c) for s, c in feedback},
    )
    with _SUGGESTION_LOCK:
        _remember(_FITTED, key, (version, fitted))
    return fitted
