"""Inter-coder agreement statistics on a ready reliability matrix.

Every function takes ``reliability_data``: an array-like of shape
``(n_coders, n_units)`` whose cells are category labels (numbers or strings),
with a missing rating as ``NaN`` or ``None``. This is the convention of the
``krippendorff`` package; transpose a (units x raters) table first.

Public statistic functions return a plain ``float`` that is ``NaN`` when the
statistic is undefined for the data (one coder, no unit coded twice, all
ratings identical...). :func:`summarize` returns the same figures as
:class:`Statistic` objects that also say *why* a value is undefined. Wrong
shapes or arguments raise ``ValueError`` up front; degenerate data never does.

The worked example used throughout is Krippendorff (2011), "Computing
Krippendorff's Alpha-Reliability", p. 8: 4 observers, 12 units, with missing
values (the same table is ``cac.raw4raters`` in Gwet's irrCAC R package).

>>> import numpy as np
>>> nan = np.nan
>>> k2011 = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
...          [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
...          [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
...          [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
>>> [round(krippendorff_alpha(k2011, level=lv), 3)
...  for lv in ("nominal", "ordinal", "interval", "ratio")]
[0.743, 0.815, 0.849, 0.797]
>>> round(gwet_ac1(k2011), 5)  # irrCAC README: gwet.ac1.raw(cac.raw4raters) = 0.77544
0.77544
"""

from __future__ import annotations

import math
import numbers
from itertools import combinations
from typing import Any, Sequence

import numpy as np

from coding.alpha_bootstrap import _bootstrap_alpha
from coding.ratings import (
    ALL_IDENTICAL_ALPHA,
    ALL_IDENTICAL_CHANCE,
    LEVELS,
    ONE_CATEGORY_AC1,
    PAIRWISE,
    Statistic,
    _check_level,
    _common_reason,
    _encode,
    _numeric_values,
    _Ratings,
    _undefined,
)

__all__ = [
    "LEVELS",
    "Statistic",
    "percent_agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "gwet_ac1",
    "bootstrap_alpha",
    "interpret_alpha",
    "summarize",
]

# --------------------------------------------------------------------------- statistics


def _percent_agreement(ratings: _Ratings) -> Statistic:
    counts = ratings.value_counts()
    reason = _common_reason(ratings, counts)
    if reason:
        return _undefined(reason)
    raters = ratings.raters()
    pairable = raters >= 2
    agreeing = ratings.agreeing_pairs()[pairable]
    possible = (raters * (raters - 1))[pairable]
    return Statistic(float(np.mean(agreeing / possible)))


def percent_agreement(reliability_data: Any) -> float:
    """Observed agreement: share of agreeing coder pairs, averaged over units.

    For each unit coded by at least two coders, the share of its coder pairs
    that gave the same value; the mean over those units (Gwet 2014, the ``pa``
    of irrCAC). With the same number of coders per unit this equals the share
    of agreeing pairs among all pairs.

    Parameters
    ----------
    reliability_data : array_like, shape (n_coders, n_units)
        Category labels; missing as NaN or None.

    Returns
    -------
    float
        In [0, 1]; NaN when no unit was coded by two coders.

    Examples
    --------
    Gwet's irrCAC README, ``pa.coeff.raw(cac.raw4raters)`` = 0.8181818:

    >>> nan = float("nan")
    >>> k2011 = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...          [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...          [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...          [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
    >>> round(percent_agreement(k2011), 7)
    0.8181818
    """
    return _percent_agreement(_encode(reliability_data)).value


def _pair_kappa(first: np.ndarray, second: np.ndarray, n_categories: int) -> Statistic:
    both = (first >= 0) & (second >= 0)
    if not both.any():
        return _undefined("no unit coded by both coders")
    q = n_categories
    confusion = np.bincount(first[both] * q + second[both], minlength=q * q).reshape(q, q)
    used = (confusion.sum(axis=0) + confusion.sum(axis=1)) > 0
    if used.sum() < 2:
        return _undefined(ALL_IDENTICAL_CHANCE)
    return Statistic(_kappa_from_confusion(confusion[np.ix_(used, used)]))


