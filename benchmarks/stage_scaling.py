"""Memory and time against corpus size: does the whole job grow linearly? (opt-in: ``--stages scaling``)

The cold job of :mod:`benchmarks.stage_pipeline` (import the transcripts into a fresh
SQLite project, then ``service.suggest`` for every unit, embedding through the empty
cache) runs on the first 1/8, 1/4, 1/2 and all of the size's corpus, each in a fresh
child process, so one run's freed memory cannot hide the next one's. A child loads
the model and warms up on one transcript, then resets the kernel's peak-RSS mark
(``/proc/self/clear_refs``) and reports the peak growth of its resident set over the
job (``VmHWM`` after minus ``VmRSS`` before) and the job's seconds.

Rows: one per fraction, in units/s with ``peak_rss_mb`` = that growth; no baseline.
The notes give MB per 1,000 units; linear growth keeps it flat as the corpus doubles.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

from benchmarks.context import FRAME, Context
from benchmarks.harness import RATIO_MEANING

STAGE = "scaling"
FRACTIONS = (0.125, 0.25, 0.5, 1.0)


def _child(size_name: str, units: int, seed: int) -> dict[str, Any]:
    """Run the cold job on the first transcripts holding ``units`` units; measure this process."""
    from benchmarks import corpus, harness
    from benchmarks.stage_pipeline import CODER, PROJECT, drop_project, files_within, fresh_project
    from coding import service
    from coding.embeddings import load_embedder

    with tempfile.TemporaryDirectory(prefix="codeframe-scaling-") as tmp:
        ctx = Context(size=corpus.SIZES[size_name], repeats=1, tmp=Path(tmp), seed=seed, log=lambda _: None)
        files = files_within(ctx, units)
        del ctx.cache["parsed"], ctx.cache["files"]  # the parent's inputs are not the job's memory
        embedder = load_embedder("all-MiniLM-L6-v2")
        warm = fresh_project(ctx, "warmup")
        service.import_transcripts(warm[0], PROJECT, files[:1], language="en")
        service.suggest(warm[0], PROJECT, frame=FRAME, coder=CODER, embedder=embedder)
        drop_project(warm)
        project = fresh_project(ctx, "job")
        with harness.RssProbe() as probe:
            start = time.perf_counter()
            service.import_transcripts(project[0], PROJECT, files, language="en", allow_same_content=True)
            found = service.suggest(project[0], PROJECT, frame=FRAME, coder=CODER, embedder=embedder)
            seconds = time.perf_counter() - start
        units_done = service.status(project[0], PROJECT).units
        drop_project(project)
    return {"units": units_done, "documents": len(files), "seconds": seconds, "peak_rss_mb": probe.peak_mb,
            "rss_method": probe.method, "suggestions": len(found)}


def linear_fit_note(units: list[int], peak_mb: list[float]) -> str:
    """Least-squares line through (units, peak RSS growth): fixed part, MB per 1,000 units, R².

    >>> linear_fit_note([1000, 2000, 4000], [60.0, 70.0, 90.0])
    'linear fit over the runs: peak RSS growth = 50.0 MB + 10.00 MB per 1,000 units (R² = 1.000)'
    """
    import numpy as np

    x, y = np.asarray(units, dtype=float), np.asarray(peak_mb, dtype=float)
    if len(set(units)) < 2:
        return "linear fit over the runs: needs at least two different sizes"
    slope, intercept = np.polyfit(x, y, 1)
    residual = ((y - (slope * x + intercept)) ** 2).sum()
    total = ((y - y.mean()) ** 2).sum()
    r2 = 1.0 - residual / total if total > 0 else 1.0
    return (f"linear fit over the runs: peak RSS growth = {intercept:.1f} MB + {slope * 1000:.2f} MB per "
            f"1,000 units (R² = {r2:.3f})")


def _run_child(ctx: Context, units: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.stage_scaling", "--size", ctx.size.name, "--units", str(units),
               "--seed", str(ctx.seed)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"})
    if done.returncode != 0:
        raise RuntimeError(f"the scaling child for {units} units failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cases(ctx: Context) -> Iterator[dict]:
    total = len(ctx.unit_texts())
    if ctx.embed_cap is not None:
        total = min(total, ctx.embed_cap)
    results = []
    for fraction in FRACTIONS:
        units = max(1, int(total * fraction))
        ctx.log(f"  {STAGE}: child process, cold job on ~{units} units")
        results.append(_run_child(ctx, units))
    smallest = results[0]
    fit_note = linear_fit_note([r["units"] for r in results], [r["peak_rss_mb"] for r in results])
    for fraction, r in zip(FRACTIONS, results):
        per_k = r["peak_rss_mb"] / r["units"] * 1000 if r["units"] else float("nan")
        yield {
            "stage": STAGE, "measurement": f"cold job, {fraction:g} of the corpus", "size": ctx.size.name,
            "unit": "units/s", "items": r["units"], "repeats": 1,
            "median": r["units"] / r["seconds"], "min": r["units"] / r["seconds"], "max": r["units"] / r["seconds"],
            "seconds": {"median": r["seconds"], "min": r["seconds"], "max": r["seconds"]},
            "peak_python_mb": None, "peak_rss_mb": round(r["peak_rss_mb"], 2), "rss_method": r["rss_method"],
            "ours": "import_transcripts + suggest in a fresh child process", "baseline": None, "ratio": None,
            "ratio_meaning": RATIO_MEANING,
            "notes": [f"{r['documents']} documents, {r['units']} units, {r['suggestions']} suggestions",
                      f"peak RSS growth {per_k:.2f} MB per 1,000 units; time per unit "
                      f"{r['seconds'] / r['units'] * 1000:.2f} ms "
                      f"({r['seconds'] / r['units'] / (smallest['seconds'] / smallest['units']):.2f}x the smallest run's)",
                      fit_note],
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="one scaling child: the cold job on the first N units")
    parser.add_argument("--size", required=True)
    parser.add_argument("--units", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args(argv)
    print(json.dumps(_child(args.size, args.units, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
