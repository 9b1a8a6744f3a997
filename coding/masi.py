"""Agreement on set-valued units: Krippendorff's alpha with the MASI distance (Passonneau 2006).

In a frame whose codes are not mutually exclusive a coder gives each unit a *set* of codes
(possibly empty: seen, nothing applies). The classic one-category statistics are undefined there;
two overall figures are defined:

* per code, presence pooled: every (unit, code) pair is one present/absent decision, and
  Krippendorff's alpha is taken over all of them (:func:`set_valued_overall`, ``alpha_pooled``);
* set-valued: Krippendorff's alpha over the sets, with the MASI distance
  ``1 - J * M`` as the disagreement of two sets (:func:`masi_alpha`, ``alpha_masi``), where J is
  the Jaccard coefficient and M the monotonicity weight: 1 identical, 2/3 one a subset of the
  other, 1/3 overlapping, 0 disjoint. Passonneau, R. (2006). "Measuring agreement on set-valued
  items (MASI) for semantic and pragmatic annotation". LREC 2006.

As in :mod:`coding.agreement`, ``reliability_data`` has shape ``(n_coders, n_units)`` (the
``krippendorff`` package's convention), a missing rating is ``None`` or ``NaN``, degenerate
data give NaN (with the reason, in :func:`set_valued_overall`) and wrong input raises
``ValueError`` up front.

>>> masi_distance({"x", "y"}, {"x", "y", "z"})  # J = 2/3, M = 2/3
0.5555555555555556
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from coding.ratings import NO_RATINGS, Statistic

__all__ = ["masi_alpha", "masi_distance", "set_valued_overall"]

SET_VALUED_NOTE = ("set-valued: Krippendorff's alpha with the MASI distance (Passonneau 2006) over each unit's "
                   "set of codes per coder")
POOLED_NOTE = "per-code presence pooled: each (unit, code) pair is one present/absent decision"


def masi_distance(first: Iterable[Hashable], second: Iterable[Hashable]) -> float:
    """MASI distance of two sets: ``1 - J * M`` (0 identical, 1 disjoint; two empty sets: 0).

    >>> masi_distance({1, 2}, {1, 2, 3, 4})  # J = 1/2, M = 2/3 (nltk's 0.665 rounds M to 0.67)
    0.6666666666666667
    >>> [round(masi_distance(a, b), 4) for a, b in [({"a"}, {"a"}), ({"a"}, {"a", "b"}),
    ...                                             ({"a", "b"}, {"b", "c"}), ({"a"}, {"b"}), (set(), set())]]
    [0.0, 0.6667, 0.8889, 1.0, 0.0]
    """
    a, b = frozenset(first), frozenset(second)
    if a == b:
        return 0.0
    common = len(a & b)
    if not common:
        return 1.0
    monotonicity = 2 / 3 if common == min(len(a), len(b)) else 1 / 3
    return 1.0 - common / len(a | b) * monotonicity


def _is_missing(cell: Any) -> bool:
    return cell is None or (isinstance(cell, float) and math.isnan(cell))


def _sets(reliability_data: Any) -> list[list[frozenset | None]]:
    rows = list(reliability_data.to_numpy(dtype=object) if isinstance(reliability_data, pd.DataFrame)
                else reliability_data)
    if not rows or any(isinstance(r, (str, bytes)) or not hasattr(r, "__len__") for r in rows):
        raise ValueError("reliability_data must have shape (n_coders, n_units): a sequence of coders' rows")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ValueError(f"every coder's row must have the same number of units; got lengths {sorted(widths)}")
    out = []
    for row in rows:
        cells = []
        for cell in row:
            if _is_missing(cell):
                cells.append(None)
            elif isinstance(cell, (str, bytes)) or not isinstance(cell, Iterable):
                raise ValueError(f"a cell must be a set of codes (or None for missing), not {cell!r}")
            else:
                cells.append(frozenset(cell))
        out.append(cells)
    return out


def _masi_alpha(sets: list[list[frozenset | None]]) -> Statistic:
    """Krippendorff's alpha with MASI as the disagreement, from the coincidences of the values."""
    if len(sets) < 2:
        return Statistic(float("nan"), "only one coder")
    pairable = [[c for c in unit if c is not None] for unit in zip(*sets)]
    pairable = [u for u in pairable if len(u) >= 2]
    if not pairable:
        return Statistic(float("nan"), "no unit coded by two or more coders")
    values = sorted({v for u in pairable for v in u}, key=lambda s: (len(s), sorted(map(str, s))))
    if len(values) < 2:
        return Statistic(float("nan"), "all coders gave every unit the same set: no variation to compare")
    index = {v: i for i, v in enumerate(values)}
    delta = np.array([[masi_distance(a, b) for b in values] for a in values])
    counts = np.zeros((len(pairable), len(values)))
    for row, unit in enumerate(pairable):
        for value in unit:
            counts[row, index[value]] += 1
    m = counts.sum(axis=1, keepdims=True)
    coincidences = (counts / (m - 1)).T @ counts - np.diag((counts / (m - 1)).sum(axis=0))
    n_c = coincidences.sum(axis=0)
    n = n_c.sum()
    observed = (coincidences * delta).sum() / n
    expected = (np.outer(n_c, n_c) * delta).sum() / (n * (n - 1))
    return Statistic(float(1.0 - observed / expected), note=SET_VALUED_NOTE)