def _kappa_from_confusion(confusion: np.ndarray) -> float:
    """Unweighted Cohen's kappa of a confusion matrix, as scikit-learn computes it.

    Same operations in the same order as
    :func:`sklearn.metrics.cohen_kappa_score` (checked against it in the
    tests), without its per-call validation, which dominated agreement tables.
    """
    confusion = confusion.astype(np.float64)
    n_classes = confusion.shape[0]
    sum0 = confusion.sum(axis=0)
    sum1 = confusion.sum(axis=1)
    expected = np.outer(sum0, sum1) / sum0.sum()
    weights = np.ones((n_classes, n_classes))
    weights.flat[:: n_classes + 1] = 0
    k = np.sum(weights * confusion) / np.sum(weights * expected)
    return float(1 - k)


def _cohen_kappa(ratings: _Ratings, pairwise: str = "mean") -> Statistic:
    counts = ratings.value_counts()
    reason = _common_reason(ratings, counts)
    if reason:
        return _undefined(reason)
    active = [row for row in ratings.codes if (row >= 0).any()]
    pairs = [_pair_kappa(a, b, ratings.n_categories) for a, b in combinations(active, 2)]
    if len(pairs) == 1:
        return pairs[0]
    defined = [p.value for p in pairs if p.defined]
    if not defined:
        return _undefined(next(p.reason for p in pairs))
    combine = {"mean": np.mean, "median": np.median, "min": np.min}[pairwise]
    note = None
    if len(defined) < len(pairs):
        note = (f"Light's kappa over {len(defined)} of {len(pairs)} coder pairs "
                f"({len(pairs) - len(defined)} undefined)")
    return Statistic(float(combine(defined)), note=note)


def cohen_kappa(reliability_data: Any, *, pairwise: str = "mean") -> float:
    """Cohen's kappa for two coders; Light's kappa (mean over pairs) for more.

    Each coder pair is scored on the units both coded, as
    :func:`sklearn.metrics.cohen_kappa_score` does (computed directly from
    the pair's confusion matrix). Pairs whose kappa is undefined are left out of
    the combination.

    Parameters
    ----------
    reliability_data : array_like, shape (n_coders, n_units)
        Category labels; missing as NaN or None.
    pairwise : {"mean", "median", "min"}
        How pairwise kappas combine with three or more coders. ``"mean"`` is
        Light's (1971) kappa; ``"min"`` reports the weakest pair.

    Returns
    -------
    float
        NaN when no pair of coders defines a kappa.

    Examples
    --------
    Wikipedia's "Cohen's kappa" example: 50 grant proposals, 20 both yes,
    15 both no, 5 yes/no, 10 no/yes; kappa = 0.4.

    >>> a = ["yes"] * 25 + ["no"] * 25
    >>> b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    >>> round(cohen_kappa([a, b]), 3)
    0.4
    """
    if pairwise not in PAIRWISE:
        raise ValueError(f"pairwise must be one of {', '.join(PAIRWISE)}; got {pairwise!r}")
    return _cohen_kappa(_encode(reliability_data), pairwise).value


def _fleiss_kappa(ratings: _Ratings) -> Statistic:
    from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss

    counts = ratings.value_counts()
    reason = _common_reason(ratings, counts)
    if reason:
        return _undefined(reason)
    n_active = ratings.active_coders()
    raters = ratings.raters()
    complete = counts[raters == n_active]
    if complete.shape[0] == 0:
        return _undefined(
            f"no unit coded by all {n_active} coders (Fleiss' kappa needs equal ratings per unit)"
        )
    if (complete.sum(axis=0) > 0).sum() < 2:
        return _undefined(ALL_IDENTICAL_CHANCE)
    value = float(statsmodels_fleiss(complete, method="fleiss"))
    n_pairable = int((raters >= 2).sum())
    note = None
    if complete.shape[0] < n_pairable:
        note = (
            f"Fleiss' kappa on the {complete.shape[0]} of {n_pairable} units "
            f"coded by all {n_active} coders"
        )
    return Statistic(value, note=note)


