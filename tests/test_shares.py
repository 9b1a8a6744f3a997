"""Share tables: the denominator, the article's Figure 1, roll-up, Wilson, crosstabs."""

import math

import pandas as pd
import pytest

from coding.errors import AttributesError, CodingsError
from coding.shares import (
    case_code_matrix,
    crosstab,
    format_share,
    format_share_table,
    round_half_up,
    share_table,
)

FIGURE_1 = {  # reform directions, Figure 1 of the seed article: respondents out of 24
    "systemic": 7,
    "resistance": 3,
    "human_capital": 4,
    "delegation": 2,
    "evidence": 2,
}


def respondents(n=24, **attrs):
    frame = pd.DataFrame({"respondent": [f"R{i:02d}" for i in range(1, n + 1)]})
    for name, values in attrs.items():
        frame[name] = values
    return frame


def figure_1_codings():
    rows = []
    start = 0
    for code, count in FIGURE_1.items():
        for i in range(count):
            rid = f"R{(start + i) % 24 + 1:02d}"
            rows.append((rid, "ann", code))
            rows.append((rid, "ann", code))  # a second segment with the same code counts once
        start += count
    return pd.DataFrame(rows, columns=["respondent", "coder", "code"])


def test_denominator_is_every_respondent_not_only_the_coded_ones():
    people = respondents(24)
    codings = pd.DataFrame({"respondent": [f"R{i:02d}" for i in range(1, 11)], "coder": "ann", "code": "a"})
    table = share_table(people, codings)
    row = table.iloc[0]
    assert (row["count"], row["n"]) == (10, 24)
    assert row["percent"] == pytest.approx(100 * 10 / 24)
    assert row["display"] == "10/24 = 41.7%"


def test_a_respondent_without_any_coding_counts_in_n():
    people = respondents(3)
    codings = pd.DataFrame({"respondent": ["R01"], "coder": ["ann"], "code": ["a"]})
    assert share_table(people, codings).loc[0, "n"] == 3
    matrix = case_code_matrix(people, codings)
    assert list(matrix.index) == ["R01", "R02", "R03"]
    assert matrix["a"].tolist() == [1, 0, 0]


def test_figure_1_displays_like_the_article():
    table = share_table(respondents(), figure_1_codings(), codes=list(FIGURE_1))
    displays = dict(zip(table["code"], table["display"]))
    assert displays == {
        "systemic": "7/24 = 29.2%",
        "resistance": "3/24 = 12.5%",
        "human_capital": "4/24 = 16.7%",
        "delegation": "2/24 = 8.3%",
        "evidence": "2/24 = 8.3%",
    }
    assert list(table["code"]) == list(FIGURE_1)  # the given order, not sorted
    assert set(table["n"]) == {24}


def test_rounding_is_half_up_like_the_article():
    assert format_share(1, 24) == "1/24 = 4.2%"
    assert round_half_up(8.25) == 8.3  # Python's round() would give 8.2
    assert round_half_up(0.05) == 0.1
    assert format_share(3, 8) == "3/8 = 37.5%"
    assert format_share(0, 0).startswith("0/0 = n/a")


def test_parent_rolls_up_descendants_once_per_respondent():
    people = respondents(10)
    codings = pd.DataFrame(
        [("R01", "ann", "child_a"), ("R01", "ann", "child_b"), ("R02", "ann", "grandchild"),
         ("R03", "ann", "parent"), ("R04", "ann", "other")],
        columns=["respondent", "coder", "code"],
    )
    hierarchy = {"parent": {"child_a", "child_b"}, "child_b": {"grandchild"}}
    table = share_table(people, codings, codes=["parent", "child_a", "child_b"], hierarchy=hierarchy)
    counts = dict(zip(table["code"], table["count"]))
    assert counts == {"parent": 3, "child_a": 1, "child_b": 2}
    matrix = case_code_matrix(people, codings, codes=["parent"], hierarchy=hierarchy)
    assert matrix["parent"].sum() == 3