def masi_alpha(reliability_data: Any) -> float:
    """Krippendorff's alpha of set-valued ratings, with the MASI distance as the disagreement.

    ``alpha = 1 - D_o / D_e`` over the coincidences of the pairable values (units coded by two
    or more coders), as in Krippendorff (2011), with ``delta(A, B) = 1 - J(A, B) * M(A, B)``
    (Passonneau 2006). An empty set is a rating (seen, nothing applies); two empty sets agree.

    Parameters
    ----------
    reliability_data : array_like, shape (n_coders, n_units)
        Each cell a set (any iterable) of codes; missing as None or NaN.

    Returns
    -------
    float
        At most 1; NaN when fewer than two coders, no unit coded twice, or a single set overall.

    Raises
    ------
    ValueError
        Not a (coders x units) table, rows of unequal length, or a cell that is not a set.

    Examples
    --------
    With one code per unit MASI is the nominal distance, so the figure is the nominal alpha of
    Krippendorff (2011), p. 8 (0.743; see :mod:`coding.agreement`):

    >>> nan = None
    >>> k2011 = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...          [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...          [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...          [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
    >>> round(masi_alpha([[None if v is None else {v} for v in row] for row in k2011]), 3)
    0.743

    The sets of Passonneau's (2006) Figure 2, two annotators on three items: the items' MASI
    distances are 5/9, 5/9 and 7/9, so D_o = 17/27 and D_e = 23/45 and alpha = -16/69:

    >>> a = [{"x", "y"}, {"x", "y"}, {"z"}]
    >>> b = [{"x", "y", "z"}, {"x", "y", "z"}, {"x", "y", "z"}]
    >>> round(masi_alpha([a, b]), 6), round(-16 / 69, 6)
    (-0.231884, -0.231884)
    >>> masi_alpha([a])
    nan
    """
    return _masi_alpha(_sets(reliability_data)).value


def _set_matrix(codings: pd.DataFrame, codes: Sequence[Hashable], seen: Mapping[Hashable, Iterable]) -> list[list]:
    """Coders x units of the set of ``codes`` each coder gave each unit they saw (None: not seen)."""
    wanted = set(codes)
    given: dict[tuple, set] = {}
    for unit, coder, code in codings[["unit", "coder", "code"]].itertuples(index=False):
        if code in wanted:
            given.setdefault((coder, unit), set()).add(code)
    units = sorted({u for us in seen.values() for u in us}, key=str)
    return [[frozenset(given.get((coder, u), ())) if u in set(us) else None for u in units]
            for coder, us in seen.items()]


def set_valued_overall(codings: pd.DataFrame, codes: Sequence[Hashable],
                       units_by_coder: Mapping[Hashable, Iterable]) -> dict[str, Statistic]:
    """The two overall figures of a non-exclusive frame: ``alpha_pooled`` and ``alpha_masi``.

    ``codings``: columns ``unit, coder, code``; ``units_by_coder``: the units each compared coder
    saw (a unit they saw and left uncoded is the empty set). Each figure is NaN with its reason
    when undefined.
    """
    from coding import agreement
    from coding.presence import presence_matrices

    seen = {c: set(u) for c, u in units_by_coder.items()}
    if not any(seen.values()):
        return {name: Statistic(float("nan"), NO_RATINGS) for name in ("alpha_pooled", "alpha_masi")}
    matrices = presence_matrices(codings, codes=list(codes), units_by_coder=seen)
    if matrices:
        pooled_matrix = pd.concat(list(matrices.values()), axis=1, keys=range(len(matrices)))
        pooled = agreement.summarize(pooled_matrix.to_numpy(dtype=float), level="nominal", n_boot=0)["alpha"]
        pooled = Statistic(pooled.value, pooled.reason, POOLED_NOTE if pooled.defined else None)
    else:
        pooled = Statistic(float("nan"), "no codes to compare")
    return {"alpha_pooled": pooled, "alpha_masi": _masi_alpha(_set_matrix(codings, codes, seen))}