def fleiss_kappa(reliability_data: Any) -> float:
    """Fleiss' (1971) kappa for any number of coders.

    Computed with :func:`statsmodels.stats.inter_rater.fleiss_kappa` on the
    (units x categories) count table. Fleiss' kappa needs the same number of
    ratings on every unit (statsmodels asserts it), so only the units coded
    by *every* coder who rated anything are used; :func:`summarize` notes
    how many. Use :func:`krippendorff_alpha` or :func:`gwet_ac1` to use all
    units when data are missing.

    Parameters
    ----------
    reliability_data : array_like, shape (n_coders, n_units)
        Category labels; missing as NaN or None.

    Returns
    -------
    float
        NaN when no unit was coded by all coders or all ratings are identical.

    Examples
    --------
    Fleiss (1971), 30 patients diagnosed by 6 psychiatrists into 5 categories
    (``diagnoses`` in the R package irr, kappa = 0.430). One string per patient:

    >>> import numpy as np
    >>> patients = ("444444 222555 233335 555555 222444 113333 333355 113334 "
    ...             "114444 555555 144444 124444 222333 144444 224445 333335 "
    ...             "111455 111112 224444 133555 555555 244444 224555 114444 "
    ...             "144445 222224 111155 224444 133333 555555").split()
    >>> table = np.array([[int(c) for c in p] for p in patients])  # (patients, raters)
    >>> round(fleiss_kappa(table.T), 3)
    0.43
    """
    return _fleiss_kappa(_encode(reliability_data)).value


def _krippendorff_alpha(ratings: _Ratings, level: str) -> Statistic:
    import krippendorff

    values = _numeric_values(ratings, level)
    counts = ratings.value_counts()
    reason = _common_reason(ratings, counts)
    if reason:
        return _undefined(reason)
    pairable = counts[ratings.raters() >= 2]
    used = pairable.sum(axis=0) > 0
    if used.sum() < 2:
        return _undefined(ALL_IDENTICAL_ALPHA)
    value = krippendorff.alpha(
        value_counts=pairable, value_domain=values, level_of_measurement=level
    )
    return Statistic(float(value))


def krippendorff_alpha(
    reliability_data: Any, *, level: str = "nominal", value_order: Sequence | None = None
) -> float:
    """Krippendorff's alpha, computed by the ``krippendorff`` package.

    Parameters
    ----------
    reliability_data : array_like, shape (n_coders, n_units)
        Category labels; missing as NaN or None.
    level : {"nominal", "ordinal", "interval", "ratio"}
        Level of measurement. ``nominal`` accepts any labels (strings are
        mapped to codes). ``ordinal`` orders numeric labels numerically; for
        strings pass ``value_order`` (without it strings sort alphabetically,
        which is rarely what you want). ``interval`` and ``ratio`` need
        numeric labels and raise ``ValueError`` otherwise.
    value_order : sequence, optional
        Every possible value, in order (ordinal) or just listed (nominal).
        Values outside it raise ``ValueError``.

    Returns
    -------
    float
        NaN when fewer than two coders, no unit coded twice, or all pairable
        ratings identical (expected disagreement zero).

    Examples
    --------
    Krippendorff (2011), p. 8, with ordered string labels:

    >>> order = ["very low", "low", "mid", "high", "very high"]
    >>> data = [[order[v - 1] if v else None for v in row] for row in
    ...         [[1, 2, 3, 3, 2, 1, 4, 1, 2, 0, 0, 0],
    ...          [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, 0, 3],
    ...          [0, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 0],
    ...          [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, 0]]]
    >>> round(krippendorff_alpha(data, level="ordinal", value_order=order), 3)
    0.815
    >>> round(krippendorff_alpha(data), 3)
    0.743
    """
    _check_level(level)
    return _krippendorff_alpha(_encode(reliability_data, value_order=value_order), level).value


