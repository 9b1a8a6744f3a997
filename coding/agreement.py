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

import functools
import math
import numbers
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Sequence

import numpy as np

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

LEVELS = ("nominal", "ordinal", "interval", "ratio")
PAIRWISE = ("mean", "median", "min")

ONLY_ONE_CODER = "only one coder"
NO_RATINGS = "no ratings"
NO_PAIRABLE_UNIT = "no unit coded by two coders"
ALL_IDENTICAL_ALPHA = "all ratings identical: expected disagreement is zero"
ALL_IDENTICAL_CHANCE = "all ratings identical: chance agreement is one"
ONE_CATEGORY_AC1 = "all ratings identical: AC1 needs at least two categories (pass categories=)"


@dataclass(frozen=True)
class Statistic:
    """A statistic's value, with the reason when it is undefined.

    Parameters
    ----------
    value : float
        The statistic, ``NaN`` when the data do not define it.
    reason : str or None
        Why ``value`` is ``NaN`` (e.g. ``"only one coder"``); None when defined.
    note : str or None
        A caveat on a defined value, e.g. which units it was computed on.
    """

    value: float
    reason: str | None = None
    note: str | None = None

    @property
    def defined(self) -> bool:
        """True when ``value`` is a number (not NaN)."""
        return not math.isnan(self.value)

    def __float__(self) -> float:
        return float(self.value)

    def __str__(self) -> str:
        if self.defined:
            return f"{self.value:.3f}"
        return f"NaN ({self.reason})" if self.reason else "NaN"


def _undefined(reason: str) -> Statistic:
    return Statistic(float("nan"), reason)


# --------------------------------------------------------------------------- encoding


@dataclass(frozen=True)
class _Ratings:
    """Reliability data encoded as category indices (-1 = missing)."""

    codes: np.ndarray  # (n_coders, n_units) int, -1 missing
    categories: list  # label of each index, in order

    @property
    def n_categories(self) -> int:
        return len(self.categories)

    def value_counts(self) -> np.ndarray:
        """Counts of shape (n_units, n_categories): coders giving value v to unit u.

        Computed once per encoding (every statistic needs it) and read-only.
        """
        return self._value_counts

    @functools.cached_property
    def _value_counts(self) -> np.ndarray:
        n_coders, n_units = self.codes.shape
        q = self.n_categories
        coder_idx, unit_idx = np.nonzero(self.codes >= 0)
        flat = unit_idx * q + self.codes[coder_idx, unit_idx]
        counts = np.bincount(flat, minlength=n_units * q).reshape(n_units, q)
        counts.flags.writeable = False
        return counts

    def raters(self) -> np.ndarray:
        """Ratings per unit, ``value_counts().sum(axis=1)`` (computed once, read-only)."""
        return self._raters

    @functools.cached_property
    def _raters(self) -> np.ndarray:
        raters = np.bincount(np.nonzero(self.codes >= 0)[1], minlength=self.codes.shape[1])
        raters.flags.writeable = False
        return raters

    def agreeing_pairs(self) -> np.ndarray:
        """Ordered pairs of coders agreeing on each unit, sum_k r_uk (r_uk - 1) (computed once)."""
        return self._agreeing_pairs

    @functools.cached_property
    def _agreeing_pairs(self) -> np.ndarray:
        counts = self.value_counts()
        agreeing = (counts * (counts - 1)).sum(axis=1)
        agreeing.flags.writeable = False
        return agreeing

    def active_coders(self) -> int:
        """Number of coders with at least one rating."""
        return self._active_coders

    @functools.cached_property
    def _active_coders(self) -> int:
        return int((self.codes >= 0).any(axis=1).sum())


