"""The agreement & adjudication page driven with AppTest, each test on its own copy of the sample database.

What the page shows is compared with :mod:`coding.service` on the same database, and what the
page's buttons do is checked in the database through the service.
"""

from __future__ import annotations

import pytest
from apptest import APP, by_prefix, ok, shown, texts
from streamlit.testing.v1 import AppTest

from coding import service
from coding.errors import PermissionDenied

PROJECT = "default"
FRAME = "reform_directions"
N_BOOT = 200


def agreement_page(coder: str | None = None, tab: str | None = None) -> AppTest:
    """The app on the agreement page, as ``coder`` (chosen in the sidebar), on ``tab``."""
    at = ok(AppTest.from_file(str(APP), default_timeout=60).run())
    if coder is not None:
        next(s for s in at.sidebar.selectbox if s.label == "Coder").set_value(coder).run()
        ok(at)
    ok(at.switch_page("app_pages/agreement.py").run())
    assert at.title[0].value == "Agreement & adjudication"
    at.selectbox(key="frame").set_value(FRAME).run()
    if tab is not None:
        at.session_state["tab"] = tab
        at.run()
    return ok(at)


def code_tables(at: AppTest) -> list:
    """The per-code agreement tables shown (the coverage tables next to them have no code column)."""
    return [d.value for d in at.dataframe if "code" in d.value.columns]


def assert_table_matches(shown, report) -> None:
    expected = report.table.set_index("code")
    shown = shown.set_index("code")
    assert list(shown.index) == list(expected.index)
    for column in ("n_units", "percent_agreement", "cohen_kappa", "alpha", "alpha_low", "alpha_high"):
        assert shown[column].to_numpy() == pytest.approx(expected[column].to_numpy(), nan_ok=True), column


# --------------------------------------------------------------------------- dashboard


def test_the_table_matches_the_service_at_segment_and_respondent_level(app_engine):
    at = agreement_page()
    at.number_input(key="_ag_boot").set_value(N_BOOT).run()
    segment = service.agreement_report(app_engine, PROJECT, frame=FRAME, unit="segment", n_boot=N_BOOT)
    respondent = service.agreement_report(app_engine, PROJECT, frame=FRAME, unit="respondent", n_boot=N_BOOT)

    assert at.radio(key="_ag_unit").value == "segment"
    main, seg_side, resp_side = code_tables(at)
    assert_table_matches(main, segment)
    # the side-by-side tables carry both units at once
    assert_table_matches(seg_side, segment)
    assert_table_matches(resp_side, respondent)
    assert main.set_index("code").loc["rd_resistance_to_change", "reading"] == "tentative"
    assert main.set_index("code").loc["rd_systemic_approach", "reading"] == "reliable"
    overall = {m.label: m.value for m in at.metric}
    assert overall["Krippendorff's α"] == f"{segment.overall['alpha'].value:.3f}"
    assert overall["Cohen's κ"] == f"{segment.overall['cohen_kappa'].value:.3f}"

    at.radio(key="_ag_unit").set_value("respondent").run()
    ok(at)
    assert_table_matches(code_tables(at)[0], respondent)
    # at the respondent level the overall figures are undefined, and the page says why
    assert not respondent.overall["alpha"].defined
    assert {m.label: m.value for m in at.metric}["Krippendorff's α"] == "—"
    assert respondent.overall["alpha"].reason in texts(at)


def test_the_alpha_cells_are_coloured_by_krippendorffs_bands(app_engine):
    at = agreement_page()
    at.number_input(key="_ag_boot").set_value(0).run()
    styles = ok(at).dataframe[0].proto.arrow_data.styler.styles
    assert "#dff3e4" in styles  # reliable (green): e.g. rd_systemic_approach, alpha 0.901
    assert "#fff0d1" in styles  # tentative (amber): rd_resistance_to_change, alpha 0.749


def test_a_level_the_codes_cannot_carry_leaves_the_overall_figures_undefined_with_the_reason(app_engine):
    at = agreement_page()
    at.selectbox(key="_ag_level").set_value("ordinal").run()
    ok(at)
    assert not at.error
    texts = [shown(m.value) for m in at.markdown] + [shown(c.value) for c in at.caption] + [shown(w.value) for w in at.warning]
    assert any("needs numeric codes" in t for t in texts)
    assert at.dataframe  # the per-code table is still shown


# --------------------------------------------------------------------------- disagreements & adjudication


def details(engine) -> dict[int, dict]:
    return {d["segment_id"]: d for d in service.disagreement_details(engine, PROJECT, frame=FRAME)}


