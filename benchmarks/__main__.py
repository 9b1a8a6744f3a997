"""``python -m benchmarks [--size small|medium|large] [--stages a,b,c] [--repeats N] [--out FILE.jsonl]``.

Runs each stage (ours and its baseline on the same input, in this process), prints a table
and writes one JSON line per measurement (default ``benchmarks/results/latest.jsonl``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchmarks import corpus, harness  # noqa: E402
from benchmarks.context import Context  # noqa: E402

#: stage name -> module; in run order (embedding before suggestions, which reuses its vectors).
STAGES = {
    "import": "benchmarks.stage_import",
    "refiqda": "benchmarks.stage_refiqda",
    "embedding": "benchmarks.stage_embedding",
    "suggestions": "benchmarks.stage_suggestions",
    "agreement": "benchmarks.stage_agreement",
    "shares": "benchmarks.stage_shares",
    "retrieve": "benchmarks.stage_retrieve",
    "writes": "benchmarks.stage_writes",
    "app": "benchmarks.stage_app",
    "pipeline": "benchmarks.stage_pipeline",
    "instruments": "benchmarks.stage_instruments",
    "memory50k": "benchmarks.stage_memory50k",
    "scaling": "benchmarks.stage_scaling",
    "browser": "benchmarks.stage_browser",
    "firststart": "benchmarks.stage_firststart",
}
OPT_IN = {"memory50k", "scaling", "browser", "firststart"}  # slow; only when named in --stages
DEFAULT_OUT = HERE / "results" / "latest.jsonl"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[1])
    parser.add_argument("--size", choices=sorted(corpus.SIZES), default="small")
    parser.add_argument("--stages", default=",".join(s for s in STAGES if s not in OPT_IN),
                        help=f"comma-separated, from: {', '.join(STAGES)} (default: all but {', '.join(OPT_IN)})")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per side (median, min, max over them)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON lines file (default %(default)s)")
    parser.add_argument("--embed-cap", type=int, default=None,
                        help="embed at most this many units (default: as many as fit ~10 minutes)")
    parser.add_argument("--profile", default="",
                        help="comma-separated stages whose 'ours' runs are also profiled with pyinstrument "
                             "(text reports next to --out)")
    args = parser.parse_args(argv)
    args.stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = [s for s in args.stages if s not in STAGES]
    if unknown:
        parser.error(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    args.profile = {s.strip() for s in args.profile.split(",") if s.strip()}
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def profile_case(case: harness.Case, out_dir: Path, log) -> Path:
    """Run ours once under pyinstrument; write the text report."""
    from pyinstrument import Profiler

    state = case.ours.setup() if case.ours.setup else None
    profiler = Profiler(interval=0.001)
    profiler.start()
    try:
        case.ours.run(state)
    finally:
        profiler.stop()
        if case.ours.teardown:
            case.ours.teardown(state)
    slug = "".join(ch if ch.isalnum() else "_" for ch in f"{case.stage}_{case.measurement}").strip("_")
    path = out_dir / f"profile_{slug}.txt"
    path.write_text(profiler.output_text(unicode=True, color=False, show_all=False), encoding="utf-8")
    log(f"  profile written to {path}")
    return path


def run(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    size = corpus.SIZES[args.size]
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    rows: list[dict] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="codeframe-bench-") as tmp:
        ctx = Context(size=size, repeats=args.repeats, tmp=Path(tmp), embed_cap=args.embed_cap, log=log)
        for stage in [s for s in STAGES if s in args.stages]:
            log(f"[{stage}] size {size.name}")
            stage_start = time.perf_counter()
            module = importlib.import_module(STAGES[stage])
            try:
                for case in module.cases(ctx):
                    if isinstance(case, dict):  # a stage that measures in child processes yields ready rows
                        rows.append(case)
                        continue
                    try:
                        rows += harness.run_case(case, args.repeats, size=size.name, log=log)
                        if stage in args.profile:
                            profile_case(case, args.out.parent, log)
                    except Exception as exc:  # one broken case must not hide the others
                        log(f"  ERROR in {stage} / {case.measurement}: {type(exc).__name__}: {exc}")
                        rows.append(harness.error_row(stage, case.measurement, size.name, exc))
            except Exception as exc:
                log(f"  ERROR setting up {stage}: {type(exc).__name__}: {exc}")
                rows.append(harness.error_row(stage, "(setup)", size.name, exc))
            log(f"[{stage}] done in {time.perf_counter() - stage_start:.1f} s")
    extra = {"run_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": harness.machine()}
    out = harness.write_jsonl(rows, args.out, extra=extra)
    print("\n".join(harness.table_lines(rows)))
    print("\nratio = ours time / baseline time on the same input (1.0 = as fast as the baseline, > 1 = slower).")
    print("peak py MB = tracemalloc peak of Python allocations (extra traced run); peak RSS MB = growth of the "
          "resident set during a timed run (VmHWM reset via /proc/self/clear_refs, else ru_maxrss delta).")
    for row in rows:
        for note in row.get("notes", []):
            if "capped" in note:
                print(f"NOTE {row['stage']} / {row['measurement']}: {note}")
    print(f"{len(rows)} rows written to {out} in {time.perf_counter() - started:.0f} s")
    return rows


def main(argv: list[str] | None = None) -> int:
    rows = run(argv)
    return 1 if any(r.get("error") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
