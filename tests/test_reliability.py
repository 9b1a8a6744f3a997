"""coding.reliability: reading codings, real zeros vs missing, frames, respondents, per-code tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from coding import agreement as ag
from coding import reliability as rl
from coding.errors import CodingsError

nan = np.nan

# Krippendorff (2011) p. 8, 4 observers x 12 units; published alpha nominal .743, ordinal .815,
# interval .849, ratio .797 (see tests/test_agreement.py).
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
]


def long_table(matrix, coders="ABCD"):
    rows = [(f"u{j + 1}", coders[i], str(int(v)))
            for i, row in enumerate(matrix) for j, v in enumerate(row) if not math.isnan(v)]
    return pd.DataFrame(rows, columns=["unit", "coder", "code"])


def frame(rows):
    return pd.DataFrame(rows, columns=["unit", "coder", "code"])


# --------------------------------------------------------------------------- reading


def test_read_long_codings_keeps_strings_lines_and_extra_columns(tmp_path):
    path = tmp_path / "codings.csv"
    path.write_bytes("\ufeffunit,coder,code,respondent\n01,ann,trust ,r1\n\n02,bob,Доверие,r2\n".encode("utf-8"))
    codings = rl.read_long_codings(path)
    assert list(codings.columns) == ["unit", "coder", "code", "line", "respondent"]
    assert codings["unit"].tolist() == ["01", "02"]
    assert codings["code"].tolist() == ["trust", "Доверие"]
    assert codings["line"].tolist() == [2, 4]


def test_read_long_codings_from_data_with_custom_columns():
    codings = rl.read_long_codings("upload.csv", data="segment,annotator,label\ns1,ann,x\n",
                                   columns=("segment", "annotator", "label"))
    assert codings[["unit", "coder", "code"]].values.tolist() == [["s1", "ann", "x"]]


def test_read_long_codings_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"  \n")
    with pytest.raises(CodingsError, match="empty") as info:
        rl.read_long_codings(path)
    assert info.value.problems[0].file == str(path)


def test_read_long_codings_missing_columns_lists_missing_and_found():
    with pytest.raises(CodingsError) as info:
        rl.read_long_codings("c.csv", data="unit,rater,label\nu1,a,b\n")
    problem = info.value.problems[0]
    assert problem.line == 1 and problem.file == "c.csv"
    assert "missing column(s) coder, code" in problem.message
    assert "found unit, rater, label" in problem.message


def test_read_long_codings_blank_values_name_each_line():
    data = "unit,coder,code\nu1,ann,x\nu2,,x\nu3,bob,\n"
    with pytest.raises(CodingsError, match="2 bad row") as info:
        rl.read_long_codings("c.csv", data=data)
    assert [(p.line, p.field) for p in info.value.problems] == [(3, "coder"), (4, "code")]
    assert "c.csv:3" in str(info.value)


def test_read_long_codings_header_only_and_undecodable():
    with pytest.raises(CodingsError, match="no codings"):
        rl.read_long_codings("c.csv", data="unit,coder,code\n")
    with pytest.raises(CodingsError) as info:
        rl.read_long_codings("bad.csv", data=b"unit,coder,code\nu1,a,\xff\xfe\x00x\n")
    assert info.value.problems[0].file == "bad.csv"


# --------------------------------------------------------------------------- presence


def test_presence_distinguishes_real_zero_from_missing():
    codings = frame([("s1", "ann", "x"), ("s2", "bob", "x"), ("s1", "bob", "y")])
    universes = {"ann": {"s1", "s2", "s3"}, "bob": {"s1", "s2"}, "cat": {"s3"}}
    matrix = rl.presence_matrix(codings, "x", units_by_coder=universes)
    assert matrix.index.tolist() == ["ann", "bob", "cat"]
    assert matrix.columns.tolist() == ["s1", "s2", "s3"]
    expected = [[1.0, 0.0, 0.0], [0.0, 1.0, nan], [nan, nan, 0.0]]
    np.testing.assert_array_equal(matrix.to_numpy(), np.array(expected))


def test_csv_mode_universe_is_every_unit_in_the_file():
    codings = frame([("s1", "ann", "x"), ("s2", "bob", "y")])
    matrix = rl.presence_matrix(codings, "x")
    # s3 (coded by nobody) is invisible; bob saw s1 and left it without x: a real 0
    assert matrix.columns.tolist() == ["s1", "s2"]
    np.testing.assert_array_equal(matrix.to_numpy(), [[1.0, 0.0], [0.0, 0.0]])


def test_units_sort_naturally_and_coded_units_join_the_universe():
    codings = frame([("s10", "ann", "x"), ("s2", "ann", "x"), ("s9", "bob", "x")])
    matrix = rl.presence_matrix(codings, "x", units_by_coder={"ann": {"s2"}, "bob": set()})
    assert matrix.columns.tolist() == ["s2", "s9", "s10"]
    assert matrix.loc["ann", "s10"] == 1.0 and math.isnan(matrix.loc["bob", "s2"])


def test_frame_matrix_counts_and_excludes_conflicts():
    codings = frame([
        ("s1", "ann", "pro"), ("s1", "bob", "pro"),
        ("s2", "ann", "pro"), ("s2", "ann", "contra"), ("s2", "bob", "contra"),
        ("s3", "bob", "contra"), ("s3", "ann", "other-frame"),
    ])
    result = rl.frame_matrix(codings, ["pro", "contra"])
    assert result.n_conflicts == 1
    assert result.conflicts.to_dict("records") == [{"unit": "s2", "coder": "ann", "codes": "contra, pro"}]
    assert result.matrix.columns.tolist() == ["s1", "s3"]
    assert result.matrix.loc["ann", "s3"] == rl.NONE_CATEGORY
    assert result.matrix.loc["bob", "s3"] == "contra"


def test_frame_matrix_rejects_bad_arguments():
    codings = frame([("s1", "ann", "pro")])
    with pytest.raises(ValueError, match="empty"):
        rl.frame_matrix(codings, [])
    with pytest.raises(ValueError, match="none_label"):
        rl.frame_matrix(codings, ["pro", "(none)"])


# --------------------------------------------------------------------------- respondents


def test_respondent_level_agrees_where_segment_level_does_not():
    # r1 = segments s1, s2, s3. Coder A codes X on s1 and s2, coder B on s3: at segment level they
    # disagree on every segment; at respondent level both say r1 mentioned X.
    codings = frame([("s1", "A", "X"), ("s2", "A", "X"), ("s3", "B", "X"), ("s4", "A", "Y"), ("s4", "B", "Y")])
    mapping = {"s1": "r1", "s2": "r1", "s3": "r1", "s4": "r2"}
    segment_table = rl.agreement_table(codings, n_boot=0).set_index("code")
    # segments s1-s3 disagree on X; s4 (neither coder applied X) agrees: 1 of 4
    assert segment_table.loc["X", "percent_agreement"] == 0.25
    assert segment_table.loc["X", "alpha"] < 0
    assert rl.disagreements(codings, codes=["X"])["unit"].tolist() == ["s1", "s2", "s3"]

    rolled, seen = rl.presence_by_respondent(codings, mapping)
    assert sorted(map(tuple, rolled[["unit", "coder", "code"]].values.tolist())) == [
        ("r1", "A", "X"), ("r1", "B", "X"), ("r2", "A", "Y"), ("r2", "B", "Y")]
    assert seen == {"A": {"r1", "r2"}, "B": {"r1", "r2"}}
    matrix = rl.presence_matrix(rolled, "X", units_by_coder=seen)
    np.testing.assert_array_equal(matrix.to_numpy(), [[1.0, 0.0], [1.0, 0.0]])
    table = rl.agreement_table(rolled, units_by_coder=seen, n_boot=0).set_index("code")
    assert table.loc["X", "percent_agreement"] == 1.0
    assert rl.disagreements(rolled, units_by_coder=seen).empty


def test_respondent_universe_follows_segment_universe():
    codings = frame([("s1", "A", "X")])
    rolled, seen = rl.presence_by_respondent(
        codings, pd.Series({"s1": "r1", "s2": "r1", "s3": "r2"}),
        units_by_coder={"A": {"s1"}, "B": {"s2", "s3"}})
    assert seen == {"A": {"r1"}, "B": {"r1", "r2"}}
    matrix = rl.presence_matrix(rolled, "X", units_by_coder=seen)
    np.testing.assert_array_equal(matrix.to_numpy(), [[1.0, nan], [0.0, 0.0]])


def test_unmapped_units_are_an_error():
    codings = frame([("s1", "A", "X"), ("s2", "A", "X")])
    with pytest.raises(CodingsError, match="no respondent") as info:
        rl.presence_by_respondent(codings, {"s1": "r1"})
    assert "s2" in info.value.problems[0].message


# --------------------------------------------------------------------------- tables


def test_agreement_table_matches_the_agreement_functions():
    codings = frame([
        ("s1", "A", "X"), ("s1", "B", "X"), ("s2", "A", "X"), ("s3", "B", "X"), ("s4", "A", "Y"),
        ("s5", "A", "X"), ("s5", "B", "X"), ("s5", "C", "X"), ("s6", "C", "Y"), ("s6", "B", "Y"),
    ])
    table = rl.agreement_table(codings, n_boot=50, seed=2).set_index("code")
    for code in ("X", "Y"):
        values = rl.presence_matrix(codings, code).to_numpy()
        row = table.loc[code]
        assert row["percent_agreement"] == pytest.approx(ag.percent_agreement(values))
        assert row["cohen_kappa"] == pytest.approx(ag.cohen_kappa(values))
        assert row["alpha"] == pytest.approx(ag.krippendorff_alpha(values))
        assert row["gwet_ac1"] == pytest.approx(ag.gwet_ac1(values, categories=[0, 1]))
        assert (row["alpha_low"], row["alpha_high"]) == pytest.approx(ag.bootstrap_alpha(values, n_boot=50, seed=2))
        assert row["prevalence"] == pytest.approx(np.nanmean(values))
        assert row["interpretation"] == ag.interpret_alpha(row["alpha"])
    assert table.loc["X", "n_units"] == 6 and table.loc["X", "n_coders"] == 3


def test_code_never_applied_is_nan_with_reason():
    codings = frame([("s1", "A", "X"), ("s1", "B", "X"), ("s2", "A", "Y")])
    table = rl.agreement_table(codings, codes=["X", "Y", "Z"], n_boot=20).set_index("code")
    z = table.loc["Z"]
    assert z["reason"] == "no coder applied this code"
    for name in rl.CHANCE_CORRECTED:
        assert math.isnan(z[name]), name
    assert z["percent_agreement"] == 1.0 and z["prevalence"] == 0.0
    assert z["interpretation"] == "undefined"
    assert table.loc["X", "reason"] is None  # only A and B coded; X applied by both on s1, A only on s2
    assert "no coder applied" not in (table.loc["Y", "reason"] or "")


def test_single_coder_table_row_says_so():
    table = rl.agreement_table(frame([("s1", "A", "X"), ("s2", "A", "Y")]), n_boot=0)
    assert (table["reason"] == "only one coder").all()
    assert table["alpha"].isna().all()


def test_all_coders_agree_on_everything():
    codings = frame([("s1", "A", "X"), ("s1", "B", "X"), ("s2", "A", "X"), ("s2", "B", "X")])
    row = rl.agreement_table(codings, n_boot=10).iloc[0]
    assert row["percent_agreement"] == 1.0
    assert math.isnan(row["alpha"])
    assert row["reason"] and "all ratings identical" in row["reason"]
    assert row["gwet_ac1"] == 1.0  # q = 2 possible categories (present/absent)


@pytest.mark.parametrize("level,published", [("nominal", 0.743), ("ordinal", 0.815),
                                             ("interval", 0.849), ("ratio", 0.797)])
def test_overall_agreement_reproduces_krippendorff_2011_from_a_long_table(level, published):
    overall = rl.overall_agreement(long_table(K2011), level=level, n_boot=0)
    assert round(overall["alpha"].value, 3) == published
    assert overall["gwet_ac1"].value == pytest.approx(0.77544, abs=5e-6)  # irrCAC README


def test_overall_agreement_is_undefined_when_units_carry_several_codes():
    codings = frame([("s1", "A", "X"), ("s1", "A", "Y"), ("s1", "B", "X")])
    overall = rl.overall_agreement(codings, n_boot=0)
    assert math.isnan(overall["alpha"].value)
    assert "1 unit-coder pair(s) carry several codes" in overall["alpha"].reason


def test_overall_agreement_needs_numbers_beyond_nominal():
    codings = frame([("s1", "A", "low"), ("s1", "B", "high"), ("s2", "A", "low"), ("s2", "B", "low")])
    undefined = rl.overall_agreement(codings, level="interval", n_boot=0)
    assert all(math.isnan(s.value) for s in undefined.values())
    assert "needs numeric codes" in undefined["alpha"].reason
    ordinal = rl.overall_agreement(codings, level="ordinal", value_order=["low", "high"], n_boot=0)
    assert ordinal["alpha"].value == pytest.approx(ag.krippendorff_alpha(
        [["low", "low"], ["high", "low"]], level="ordinal", value_order=["low", "high"]))


def test_disagreements_lists_who_applied_and_who_did_not():
    codings = frame([("s1", "A", "X"), ("s1", "B", "X"), ("s2", "A", "X"), ("s2", "C", "Y")])
    result = rl.disagreements(codings, units_by_coder={"A": {"s1", "s2"}, "B": {"s1", "s2"}, "C": {"s2"}})
    assert result.to_dict("records") == [
        {"unit": "s2", "code": "X", "applied_by": "A", "not_applied_by": "B, C"},
        {"unit": "s2", "code": "Y", "applied_by": "C", "not_applied_by": "A, B"},
    ]


def test_report_restricts_coders_and_reports_frame_conflicts():
    codings = frame([("s1", "A", "pro"), ("s1", "B", "pro"), ("s1", "C", "contra"),
                     ("s2", "A", "pro"), ("s2", "A", "contra"), ("s2", "B", "contra"),
                     ("s3", "A", "contra"), ("s3", "B", "pro")])
    report = rl.report_from_codings(codings, coders=["A", "B"], exclusive_frame=["pro", "contra"], n_boot=0)
    assert report.coders == ["A", "B"]
    assert len(report.conflicts) == 1
    assert any("1 unit-coder pair(s) applied several codes" in n for n in report.notes)
    # overall on s1 (pro/pro) and s3 (contra/pro): one agreement out of two units
    assert report.overall["percent_agreement"].value == 0.5
    assert set(report.table["code"]) == {"pro", "contra"}
    with pytest.raises(CodingsError, match="unknown coder"):
        rl.report_from_codings(codings, coders=["A", "Zed"], n_boot=0)


def test_empty_codings_give_nan_with_reason_not_a_crash():
    empty = frame([])
    report = rl.report_from_codings(empty, codes=["X"], n_boot=10)
    assert report.overall["alpha"].reason == "no ratings"
    assert report.table.loc[0, "reason"] == "no ratings" and report.n_units == 0
    assert report.disagreements.empty


def test_codings_without_required_columns_are_rejected():
    with pytest.raises(CodingsError, match="required columns"):
        rl.agreement_table(pd.DataFrame({"unit": ["s1"], "code": ["x"]}))
