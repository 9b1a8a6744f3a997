"""coding.agreement: published worked examples, reference libraries, degenerate data, argument errors."""

from __future__ import annotations

import math
from itertools import combinations

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from coding import agreement as ag
from coding import alpha_bootstrap
from coding.agreement import Statistic

nan = np.nan

# Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability", p. 8: 4 observers x 12 units,
# missing data. Published: nominal .743, ordinal .815, interval .849, ratio .797. The same table is
# `cac.raw4raters` in Gwet's irrCAC R package, whose README publishes pa.coeff.raw = 0.8181818,
# gwet.ac1.raw pa = 0.8181818, pe = 0.1903212, AC1 = 0.77544, krippen.alpha.raw = 0.74342.
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
]
K2011_PUBLISHED = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}

# Fleiss (1971) "Measuring nominal scale agreement among many raters": 30 patients, 6 psychiatrists,
# 5 diagnoses (`diagnoses` in the R package irr; kappam.fleiss = 0.430). One string per patient.
FLEISS_1971 = np.array([[int(c) for c in p] for p in (
    "444444 222555 233335 555555 222444 113333 333355 113334 114444 555555 "
    "144444 124444 222333 144444 224445 333335 111455 111112 224444 133555 "
    "555555 244444 224555 114444 144445 222224 111155 224444 133333 555555").split()])

# Wikipedia "Fleiss' kappa" worked example: 10 subjects, 14 raters, counts per category 1..5; kappa 0.210.
WIKIPEDIA_FLEISS_COUNTS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]

# irrCAC README, `cont3x3abstractors` (2 abstractors x 100 pregnancies, 3 categories):
# kappa2.table 0.7964094, gwet.ac1.table 0.8493305, pa2.table 0.89, krippen2.table 0.7972585.
CONT3X3 = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]


def raw_from_counts(counts):
    """(raters, subjects) labels 1..q from a (subjects x categories) count table."""
    rows = [[k for k, c in enumerate(row, 1) for _ in range(c)] for row in counts]
    return np.array(rows).T


def raw_from_contingency(table):
    """Two coders' labels from a square contingency table (rows = coder 1)."""
    first, second = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            first += [i] * count
            second += [j] * count
    return [first, second]


def random_data(rng, n_coders=3, n_units=40, q=5, missing=0.2):
    data = rng.integers(1, q + 1, size=(n_coders, n_units)).astype(float)
    data[rng.random(data.shape) < missing] = nan
    return data


# --------------------------------------------------------------------------- published examples


@pytest.mark.parametrize("level", list(K2011_PUBLISHED))
def test_krippendorff_2011_alpha_at_every_level(level):
    assert round(ag.krippendorff_alpha(K2011, level=level), 3) == K2011_PUBLISHED[level]


def test_krippendorff_2011_with_string_labels():
    order = ["very low", "low", "mid", "high", "very high"]
    labels = [[None if math.isnan(v) else order[int(v) - 1] for v in row] for row in K2011]
    assert round(ag.krippendorff_alpha(labels, level="ordinal", value_order=order), 3) == 0.815
    assert round(ag.krippendorff_alpha(labels, level="nominal"), 3) == 0.743


def test_irrcac_raw4raters_percent_agreement_and_ac1():
    assert ag.percent_agreement(K2011) == pytest.approx(0.8181818, abs=1e-7)
    assert ag.gwet_ac1(K2011) == pytest.approx(0.77544, abs=5e-6)
    assert ag.krippendorff_alpha(K2011) == pytest.approx(0.74342, abs=5e-6)


def test_fleiss_1971_kappa():
    assert round(ag.fleiss_kappa(FLEISS_1971.T), 3) == 0.430


def test_irrcac_distrib_6raters_is_fleiss_1971_first_15_patients():
    # irrCAC README, distrib.6raters: pa 0.5511111, Fleiss 0.4139265, AC1 0.4448007, alpha 0.4204384
    data = FLEISS_1971[:15].T
    assert ag.percent_agreement(data) == pytest.approx(0.5511111, abs=1e-7)
    assert ag.fleiss_kappa(data) == pytest.approx(0.4139265, abs=1e-7)
    assert ag.gwet_ac1(data) == pytest.approx(0.4448007, abs=1e-7)
    assert ag.krippendorff_alpha(data) == pytest.approx(0.4204384, abs=1e-7)


def test_wikipedia_fleiss_example():
    raw = raw_from_counts(WIKIPEDIA_FLEISS_COUNTS)
    assert raw.shape == (14, 10)
    assert round(ag.fleiss_kappa(raw), 3) == 0.210


