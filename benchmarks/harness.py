"""Timing, memory and reporting for the benchmarks: ours and the baseline, in the same run.

A stage module builds :class:`Case` objects; each case has two :class:`Runner`\\ s (ours
and the baseline) that do the same work on the same input. :func:`run_case` times
``repeats`` runs of each (setup and teardown untimed), then one more run of each under
``tracemalloc``, and turns the result into one or more result rows (one per rate unit,
e.g. documents/s and segments/s from the same timings).

Memory, two numbers per runner:

* ``peak_python_mb``: peak of Python-level allocations (``tracemalloc``; numpy arrays
  are included, torch/SQLite/C++ buffers are not), from the extra traced run so tracing
  never slows the timed ones;
* ``peak_rss_mb``: growth of the process's resident set over one timed run: the kernel's
  high-water mark ``VmHWM`` is reset through ``/proc/self/clear_refs`` before the run and
  read after it (``rss_method = "VmHWM-reset"``). Where that is not possible the
  ``ru_maxrss`` delta is used (``rss_method = "ru_maxrss-delta"``), which is only a lower
  bound: it grows only when the run exceeds the process's earlier peak.

``ratio`` is always *ours time / baseline time* on the same input: 1.0 means as fast as
the baseline, 2.0 twice as slow, 0.5 twice as fast. For a throughput row that is the
same as baseline throughput / our throughput.
"""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

RATIO_MEANING = "ours time / baseline time on the same input: 1.0 = as fast as the baseline, > 1 = slower"


@dataclass
class Runner:
    """What one side of a case does: ``run(state)`` is timed; ``setup()`` makes ``state`` (untimed)."""

    name: str
    run: Callable[[Any], Any]
    setup: Callable[[], Any] | None = None
    teardown: Callable[[Any], None] | None = None
    warmup: Callable[[], Any] | None = None  # once, before the first timed run (model load, imports)
    warm_run: bool = True  # without a warmup: one untimed run first (imports, caches, statement compilation)
    shared: bool = False  # measured once and reused by every case that names this runner
    _timing: "Timing | None" = field(default=None, repr=False)


@dataclass
class Case:
    """One measurement: ours against a baseline on the same input.

    ``rates`` maps a throughput unit to the number of items a run handles, e.g.
    ``{"documents/s": 24, "segments/s": 2600}``; each gives its own result row. With no
    rates the row reports seconds per run.
    """

    stage: str
    measurement: str
    ours: Runner
    baseline: Runner | None
    rates: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    repeats: int | None = None  # overrides the run's --repeats (e.g. for very slow cases)
    trace_memory: bool = True
    precision: str | None = None  # the embedding precision of ours / the baseline ("bf16", "fp32"); None: no model


@dataclass
class Timing:
    seconds: list[float]
    peak_python_mb: float | None
    peak_rss_mb: float | None
    rss_method: str
    result: Any = None


# --------------------------------------------------------------------------- memory


def _status_kb(field_name: str) -> int | None:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_hwm() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux >= 4.0); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


class RssProbe:
    """Peak RSS growth over a block: VmHWM after a reset, else the ru_maxrss delta."""

    def __enter__(self) -> "RssProbe":
        gc.collect()
        self.method = "VmHWM-reset" if _reset_hwm() and _status_kb("VmHWM") is not None else "ru_maxrss-delta"
        self.start_kb = _status_kb("VmRSS") if self.method == "VmHWM-reset" else _maxrss_kb()
        return self

    def __exit__(self, *exc) -> None:
        end = _status_kb("VmHWM") if self.method == "VmHWM-reset" else _maxrss_kb()
        self.peak_mb = max(0.0, ((end or 0) - (self.start_kb or 0)) / 1024)


def _maxrss_kb() -> int:
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage // 1024 if sys.platform == "darwin" else usage


# --------------------------------------------------------------------------- timing


def measure(runner: Runner, repeats: int, *, trace_memory: bool = True) -> Timing:
    """Time ``repeats`` runs (setup/teardown untimed), then one traced run for Python peak memory."""
    if runner.shared and runner._timing is not None:
        return runner._timing
    timing = _measure(runner, repeats, trace_memory=trace_memory)
    if runner.shared:
        runner._timing = timing
    return timing


def _measure(runner: Runner, repeats: int, *, trace_memory: bool) -> Timing:
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    if runner.warmup is not None:
        runner.warmup()
    elif runner.warm_run:
        state = runner.setup() if runner.setup else None
        try:
            runner.run(state)
        finally:
            if runner.teardown:
                runner.teardown(state)
    seconds: list[float] = []
    rss: list[float] = []
    method = "VmHWM-reset"
    result = None
    for _ in range(repeats):
        state = runner.setup() if runner.setup else None
        try:
            with RssProbe() as probe:
                start = time.perf_counter()
                result = runner.run(state)
                seconds.append(time.perf_counter() - start)
        finally:
            if runner.teardown:
                runner.teardown(state)
        rss.append(probe.peak_mb)
        method = probe.method
    peak_python = None
    if trace_memory:
        state = runner.setup() if runner.setup else None
        gc.collect()
        tracemalloc.start()
        try:
            runner.run(state)
            peak_python = tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()
            if runner.teardown:
                runner.teardown(state)
    return Timing(seconds, peak_python, max(rss) if rss else None, method, result)


def _summary(seconds: list[float]) -> dict[str, float]:
    return {"median": statistics.median(seconds), "min": min(seconds), "max": max(seconds)}