def test_taking_a_coders_decision_sets_the_consensus(app_engine):
    before = details(app_engine)
    segment_id, item = next((s, d) for s, d in before.items()
                            if d["coders"]["aigerim"] and set(d["coders"]["aigerim"]) != set(d["consensus"]))
    at = agreement_page("supervisor", "Disagreements")
    assert f"{len(before)} units" in texts(at)
    assert item["text"] in texts(at)

    by_prefix(at.button, f"_take_{segment_id}_aigerim_").click().run()
    ok(at)
    assert set(details(app_engine)[segment_id]["consensus"]) == set(item["coders"]["aigerim"])
    assert "Consensus set to aigerim's decision" in texts(at)
    history = service.history(app_engine, PROJECT)
    assert "took aigerim's decision" in set(history["reason"].dropna())
    # the button now shows that the consensus already is aigerim's decision
    assert by_prefix(at.button, f"_take_{segment_id}_aigerim_").disabled


def test_a_new_decision_needs_a_reason_and_then_replaces_the_consensus(app_engine):
    segment_id, item = next(iter(details(app_engine).items()))
    at = agreement_page("supervisor", "Disagreements")
    by_prefix(at.multiselect, f"_pick_{segment_id}_").set_value(["rd_systemic_approach"]).run()
    by_prefix(at.button, f"_decide_{segment_id}_").click().run()
    ok(at)
    assert "an adjudication needs a reason" in "\n".join(shown(e.value) for e in at.error)
    assert details(app_engine)[segment_id]["consensus"] == item["consensus"]

    by_prefix(at.text_input, f"_reason_{segment_id}_").input("the segment calls for a systemic reform").run()
    by_prefix(at.button, f"_decide_{segment_id}_").click().run()
    ok(at)
    assert set(details(app_engine)[segment_id]["consensus"]) == {"rd_systemic_approach"}
    assert "the segment calls for a systemic reform" in set(service.history(app_engine, PROJECT)["reason"].dropna())


def test_an_exclusive_frame_offers_one_code_for_a_new_decision(app_engine):
    frame = "contract_service"
    (item,) = service.disagreement_details(app_engine, PROJECT, frame=frame)
    segment_id = item["segment_id"]
    assert set(item["consensus"]) == {"cs_evolutionary"}
    at = agreement_page("supervisor", "Disagreements")
    at.selectbox(key="frame").set_value(frame).run()
    ok(at)
    assert not [w for w in at.multiselect if (w.key or "").startswith("_pick_")]
    by_prefix(at.selectbox, f"_pick_{segment_id}_").set_value("cs_progressive").run()
    by_prefix(at.text_input, f"_reason_{segment_id}_").input("the progressive path is the one argued for").run()
    by_prefix(at.button, f"_decide_{segment_id}_").click().run()
    ok(at)
    (after,) = service.disagreement_details(app_engine, PROJECT, frame=frame)
    assert set(after["consensus"]) == {"cs_progressive"}


def test_many_disagreements_are_paginated(app_engine):
    doc = next(d.id for d in service.list_documents(app_engine, PROJECT) if d.name == "R04")
    view = service.document_view(app_engine, PROJECT, doc, viewer="supervisor")
    uncoded = [s.id for s in view.segments if s.is_unit and not s.codings][:8]
    for segment_id in uncoded:  # aigerim alone codes them: eight more disagreements
        service.add_coding(app_engine, PROJECT, segment_id=segment_id, code="rd_delegation", coder="aigerim")
    every = service.disagreement_details(app_engine, PROJECT, frame=FRAME)
    assert len(every) > 10
    at = agreement_page("supervisor", "Disagreements")
    assert at.pagination[0].num_pages == 2
    assert len([b for b in at.button if (b.key or "").startswith("_decide_")]) == 10
    at.pagination[0].set_value(2).run()
    ok(at)
    shown = sorted(int(b.key.split("_")[2]) for b in at.button if (b.key or "").startswith("_decide_"))
    assert shown == sorted(d["segment_id"] for d in every[10:])
    assert f"showing 11–{len(every)}" in texts(at)


def test_a_coder_cannot_see_the_disagreements(app_engine):
    at = agreement_page("aigerim", "Disagreements")
    # the page says so instead of offering what the facade would refuse
    assert "Adjudication is for a supervisor or an admin; you are aigerim (coder)." in [i.value for i in at.info]
    assert not at.error
    assert not [b for b in at.button if (b.key or "").startswith("_take_")]