def _label_sort_key(value: Any) -> tuple:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _encode(reliability_data: Any, *, value_order: Sequence | None = None) -> _Ratings:
    """Validate the shape and map labels to category indices."""
    import pandas as pd

    if isinstance(reliability_data, np.ndarray) and _plain_numbers(reliability_data):
        _check_shape(reliability_data.shape)
        fast = _encode_numbers(reliability_data, value_order)
        if fast is not None:
            return fast
    array = np.asarray(reliability_data, dtype=object)
    _check_shape(array.shape)
    n_coders, n_units = array.shape
    flat = array.ravel()
    missing = pd.isna(flat)
    present = flat[~missing]
    # one hash pass: factorize's groups are pd.unique's values, in order of appearance
    positions, uniques = pd.factorize(present)
    if value_order is not None:
        categories = _check_value_order(value_order)
        unknown = set(uniques) - set(categories)
        if unknown:
            shown = ", ".join(sorted(map(repr, unknown))[:5])
            raise ValueError(f"reliability_data has values not in value_order: {shown}")
    else:
        categories = sorted(uniques, key=_label_sort_key) if present.size else []
    lookup = {label: index for index, label in enumerate(categories)}
    category_of_unique = np.array([lookup[value] for value in uniques], dtype=np.int64)
    codes = np.full(flat.shape, -1, dtype=np.int64)
    codes[~missing] = category_of_unique[positions]
    return _Ratings(codes.reshape(n_coders, n_units), categories)


def _check_shape(shape: tuple) -> None:
    if len(shape) != 2:
        raise ValueError(
            f"reliability_data must be 2-D with shape (n_coders, n_units); got shape {shape}"
        )
    if shape[0] < 1 or shape[1] < 1:
        raise ValueError(
            f"reliability_data needs at least 1 coder and 1 unit; got shape {shape}"
        )


def _check_value_order(value_order: Sequence) -> list:
    categories = list(value_order)
    if len(set(categories)) != len(categories):
        raise ValueError("value_order contains duplicate values")
    return categories


_EXACT_INT = 2**53  # integers up to here convert to float exactly, so float order is their order


def _plain_numbers(array: np.ndarray) -> bool:
    """True for float arrays and for integer arrays whose values floats hold exactly."""
    if array.dtype.kind == "f":
        return True
    if array.dtype.kind in "iu":
        return array.size == 0 or (int(array.min()) >= -_EXACT_INT and int(array.max()) <= _EXACT_INT)
    return False


def _encode_numbers(array: np.ndarray, value_order: Sequence | None) -> _Ratings | None:
    """:func:`_encode` of a numeric array without a Python object per cell.

    Gives the same categories (Python numbers, in numeric order) and codes as
    the general path. Returns None when ``value_order`` holds something other
    than plain numbers, or values outside it, so the general path decides
    (and words the error).
    """
    n_coders, n_units = array.shape
    flat = array.ravel()
    missing = np.isnan(flat) if flat.dtype.kind == "f" else np.zeros(flat.shape, dtype=bool)
    present = flat[~missing]
    codes = np.full(flat.shape, -1, dtype=np.int64)
    if value_order is None:
        distinct = np.unique(present)
        categories = distinct.tolist()
        codes[~missing] = np.searchsorted(distinct, present)
        return _Ratings(codes.reshape(n_coders, n_units), categories)
    categories = _check_value_order(value_order)
    numbers_ = (int, float, np.integer, np.floating)
    if not all(isinstance(c, numbers_) and float(c) == c for c in categories):
        return None  # strings, NaN, Fractions, huge ints: leave them to dict lookup
    category_values = np.array([float(c) for c in categories])
    order = np.argsort(category_values, kind="stable")
    sorted_values = category_values[order]
    slot = np.searchsorted(sorted_values, present).clip(max=max(len(categories) - 1, 0))
    if present.size and (not len(categories) or (sorted_values[slot] != present).any()):
        return None  # values outside value_order: the general path raises
    codes[~missing] = order[slot] if present.size else []
    return _Ratings(codes.reshape(n_coders, n_units), categories)


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")


def _numeric_values(ratings: _Ratings, level: str) -> np.ndarray:
    """Category values for the distance metric of ``level``."""
    if level in ("nominal", "ordinal"):
        # Nominal distances only test equality; ordinal ones only use ranks.
        return np.arange(ratings.n_categories, dtype=float)
    bad = [c for c in ratings.categories if not isinstance(c, numbers.Real) or isinstance(c, bool)]
    if bad:
        raise ValueError(f"level {level!r} needs numeric values; got {bad[0]!r}")
    values = np.asarray(ratings.categories, dtype=float)
    if level == "ratio" and (values < 0).any():
        raise ValueError("level 'ratio' needs non-negative values")
    return values