def _gwet_ac1(ratings: _Ratings, n_categories: int | None = None) -> Statistic:
    counts = ratings.value_counts()
    reason = _common_reason(ratings, counts)
    if reason:
        return _undefined(reason)
    q = n_categories if n_categories is not None else int((counts.sum(axis=0) > 0).sum())
    if q < 2:
        return _undefined(ONE_CATEGORY_AC1)
    raters = ratings.raters()
    pairable = raters >= 2
    pa = float(np.mean(ratings.agreeing_pairs()[pairable] / (raters * (raters - 1))[pairable]))
    rated = raters >= 1
    pi = (counts[rated] / raters[rated, None]).mean(axis=0)
    pe = float((pi * (1 - pi)).sum() / (q - 1))
    return Statistic((pa - pe) / (1 - pe))


def gwet_ac1(reliability_data: Any, *, categories: Sequence | None = None) -> float:
    """Gwet's (2008) AC1, for any number of coders and missing ratings.

    Following Gwet (2014, *Handbook of Inter-Rater Reliability*, 4th ed.),
    with r_ik the number of coders giving category k to unit i and r_i their
    total:

    - pa = mean over units with r_i >= 2 of sum_k r_ik (r_ik - 1) / (r_i (r_i - 1))
    - pi_k = mean over units with r_i >= 1 of r_ik / r_i
    - pe = 1 / (q - 1) * sum_k pi_k (1 - pi_k)
    - AC1 = (pa - pe) / (1 - pe)

    Parameters
    ----------
    reliability_data : array_like, shape (n_coders, n_units)
        Category labels; missing as NaN or None.
    categories : sequence, optional
        All possible categories (q = their number). By default q counts the
        categories that occur, as irrCAC does; pass e.g. ``[0, 1]`` for
        presence data so a code nobody used still has q = 2.

    Returns
    -------
    float
        NaN when fewer than two coders, no unit coded twice, or q < 2.

    Examples
    --------
    Gwet's irrCAC README, ``gwet.ac1.raw(cac.raw4raters)``: pa = 0.8181818,
    pe = 0.1903212, AC1 = 0.77544 (data = Krippendorff 2011, transposed):

    >>> nan = float("nan")
    >>> k2011 = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...          [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...          [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...          [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
    >>> round(gwet_ac1(k2011), 5)
    0.77544
    """
    ratings = _encode(reliability_data, value_order=categories)
    return _gwet_ac1(ratings, None if categories is None else len(categories)).value


# --------------------------------------------------------------------------- bootstrap


