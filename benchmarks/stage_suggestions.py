"""Suggestion scoring: every coding unit of the corpus against every code of one frame.

Ours: ``SuggestionModel.fit`` (zero-shot calibration on all units as background) and
``SuggestionModel.score`` / ``suggest`` on all units of the frame ``oecd_pslc``
(17 codes, each represented by several embedded parts).

Baseline: one numpy matrix multiply of the normalised unit embeddings by the stacked,
normalised prototype (part) matrix -- the raw similarities everything else is built on.

Embeddings: the embedding stage's vectors when it ran in the same process on every unit
(and the code parts encoded with the same model); otherwise (not run, or capped) seeded random unit vectors of the same
shape, which cost the same to score (the rows say which).
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from benchmarks.context import FRAME, Context
from benchmarks.harness import Case, Runner

STAGE = "suggestions"
DIM = 384


def _unit(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    x = rng.standard_normal(shape).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def inputs(ctx: Context):
    """(segment embeddings, part embeddings per code, note)."""
    from coding.suggestions import PartsEmbeddings, code_prototype_texts, embed_code_texts

    texts = code_prototype_texts(ctx.codebook(), FRAME)
    vectors = ctx.cache.get("unit_embeddings")
    if vectors is not None and len(vectors) < len(ctx.unit_texts()):
        vectors = None  # the embedding stage was capped: score every unit with stand-in vectors instead
    if vectors is not None and "models" in ctx.cache:
        parts = embed_code_texts(texts, ctx.cache["models"].ours.encode)
        return vectors, parts, f"real all-MiniLM-L6-v2 embeddings of {len(vectors)} units (from the embedding stage)"
    rng = np.random.default_rng(ctx.seed)
    n = len(ctx.unit_texts())
    x = _unit(rng, (n, DIM))
    parts = {}
    for code, t in texts.items():
        parts[code] = PartsEmbeddings(
            parts=_unit(rng, (len(t.parts), DIM)), kinds=tuple(p.kind for p in t.parts),
            texts=tuple(p.text for p in t.parts), exclusions=_unit(rng, (len(t.exclusions), DIM)),
            exclusion_texts=tuple(t.exclusions),
        )
    return x, parts, f"seeded random unit vectors for {n} units (the embedding stage did not run first, or was capped)"


def cases(ctx: Context) -> Iterator[Case]:
    from coding.suggestions import SuggestionModel

    codebook = ctx.codebook()
    x, parts, source = inputs(ctx)
    codes = [c.id for c in codebook.codes(FRAME)]
    prototypes = np.vstack([parts[c].parts for c in codes])
    prototypes = prototypes / np.linalg.norm(prototypes, axis=1, keepdims=True)
    notes = [source, f"frame {FRAME}: {len(codes)} codes, {len(prototypes)} prototype parts"]
    baseline = Runner("numpy: normalised X @ prototypes.T",
                      lambda _: (x / np.linalg.norm(x, axis=1, keepdims=True)) @ prototypes.T, shared=True)
    rates = {"segments/s": len(x)}
    fitted = SuggestionModel().fit(codebook, FRAME, parts, background=x)
    ids = list(range(len(x)))

    yield Case(STAGE, "fit (zero-shot calibration)",
               Runner("SuggestionModel().fit(background=all units)",
                      lambda _: SuggestionModel().fit(codebook, FRAME, parts, background=x)),
               baseline, rates=rates, notes=notes)
    yield Case(STAGE, "score all units",
               Runner("SuggestionModel.score", lambda _: fitted.score(x)), baseline, rates=rates, notes=notes)
    yield Case(STAGE, "suggest all units (with evidence)",
               Runner("SuggestionModel.suggest(top_k=3)", lambda _: fitted.suggest(ids, x, top_k=3)),
               baseline, rates=rates, notes=notes)
