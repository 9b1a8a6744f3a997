"""OCAI scoring against numbers computed by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from coding import ocai

D = ocai.DIMENSIONS


def answers(table: dict) -> pd.DataFrame:
    """{(respondent, view): [six (A, B, C, D) rows, one per dimension]} -> the tidy input."""
    rows = []
    for (respondent, view), per_dimension in table.items():
        for dimension, (a, b, c, d) in zip(D, per_dimension):
            rows.append({"respondent": respondent, "view": view, "dimension": dimension,
                         "A": a, "B": b, "C": c, "D": d})
    return pd.DataFrame(rows)


# Two respondents. r1 now: hierarchy 60 everywhere except dimension 1, where market leads (C 50).
# r2 now: (20, 10, 30, 40) everywhere. Preferred: r1 (30, 30, 20, 20), r2 (40, 20, 20, 20).
R1_NOW = [(10, 10, 50, 30)] + [(10, 10, 20, 60)] * 5
R2_NOW = [(20, 10, 30, 40)] * 6
TWO = {("r1", "now"): R1_NOW, ("r2", "now"): R2_NOW,
       ("r1", "preferred"): [(30, 30, 20, 20)] * 6, ("r2", "preferred"): [(40, 20, 20, 20)] * 6}


def mean_of(table: pd.DataFrame, **where) -> float:
    mask = pd.Series(True, index=table.index)
    for k, v in where.items():
        mask &= table[k] == v
    assert mask.sum() == 1, where
    return float(table.loc[mask, "mean"].iloc[0])


def test_two_respondents_profiles_by_hand():
    scores = ocai.validate(answers(TWO))
    per_respondent = ocai.respondent_profiles(scores).set_index(["respondent", "view"])
    # r1 now: clan 10, adhocracy 10, market (50 + 5*20)/6 = 25, hierarchy (30 + 5*60)/6 = 55
    assert per_respondent.loc[("r1", "now")].tolist() == pytest.approx([10, 10, 25, 55])
    assert per_respondent.loc[("r2", "now")].tolist() == pytest.approx([20, 10, 30, 40])
    profiles = ocai.profile_table(scores)
    # overall now = mean of the two respondent profiles: clan 15, adhocracy 10, market 27.5, hierarchy 47.5
    assert mean_of(profiles, view="now", type="clan") == pytest.approx(15)
    assert mean_of(profiles, view="now", type="adhocracy") == pytest.approx(10)
    assert mean_of(profiles, view="now", type="market") == pytest.approx(27.5)
    assert mean_of(profiles, view="now", type="hierarchy") == pytest.approx(47.5)
    assert mean_of(profiles, view="preferred", type="clan") == pytest.approx(35)
    # CI of hierarchy now: values 55 and 40, sd = 15/sqrt(2), half width = t(0.975, 1) * sd / sqrt(2) = 12.706 * 7.5
    row = profiles[(profiles["view"] == "now") & (profiles["type"] == "hierarchy")].iloc[0]
    assert row["n"] == 2 and row["sd"] == pytest.approx(15 / math.sqrt(2))
    assert row["ci_low"] == pytest.approx(47.5 - 12.7062047 * 7.5, abs=1e-4)
    assert row["ci_high"] == pytest.approx(47.5 + 12.7062047 * 7.5, abs=1e-4)
    # adhocracy now is 10 for both: sd 0, the interval collapses to the mean
    adhocracy = profiles[(profiles["view"] == "now") & (profiles["type"] == "adhocracy")].iloc[0]
    assert (adhocracy["ci_low"], adhocracy["ci_high"]) == (10, 10)
    assert ocai.IPSATIVE_NOTE in profiles.attrs["notes"]


def test_dominant_type_and_strength_by_hand():
    dominant = ocai.dominant_table(ocai.profile_table(ocai.validate(answers(TWO)))).set_index("view")
    assert dominant.loc["now", "dominant"] == "hierarchy"
    assert dominant.loc["now", "strength"] == pytest.approx(47.5)
    assert dominant.loc["now", "margin"] == pytest.approx(20)  # 47.5 - market 27.5
    assert dominant.loc["preferred", "dominant"] == "clan"
    assert dominant.loc["preferred", "strength"] == pytest.approx(35)  # (30 + 40) / 2
    assert dominant.loc["preferred", "margin"] == pytest.approx(10)  # adhocracy 25


def test_congruence_and_spread_by_hand():
    table = ocai.congruence_table(ocai.validate(answers(TWO))).set_index("view")
    # now, dimension 1: market (50 + 30) / 2 = 40 vs hierarchy (30 + 40) / 2 = 35 -> market; the other five
    # hierarchy (60 + 40) / 2 = 50: not congruent
    assert not table.loc["now", "congruent"]
    assert table.loc["now", "dominant_dominant_characteristics"] == "market"
    assert table.loc["now", "dominant_criteria_of_success"] == "hierarchy"
    assert table.loc["now", "spread_market"] == pytest.approx(40 - 25)  # dims 2-6: (20 + 30) / 2 = 25
    assert table.loc["now", "spread_hierarchy"] == pytest.approx(50 - 35)
    assert table.loc["now", "spread_clan"] == pytest.approx(0)
    assert table.loc["preferred", "congruent"]  # clan 35 leads in all six
    assert table.loc["preferred", "spread_clan"] == pytest.approx(0)


def test_discrepancy_by_hand_and_the_rule_of_thumb():
    table = ocai.discrepancy_table(ocai.profile_table(ocai.validate(answers(TWO)))).set_index("type")
    # preferred - now: clan 35-15 = 20, adhocracy 25-10 = 15, market 20-27.5 = -7.5, hierarchy 20-47.5 = -27.5
    assert table["difference"].to_dict() == pytest.approx(
        {"clan": 20, "adhocracy": 15, "market": -7.5, "hierarchy": -27.5})
    assert table["flag"].to_dict() == {"clan": True, "adhocracy": True, "market": False, "hierarchy": True}
    assert table.loc["hierarchy", "direction"] == "decrease"
    assert any("rule of thumb" in n for n in table.attrs["notes"])
    exactly_ten = ocai.discrepancy_table(ocai.profile_table(ocai.validate(answers(TWO))), threshold=15)
    assert exactly_ten.set_index("type").loc["adhocracy", "flag"]  # reaching the threshold is flagged


def test_a_99_point_row_is_rejected_with_respondent_dimension_and_sum():
    bad = dict(TWO)
    bad[("r2", "now")] = [(20, 10, 30, 39)] + R2_NOW[1:]
    with pytest.raises(ocai.OcaiError) as info:
        ocai.validate(answers(bad), mode="reject", source="ocai.csv")
    (problem,) = info.value.problems
    assert "respondent r2" in problem.message and "dominant_characteristics" in problem.message
    assert "sum to 99" in problem.message and problem.file == "ocai.csv"
    assert "validation: reject" in str(info.value)


def test_a_99_point_row_is_rescaled_and_recorded():
    bad = dict(TWO)
    bad[("r2", "now")] = [(20, 10, 30, 39)] + R2_NOW[1:]
    scores = ocai.validate(answers(bad), mode="rescale")
    assert scores.rescaled == [{"respondent": "r2", "view": "now", "dimension": "dominant_characteristics",
                                "sum": 99.0}]
    row = scores.table[(scores.table["respondent"] == "r2") & (scores.table["dimension"] == D[0])
                       & (scores.table["view"] == "now")].iloc[0]
    assert row["hierarchy"] == pytest.approx(39 * 100 / 99)
    assert row[list(ocai.TYPES)].sum() == pytest.approx(100)
    assert any("rescaled" in n for n in scores.notes)


def test_every_kind_of_bad_answer_is_reported_at_once():
    table = answers(TWO).astype({"B": object})
    table.loc[0, "A"] = -5
    table.loc[1, "view"] = "later"
    table.loc[2, "B"] = "ten"
    table = table.drop(index=[5])  # rows 0-5 are r1 now: it loses criteria_of_success
    with pytest.raises(ocai.OcaiError) as info:
        ocai.validate(table, mode="rescale")
    messages = [p.message for p in info.value.problems]
    assert any("clan must be a number" in m for m in messages)
    assert any("view must be now or preferred" in m for m in messages)
    assert any("adhocracy must be a number" in m for m in messages)
    assert any("missing dimension" in m for m in messages)


def test_zero_row_cannot_be_rescaled_and_duplicates_are_refused():
    table = answers(TWO)
    table.loc[0, ["A", "B", "C", "D"]] = 0
    table = pd.concat([table, table.iloc[[3]]], ignore_index=True)
    with pytest.raises(ocai.OcaiError) as info:
        ocai.validate(table, mode="rescale")
    messages = [p.message for p in info.value.problems]
    assert any("cannot be rescaled" in m for m in messages)
    assert any("given twice" in m for m in messages)


def test_groups_by_an_attribute():
    attributes = pd.DataFrame({"respondent": ["r1", "r2"], "body": ["central", "local"]})
    profiles = ocai.profile_table(ocai.validate(answers(TWO)), attributes=attributes, by="body")
    assert mean_of(profiles, group="central", view="now", type="hierarchy") == pytest.approx(55)
    assert mean_of(profiles, group="local", view="now", type="market") == pytest.approx(30)
    assert math.isnan(profiles["ci_low"].iloc[0])  # one respondent per group: no interval
    with pytest.raises(ocai.OcaiError, match="no respondent attribute 'region'"):
        ocai.profile_table(ocai.validate(answers(TWO)), attributes=attributes, by="region")


def test_ties_are_reported_not_hidden():
    tie = {("r1", "now"): [(40, 10, 40, 10)] * 6, ("r1", "preferred"): [(25, 25, 25, 25)] * 6}
    dominant = ocai.dominant_table(ocai.profile_table(ocai.validate(answers(tie)))).set_index("view")
    assert dominant.loc["now", "dominant"] == "clan+market" and dominant.loc["now", "margin"] == 0
    assert dominant.loc["preferred", "dominant"] == "clan+adhocracy+market+hierarchy"
    assert not ocai.congruence_table(ocai.validate(answers(tie))).set_index("view").loc["now", "congruent"]
