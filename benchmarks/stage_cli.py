"""CLI start-up stage: how long ``codeframe --help`` and ``codeframe status`` take in a fresh process.

Ours: a fresh Python process running the ``codeframe`` entry point (``coding.cli.main``, as the console
script does) with ``--help``, and with ``status`` on a project database: the sample corpus (24 interviews),
or at the ``tiny`` size (the CI smoke run) the size's three generated interviews. Baseline: a fresh
``python -c pass`` in the same interpreter. ``ratio`` = our median wall time / the baseline's; the notes
give the same ratio in CPU time (user + system of the child), which a loaded machine disturbs less.
Targets (issue 24): ``--help`` within 3x the baseline, ``status`` on the sample under 1 s on a quiet machine.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

from benchmarks.context import Context
from benchmarks.harness import RATIO_MEANING

STAGE = "cli"
ROOT = Path(__file__).resolve().parent.parent
ENTRY = "import sys; from coding.cli import main; sys.argv[0] = 'codeframe'; sys.exit(main())"
MIN_REPEATS = 5  # start-up times are short and noisy: never fewer runs than this


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one fresh child process; it must exit 0."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[-3:])} exited with {done.returncode}: {done.stderr.strip()[-300:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def sample_database(ctx: Context) -> tuple[str, str]:
    """A project database to run ``status`` on (untimed): its URL and what it holds."""
    from coding import service
    from coding.database.engine import make_engine

    url = f"sqlite:///{ctx.tmp / 'cli_status.sqlite'}"
    engine = make_engine(url)
    try:
        if ctx.size.name == "tiny":
            service.initialize(engine)
            service.import_transcripts(engine, "default", ctx.files(), language="en")
            return url, f"{len(ctx.files())} generated interviews (size tiny)"
        service.initialize(engine, sample=True)
        return url, "the sample corpus (24 interviews)"
    finally:
        engine.dispose()


def _summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _row(measurement: str, ours: list[tuple[float, float]], base: list[tuple[float, float]], notes: list[str],
         size: str) -> dict:
    wall, cpu = [w for w, _ in ours], [c for _, c in ours]
    base_wall, base_cpu = [w for w, _ in base], [c for _, c in base]
    seconds = _summary(wall)
    cpu_ratio = statistics.median(cpu) / max(statistics.median(base_cpu), 1e-6)
    return {
        "stage": STAGE, "measurement": measurement, "size": size, "unit": "s", "items": None,
        "repeats": len(wall), **seconds, "seconds": seconds,
        "peak_python_mb": None, "peak_rss_mb": None, "rss_method": None,
        "ours": f"a fresh process: {measurement}",
        "baseline": {"name": "python -c pass (a fresh process)", **_summary(base_wall), "seconds": _summary(base_wall)},
        "ratio": seconds["median"] / statistics.median(base_wall), "ratio_meaning": RATIO_MEANING,
        "notes": [f"CPU time (user + system) median {statistics.median(cpu) * 1000:.0f} ms, "
                  f"{cpu_ratio:.2f}x the baseline's {statistics.median(base_cpu) * 1000:.0f} ms", *notes,
                  f"load average (1 min) {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"],
    }


def cases(ctx: Context) -> Iterator[dict]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    url, holds = sample_database(ctx)
    commands = {
        "codeframe --help": ([sys.executable, "-c", ENTRY, "--help"], []),
        "codeframe status (sample)": ([sys.executable, "-c", ENTRY, "--db", url, "status"], [f"on {holds}"]),
    }
    baseline = [sys.executable, "-c", "pass"]
    timed(baseline, env)  # warm the file cache for both sides
    for measurement, (argv, notes) in commands.items():
        timed(argv, env)
        ours, base = [], []
        for _ in range(max(ctx.repeats, MIN_REPEATS)):  # interleaved, so load drifts hit both sides alike
            base.append(timed(baseline, env))
            ours.append(timed(argv, env))
        ctx.log(f"  {STAGE}: {measurement} {statistics.median(w for w, _ in ours):.3f} s, "
                f"python -c pass {statistics.median(w for w, _ in base):.3f} s")
        yield _row(measurement, ours, base, notes, ctx.size.name)