def bootstrap_alpha(
    reliability_data: Any,
    *,
    level: str = "nominal",
    value_order: Sequence | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of Krippendorff's alpha.

    Resamples *units* with replacement (only units coded by at least two
    coders, the ones that carry information), recomputes alpha on each
    resample and returns the percentile interval. This is a unit-level
    bootstrap, not Krippendorff's own algorithm that resamples pairs of
    values. Resamples whose alpha is undefined (a resample holding a single
    value) are dropped.

    It is fast: units with identical value counts are interchangeable, so a
    resample is one multinomial draw over the distinct count patterns, and
    alpha on all resamples is computed at once from coincidence matrices
    with numpy (checked against ``krippendorff.alpha`` in the tests).

    Parameters
    ----------
    reliability_data : array_like, shape (n_coders, n_units)
        Category labels; missing as NaN or None.
    level : {"nominal", "ordinal", "interval", "ratio"}
        Level of measurement, as in :func:`krippendorff_alpha`.
    value_order : sequence, optional
        As in :func:`krippendorff_alpha`.
    n_boot : int
        Number of resamples (>= 1).
    confidence : float
        Coverage of the interval, strictly between 0 and 1.
    seed : int or None
        Seed of :func:`numpy.random.default_rng`; same seed, same interval.

    Returns
    -------
    (float, float)
        Lower and upper bounds; ``(nan, nan)`` when alpha is undefined.

    Examples
    --------
    >>> nan = float("nan")
    >>> k2011 = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...          [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...          [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...          [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
    >>> low, high = bootstrap_alpha(k2011, n_boot=500, seed=1)
    >>> low < krippendorff_alpha(k2011) < high <= 1.0
    True
    """
    _check_level(level)
    if not isinstance(n_boot, numbers.Integral) or isinstance(n_boot, bool) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer; got {n_boot!r}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1; got {confidence!r}")
    ratings = _encode(reliability_data, value_order=value_order)
    return _bootstrap_alpha(ratings, level, int(n_boot), float(confidence), seed)


# --------------------------------------------------------------------------- reporting


def interpret_alpha(value: float) -> str:
    """Krippendorff's (2004) reading of alpha.

    ``"reliable"`` from 0.800, ``"tentative"`` from 0.667 (tentative
    conclusions only), ``"unreliable"`` below, ``"undefined"`` for NaN.

    >>> [interpret_alpha(v) for v in (0.85, 0.7, 0.5, float("nan"))]
    ['reliable', 'tentative', 'unreliable', 'undefined']
    """
    if value is None or math.isnan(value):
        return "undefined"
    if value >= 0.800:
        return "reliable"
    if value >= 0.667:
        return "tentative"
    return "unreliable"


def summarize(
    reliability_data: Any,
    *,
    level: str = "nominal",
    value_order: Sequence | None = None,
    categories: Sequence | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> dict[str, Statistic]:
    """All agreement statistics of one reliability matrix, with reasons.

    Parameters
    ----------
    reliability_data : array_like, shape (n_coders, n_units)
        Category labels; missing as NaN or None.
    level, value_order : see :func:`krippendorff_alpha`.
    categories : sequence, optional
        All possible categories, for Gwet's AC1 (defaults to ``value_order``).
    n_boot : int
        Bootstrap resamples for the alpha interval; 0 skips the interval.
    confidence, seed : see :func:`bootstrap_alpha`.

    Returns
    -------
    dict of str to Statistic
        Keys ``percent_agreement``, ``cohen_kappa``, ``fleiss_kappa``,
        ``alpha``, ``alpha_low``, ``alpha_high``, ``gwet_ac1``.

    Examples
    --------
    >>> summary = summarize([[1, 1, 1], [1, 1, 1]], n_boot=0)
    >>> summary["percent_agreement"].value
    1.0
    >>> print(summary["alpha"])
    NaN (all ratings identical: expected disagreement is zero)
    >>> print(summarize([[1, 2, None]], n_boot=0)["cohen_kappa"])
    NaN (only one coder)
    """
    _check_level(level)
    if not isinstance(n_boot, numbers.Integral) or isinstance(n_boot, bool) or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer; got {n_boot!r}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1; got {confidence!r}")
    if categories is None:
        categories = value_order
    ratings = _encode(reliability_data, value_order=value_order)
    if categories is not None and categories is not value_order:
        ac1_ratings = _encode(reliability_data, value_order=categories)
        n_categories = len(categories)
    else:
        ac1_ratings, n_categories = ratings, (None if categories is None else len(categories))
    alpha = _krippendorff_alpha(ratings, level)
    if alpha.defined and n_boot > 0:
        low, high = _bootstrap_alpha(ratings, level, int(n_boot), float(confidence), seed)
        interval = tuple(Statistic(bound, None if not math.isnan(bound) else "no resample defines alpha")
                         for bound in (low, high))
    else:
        reason = alpha.reason if not alpha.defined else "bootstrap not requested"
        interval = (_undefined(reason), _undefined(reason))
    return {
        "percent_agreement": _percent_agreement(ratings),
        "cohen_kappa": _cohen_kappa(ratings),
        "fleiss_kappa": _fleiss_kappa(ratings),
        "alpha": alpha,
        "alpha_low": interval[0],
        "alpha_high": interval[1],
        "gwet_ac1": _gwet_ac1(ac1_ratings, n_categories),
    }
