"""Which numeric precision the torch embedder runs in, and why: the bf16 probe and the setting.

The precision asked for is ``$CODEFRAME_PRECISION`` if set, else the model's registry entry
(``precision:``), else ``"auto"``. ``"auto"`` uses bf16 autocast only where
:func:`bf16_support` finds it usable *and* faster; an explicit ``"bf16"`` where bf16 crashes
is refused. :func:`describe_precision` says what is really used and why, for
``codeframe status`` and the Settings page.

bf16 moves the vectors a little (see ``models/precision_gap.json``), so embeddings are cached
per precision (:func:`cache_model_id`) and tests compare vectors with the tolerances below,
which are derived from that measurement, not tuned until green.

>>> cache_model_id("all-MiniLM-L6-v2", "fp32"), cache_model_id("all-MiniLM-L6-v2", "bf16")
('all-MiniLM-L6-v2', 'all-MiniLM-L6-v2@bf16')
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

PRECISIONS = ("auto", "fp32", "bf16")
PRECISION_ENV = "CODEFRAME_PRECISION"
#: bf16 is used under "auto" only if the probe measures at least this speed-up over fp32.
BF16_MIN_SPEEDUP = 1.25


def cpu_flags() -> frozenset[str]:
    """CPU feature flags from ``/proc/cpuinfo`` (empty where that file does not exist)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (for benchmark and measurement records)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


@dataclass(frozen=True)
class Bf16Support:
    """Whether bf16 autocast runs on this CPU, how much faster it is, and why we think so."""

    usable: bool
    speedup: float  # fp32 time / bf16 time on a transformer-sized workload; NaN if not measured
    reason: str


_PROBE = r"""
import sys, time, torch
torch.manual_seed(0)
x = torch.randn(64 * 128, 384)
lin1, lin2 = torch.nn.Linear(384, 1536), torch.nn.Linear(1536, 384)
q = torch.randn(64 * 12, 128, 32)
def work():
    h = lin2(torch.nn.functional.gelu(lin1(x)))
    a = torch.softmax(q @ q.transpose(1, 2), dim=-1) @ q
    return h, a
def timed():
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter(); work(); best = min(best, time.perf_counter() - t)
    return best
with torch.inference_mode():
    work(); fp32 = timed()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h, _ = work()
        assert h.dtype == torch.bfloat16, h.dtype
        bf16 = timed()
print(fp32 / bf16)
"""


def _probe_cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "codeframe" / "bf16-probe.json"


#: Where probe results are remembered between processes (a probe costs a few seconds).
PROBE_CACHE: Path | None = _probe_cache_file()