# --------------------------------------------------------------------------- coder drift


def test_drift_shows_the_services_table(app_engine):
    at = agreement_page("supervisor", "Coder drift")
    drift = service.coder_drift(app_engine, PROJECT, frame=FRAME, period="W")
    shown = at.dataframe[0].value
    assert list(shown["coder"]) == list(drift["coder"])
    assert shown["percent_agreement"].to_numpy() == pytest.approx(drift["percent_agreement"].to_numpy())


# --------------------------------------------------------------------------- double coding


def assign_documents(at: AppTest, documents: list[str]) -> AppTest:
    at.multiselect(key="_as_coders").set_value(["aigerim", "daniyar"]).run()
    at.radio(key="_as_mode").set_value("documents").run()
    at.multiselect(key="_as_documents").set_value(documents).run()
    at.button(key="_as_assign").click().run()
    return ok(at)


def test_a_supervisor_assigns_and_releases_double_coding(app_engine):
    at = assign_documents(agreement_page("supervisor", "Double coding"), ["R01", "R02"])
    assignments = service.list_assignments(app_engine, PROJECT)
    assert sorted(zip(assignments["document"], assignments["coder"])) == [
        ("R01", "aigerim"), ("R01", "daniyar"), ("R02", "aigerim"), ("R02", "daniyar")]
    assert not assignments["released"].any()
    assert "2 document(s) put under blind double coding: R01, R02" in texts(at)
    assert len(at.dataframe[0].value) == 4

    at.button(key="_as_release").click().run()
    ok(at)
    assert service.list_assignments(app_engine, PROJECT)["released"].all()
    assert "Released 4 assignment(s)" in texts(at)


def test_a_random_share_of_respondents_is_drawn_with_the_seed(app_engine):
    at = agreement_page("supervisor", "Double coding")
    at.multiselect(key="_as_coders").set_value(["aigerim", "daniyar"]).run()
    at.slider(key="_as_fraction").set_value(0.25).run()
    at.button(key="_as_assign").click().run()
    ok(at)
    documents = sorted(set(service.list_assignments(app_engine, PROJECT)["document"]))
    assert len(documents) == 6  # a quarter of the 24 respondents, one transcript each
    assert f"6 document(s) put under blind double coding: {', '.join(documents)}" in texts(at)


def test_a_coder_is_refused_assignment(app_engine):
    at = agreement_page("aigerim", "Double coding")
    # the page says so instead of offering buttons the facade would refuse
    assert ("Assigning and releasing double coding is for a supervisor or an admin; you are aigerim (coder)."
            in [i.value for i in at.info])
    assert not at.multiselect and not [b for b in at.button if "ssign" in (b.label or "")]
    with pytest.raises(PermissionDenied, match="aigerim is a coder: only supervisors and admins may do this"):
        service.assign_double_coding(app_engine, PROJECT, coders=["aigerim", "daniyar"], documents=["R01", "R02"],
                                     actor="aigerim")
    assert service.list_assignments(app_engine, PROJECT).empty


# --------------------------------------------------------------------------- issue 27, item 3


def test_respondent_level_overall_shows_masi_and_pooled_alpha_beside_the_undefined_figures(app_engine):
    at = agreement_page()
    at.number_input(key="_ag_boot").set_value(0).run()
    at.radio(key="_ag_unit").set_value("respondent").run()
    ok(at)
    report = service.agreement_report(app_engine, PROJECT, frame=FRAME, unit="respondent", n_boot=0)
    assert not report.overall["alpha"].defined  # respondents carry several codes of this frame
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Krippendorff's α"] == "—"
    assert metrics["α with the MASI distance (set-valued)"] == f"{report.overall['alpha_masi'].value:.3f}"
    assert metrics["α, per-code presence pooled"] == f"{report.overall['alpha_pooled'].value:.3f}"
    assert "Undefined overall figures: 7 unit-coder pair(s) carry several codes" in texts(at)


def test_shares_alpha_column_is_a_dash_with_reason_never_none(app_engine):
    at = ok(AppTest.from_file(str(APP), default_timeout=60).run())
    ok(at.switch_page("app_pages/shares.py").run())
    at.selectbox(key="frame").set_value("oecd_pslc").run()
    table = ok(at).dataframe[0].value
    undefined = table[table["agreement_reason"] != ""]
    assert len(undefined) and set(undefined["agreement"]) == {"—"}
    assert not table["agreement"].isna().any() and "None" not in set(table["agreement"])
