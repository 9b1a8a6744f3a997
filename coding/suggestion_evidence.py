"""Why a code was suggested: the part of its definition a unit matched, and the coded passages near it.

Pure numpy; used by :class:`coding.suggestions.SuggestionModel` (which re-exports the dataclasses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Hashable, Sequence

import numpy as np


@dataclass(frozen=True)
class MatchedPart:
    """The part of a code's definition a segment is most similar to."""

    kind: str
    text: str
    similarity: float


@dataclass(frozen=True)
class Neighbour:
    """An already-coded passage near the segment."""

    segment_id: Hashable
    similarity: float


@dataclass(frozen=True)
class Evidence:
    """Why a code was suggested."""

    matched_part: MatchedPart
    neighbours: tuple[Neighbour, ...] = ()
    exclusion: MatchedPart | None = None  # the exclusion criterion that lowered the score, if any


def evidence_many(parts_of: Sequence[Any], x: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                  segment_ids: Sequence[Hashable], *, examples: Any, labels: np.ndarray | None, neighbours: int,
                  min_similarity: float, block: int = 4096) -> list[Evidence]:
    """Evidence for the suggested (segment row, code column) pairs, a few GEMMs per code.
    ``parts_of[j]``: the :class:`~coding.suggestion_inputs.PartsEmbeddings` of code ``j``."""
    out: list[Evidence | None] = [None] * len(rows)
    for j in np.unique(cols).tolist():
        picks = np.flatnonzero(cols == j)
        xi = x[rows[picks]]
        parts = parts_of[j]
        part_sims = xi @ parts.parts.T
        best = part_sims.argmax(axis=1)
        best_sim = part_sims[np.arange(len(picks)), best]
        if len(parts.exclusions):
            excl_sims = xi @ parts.exclusions.T
            worst = excl_sims.argmax(axis=1)
            worst_sim = excl_sims[np.arange(len(picks)), worst]
        near = _neighbours_many(xi, j, [segment_ids[i] for i in rows[picks].tolist()], examples=examples,
                                labels=labels, neighbours=neighbours, min_similarity=min_similarity, block=block)
        for n, p in enumerate(picks.tolist()):
            matched = MatchedPart(parts.kinds[best[n]], parts.texts[best[n]], float(best_sim[n]))
            exclusion = None
            if len(parts.exclusions) and worst_sim[n] > best_sim[n]:
                text = parts.exclusion_texts[worst[n]] if parts.exclusion_texts else ""
                exclusion = MatchedPart("exclude", text, float(worst_sim[n]))
            out[p] = Evidence(matched, near[n], exclusion)
    return out  # type: ignore[return-value]


def _neighbours_many(xi: np.ndarray, j: int, ids: list[Hashable], *, examples: Any, labels: np.ndarray | None,
                     neighbours: int, min_similarity: float, block: int) -> list[tuple[Neighbour, ...]]:
    """The coded passages of code ``j`` nearest each row of ``xi`` (never the segment itself)."""
    if examples is None or labels is None or not neighbours:
        return [()] * len(xi)
    positive = np.flatnonzero(labels[:, j] == 1)
    if not len(positive):
        return [()] * len(xi)
    example_ids = [examples.segment_ids[p] for p in positive.tolist()]
    where: dict = {}
    for column, sid in enumerate(example_ids):
        where.setdefault(sid, []).append(column)
    vectors = examples.embeddings[positive]
    found: list[tuple[Neighbour, ...]] = []
    for start in range(0, len(xi), block):
        sims = xi[start:start + block] @ vectors.T
        chunk_ids = ids[start:start + block]
        for r, sid in enumerate(chunk_ids):
            if sid in where:
                sims[r, where[sid]] = -np.inf  # a segment is not its own evidence
        order = np.argsort(-sims, axis=1, kind="stable")[:, :neighbours]
        for r in range(len(chunk_ids)):
            found.append(tuple(
                Neighbour(example_ids[o], float(sims[r, o])) for o in order[r].tolist()
                if sims[r, o] > -np.inf and sims[r, o] >= min_similarity
            ))
    return found
