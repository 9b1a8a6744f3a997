"""The Instruments page driven with AppTest on a copy of the sample database."""

from __future__ import annotations

import pytest
from apptest import APP, ok, texts
from streamlit.testing.v1 import AppTest

from coding import service

PROJECT = "default"


def instruments_page() -> AppTest:
    at = ok(AppTest.from_file(str(APP), default_timeout=90).run())
    ok(at.switch_page("app_pages/instruments.py").run())
    assert at.title[0].value == "Instruments"
    return at


def test_ocai_tab_shows_the_sample_profile_and_the_ipsative_note(app_engine):
    at = instruments_page()
    shown = texts(at)
    assert "n = **30** respondents" in shown and "Validation: reject. Every dimension" in shown
    assert "ipsative" in shown and "rule of thumb" in shown
    dominant = at.dataframe[0].value.set_index("view")
    assert dominant.loc["now", "dominant"] == "hierarchy" and dominant.loc["preferred", "dominant"] == "clan"
    expected = service.ocai_report(app_engine, PROJECT)
    discrepancy = at.dataframe[2].value
    assert discrepancy["difference"].to_numpy() == pytest.approx(expected.discrepancy["difference"].to_numpy())
    names = [b.proto.label for b in at.get("download_button")]
    assert "Chart (PNG)" in names and "Workbook (XLSX)" in names


def test_the_validation_mode_is_a_sentence_not_an_alert(app_engine):
    at = instruments_page()
    alerts = [e.value for e in (*at.info, *at.warning, *at.error)]
    assert not any("validation" in a.lower() for a in alerts), alerts
    assert any(c.value.startswith("Validation: reject. Every dimension") for c in at.caption)


def test_the_kite_is_drawn_large(app_engine):
    import json

    kite = json.loads(instruments_page().get("vega_lite_chart")[0].proto.spec)
    assert kite["width"] >= 450 and kite["height"] >= 450, (kite.get("width"), kite.get("height"))


def test_tables_show_one_decimal_and_readable_headings(app_engine):
    import json

    at = instruments_page()
    for table in at.dataframe:
        config = json.loads(table.proto.columns or "{}")
        frame = table.value
        for column in frame.columns:
            if "_" in column:  # a raw name such as ci_low gets a heading
                shown = config.get(column, {}).get("label")
                assert shown and "_" not in shown, (column, config.get(column))
            if column == "dimension":  # the OCAI dimensions as words, not ids
                assert not frame[column].str.contains("_").any(), list(frame[column])
            if frame[column].dtype.kind == "f" and not frame[column].isna().all():
                assert config[column]["type_config"]["format"] == "%.1f", (column, config.get(column))


def test_ocai_by_body_draws_one_group(app_engine):
    at = instruments_page()
    at.selectbox(key="ocai_by").set_value("body").run()
    ok(at)
    assert at.selectbox(key="ocai_group").options == ["central", "local"]
    profiles = at.dataframe[4].value
    assert set(profiles["group"]) == {"central", "local"} and set(profiles["n"]) == {15}


def test_sector_tab_names_management_the_bottleneck(app_engine):
    at = instruments_page()
    shown = texts(at)
    assert "bottleneck (mean below 4): **Management**" in shown
    table = at.dataframe[5].value.set_index("sector")
    assert table.loc["management", "band"] == "decadent state" and table.loc["management", "bottleneck"]


def test_closed_questions_by_group(app_engine):
    at = instruments_page()
    at.selectbox(key="survey_question").set_value("integrity").run()
    table = at.dataframe[7].value.set_index("answer")
    assert table.loc["high", "display"] == "7370/11000 = 67.0%"
    at.selectbox(key="survey_by").set_value("body").run()
    ok(at)
    crossed = at.dataframe[7].value
    assert set(crossed["group"]) == {"central", "local"}
    assert crossed.groupby("group")["group_n"].first().sum() == 11000


def test_import_tab_offers_reject_or_rescale_for_ocai(app_engine):
    at = instruments_page()
    at.radio(key="import_kind").set_value("OCAI answers").run()
    ok(at)
    assert at.radio(key="ocai_mode").options == ["reject", "rescale"]
    assert at.radio(key="ocai_mode").value == "reject"  # the safe default: nothing half-imported
    assert len(service.list_documents(app_engine, PROJECT)) == 24