def test_wilson_interval_matches_the_formula():
    table = share_table(respondents(), figure_1_codings(), codes=["systemic"])
    z = 1.959963984540054
    p, n = 7 / 24, 24
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert table.loc[0, "ci_low"] == pytest.approx(100 * (centre - half), abs=1e-6)
    assert table.loc[0, "ci_high"] == pytest.approx(100 * (centre + half), abs=1e-6)
    assert table.loc[0, "ci_low"] == pytest.approx(14.91, abs=0.01)
    assert table.loc[0, "ci_high"] == pytest.approx(49.17, abs=0.01)


def test_codings_of_respondents_out_of_scope_are_ignored_and_noted_or_refused():
    people = respondents(4)
    codings = pd.DataFrame({"respondent": ["R01", "X99", "X99"], "coder": "ann", "code": "a"})
    table = share_table(people, codings)
    assert table.loc[0, "count"] == 1 and table.loc[0, "n"] == 4
    assert table.attrs["out_of_scope"] == 2
    assert any("X99" in note for note in table.attrs["notes"])
    with pytest.raises(CodingsError, match="not in scope"):
        share_table(people, codings, strict=True)


def test_coder_filter_and_spread_across_coders():
    people = respondents(10)
    codings = pd.DataFrame(
        [("R01", "ann", "a"), ("R02", "ann", "a"), ("R03", "ann", "a"), ("R01", "bob", "a")],
        columns=["respondent", "coder", "code"],
    )
    pooled = share_table(people, codings)
    assert pooled.loc[0, "count"] == 3
    assert (pooled.loc[0, "coder_min"], pooled.loc[0, "coder_max"]) == (10.0, 30.0)
    only_bob = share_table(people, codings, coder="bob")
    assert only_bob.loc[0, "count"] == 1 and math.isnan(only_bob.loc[0, "coder_min"])
    with pytest.raises(CodingsError, match="no codings"):
        share_table(people, codings, coder="carol")


def test_labels_order_and_agreement_column():
    people = respondents(4)
    codings = pd.DataFrame({"respondent": ["R01"], "coder": ["ann"], "code": ["b"]})
    table = share_table(people, codings, labels={"a": "Alpha", "b": "Beta"}, agreement={"b": 0.8})
    assert list(table["code"]) == ["a", "b"]
    assert list(table["label"]) == ["Alpha", "Beta"]
    assert table.loc[0, "count"] == 0
    assert math.isnan(table.loc[0, "agreement"]) and table.loc[1, "agreement"] == 0.8


def test_empty_scope_gives_nan_with_a_reason():
    table = share_table(respondents(0), pd.DataFrame(columns=["respondent", "coder", "code"]), codes=["a"])
    assert math.isnan(table.loc[0, "percent"]) and math.isnan(table.loc[0, "ci_low"])
    assert any("no respondents" in note for note in table.attrs["notes"])


def test_bad_inputs_are_named():
    with pytest.raises(CodingsError, match="required columns"):
        share_table(respondents(2), pd.DataFrame({"who": ["R01"], "code": ["a"]}))
    with pytest.raises(AttributesError, match="invalid ids"):
        share_table(pd.DataFrame({"respondent": ["R01", "R01"]}), pd.DataFrame(columns=["respondent", "code"]))


def test_crosstab_counts_percents_and_flags():
    groups = ["internal"] * 20 + ["external"] * 3 + [None]
    people = respondents(24, group=groups)
    codings = pd.DataFrame(
        [("R01", "ann", "a"), ("R02", "ann", "a"), ("R02", "ann", "a"), ("R21", "ann", "a"), ("R24", "ann", "a")],
        columns=["respondent", "coder", "code"],
    )
    table = crosstab(people, codings, by="group", min_cell=5)
    rows = {row["group"]: row for row in table.to_dict("records")}
    assert set(rows) == {"internal", "external", "(missing)"}
    internal, external, missing = rows["internal"], rows["external"], rows["(missing)"]
    assert (internal["count"], internal["group_n"]) == (2, 20)
    assert internal["percent"] == pytest.approx(10.0)
    assert internal["row_percent"] == pytest.approx(50.0)  # 2 of the 4 respondents who named it
    assert (external["count"], external["group_n"]) == (1, 3)
    assert external["percent"] == pytest.approx(100 / 3)
    assert (missing["count"], missing["group_n"]) == (1, 1)
    assert internal["small"] is False and external["small"] is True and missing["small"] is True
    assert internal["expected"] == pytest.approx(20 * 4 / 24)
    assert internal["low_expected"] is True  # 3.33 < 5
    assert sum(r["row_percent"] for r in rows.values()) == pytest.approx(100.0)
    with pytest.raises(AttributesError, match="No respondent attribute"):
        crosstab(people, codings, by="region")


