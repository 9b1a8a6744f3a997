"""The shares page (Figure 1) driven with AppTest on a copy of the sample database.

What the page shows is compared with :func:`coding.service.share_report` on the same database.
"""

from __future__ import annotations

import json

import pytest
from apptest import APP, ok, shown
from streamlit.testing.v1 import AppTest

from coding import service

PROJECT = "default"
FRAME = "reform_directions"


def shares_page(frame: str = FRAME) -> AppTest:
    at = ok(AppTest.from_file(str(APP), default_timeout=60).run())
    ok(at.switch_page("app_pages/shares.py").run())
    assert at.title[0].value == "Shares of respondents"
    at.selectbox(key="frame").set_value(frame).run()
    return ok(at)


def share_table(at: AppTest):
    return at.dataframe[0].value.set_index("code")


def test_figure_1_share_of_the_systemic_approach_is_7_of_24(app_engine):
    at = shares_page()
    table = share_table(at)
    assert table.loc["rd_systemic_approach", "display"] == "7/24 = 29.2%"
    expected = service.share_report(app_engine, PROJECT, frame=FRAME).table.set_index("code")
    assert list(table["display"]) == list(expected["display"])
    assert table["ci_low"].to_numpy() == pytest.approx(expected["ci_low"].to_numpy())
    # α is text: 3 decimals, or "—" with the reason beside it (issue 27), never "None"
    assert list(table["agreement"]) == [f"{a:.3f}" if a == a else "—" for a in expected["agreement"]]
    caption = "\n".join(c.value for c in at.caption)
    assert "n = **24** respondents: every respondent in scope, including those with no coding" in caption
    assert "**consensus**'s codings" in caption


def test_the_downloads_are_offered(app_engine):
    at = shares_page()
    buttons = {b.label: b for b in at.get("download_button")}
    assert set(buttons) == {"Chart (PNG)", "Chart (SVG)", "Table (CSV)", "Workbook (XLSX)"}
    bars, heatmap = (json.loads(c.proto.spec) for c in at.get("vega_lite_chart"))
    assert bars["title"]["text"] == "Directions for reforming the civil service"
    assert "n = 24 respondents" in bars["title"]["subtitle"]
    assert bars["autosize"]["type"] == "pad"  # Streamlit's default sizing squeezed the bars together
    assert heatmap["title"]["subtitle"] == ["n = 24 respondents"]


def test_by_attribute_shows_the_crosstab_and_flags_small_groups(app_engine):
    at = shares_page()
    at.selectbox(key="by").set_value("expert_group").run()
    ok(at)
    cross = service.share_report(app_engine, PROJECT, frame=FRAME, by="expert_group").crosstab
    shown = at.dataframe[1].value.set_index("Code")
    row = cross[cross["code"] == "rd_systemic_approach"]
    label = row["label"].iloc[0]
    for group, size, display, small in zip(row["group"], row["group_n"], row["display"], row["small"]):
        cell = shown.loc[label, f"{group} (n = {size})"]
        assert cell == (f"{display} †" if small else display)
    assert shown.loc[label, "public administration (n = 8)"] == "3/8 = 37.5%"
    styles = at.dataframe[1].proto.arrow_data.styler.styles
    assert "#fdf0ef" in styles  # small groups are shaded
    assert "small group (fewer than 5 respondents)" in "\n".join(c.value for c in at.caption)


def test_choosing_a_coder_counts_that_coders_codings(app_engine):
    at = shares_page()
    at.selectbox(key="coder_shares").set_value("aigerim").run()
    ok(at)
    expected = service.share_report(app_engine, PROJECT, frame=FRAME, coder="aigerim").table
    assert list(share_table(at)["display"]) == list(expected["display"])
    assert "**aigerim**'s codings" in "\n".join(c.value for c in at.caption)


def test_a_frame_nobody_coded_shows_zero_shares_and_a_coder_without_codings_gets_the_librarys_message(app_engine):
    at = shares_page("cs_values")  # the sample corpus codes no values of a civil servant
    ok(at)
    assert "nobody has coded frame 'cs_values' yet" in "\n".join(shown(w.value) for w in at.warning)
    assert set(share_table(at)["display"]) == {"0/24 = 0.0%"}  # the denominator is still every respondent

    at = shares_page()
    at.selectbox(key="coder_shares").set_value("supervisor").run()
    ok(at)
    assert "coder 'supervisor' has no codings in frame 'reform_directions'" in "\n".join(shown(e.value) for e in at.error)