def test_wikipedia_cohen_example():
    # 50 grant proposals: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no; p_o = 0.7, p_e = 0.5, kappa = 0.4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert ag.cohen_kappa([a, b]) == pytest.approx(0.4)
    assert ag.percent_agreement([a, b]) == pytest.approx(0.7)


def test_irrcac_cont3x3abstractors():
    data = raw_from_contingency(CONT3X3)
    assert ag.cohen_kappa(data) == pytest.approx(0.7964094, abs=1e-7)
    assert ag.gwet_ac1(data) == pytest.approx(0.8493305, abs=1e-7)
    assert ag.percent_agreement(data) == pytest.approx(0.89)
    assert ag.krippendorff_alpha(data) == pytest.approx(0.7972585, abs=1e-7)


# --------------------------------------------------------------------------- reference libraries


@pytest.mark.parametrize("level", ag.LEVELS)
def test_alpha_matches_krippendorff_package_on_random_data(level):
    rng = np.random.default_rng(11)
    for _ in range(5):
        data = random_data(rng)
        expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
        assert ag.krippendorff_alpha(data, level=level) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("continuous", [False, True])
@pytest.mark.parametrize("level", ag.LEVELS)
def test_vectorised_alpha_matches_krippendorff_on_weighted_units(level, continuous):
    # each row of weights is a resample: unit i repeated w_i times
    rng = np.random.default_rng(3)
    data = random_data(rng, n_units=30)
    if continuous:  # many distinct values, 0 included (ratio distance 0/0 case)
        data = np.abs(data + rng.normal(scale=2.0, size=data.shape)).round(2)
        data[0, 0] = data[1, 0] = 0.0
    ratings = ag._encode(data)
    counts = ratings.value_counts()
    counts = counts[counts.sum(axis=1) >= 2]
    values = ag._numeric_values(ratings, level)
    weights = rng.integers(0, 3, size=(4, len(counts))).astype(float)
    batch = alpha_bootstrap._AlphaPlan(counts, level, values).alphas(weights)
    for row, got in zip(weights, batch):
        repeated = np.repeat(counts, row.astype(int), axis=0)
        expected = krippendorff.alpha(value_counts=repeated, value_domain=values, level_of_measurement=level)
        assert got == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("level", ["nominal", "ordinal"])
def test_bootstrap_equals_percentiles_of_krippendorff_on_the_same_resamples(level):
    rng = np.random.default_rng(8)
    data = random_data(rng, n_units=25, q=4)
    n_boot, seed = 40, 5
    low, high = ag.bootstrap_alpha(data, level=level, n_boot=n_boot, confidence=0.9, seed=seed)
    ratings = ag._encode(data)
    counts = ratings.value_counts()
    counts = counts[counts.sum(axis=1) >= 2]
    # the implementation draws how often each distinct unit pattern occurs in a resample
    values = ag._numeric_values(ratings, level)
    plan = alpha_bootstrap._AlphaPlan(counts, level, values, deduplicate=True)
    patterns, frequency = plan.matrix.toarray().astype(int), plan.frequency
    assert sorted(map(tuple, patterns)) == sorted(set(map(tuple, counts)))
    assert frequency.sum() == len(counts)
    draws = np.random.default_rng(seed).multinomial(len(counts), frequency / len(counts), size=n_boot)
    alphas = []
    for drawn in draws:
        resample = np.repeat(patterns, drawn, axis=0)  # a resample of units, as value counts
        if (resample.sum(axis=0) > 0).sum() < 2:
            continue
        alphas.append(krippendorff.alpha(value_counts=resample, value_domain=values, level_of_measurement=level))
    expected = np.quantile(alphas, [0.05, 0.95])
    assert (low, high) == pytest.approx(tuple(expected), abs=1e-10)


def test_resamples_with_a_single_value_are_dropped():
    # 2 units agree on 1, one unit agrees on 2: many resamples hold only value 1 (alpha undefined)
    plan = alpha_bootstrap._AlphaPlan(np.array([[2, 0], [0, 2]]), "interval", np.array([0.3, 0.7]))
    alphas = plan.alphas(np.array([[3.0, 0.0], [2.0, 1.0]]))
    assert math.isnan(alphas[0]) and alphas[1] == pytest.approx(1.0)
    low, high = ag.bootstrap_alpha([[1, 1, 2], [1, 1, 2]], n_boot=200, seed=0)
    assert (low, high) == (1.0, 1.0)


def test_bootstrap_is_reproducible_and_brackets_alpha():
    first = ag.bootstrap_alpha(K2011, n_boot=300, seed=4)
    again = ag.bootstrap_alpha(K2011, n_boot=300, seed=4)
    other = ag.bootstrap_alpha(K2011, n_boot=300, seed=5)
    assert first == again
    assert first != other
    assert first[0] < ag.krippendorff_alpha(K2011) <= first[1] <= 1.0


