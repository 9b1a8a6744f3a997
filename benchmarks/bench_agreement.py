"""Time the agreement stage: bootstrap of alpha and the per-code table.

Usage (from the repo root)::

    .venv/bin/python benchmarks/bench_agreement.py [--units 10000] [--boot 1000]

Prints wall-clock seconds for (1) ``bootstrap_alpha`` on a 3 coders x UNITS
matrix at every level, with 4 categories and with ~400 distinct continuous
values, and (2) ``agreement_table`` / ``report_from_codings`` on generated
codings (``benchmarks/corpus.agreement_codings``: 3 coders, 14 codes).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from coding import agreement, reliability  # noqa: E402
from corpus import agreement_codings  # noqa: E402


def timed(label: str, fn) -> None:
    start = time.perf_counter()
    fn()
    print(f"{label:<55} {time.perf_counter() - start:8.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--boot", type=int, default=1000)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, size=args.units)
    categorical = np.vstack([np.where(rng.random(args.units) < 0.8, truth, rng.integers(0, 4, size=args.units))
                             for _ in range(3)]).astype(float)
    continuous = np.abs(rng.normal(size=(3, args.units))).round(2)
    agreement.bootstrap_alpha(categorical[:, :50], n_boot=10)  # imports out of the timings
    for level in agreement.LEVELS:
        timed(f"bootstrap_alpha 3x{args.units} x{args.boot} {level}, 4 values",
              lambda: agreement.bootstrap_alpha(categorical, level=level, n_boot=args.boot))
    for level in ("ordinal", "interval", "ratio"):
        timed(f"bootstrap_alpha 3x{args.units} x{args.boot} {level}, continuous",
              lambda: agreement.bootstrap_alpha(continuous, level=level, n_boot=args.boot))
    codes = [f"c{i:02d}" for i in range(14)]
    codings = agreement_codings(args.units, codes)
    reliability.agreement_table(codings.head(100), n_boot=10)
    timed(f"agreement_table {len(codings)} codings, 14 codes, x{args.boot}",
          lambda: reliability.agreement_table(codings, n_boot=args.boot))
    timed(f"report_from_codings {len(codings)} codings, x{args.boot}",
          lambda: reliability.report_from_codings(codings, n_boot=args.boot))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
