"""Sector scores: the YAML instrument, bands at their boundaries, means and the bottleneck flag by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from coding import scales

SAMPLE = Path(__file__).resolve().parent.parent / "corpus" / "instruments" / "sectors.yaml"

YAML = """\
id: demo
label: Demo
scale: {min: 1, max: 10}
sectors:
  - id: work
    statements:
      - {id: w1, text: My tasks are clear.}
      - {id: w2, text: I have what I need.}
  - id: management
    label: Management
    statements:
      - {id: m1, text: My manager listens.}
"""


@pytest.mark.parametrize("mean, label", [
    (10.0, "excellent condition"), (9.0, "excellent condition"), (8.99, "positive state"),
    (6.0, "positive state"), (5.99, "noticeable despondency"), (4.0, "noticeable despondency"),
    (3.99, "decadent state"), (1.0, "decadent state"),
])
def test_bands_at_their_boundaries(mean, label):
    assert scales.band(mean) == label


def test_the_instrument_parses_and_the_sample_is_valid():
    instrument = scales.parse_instrument(YAML)
    assert [s.id for s in instrument.sectors] == ["work", "management"]
    assert instrument.sectors[0].label == "Work" and instrument.statement_sector() == {
        "w1": "work", "w2": "work", "m1": "management"}
    sample = scales.load_instrument(SAMPLE)
    assert [s.id for s in sample.sectors] == ["work", "communication", "management", "motivation_morale"]


def test_every_problem_of_the_yaml_is_reported_with_its_line():
    bad = """\
id: demo
colour: red
scale: {min: 1, max: 7}
sectors:
  - id: work
    statements:
      - {id: w1, text: A}
      - {id: w1, text: B}
  - id: work
    statements: []
  - label: no id
    statements:
      - {id: x1}
"""
    with pytest.raises(scales.ScaleError) as info:
        scales.parse_instrument(bad, source="bad.yaml")
    found = {(p.line, p.message.split(":")[0]) for p in info.value.problems}
    lines = sorted(p.line for p in info.value.problems)
    messages = " | ".join(p.message for p in info.value.problems)
    assert "unknown key 'colour'" in messages and 2 in lines
    assert "1-10 scale only" in messages and 3 in lines
    assert "duplicate statement id 'w1' (first on line 7)" in messages and 8 in lines
    assert "duplicate sector id 'work' (first on line 5)" in messages and 9 in lines
    assert "statements must be a non-empty list" in messages and 10 in lines
    assert "sector: missing 'id'" in messages and 11 in lines
    assert "missing 'text'" in messages and 13 in lines
    assert all(p.file == "bad.yaml" for p in info.value.problems) and found


def test_yaml_syntax_error_names_the_line():
    with pytest.raises(scales.ScaleError) as info:
        scales.parse_instrument("id: x\nsectors: [\n", source="s.yaml")
    assert info.value.problems[0].line is not None and info.value.problems[0].file == "s.yaml"


def test_sector_means_intervals_bands_and_bottleneck_by_hand():
    instrument = scales.parse_instrument(YAML)
    ratings = scales.validate_ratings(instrument, pd.DataFrame({
        "respondent": ["a", "a", "a", "b", "b", "b"],
        "statement": ["w1", "w2", "m1", "w1", "w2", "m1"],
        "rating": [7, 9, 3, 5, 5, 4],
    }))
    table = scales.sector_table(instrument, ratings).set_index("sector")
    # work: a = (7 + 9) / 2 = 8, b = 5 -> mean 6.5, sd = 3 / sqrt(2); management: (3 + 4) / 2 = 3.5
    assert table.loc["work", "mean"] == pytest.approx(6.5)
    assert table.loc["work", "sd"] == pytest.approx(3 / math.sqrt(2))
    assert table.loc["work", "ci_low"] == pytest.approx(6.5 - 12.7062047 * 1.5, abs=1e-4)
    assert table.loc["work", "band"] == "positive state" and not table.loc["work", "bottleneck"]
    assert table.loc["management", "mean"] == pytest.approx(3.5)
    assert table.loc["management", "band"] == "decadent state" and table.loc["management", "bottleneck"]
    assert table.loc["management", "n"] == 2 and table.loc["work", "statements"] == 2
    by_group = scales.sector_table(instrument, ratings, by="team", attributes=pd.DataFrame(
        {"respondent": ["a", "b"], "team": ["x", "y"]}))
    assert by_group.set_index(["group", "sector"]).loc[("y", "management"), "mean"] == 4.0
    assert by_group.set_index(["group", "sector"]).loc[("y", "management"), "band"] == "noticeable despondency"
    assert not by_group.set_index(["group", "sector"]).loc[("y", "management"), "bottleneck"]  # 4.0 is not below 4


def test_bad_ratings_are_reported_with_their_rows():
    instrument = scales.parse_instrument(YAML)
    with pytest.raises(scales.ScaleError) as info:
        scales.validate_ratings(instrument, pd.DataFrame({
            "respondent": ["a", "a", "a", "a"], "statement": ["w1", "zz", "m1", "w1"], "rating": [11, 5, 4.5, 3]}),
            source="r.csv")
    rows = {p.line: p.message for p in info.value.problems}
    assert "from 1 to 10, not 11" in rows[2] and "unknown statement 'zz'" in rows[3]
    assert "not 4.5" in rows[4]
    assert 5 not in rows  # w1 of row 2 was refused, so row 5 is its first valid rating