def _in_unit(seconds: dict[str, float], items: int | None) -> dict[str, float]:
    """Seconds summary in the row's unit: throughput (items/s; min and max swap) or seconds."""
    if items is None:
        return dict(seconds)
    rate = lambda s: items / s if s > 0 else math.inf  # noqa: E731
    return {"median": rate(seconds["median"]), "min": rate(seconds["max"]), "max": rate(seconds["min"])}


def machine() -> dict[str, Any]:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": cpus, "cpu": model, "cpu_flags": cpu_flags(), "python": platform.python_version(),
            "platform": platform.platform()}


#: the CPU flags that decide which kernels (and which precision) the embedding model runs with
KERNEL_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8")


def cpu_flags() -> list[str]:
    """Those of :data:`KERNEL_FLAGS` this CPU has (from /proc/cpuinfo; empty where unreadable)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                have = set(line.split(":", 1)[1].split())
                return [flag for flag in KERNEL_FLAGS if flag in have]
    except OSError:
        pass
    return []


def precision_of_run() -> str:
    """The embedding precision this process runs in ("bf16" or "fp32"), as :mod:`coding.precision` decides."""
    try:
        from coding.precision import bf16_support

        return "bf16" if bf16_support().usable else "fp32"
    except Exception:  # noqa: BLE001 - a row must never fail for its label
        return "?"


def run_case(case: Case, repeats: int, *, size: str, log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Measure ours and the baseline of ``case``; one row (a JSON-able dict) per rate unit."""
    repeats = case.repeats or repeats
    log(f"  {case.stage} / {case.measurement}: ours ({case.ours.name}) x{repeats}")
    ours = measure(case.ours, repeats, trace_memory=case.trace_memory)
    base = None
    if case.baseline is not None:
        if not (case.baseline.shared and case.baseline._timing is not None):
            log(f"  {case.stage} / {case.measurement}: baseline ({case.baseline.name}) x{repeats}")
        base = measure(case.baseline, repeats, trace_memory=case.trace_memory)
    ours_s = _summary(ours.seconds)
    base_s = _summary(base.seconds) if base else None
    ratio = ours_s["median"] / base_s["median"] if base_s and base_s["median"] > 0 else None
    units = list(case.rates.items()) or [("s", None)]
    rows = []
    for unit, items in units:
        row = {
            "stage": case.stage,
            "measurement": case.measurement,
            "size": size,
            "unit": unit,
            "items": items,
            "repeats": repeats,
            **_in_unit(ours_s, items),
            "seconds": ours_s,
            "peak_python_mb": _round(ours.peak_python_mb),
            "peak_rss_mb": _round(ours.peak_rss_mb),
            "rss_method": ours.rss_method,
            "ours": case.ours.name,
            "baseline": None,
            "ratio": ratio,
            "ratio_meaning": RATIO_MEANING,
            "notes": list(case.notes),
            "precision": case.precision or "no model",
        }
        if base is not None:
            row["baseline"] = {
                "name": case.baseline.name,
                **_in_unit(base_s, items),
                "seconds": base_s,
                "peak_python_mb": _round(base.peak_python_mb),
                "peak_rss_mb": _round(base.peak_rss_mb),
            }
        rows.append(row)
    return rows


def error_row(stage: str, measurement: str, size: str, exc: BaseException) -> dict[str, Any]:
    """A row recording that a case could not run (the other stages still run)."""
    return {"stage": stage, "measurement": measurement, "size": size, "unit": None, "error": f"{type(exc).__name__}: {exc}",
            "ratio": None, "ratio_meaning": RATIO_MEANING, "notes": []}


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


# --------------------------------------------------------------------------- output


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        if abs(value) >= 0.01:
            return f"{value:.3f}"
        return f"{value:.2e}"
    return str(value)


TABLE_HEADER = ("stage", "measurement", "median", "min", "max", "unit", "peak py MB", "peak RSS MB",
                "baseline median", "ratio")


def table_lines(rows: list[dict[str, Any]], *, markdown: bool = False) -> list[str]:
    """The results as a fixed-width (or Markdown) table; ratio = ours time / baseline time."""
    body = []
    for r in rows:
        if r.get("error"):
            body.append((r["stage"], r["measurement"], "ERROR", "", "", "", "", "", "", r["error"][:60]))
            continue
        base = r.get("baseline") or {}
        body.append((
            r["stage"], r["measurement"], _fmt(r["median"]), _fmt(r["min"]), _fmt(r["max"]), r["unit"],
            _fmt(r["peak_python_mb"]), _fmt(r["peak_rss_mb"]), _fmt(base.get("median")),
            _fmt(r["ratio"]) if r["ratio"] is not None else "-",
        ))
    if markdown:
        lines = ["| " + " | ".join(TABLE_HEADER) + " |", "|" + "---|" * len(TABLE_HEADER)]
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in body]
        return lines
    widths = [max(len(str(row[i])) for row in [TABLE_HEADER, *body]) for i in range(len(TABLE_HEADER))]
    line = lambda row: "  ".join(str(c).ljust(w) if i < 2 or i == 5 else str(c).rjust(w)  # noqa: E731
                                 for i, (c, w) in enumerate(zip(row, widths)))
    return [line(TABLE_HEADER), line(tuple("-" * w for w in widths)), *[line(row) for row in body]]


def write_jsonl(rows: list[dict[str, Any]], path: str | Path, *, extra: dict[str, Any] | None = None) -> Path:
    """One JSON object per line; ``extra`` (machine, size, run time) is added to every line."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps({**row, **(extra or {})}, ensure_ascii=False, default=_json_default) + "\n")
    return path


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)