def test_format_share_table_text_csv_json():
    table = share_table(respondents(), figure_1_codings(), codes=["systemic"], labels={"systemic": "Systemic"})
    text = format_share_table(table)
    assert "7/24 = 29.2%" in text and "Systemic" in text and "14.9-49.2%" in text
    assert format_share_table(table, "csv").splitlines()[0].startswith("code,label,count,n,percent")
    assert '"display": "7/24 = 29.2%"' in format_share_table(table, "json")
    with pytest.raises(ValueError):
        format_share_table(table, "html")


def test_column_cleaning_matches_cleaning_each_cell():
    from coding.shares import _clean_id, _clean_ids

    columns = [
        pd.Series([" R01", "R01 ", "R02", None, "R02"], dtype="str"),
        pd.Series([" a", None, "b "], dtype="string"),  # pd.NA cleans to "<NA>", as before
        pd.Series([1.0, 2.5, float("nan"), 1.0, -0.0]),
        pd.Series([3, 1, 3], dtype="int64"),
        pd.Series([True, 1, 1.0, " x ", None, float("nan")], dtype=object),  # mixed: cell by cell
        pd.Series([" y", "y", None, pd.NA], dtype=object),
        pd.Series([], dtype=object),
    ]
    for column in columns:
        assert _clean_ids(column) == [_clean_id(v) for v in column]


def test_float_respondent_ids_match_string_ids_and_per_coder_spread():
    people = pd.DataFrame({"respondent": [1.0, 2.0, 3.0, 4.0]})
    codings = pd.DataFrame({"respondent": [" 1", "2", "2", "9"], "coder": ["ann", "ann", "bob", "bob"],
                            "code": ["a", "a", "a", "a"]})
    table = share_table(people, codings)
    row = table.iloc[0]
    assert (row["count"], row["n"]) == (2, 4)
    assert (row["coder_min"], row["coder_max"]) == (25.0, 50.0)
    assert table.attrs["out_of_scope"] == 1


def test_batched_wilson_intervals_equal_the_single_cell_ones():
    from coding.shares import _wilson_intervals, wilson_interval

    cells = [(0, 3), (3, 3), (7, 24), (1, 24), (0, 0), (5, 11000), (11000, 11000)]
    for confidence in (0.95, 0.8):
        batched = _wilson_intervals([c for c, _ in cells], [n for _, n in cells], confidence=confidence)
        single = [wilson_interval(c, n, confidence=confidence) for c, n in cells]
        assert [tuple(map(repr, pair)) for pair in batched] == [tuple(map(repr, pair)) for pair in single]
    assert _wilson_intervals([], []) == []
    with pytest.raises(ValueError, match="confidence"):
        _wilson_intervals([1], [2], confidence=1.0)


def test_an_undefined_agreement_prints_a_dash_with_its_reason():
    """Issue 27, item 3: never 'None' or a bare 'n/a' beside a share."""
    table = pd.DataFrame({"code": ["p", "c"], "label": ["Parent", "Child"], "display": ["2/4 = 50.0%"] * 2,
                          "ci_low": [15.0, 15.0], "ci_high": [85.0, 85.0], "agreement": [float("nan"), 0.8],
                          "agreement_reason": ["parent code: α is computed per sub-code", None]})
    text = format_share_table(table)
    assert "— (parent code: α is computed per sub-code)" in text and "0.80" in text
    assert "None" not in text and "n/a" not in text
