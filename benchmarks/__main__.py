"""``python -m benchmarks [--size small|medium|large] [--stages a,b,c] [--repeats N] [--out FILE.jsonl]``.

Runs each stage (ours and its baseline on the same input, in this process), prints a table
and writes one JSON line per measurement (default ``benchmarks/results/latest.jsonl``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
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
    "cli": "benchmarks.stage_cli",
    "memory50k": "benchmarks.stage_memory50k",
    "scaling": "benchmarks.stage_scaling",
    "browser": "benchmarks.stage_browser",
    "firststart": "benchmarks.stage_firststart",
}
OPT_IN = {"memory50k", "scaling", "browser", "firststart"}  # slow; only when named in --stages
DEFAULT_OUT = HERE / "results" / "latest.jsonl"
MODEL_STAGES = ("embedding", "suggestions")  # stages that warm the model's kernels for the stages after them
SELF_CHECK_TOLERANCE = 0.10


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
    parser.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)  # a child: rows only, no table
    parser.add_argument("--profile-dir", type=Path, default=None, help=argparse.SUPPRESS)  # default: next to --out
    parser.add_argument("--isolate", action=argparse.BooleanOptionalAction, default=True,
                        help="run each stage in a fresh child process, so no stage's ratio depends on what ran "
                             "before it (default; --no-isolate: all stages in this process, in order)")
    parser.add_argument("--self-check", default="pipeline",
                        help="comma-separated stages (or 'none') also run inside a shared process after the "
                             "model stages before them, as an unisolated suite would; both ratios are reported and "
                             f"a difference over {SELF_CHECK_TOLERANCE * 100:.0f}%% is a WARNING (default %(default)s; only "
                             "with --isolate and when the stage is in --stages)")
    args = parser.parse_args(argv)
    args.stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = [s for s in args.stages if s not in STAGES]
    if unknown:
        parser.error(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    args.profile = {s.strip() for s in args.profile.split(",") if s.strip()}
    args.self_check = [s.strip() for s in args.self_check.split(",") if s.strip() and s.strip() != "none"]
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


def _child_argv(args: argparse.Namespace, stages: list[str], out: Path) -> list[str]:
    argv = [sys.executable, "-m", "benchmarks", "--size", args.size, "--stages", ",".join(stages),
            "--repeats", str(args.repeats), "--out", str(out), "--no-isolate", "--self-check", "none", "--quiet"]
    if args.embed_cap is not None:
        argv += ["--embed-cap", str(args.embed_cap)]
    if args.profile & set(stages):
        argv += ["--profile", ",".join(sorted(args.profile & set(stages))),
                 "--profile-dir", str(args.profile_dir or args.out.parent)]
    return argv


def _in_child(args: argparse.Namespace, stages: list[str], out: Path, log, process: str) -> list[dict]:
    """Run ``stages`` in order in one fresh ``python -m benchmarks`` child; its rows, tagged with ``process``."""
    out.unlink(missing_ok=True)
    code = subprocess.run(_child_argv(args, stages, out), cwd=HERE.parent).returncode
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []
    if not rows:
        rows = [harness.error_row(stages[-1], "(child process)", args.size,
                                  RuntimeError(f"the child process exited with {code} and wrote no rows"))]
    for row in rows:
        row["process"] = process
        for key in ("run_at", "machine"):
            row.pop(key, None)
    return rows


def self_check(rows: list[dict], checked: list[dict], stage: str) -> list[str]:
    """Put the shared-process ratio beside each isolated row of ``stage``; WARNING lines for > 10 % apart."""
    warnings = []
    inside = {(r["measurement"], r["unit"]): r for r in checked if r.get("stage") == stage and not r.get("error")}
    for row in rows:
        if row.get("stage") != stage or row.get("error") or row.get("ratio") is None:
            continue
        other = inside.get((row["measurement"], row["unit"]))
        if other is None or other.get("ratio") is None:
            continue
        difference = abs(other["ratio"] - row["ratio"]) / row["ratio"]
        row["self_check"] = {"alone_ratio": row["ratio"], "in_suite_ratio": other["ratio"],
                             "in_suite_stages": other.get("process", ""), "difference": difference,
                             "ok": difference <= SELF_CHECK_TOLERANCE}
        if difference > SELF_CHECK_TOLERANCE:
            warnings.append(f"WARNING self-check {stage} / {row['measurement']} ({row['unit']}): ratio "
                            f"{row['ratio']:.3f} alone but {other['ratio']:.3f} inside the suite "
                            f"({difference:.0%} apart, > {SELF_CHECK_TOLERANCE:.0%}): this ratio depends on run order")
    return warnings


def run_isolated(args: argparse.Namespace, log) -> tuple[list[dict], list[str]]:
    """Every stage in its own fresh child process; then the self-check runs."""
    rows: list[dict] = []
    stages = [s for s in STAGES if s in args.stages]
    with tempfile.TemporaryDirectory(prefix="codeframe-bench-parent-") as tmp:
        for stage in stages:
            log(f"[{stage}] in a fresh child process")
            rows += _in_child(args, [stage], Path(tmp) / f"{stage}.jsonl", log, "fresh child: alone")
        warnings: list[str] = []
        for stage in [s for s in args.self_check if s in stages]:
            before = [s for s in stages if s in MODEL_STAGES and list(STAGES).index(s) < list(STAGES).index(stage)]
            if not before:
                before = [s for s in MODEL_STAGES if s != stage][:1]
            log(f"[self-check] {stage} after {', '.join(before)} in one shared process")
            checked = _in_child(args, [*before, stage], Path(tmp) / f"check_{stage}.jsonl", log,
                                f"shared process after {', '.join(before)}")
            warnings += self_check(rows, checked, stage)
            if all("self_check" not in r for r in rows if r.get("stage") == stage):
                warnings.append(f"WARNING self-check {stage}: no ratio to compare (see the errors)")
    return rows, warnings


def run(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    size = corpus.SIZES[args.size]
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    started = time.perf_counter()
    if args.isolate:
        rows, warnings = run_isolated(args, log)
    else:
        rows, warnings = run_in_process(args, size, log), []
    extra = {"run_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": harness.machine(),
             "load_average": [round(x, 2) for x in os.getloadavg()]}
    out = harness.write_jsonl(rows, args.out, extra=extra)
    if args.quiet:
        return rows
    print("\n".join(harness.table_lines(rows)))
    print("\nratio = ours time / baseline time on the same input (1.0 = as fast as the baseline, > 1 = slower).")
    print("peak py MB = tracemalloc peak of Python allocations (extra traced run); peak RSS MB = growth of the "
          "resident set during a timed run (VmHWM reset via /proc/self/clear_refs, else ru_maxrss delta).")
    machine = extra["machine"]
    print(f"CPU: {machine['cpu']} x{machine['cpus']}, flags {' '.join(machine['cpu_flags']) or '-'}; embedding "
          f"precision {harness.precision_of_run()}; load average {' '.join(map(str, extra['load_average']))}; "
          f"{'each stage in a fresh child process' if args.isolate else 'all stages in one process'}")
    for row in rows:
        for note in row.get("notes", []):
            if "capped" in note:
                print(f"NOTE {row['stage']} / {row['measurement']}: {note}")
        check = row.get("self_check")
        if check and check["ok"]:
            print(f"self-check {row['stage']} / {row['measurement']} ({row['unit']}): ratio {check['alone_ratio']:.3f} "
                  f"alone, {check['in_suite_ratio']:.3f} inside the suite ({check['difference']:.1%} apart): ok")
    for warning in warnings:
        print(warning)
    print(f"{len(rows)} rows written to {out} in {time.perf_counter() - started:.0f} s")
    return rows


def run_in_process(args: argparse.Namespace, size, log) -> list[dict]:
    rows: list[dict] = []
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
                            profile_case(case, args.profile_dir or args.out.parent, log)
                    except Exception as exc:  # one broken case must not hide the others
                        log(f"  ERROR in {stage} / {case.measurement}: {type(exc).__name__}: {exc}")
                        rows.append(harness.error_row(stage, case.measurement, size.name, exc))
            except Exception as exc:
                log(f"  ERROR setting up {stage}: {type(exc).__name__}: {exc}")
                rows.append(harness.error_row(stage, "(setup)", size.name, exc))
            log(f"[{stage}] done in {time.perf_counter() - stage_start:.1f} s")
    return rows


def main(argv: list[str] | None = None) -> int:
    rows = run(argv)
    return 1 if any(r.get("error") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