def _probe_key(flags: frozenset[str]) -> str:
    try:
        from importlib.metadata import version

        torch_version = version("torch")
    except Exception:  # noqa: BLE001 - any metadata problem just means "unknown"
        torch_version = "?"
    parts = [sys.executable, torch_version, os.environ.get("ONEDNN_MAX_CPU_ISA", ""), " ".join(sorted(flags))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _run_bf16_probe(bf16_flags: list[str]) -> Bf16Support:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=180,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Bf16Support(False, float("nan"), f"the bf16 probe could not run: {exc}")
    if done.returncode != 0:
        how = f"signal {-done.returncode}" if done.returncode < 0 else f"exit code {done.returncode}"
        tail = done.stderr.strip().splitlines()[-1:] or [""]
        return Bf16Support(
            False, float("nan"),
            f"the CPU reports {'/'.join(bf16_flags)} but a bf16 workload died ({how}) {tail[0]}".strip(),
        )
    try:
        speedup = float(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return Bf16Support(False, float("nan"), f"the bf16 probe printed {done.stdout!r}")
    if speedup < BF16_MIN_SPEEDUP:
        return Bf16Support(False, speedup, f"bf16 runs but is only {speedup:.2f}x as fast as fp32")
    return Bf16Support(True, speedup, f"bf16 runs {speedup:.2f}x as fast as fp32 ({'/'.join(bf16_flags)})")


@lru_cache(maxsize=1)
def bf16_support() -> Bf16Support:
    """Check whether bf16 autocast is usable and worth it on this CPU.

    The CPU flags (``avx512_bf16`` / ``amx_bf16``) are necessary but not enough:
    some virtual machines advertise AMX yet trap its instructions, which kills the
    process with SIGILL inside oneDNN. So the check runs a small bf16 workload in a
    child process and measures its speed against fp32 there. The verdict is kept
    per process and in :data:`PROBE_CACHE` (keyed by interpreter, torch version,
    ``ONEDNN_MAX_CPU_ISA`` and CPU flags), so the probe runs once per machine.
    """
    flags = cpu_flags()
    bf16_flags = sorted(flags & {"avx512_bf16", "amx_bf16"})
    if not bf16_flags:
        return Bf16Support(False, float("nan"), "the CPU reports no avx512_bf16/amx_bf16 support")
    key = _probe_key(flags)
    known: dict[str, Any] = {}
    if PROBE_CACHE is not None:
        try:
            known = json.loads(PROBE_CACHE.read_text(encoding="utf-8"))
            hit = known[key]
            return Bf16Support(bool(hit["usable"]), float(hit["speedup"]), str(hit["reason"]))
        except (OSError, ValueError, KeyError, TypeError):
            known = known if isinstance(known, dict) else {}
    result = _run_bf16_probe(bf16_flags)
    if PROBE_CACHE is not None:
        try:
            known[key] = {"usable": result.usable, "speedup": result.speedup, "reason": result.reason}
            PROBE_CACHE.parent.mkdir(parents=True, exist_ok=True)
            temporary = PROBE_CACHE.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(known), encoding="utf-8")
            os.replace(temporary, PROBE_CACHE)
        except OSError:
            pass  # a read-only home only costs the probe next time
    return result


def resolve_precision(precision: str) -> str:
    """``"fp32"`` or ``"bf16"`` for a requested precision; ``"auto"`` picks bf16 only where it pays.

    An explicit ``"bf16"`` on a CPU where bf16 crashes raises ``ValueError``
    rather than letting the process die.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "fp32":
        return "fp32"
    support = bf16_support()
    if precision == "auto":
        return "bf16" if support.usable else "fp32"
    if not support.usable and not np.isfinite(support.speedup):
        raise ValueError(f"bf16 is not usable on this CPU: {support.reason}")
    return "bf16"


def requested_precision(entry: str | None = None) -> tuple[str, str]:
    """The precision asked for and where the request comes from.

    ``$CODEFRAME_PRECISION`` wins over the registry entry's ``precision`` (``entry``), which
    wins over the default ``"auto"``. An unknown value raises ``ValueError`` naming its source.

    >>> os.environ.pop(PRECISION_ENV, None) and None
    >>> requested_precision("fp32")
    ('fp32', "the model's registry entry")
    >>> requested_precision(None)
    ('auto', 'the default')
    """
    value = os.environ.get(PRECISION_ENV, "").strip()
    if value:
        source = f"${PRECISION_ENV}"
    elif entry:
        value, source = str(entry), "the model's registry entry"
    else:
        value, source = "auto", "the default"
    if value not in PRECISIONS:
        raise ValueError(f"{source} asks for precision {value!r}; it must be one of {', '.join(PRECISIONS)}")
    return value, source


@dataclass(frozen=True)
class PrecisionChoice:
    """The precision asked for, the one really used, and why."""

    requested: str
    source: str
    used: str
    reason: str

    def describe(self) -> str:
        return f"{self.used} ({self.requested} from {self.source}; {self.reason})"


def describe_precision(requested: str = "auto", source: str = "the caller") -> PrecisionChoice:
    """What :func:`resolve_precision` makes of ``requested`` (asked for by ``source``), and why."""
    if requested == "fp32":
        return PrecisionChoice(requested, source, "fp32", "fp32 was asked for")
    used = resolve_precision(requested)
    return PrecisionChoice(requested, source, used, bf16_support().reason)


def cache_model_id(model_id: str, precision: str) -> str:
    """The key embeddings of ``model_id`` are cached under: fp32 as the model id, bf16 apart.

    bf16 vectors differ from fp32 ones (cosine down to ~0.99), so a cache filled on a bf16
    machine must not feed an fp32 machine: each precision has its own rows, and a project
    moved between machines re-embeds once in the precision it runs in.
    """
    return model_id if precision == "fp32" else f"{model_id}@{precision}"


@dataclass(frozen=True)
class Tolerance:
    """How far vectors and suggestions of one precision may move, for tests and checks.

    Each bound is ten times the deviation measured on the sample corpus
    (``models/precision_gap.json``: 602 units, all-MiniLM-L6-v2), rounded outwards: one
    order of magnitude for CPUs other than the one measured, and no more.
    """

    batching_cosine: float  # min cosine between a vector encoded in a batch and alone
    batching_abs: float  # max absolute difference between those two
    vs_fp32_cosine: float  # min cosine of a vector to its fp32 twin
    top1_same: float  # min share of units whose zero-shot top-1 code equals fp32's
    sets_same: float  # min share of units whose codes above threshold equal fp32's


#: Measured 2026-12-01 on an AMD EPYC with avx512_bf16 (see models/README.md):
#: fp32 batching cosine >= 0.99999994, |diff| <= 1.6e-7; bf16 batching cosine >= 0.999974,
#: |diff| <= 0.0014; bf16 vs fp32 cosine >= 0.99988; same top-1 code >= 99.3 % of units
#: and same codes above threshold >= 98.8 % in every frame of the default codebook.
TOLERANCES = {
    "fp32": Tolerance(batching_cosine=0.9999994, batching_abs=1.6e-6, vs_fp32_cosine=1.0, top1_same=1.0,
                      sets_same=1.0),
    "bf16": Tolerance(batching_cosine=0.9997, batching_abs=0.014, vs_fp32_cosine=0.9988, top1_same=0.93,
                      sets_same=0.88),
}


def tolerance(precision: str) -> Tolerance:
    """The :class:`Tolerance` of ``"fp32"`` or ``"bf16"``.

    >>> tolerance("bf16").vs_fp32_cosine
    0.9988
    """
    if precision not in TOLERANCES:
        raise ValueError(f"no tolerance for precision {precision!r}; expected one of {', '.join(TOLERANCES)}")
    return TOLERANCES[precision]
