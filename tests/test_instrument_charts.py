"""The instrument charts: kite, sector bars, closed-question bars (specs and offline rendering)."""

from __future__ import annotations

import pandas as pd
import pytest

from coding import instrument_charts, ocai, scales
from coding.charts import chart_to_svg

D = ocai.DIMENSIONS


def scores():
    rows = []
    for respondent, now, preferred in (("r1", (10, 10, 20, 60), (30, 30, 20, 20)),
                                       ("r2", (20, 10, 30, 40), (40, 20, 20, 20))):
        for view, values in (("now", now), ("preferred", preferred)):
            for dimension in D:
                rows.append({"respondent": respondent, "view": view, "dimension": dimension,
                             **dict(zip(ocai.TYPES, values))})
    return ocai.validate(pd.DataFrame(rows))


def layer_values(spec: dict, mark: str) -> list[dict]:
    datasets = spec["datasets"]
    for layer in spec["layer"]:
        kind = layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
        if kind == mark and "point" in mark:
            return datasets[layer["data"]["name"]]
    raise AssertionError(mark)


def test_the_kite_fills_its_chart():
    """The outer ring's corners lie on the diagonals; the axes reach only a little past them (room for the names)."""
    spec = instrument_charts.kite_chart(ocai.profile_table(scores())).to_dict()
    outer = max(ring["x"] for ring in spec["datasets"][spec["layer"][0]["data"]["name"]])
    reach = spec["layer"][0]["encoding"]["x"]["scale"]["domain"][1]
    assert outer / reach > 0.7, (outer, reach)
    assert spec["width"] == spec["height"] >= 450


def test_kite_places_each_type_on_its_quadrant_at_its_mean():
    profiles = ocai.profile_table(scores())
    spec = instrument_charts.kite_chart(profiles).to_dict()
    points = {(p["view"], p["type"]): p for p in layer_values(spec, "point")}
    hierarchy = points[("now", "hierarchy")]  # mean 50, bottom left
    assert hierarchy["mean"] == 50.0 and hierarchy["x"] == pytest.approx(-50 / 2**0.5)
    assert hierarchy["y"] == pytest.approx(-50 / 2**0.5)
    clan = points[("preferred", "clan")]  # mean 35, top left
    assert clan["x"] < 0 < clan["y"] and (clan["x"] ** 2 + clan["y"] ** 2) ** 0.5 == pytest.approx(35)
    assert "n = 2 respondents" in spec["title"]["subtitle"][0] and "ipsative" in spec["title"]["subtitle"][1]
    assert "<svg" in chart_to_svg(instrument_charts.kite_chart(profiles))


def test_kite_per_dimension_needs_a_dimension_and_the_grid_draws_six():
    per_dimension = ocai.profile_table(scores(), per_dimension=True)
    with pytest.raises(ValueError, match="needs dimension="):
        instrument_charts.kite_chart(per_dimension)
    one = instrument_charts.kite_chart(per_dimension, dimension=D[0]).to_dict()
    assert "dominant characteristics" in one["title"]["text"]
    grid = instrument_charts.kite_grid(per_dimension).to_dict()
    assert sum(len(row["hconcat"]) for row in grid["vconcat"]) == 6
    grouped = ocai.profile_table(scores(), attributes=pd.DataFrame({"respondent": ["r1", "r2"], "b": ["x", "y"]}),
                                 by="b")
    with pytest.raises(ValueError, match="several groups"):
        instrument_charts.kite_chart(grouped)
    assert instrument_charts.kite_chart(grouped, group="x").to_dict()["title"]["subtitle"][0].startswith("n = 1")


def test_sector_chart_marks_the_bottleneck_red():
    instrument = scales.parse_instrument(
        "id: d\nsectors:\n  - id: work\n    statements:\n      - {id: w1, text: a}\n"
        "  - id: management\n    statements:\n      - {id: m1, text: b}\n")
    ratings = scales.validate_ratings(instrument, pd.DataFrame(
        {"respondent": ["a", "a", "b", "b"], "statement": ["w1", "m1", "w1", "m1"], "rating": [7, 3, 8, 4]}))
    spec = instrument_charts.sector_chart(scales.sector_table(instrument, ratings)).to_dict()
    bars = next(layer for layer in spec["layer"] if layer["mark"] in ("bar", {"type": "bar"}))
    values = {row["sector"]: row["state"] for row in spec["datasets"][spec["data"]["name"]]}
    assert values == {"work": "not a bottleneck", "management": "bottleneck (below 4)"}
    assert bars["encoding"]["color"]["scale"]["range"][0] == instrument_charts.BOTTLENECK_COLOR
    assert "<svg" in chart_to_svg(instrument_charts.sector_chart(scales.sector_table(instrument, ratings)))