def test_bootstrap_on_large_data_runs_and_narrows():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, size=10_000)
    data = np.vstack([np.where(rng.random(10_000) < 0.8, truth, rng.integers(0, 4, size=10_000))
                      for _ in range(3)]).astype(float)
    low, high = ag.bootstrap_alpha(data, n_boot=1000, seed=0)
    alpha = ag.krippendorff_alpha(data)
    assert low < alpha < high
    assert high - low < 0.05


def test_cohen_kappa_matches_sklearn_with_missing_units():
    rng = np.random.default_rng(21)
    data = random_data(rng, n_coders=2, n_units=60)
    both = ~np.isnan(data).any(axis=0)
    expected = cohen_kappa_score(data[0, both], data[1, both])
    assert ag.cohen_kappa(data) == pytest.approx(expected)


def test_lights_kappa_is_the_mean_of_pairwise_sklearn_kappas():
    rng = np.random.default_rng(22)
    data = random_data(rng, n_coders=4, n_units=50, missing=0.1)
    pairwise = []
    for a, b in combinations(range(4), 2):
        both = ~np.isnan(data[[a, b]]).any(axis=0)
        pairwise.append(cohen_kappa_score(data[a, both], data[b, both]))
    assert ag.cohen_kappa(data) == pytest.approx(np.mean(pairwise))
    assert ag.cohen_kappa(data, pairwise="min") == pytest.approx(min(pairwise))
    assert ag.cohen_kappa(data, pairwise="median") == pytest.approx(np.median(pairwise))


# --------------------------------------------------------------------------- degenerate data


def test_single_coder_is_undefined_with_reason():
    summary = ag.summarize([[1, 2, 1, 2]], n_boot=10)
    for name, stat in summary.items():
        assert math.isnan(stat.value), name
        assert stat.reason == "only one coder", name
    assert math.isnan(ag.krippendorff_alpha([[1, 2, 1, 2]]))
    assert math.isnan(ag.cohen_kappa([[1, 2], [nan, nan]]))


def test_no_unit_coded_by_two_coders():
    data = [[1, nan, 2], [nan, 2, nan]]
    summary = ag.summarize(data, n_boot=0)
    assert summary["alpha"].reason == "no unit coded by two coders"
    assert summary["percent_agreement"].reason == "no unit coded by two coders"
    assert ag.bootstrap_alpha(data, n_boot=5) == pytest.approx((nan, nan), nan_ok=True)


def test_all_ratings_identical():
    data = [["a", "a", "a"], ["a", "a", None]]
    summary = ag.summarize(data, n_boot=10)
    assert summary["percent_agreement"].value == 1.0
    assert summary["alpha"].reason == "all ratings identical: expected disagreement is zero"
    assert math.isnan(summary["alpha_low"].value) and summary["alpha_low"].reason == summary["alpha"].reason
    assert summary["cohen_kappa"].reason == "all ratings identical: chance agreement is one"
    assert summary["fleiss_kappa"].reason == "all ratings identical: chance agreement is one"
    assert "AC1 needs at least two categories" in summary["gwet_ac1"].reason
    # with the possible categories known, AC1 is defined: perfect agreement
    assert ag.gwet_ac1(data, categories=["a", "b"]) == 1.0


def test_fleiss_uses_only_units_coded_by_every_coder():
    data = np.array(K2011)
    complete = ~np.isnan(data).any(axis=0)
    assert ag.fleiss_kappa(data) == pytest.approx(ag.fleiss_kappa(data[:, complete]))
    note = ag.summarize(data, n_boot=0)["fleiss_kappa"].note
    assert note == "Fleiss' kappa on the 8 of 11 units coded by all 4 coders"
    no_complete = [[1, 2, nan], [nan, 2, 1], [1, nan, 1]]
    stat = ag.summarize(no_complete, n_boot=0)["fleiss_kappa"]
    assert math.isnan(stat.value) and "no unit coded by all 3 coders" in stat.reason


def test_missing_as_none_equals_missing_as_nan():
    with_none = [[None if math.isnan(v) else v for v in row] for row in K2011]
    assert ag.krippendorff_alpha(with_none) == ag.krippendorff_alpha(K2011)
    assert ag.gwet_ac1(with_none) == ag.gwet_ac1(K2011)


