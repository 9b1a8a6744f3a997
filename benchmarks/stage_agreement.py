"""Inter-coder agreement for all codes of a frame: units x 3 coders (10,000 units at medium/large).

Ours: ``coding.reliability.agreement_table`` on the long codings table (unit, coder, code)
with every coder having seen every unit; it builds the presence matrices and computes
percent agreement, Cohen's and Fleiss' kappa, Krippendorff's alpha and Gwet's AC1 per
code -- without the bootstrap (``n_boot=0``) and with the default 1000-sample bootstrap
of alpha's interval.

Baseline: the ``krippendorff`` package's ``alpha(level_of_measurement="nominal")`` called
directly on ready 3 x units presence matrices, once per code (matrix building untimed).
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from benchmarks import corpus
from benchmarks.context import Context
from benchmarks.harness import Case, Runner

STAGE = "agreement"
CODERS = ("ann", "bob", "cem")


def ready_matrices(codings, units: list[str], codes: list[str]) -> dict[str, np.ndarray]:
    """Per code, a coders x units 0/1 matrix (every coder saw every unit)."""
    unit_pos = {u: i for i, u in enumerate(units)}
    coder_pos = {c: i for i, c in enumerate(CODERS)}
    out = {}
    for code in codes:
        m = np.zeros((len(CODERS), len(units)))
        rows = codings[codings["code"] == code]
        m[[coder_pos[c] for c in rows["coder"]], [unit_pos[u] for u in rows["unit"]]] = 1.0
        out[code] = m
    return out


def cases(ctx: Context) -> Iterator[Case]:
    import krippendorff

    from coding.reliability import agreement_table

    codes = ctx.frame_codes()
    n_units = ctx.size.agreement_units
    codings = corpus.agreement_codings(n_units, codes, coders=CODERS, seed=ctx.seed)
    units = [f"u{u:06d}" for u in range(n_units)]
    seen = {coder: set(units) for coder in CODERS}
    matrices = ready_matrices(codings, units, codes)
    notes = [f"{n_units} units x {len(CODERS)} coders, {len(codes)} codes, {len(codings)} codings"]

    def alpha_per_code(_):
        return {code: krippendorff.alpha(reliability_data=m, level_of_measurement="nominal")
                for code, m in matrices.items()}

    baseline = Runner("krippendorff.alpha per code on ready matrices", alpha_per_code, shared=True)
    rates = {"codes/s": len(codes)}
    yield Case(STAGE, "agreement_table, no bootstrap",
               Runner("reliability.agreement_table(n_boot=0)",
                      lambda _: agreement_table(codings, codes=codes, units_by_coder=seen, n_boot=0)),
               baseline, rates=rates, notes=notes)
    yield Case(STAGE, "agreement_table, 1000 bootstrap",
               Runner("reliability.agreement_table(n_boot=1000)",
                      lambda _: agreement_table(codings, codes=codes, units_by_coder=seen, n_boot=1000)),
               baseline, rates=rates, notes=notes)
