"""The fast bootstrap of Krippendorff's alpha: distinct count patterns, coincidence matrices for
many resample weightings at once (see :func:`coding.agreement.bootstrap_alpha`).
"""

from __future__ import annotations

import numpy as np

from coding.ratings import _common_reason, _numeric_values, _Ratings


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