def test_interpret_alpha_thresholds():
    assert ag.interpret_alpha(1.0) == "reliable"
    assert ag.interpret_alpha(0.800) == "reliable"
    assert ag.interpret_alpha(0.7999) == "tentative"
    assert ag.interpret_alpha(0.667) == "tentative"
    assert ag.interpret_alpha(0.6669) == "unreliable"
    assert ag.interpret_alpha(-0.2) == "unreliable"
    assert ag.interpret_alpha(nan) == "undefined"


def test_statistic_text():
    assert str(Statistic(0.74342)) == "0.743"
    assert str(Statistic(nan, "only one coder")) == "NaN (only one coder)"
    assert not Statistic(nan).defined and Statistic(0.0).defined


# --------------------------------------------------------------------------- argument errors


@pytest.mark.parametrize("bad", [[1, 2, 3], [[[1, 2]]], np.zeros((2, 0)), np.zeros((0, 3))])
def test_wrong_shapes_raise_up_front(bad):
    with pytest.raises(ValueError, match="reliability_data"):
        ag.percent_agreement(bad)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="level must be one of"):
        ag.krippendorff_alpha(K2011, level="cardinal")
    with pytest.raises(ValueError, match="pairwise"):
        ag.cohen_kappa(K2011, pairwise="max")
    with pytest.raises(ValueError, match="numeric values"):
        ag.krippendorff_alpha([["a", "b"], ["a", "a"]], level="interval")
    with pytest.raises(ValueError, match="not in value_order"):
        ag.krippendorff_alpha([["a", "b"], ["a", "c"]], level="ordinal", value_order=["a", "b"])
    with pytest.raises(ValueError, match="n_boot"):
        ag.bootstrap_alpha(K2011, n_boot=0)
    with pytest.raises(ValueError, match="confidence"):
        ag.bootstrap_alpha(K2011, confidence=1.0)
    with pytest.raises(ValueError, match="non-negative"):
        ag.krippendorff_alpha([[-1, 2], [1, 2]], level="ratio")


# --------------------------------------------------------------------------- fast paths agree with the reference


@pytest.mark.parametrize("seed", range(8))
def test_cohen_kappa_matches_sklearn_on_random_pairs_with_unused_and_string_categories(seed):
    rng = np.random.default_rng(100 + seed)
    q = int(rng.integers(2, 7))
    labels = np.array([f"cat{i}" for i in range(q + 2)], dtype=object)  # two categories nobody uses
    data = labels[rng.integers(0, q, size=(2, 80))]
    data[rng.random(data.shape) < 0.15] = None
    both = ~(data == None).any(axis=0)  # noqa: E711 (elementwise on an object array)
    expected = cohen_kappa_score(data[0, both].astype(str), data[1, both].astype(str))
    assert ag.cohen_kappa(data) == pytest.approx(expected, abs=1e-12)
    numeric = np.where(data == None, nan, np.vectorize(lambda v: float(v[3:]) if v else nan)(data))  # noqa: E711
    assert ag.cohen_kappa(numeric) == pytest.approx(expected, abs=1e-12)


def test_numeric_encoding_equals_the_general_encoding():
    rng = np.random.default_rng(31)
    floats = random_data(rng, n_units=60, q=6)
    binary = np.where(np.isnan(floats), nan, floats % 2)
    floats[0, :3] = [-2.5, 0.25, 1e9]
    ints = rng.integers(-3, 4, size=(3, 50))
    for array, order in [(floats, None), (ints, None), (ints, list(range(3, -4, -1))),
                         (binary, [1.0, 0.0]), (binary, (0, 1.0))]:
        fast = ag._encode(array, value_order=order)
        general = ag._encode(array.astype(object).tolist(), value_order=order)
        assert fast.categories == general.categories
        assert [type(c) for c in fast.categories] == [type(c) for c in general.categories]
        assert np.array_equal(fast.codes, general.codes)
    with pytest.raises(ValueError, match="not in value_order: 2.0"):
        ag._encode(np.array([[0.0, 2.0], [1.0, nan]]), value_order=[0.0, 1.0])
    with pytest.raises(ValueError, match="duplicate"):
        ag._encode(np.array([[0.0, 1.0], [1.0, 0.0]]), value_order=[0.0, 1.0, 1])


def test_distinct_patterns_match_numpy_row_unique():
    rng = np.random.default_rng(5)
    cats = rng.integers(-1, 4, size=(500, 3))
    amounts = rng.integers(0, 4, size=(500, 3))
    cats_u, amounts_u, frequency = alpha_bootstrap._distinct_patterns(cats, amounts)
    keys, counts = np.unique(np.hstack([cats, amounts]), axis=0, return_counts=True)
    assert np.array_equal(np.hstack([cats_u, amounts_u]), keys)  # same rows, same (lexicographic) order
    assert np.array_equal(frequency, counts)
