"""Charts: Figure-1-style bars with intervals and the denominator; offline PNG/SVG."""


import pandas as pd
import pytest

from coding.charts import chart_to_png, chart_to_svg, code_respondent_heatmap, share_bar_chart
from coding.shares import case_code_matrix, crosstab, share_table


@pytest.fixture()
def data():
    people = pd.DataFrame({"respondent": [f"R{i:02d}" for i in range(1, 25)],
                           "group": ["internal"] * 12 + ["external"] * 12})
    codings = pd.DataFrame([(f"R{i:02d}", "ann", "systemic") for i in range(1, 8)]
                           + [(f"R{i:02d}", "ann", "resistance") for i in range(13, 16)],
                           columns=["respondent", "coder", "code"])
    labels = {"systemic": "Systematic approach", "resistance": "Resistance to change"}
    return people, codings, labels


def _layers(spec):
    return spec.get("layer", [])


def test_share_bar_chart_spec_has_labels_percentages_intervals_and_n(data):
    people, codings, labels = data
    table = share_table(people, codings, codes=["systemic", "resistance"], labels=labels)
    spec = share_bar_chart(table, title="Reform directions").to_dict()
    assert spec["title"]["text"] == "Reform directions"
    assert spec["title"]["subtitle"] == ["n = 24 respondents", "lines: Wilson 95% confidence interval"]
    marks = [layer["mark"]["type"] for layer in _layers(spec)]
    assert marks == ["bar", "rule", "text"]
    bar, rule, text = _layers(spec)
    assert bar["encoding"]["y"]["sort"] == ["Systematic approach", "Resistance to change"]  # as given
    assert rule["encoding"]["x"]["field"] == "ci_low" and rule["encoding"]["x2"]["field"] == "ci_high"
    values = next(iter(spec["datasets"].values()))
    assert [v["bar_text"] for v in values] == ["29.2%", "12.5%"]


def test_grouped_chart_from_crosstab(data):
    people, codings, labels = data
    table = crosstab(people, codings, by="group", codes=["systemic", "resistance"], labels=labels)
    spec = share_bar_chart(table, by="group").to_dict()
    assert "by group: internal (n = 12), external (n = 12)" in spec["title"]["subtitle"][0]
    bar = _layers(spec)[0]
    assert bar["encoding"]["color"]["field"] == "group"
    assert bar["encoding"]["yOffset"]["field"] == "group"
    with pytest.raises(ValueError, match="missing"):
        share_bar_chart(table.drop(columns=["group_n"]), by="group")


def test_heatmap_covers_every_respondent(data):
    people, codings, _ = data
    spec = code_respondent_heatmap(case_code_matrix(people, codings)).to_dict()
    assert spec["mark"]["type"] == "rect"
    values = next(iter(spec["datasets"].values()))
    assert len(values) == 24 * 2
    assert sum(v["coded"] for v in values) == 10


def test_png_and_svg_render_offline(data):
    people, codings, labels = data
    chart = share_bar_chart(share_table(people, codings, labels=labels))
    png = chart_to_png(chart)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    svg = chart_to_svg(chart)
    assert "<svg" in svg and "29.2%" in svg and "n = 24 respondents" in svg
