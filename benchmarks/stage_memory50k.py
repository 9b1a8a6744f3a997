"""Peak memory of embedding 50,000 segments (opt-in: ``--stages memory50k``; a few minutes).

Ours: ``embed_with_cache`` into a fresh ``SqlEmbeddingStore`` (SQLite) of 50,000 distinct
generated interview sentences; baseline: the bare ``SentenceTransformer.encode`` of the
same texts (see :mod:`benchmarks.stage_embedding`). One timed run each and no traced run
(under ``tracemalloc`` a 50,000-text encode takes far longer than the budget); the rows'
peak RSS growth is the number of interest. :mod:`benchmarks.stage_scaling` measures the
whole job (import, embed, suggest) against corpus size.
"""

from __future__ import annotations

import random
from typing import Iterator

from benchmarks import corpus
from benchmarks.context import Context
from benchmarks.harness import Case, Runner
from benchmarks.stage_embedding import models, sql_store

STAGE = "memory50k"
COUNT = 50_000
TINY_COUNT = 300  # the CI smoke run (size tiny) only checks that the stage still runs


def distinct_sentences(count: int, seed: int) -> list[str]:
    rng = random.Random(f"{seed}:memory50k")
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen.setdefault(corpus.sentence(rng), None)
    return list(seen)


def cases(ctx: Context) -> Iterator[Case]:
    from coding.embeddings import embed_with_cache

    m = models(ctx)
    count = TINY_COUNT if ctx.size.name == "tiny" else COUNT
    texts = distinct_sentences(count, ctx.seed)
    batch_size, _ = m.best_batch_size(texts[:512])
    yield Case(
        STAGE, f"embed {count:,} segments",
        Runner("embed_with_cache + SqlEmbeddingStore (empty)", lambda store: embed_with_cache(m.ours, texts, store),
               setup=lambda: sql_store(ctx, "memory50k"), warmup=lambda: m.ours.encode(texts[:32])),
        Runner(f"SentenceTransformer.encode (batch {batch_size}, {m.precision})",
               lambda _: m.bare_encode(texts, batch_size), warmup=lambda: m.bare_encode(texts[:32], batch_size)),
        rates={"segments/s": count}, repeats=1, trace_memory=False,
        notes=[f"{count} distinct sentences; memory is the point of this stage"],
    )