def _common_reason(ratings: _Ratings, counts: np.ndarray) -> str | None:
    """Reason shared by all statistics that need two coders on one unit."""
    n_active = ratings.active_coders()
    if n_active == 0:
        return NO_RATINGS
    if n_active < 2:
        return ONLY_ONE_CODER
    if not (ratings.raters() >= 2).any():
        return NO_PAIRABLE_UNIT
    return None


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


def _pair_distances(level: str, values: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Fixed distances between category indices ``first`` and ``second`` (nominal, interval, ratio)."""
    if level == "nominal":
        return (first != second).astype(float)
    v1, v2 = values[first], values[second]
    if level == "interval":
        return (v1 - v2) ** 2
    total = v1 + v2
    return np.divide(v1 - v2, total, out=np.zeros_like(total), where=total != 0) ** 2


def _distinct_patterns(cats: np.ndarray, amounts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows of ``[cats | amounts]`` in lexicographic order, with their counts.

    The same result as ``np.unique(np.hstack([cats, amounts]), axis=0,
    return_counts=True)``, but deduplicated on one int64 key per row (the row
    read as a mixed-radix number, which keeps the lexicographic order), much
    faster than numpy's row-wise unique.
    """
    rows = np.hstack([cats, amounts]).astype(np.int64)
    width = cats.shape[1]
    if rows.shape[0] == 0 or rows.shape[1] == 0:
        keys, frequency = np.unique(rows, axis=0, return_counts=True)
        return keys[:, :width], keys[:, width:], frequency
    low = rows.min(axis=0)
    radix = rows.max(axis=0) - low + 1
    if float(np.prod(radix.astype(float))) >= 2.0**62:  # key would overflow: numpy's row unique
        keys, frequency = np.unique(rows, axis=0, return_counts=True)
        return keys[:, :width], keys[:, width:], frequency
    key = np.ravel_multi_index(tuple((rows - low).T), tuple(int(r) for r in radix))
    _, first, frequency = np.unique(key, return_index=True, return_counts=True)
    keys = rows[first]
    return keys[:, :width], keys[:, width:], frequency


class _AlphaPlan:
    """Krippendorff's alpha for many weightings of the same pairable units.

    Built once from the units' value counts, then :meth:`alphas` gives alpha
    for a batch of weightings (how many times each unit enters a resample)
    without materialising per-unit (q x q) coincidence matrices: a unit
    coded by m coders has at most m distinct values, so its off-diagonal
    coincidences are a handful of (c, k, o) entries.

    Parameters
    ----------
    unit_counts : ndarray, shape (n_units, q)
        Value counts of units coded by at least two coders.
    level : str
        Level of measurement.
    values : ndarray, shape (q,)
        Numeric value of each category (ranks for nominal/ordinal).
    """

    def __init__(self, unit_counts: np.ndarray, level: str, values: np.ndarray, *, deduplicate: bool = False):
        from scipy import sparse

        counts = np.asarray(unit_counts)
        n_units, q = counts.shape
        self.level, self.values = level, np.asarray(values, dtype=float)
        # each unit as its few (category, count) pairs, padded to the widest unit
        unit_of, category = np.nonzero(counts)  # row-major: grouped by unit
        per_unit = np.bincount(unit_of, minlength=n_units)
        width = int(per_unit.max()) if n_units else 0
        slot = np.arange(unit_of.size) - np.repeat(np.cumsum(per_unit) - per_unit, per_unit)
        cats = np.full((n_units, width), -1)
        cats[unit_of, slot] = category
        amounts = np.zeros((n_units, width), dtype=np.int64)
        amounts[unit_of, slot] = counts[unit_of, category]
        self.frequency = np.ones(n_units, dtype=np.int64)
        if deduplicate:  # units with the same value counts are interchangeable
            cats, amounts, self.frequency = _distinct_patterns(cats, amounts)
        n_rows = cats.shape[0]
        valid = cats >= 0
        rows = np.repeat(np.arange(n_rows), valid.sum(axis=1))
        self.matrix = sparse.csr_matrix((amounts[valid].astype(float), (rows, cats[valid])), shape=(n_rows, q))
        self.n_categories = q
        pair_mask = valid[:, :, None] & valid[:, None, :] & (cats[:, :, None] != cats[:, None, :])
        units, a, b = np.nonzero(pair_mask)
        self.entry_unit = units
        self.entry_first = cats[units, a]
        self.entry_second = cats[units, b]
        pairable = amounts.sum(axis=1) - 1.0
        self.entry_value = amounts[units, a] * amounts[units, b] / pairable[units]
        if level != "ordinal":
            distance = _pair_distances(level, self.values, self.entry_first, self.entry_second)
            self.unit_disagreement = np.bincount(units, weights=self.entry_value * distance, minlength=n_rows)
            if level == "ratio":
                grid = np.arange(q)
                self.distance_matrix = _pair_distances(level, self.values, grid[:, None], grid[None, :])

    def cells_per_weighting(self) -> int:
        """Rough memory (array cells) one weighting needs, to size batches."""
        q = self.n_categories
        cells = self.matrix.shape[0] + q
        if self.level == "ordinal":
            cells += 2 * self.entry_unit.size + q
        elif self.level == "ratio":
            cells += q
        return cells

    def _expected(self, marginals: np.ndarray) -> np.ndarray:
        """sum_ck n_c n_k delta_ck per weighting, for the fixed metrics."""
        if self.level == "nominal":
            return marginals.sum(axis=1) ** 2 - (marginals**2).sum(axis=1)
        if self.level == "interval":
            total = marginals.sum(axis=1)
            first = marginals @ self.values
            second = marginals @ self.values**2
            return 2.0 * (total * second - first**2)
        return ((marginals @ self.distance_matrix) * marginals).sum(axis=1)

    def alphas(self, unit_weights: np.ndarray) -> np.ndarray:
        """Alpha per row of ``unit_weights`` (n_batch, n_units); NaN where undefined."""
        weights = np.asarray(unit_weights, dtype=float)
        # n_v: each unit's coincidence rows sum to its value counts
        marginals = np.asarray((self.matrix.T @ weights.T).T)
        total = marginals.sum(axis=1)
        if self.level == "ordinal":
            # Krippendorff's ordinal distance is the squared difference of mid-ranks
            # m_g = sum_{h <= g} n_h - n_g / 2, so it is an interval metric on m.
            midranks = np.cumsum(marginals, axis=1) - marginals / 2.0
            gaps = midranks[:, self.entry_first] - midranks[:, self.entry_second]
            observed = (weights[:, self.entry_unit] * self.entry_value * gaps**2).sum(axis=1)
            first = (marginals * midranks).sum(axis=1)
            second = (marginals * midranks**2).sum(axis=1)
            expected = 2.0 * (total * second - first**2)
        else:
            observed = weights @ self.unit_disagreement
            expected = self._expected(marginals)
        expected = expected / (total - 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            alphas = 1.0 - observed / expected
        # alpha is undefined exactly when a weighting leaves a single value (expected disagreement 0)
        return np.where((marginals > 0).sum(axis=1) >= 2, alphas, np.nan)


def _bootstrap_alpha(
    ratings: _Ratings, level: str, n_boot: int, confidence: float, seed: int | None,
    max_cells: int = 4_000_000,
) -> tuple[float, float]:
    values = _numeric_values(ratings, level)
    counts = ratings.value_counts()
    if _common_reason(ratings, counts):
        return (float("nan"), float("nan"))
    pairable = counts[ratings.raters() >= 2]
    # Units with the same value counts are interchangeable, so drawing n units with replacement
    # is drawing how many times each distinct pattern occurs: one multinomial per resample.
    plan = _AlphaPlan(pairable, level, values, deduplicate=True)
    frequency = plan.frequency
    n_units = int(frequency.sum())
    rng = np.random.default_rng(seed)
    chunk = max(1, max_cells // plan.cells_per_weighting())
    alphas = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        weights = rng.multinomial(n_units, frequency / n_units, size=size)
        alphas[start:start + size] = plan.alphas(weights)
    finite = alphas[np.isfinite(alphas)]
    if finite.size == 0:
        return (float("nan"), float("nan"))
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(finite, [tail, 1.0 - tail])
    return (float(low), float(high))


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
