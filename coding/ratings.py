"""Ratings encoded for the agreement statistics: category indices per coder and unit, and the
validation of shapes, levels and value orders. :class:`Statistic` is a value with the reason it
may be undefined. Used by :mod:`coding.agreement` and :mod:`coding.alpha_bootstrap`.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

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
