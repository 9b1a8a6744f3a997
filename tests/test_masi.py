"""Issue 27, item 3: agreement defined for multi-code units of a non-exclusive frame (MASI and pooled presence)."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pandas as pd
import pytest

from coding import agreement as ag
from coding import masi, reliability
from coding.cli import main

nan = np.nan
K2011 = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
         [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
         [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
         [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]


def test_masi_distance_is_one_minus_jaccard_times_monotonicity():
    assert masi.masi_distance({"a", "b"}, {"b", "a"}) == 0.0  # identical: M = 1
    assert masi.masi_distance({"a"}, {"a", "b"}) == pytest.approx(1 - 1 / 2 * 2 / 3)  # subset: M = 2/3
    assert masi.masi_distance({"a", "b"}, {"b", "c"}) == pytest.approx(1 - 1 / 3 * 1 / 3)  # overlap: M = 1/3
    assert masi.masi_distance({"a"}, {"b"}) == 1.0  # disjoint: M = 0
    assert masi.masi_distance(set(), {"a"}) == 1.0 and masi.masi_distance(set(), set()) == 0.0
    assert masi.masi_distance({1, 2}, {1, 2, 3, 4}) == pytest.approx(2 / 3)  # nltk docs print 0.665 (M ≈ 0.67)


def test_singleton_sets_reproduce_the_published_nominal_alpha():
    sets = [[None if np.isnan(v) else {v} for v in row] for row in K2011]
    assert round(masi.masi_alpha(sets), 3) == 0.743 == round(ag.krippendorff_alpha(K2011), 3)


def test_passonneau_figure_2_sets_by_hand():
    a = [{"x", "y"}, {"x", "y"}, {"z"}]
    b = [{"x", "y", "z"}] * 3
    # distances 5/9, 5/9, 7/9; D_o = 17/27; D_e = 23/45 over the six values
    assert masi.masi_alpha([a, b]) == pytest.approx(1 - (17 / 27) / (23 / 45))
    assert masi.masi_alpha([a, a]) == 1.0


def test_undefined_is_nan_and_bad_input_raises_early():
    assert np.isnan(masi.masi_alpha([[{"a"}, {"b"}]]))  # one coder
    assert np.isnan(masi.masi_alpha([[{"a"}, None], [None, {"b"}]]))  # no unit coded twice
    assert np.isnan(masi.masi_alpha([[{"a"}, {"a"}], [{"a"}, {"a"}]]))  # one set overall
    for bad in ([], [[{"a"}], [{"a"}, {"b"}]], [[{"a"}, "ab"], [{"a"}, {"b"}]], ["ab", "cd"]):
        with pytest.raises(ValueError):
            masi.masi_alpha(bad)


def _two_codes_on_one_unit() -> pd.DataFrame:
    rows = [("s1", "ann", "x"), ("s1", "ann", "y"), ("s1", "bob", "x"), ("s1", "bob", "y"),
            ("s2", "ann", "x"), ("s2", "bob", "x"), ("s3", "ann", "y"), ("s3", "bob", "x"),
            ("s4", "ann", "z"), ("s4", "bob", "z")]
    return pd.DataFrame(rows, columns=["unit", "coder", "code"])


def test_a_unit_with_two_codes_keeps_the_overall_figures_defined():
    report = reliability.report_from_codings(_two_codes_on_one_unit(), n_boot=0)
    assert not report.overall["alpha"].defined and "several codes" in report.overall["alpha"].reason
    sets = [[{"x", "y"}, {"x"}, {"y"}, {"z"}], [{"x", "y"}, {"x"}, {"x"}, {"z"}]]
    assert report.overall["alpha_masi"].value == pytest.approx(masi.masi_alpha(sets))
    presence = np.array([[1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1],  # x, y, z over s1..s4
                         [1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1]], dtype=float)
    assert report.overall["alpha_pooled"].value == pytest.approx(ag.krippendorff_alpha(presence))
    assert "MASI" in report.overall["alpha_masi"].note and "pooled" in report.overall["alpha_pooled"].note


def test_an_exclusive_frame_has_no_set_valued_figures():
    codings = _two_codes_on_one_unit()
    report = reliability.report_from_codings(codings[codings["code"] != "y"], exclusive_frame=["x", "z"], n_boot=0)
    assert "alpha_masi" not in report.overall


def test_cli_prints_masi_and_a_dash_with_reason_never_none(tmp_path, capsys):
    path = tmp_path / "multi.csv"
    _two_codes_on_one_unit().to_csv(path, index=False)
    assert main(["agreement", str(path), "--bootstrap", "0"]) == 0
    out = capsys.readouterr().out
    assert "alpha, MASI distance (set-valued)" in out and "alpha, per-code presence pooled" in out
    assert re.search(r"Krippendorff.s alpha +— \(2 unit-coder pair\(s\) carry several codes", out)
    assert "None" not in out and "NaN" not in out
    assert main(["agreement", str(path), "--bootstrap", "0", "--format", "csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    rows = table.set_index("code")
    assert np.isnan(rows.loc["(overall)", "alpha"]) and "several codes" in rows.loc["(overall)", "reason"]
    assert rows.loc["(overall: MASI alpha)", "alpha"] == pytest.approx(
        reliability.report_from_codings(_two_codes_on_one_unit(), n_boot=0).overall["alpha_masi"].value)
    assert main(["agreement", str(path), "--bootstrap", "0", "--format", "json"]) == 0
    overall = json.loads(capsys.readouterr().out)["overall"]
    assert overall["alpha"]["value"] is None and overall["alpha"]["reason"]
    assert overall["alpha_masi"]["value"] is not None


def _alpha_by_pairs(sets) -> float:
    """Krippendorff's alpha written out pair by pair (Krippendorff 2011, eq. for D_o and D_e)."""
    units = [[c for c in unit if c is not None] for unit in zip(*sets)]
    units = [u for u in units if len(u) >= 2]
    values = [v for u in units for v in u]
    n = len(values)
    observed = sum(masi.masi_distance(u[i], u[j]) / (len(u) - 1)
                   for u in units for i in range(len(u)) for j in range(len(u)) if i != j) / n
    expected = sum(masi.masi_distance(values[i], values[j])
                   for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    return 1 - observed / expected


@pytest.mark.parametrize("seed", range(6))
def test_masi_alpha_equals_the_pairwise_definition_with_missing_values(seed):
    rng = np.random.default_rng(seed)
    labels = ["a", "b", "c", "d"]
    sets = [[None if rng.random() < 0.25 else frozenset(x for x in labels if rng.random() < 0.4)
             for _ in range(15)] for _ in range(3)]
    assert masi.masi_alpha(sets) == pytest.approx(_alpha_by_pairs(sets))
