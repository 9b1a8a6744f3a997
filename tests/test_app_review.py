"""Issue 14 on the pages (AppTest, each test on its own copy of the sample database)."""

from __future__ import annotations

import io

import openpyxl
from apptest import APP, by_prefix, ok, shown, texts
from streamlit.testing.v1 import AppTest

from coding import service

P = "default"
FRAME = "reform_directions"
FIGURE_1 = ["7/24 = 29.2%", "3/24 = 12.5%", "4/24 = 16.7%", "2/24 = 8.3%", "2/24 = 8.3%"]


def page(name: str, coder: str | None = None, **state) -> AppTest:
    at = ok(AppTest.from_file(str(APP), default_timeout=60).run())
    if coder is not None:
        at.selectbox(key="_coder_pick").set_value(coder).run()
    for key, value in state.items():
        at.session_state[key] = value
    return ok(at.switch_page(f"app_pages/{name}.py").run())


def units(engine, document: str) -> list[int]:
    doc = next(d for d in service.list_documents(engine, P) if d.name == document)
    return [s.id for s in service.document_view(engine, P, doc.id, viewer="supervisor").segments if s.is_unit]


def pilots(engine) -> None:
    """A third and a fourth coder tick a few units of R01 and R07."""
    for name in ("pilot", "trainee"):
        service.ensure_coder(engine, P, name)
    r01, r07 = units(engine, "R01"), units(engine, "R07")
    service.add_coding(engine, P, segment_id=r01[0], code="rd_systemic_approach", coder="pilot")
    service.add_coding(engine, P, segment_id=r01[1], code="rd_delegation", coder="pilot")
    service.add_coding(engine, P, segment_id=r07[0], code="rd_human_capital", coder="trainee")


def cards(at: AppTest) -> list[str]:
    return [h.proto.body.split("</div>")[0] for h in at.html if 'class="cf-dis-head"' in h.proto.body]


# --------------------------------------------------------------------------- items 1, 2, 9 (numbering)


def test_disagreements_tab_keeps_the_sample_pairs_with_four_coders(app_engine):
    pilots(app_engine)
    at = page("agreement", "supervisor", tab="Disagreements", frame=FRAME)
    shown = texts(at)
    assert "**7 units** where the coders' decisions differ" in shown
    assert "7 disagreement(s) in 602 units compared (covered by at least two of aigerim (602 units), " \
           "daniyar (602 units))" in shown
    assert [c.split(">")[1].split(" ·")[0] for c in cards(at)] == ["R05", "R06", "R07", "R08", "R11", "R13", "R22"]
    at.multiselect(key="_dis_coders").set_value(["aigerim", "daniyar", "pilot", "trainee"]).run()
    ok(at)
    heads = [c.split(">")[1] for c in cards(at)]
    assert any(h.startswith("R01 ·") for h in heads) and any(h.startswith("R05 ·") for h in heads)
    assert "pilot (" in texts(at) and "trainee (" in texts(at)


def test_a_nothing_applies_decision_shows_decided_and_is_counted(app_engine):
    report = service.disagreement_report(app_engine, P, frame=FRAME, show="undecided")
    item = next(i for i in report.items if any(not codes for codes in i["coders"].values()))
    empty = next(name for name, codes in item["coders"].items() if not codes)
    at = page("agreement", "supervisor", tab="Disagreements", frame=FRAME)
    assert f"{report.decided} decided, {report.total - report.decided} undecided" in texts(at)
    by_prefix(at.button, f"_take_{item['segment_id']}_{empty}_").click().run()
    ok(at)
    assert f"Consensus set to {empty}'s decision: no code of this frame." in texts(at)
    assert "decided: no code of this frame" in texts(at)
    assert f"{report.decided + 1} decided, {report.total - report.decided - 1} undecided" in texts(at)
    assert by_prefix(at.button, f"_take_{item['segment_id']}_{empty}_").disabled
    at.radio(key="_dis_show").set_value("undecided").run()
    assert not any(f"id {item['segment_id']}<" in c for c in cards(ok(at)))
    at.radio(key="_dis_show").set_value("decided").run()
    assert any(f"id {item['segment_id']}" in c for c in cards(ok(at)))


def test_adjudication_cards_number_units_as_the_coding_page_does(app_engine):
    at = page("agreement", "supervisor", tab="Disagreements", frame=FRAME)
    first = service.disagreement_report(app_engine, P, frame=FRAME).items[0]
    number = units(app_engine, first["document"]).index(first["segment_id"]) + 1
    assert f"{first['document']} · unit {number} · id {first['segment_id']}" in cards(at)[0]
    assert number != first["position"]  # the old card said "segment <position>"


# --------------------------------------------------------------------------- item 3


def test_the_consensus_is_never_offered_as_a_coder(app_engine):
    at = ok(AppTest.from_file(str(APP), default_timeout=60).run())
    assert "consensus" not in at.selectbox(key="_coder_pick").options
    assert "supervisor (supervisor)" in at.selectbox(key="_coder_pick").options
    at.text_input(key="_new_coder_name").input("consensus")
    next(b for b in at.button if b.label == "Add coder").click().run()
    assert "consensus is written only by adjudication; pick another name" in texts(ok(at))
    assert at.selectbox(key="_coder_pick").value is None


# --------------------------------------------------------------------------- item 4: one test per page


def blind(engine) -> None:
    service.update_settings(engine, P, blind_mode=True)


def test_blind_codebook_shows_only_the_coders_quotes_and_counts(app_engine):
    blind(app_engine)
    shown = texts(page("codebook", "aigerim"))
    assert "coded by aigerim" in shown and "coded by consensus" not in shown and "coded by daniyar" not in shown
    assert "only aigerim's own codings (blind mode)" in shown
    assert "coded by consensus" in texts(page("codebook", "supervisor"))


def test_blind_overview_counts_only_the_coders_codings(app_engine):
    blind(app_engine)
    at = page("overview", "aigerim")
    usage = next(d.value for d in at.dataframe if "codings" in d.value.columns and "label" in d.value.columns)
    mine = service.code_usage(app_engine, P, coders=["aigerim"])
    assert usage["codings"].sum() == mine["codings"].sum() < service.code_usage(app_engine, P)["codings"].sum()
    assert {m.label: m.value for m in at.metric}["Your codings"] == str(service.status(app_engine, P)
                                                                         .codings_by_coder["aigerim"])
    assert "Counted from aigerim's own codings (blind mode)." in texts(at)


def test_blind_shares_count_only_the_coders_codings(app_engine):
    blind(app_engine)
    at = page("shares", "aigerim", frame=FRAME)
    assert at.selectbox(key="coder_shares").options == ["aigerim"]
    assert "**aigerim**'s codings" in texts(at) and "**consensus**'s codings" not in texts(at)
    table = at.dataframe[0].value
    mine = service.share_report(app_engine, P, frame=FRAME, coder="aigerim").table
    assert table["display"].tolist() == mine["display"].tolist()
    assert "agreement" not in table.columns and table["coder_min"].isna().all()
    assert "**consensus**'s codings" in texts(page("shares", "supervisor", frame=FRAME))


def test_blind_agreement_page_shows_a_coder_no_comparison_with_others(app_engine):
    blind(app_engine)
    at = page("agreement", "aigerim", frame=FRAME)
    assert not at.dataframe and not at.metric
    assert "shown to supervisors only until blind mode is turned off" in texts(at)
    assert page("agreement", "supervisor", frame=FRAME).dataframe


# --------------------------------------------------------------------------- item 5


def test_agreement_table_shows_coverage_and_an_excluded_pilot_leaves_it(app_engine):
    pilots(app_engine)
    at = page("agreement", "supervisor", frame=FRAME)
    at.number_input(key="_ag_boot").set_value(0).run()
    fresh = at.dataframe[0].value.set_index("code")["alpha"].round(3)
    assert fresh["rd_systemic_approach"] == 0.901
    coverage = next(d.value for d in at.dataframe if "respondents" in d.value.columns)
    assert coverage["coder"].tolist() == ["aigerim", "daniyar"]
    at.multiselect(key="_ag_coders").set_value(["aigerim", "daniyar", "pilot"]).run()
    coverage = next(d.value for d in ok(at).dataframe if "respondents" in d.value.columns).set_index("coder")
    assert (coverage.loc["pilot", "respondents"], coverage.loc["pilot", "codings"]) == (1, 2)
    settings = page("settings", "supervisor")
    settings.multiselect(key="_ex_coders").set_value(["pilot"]).run()
    settings.text_input(key="_ex_reason").input("training coder").run()
    settings.button(key="_ex_save").click().run()
    assert "Excluded coder pilot." in texts(ok(settings))
    assert service.exclusions(app_engine, P)["coder"] == ["pilot"]
    again = page("agreement", "supervisor", frame=FRAME)
    assert "Excluded from reliability (Settings): pilot." in texts(again)


# --------------------------------------------------------------------------- item 6


def test_shares_of_a_partly_coded_frame_warn_and_offer_the_covered_denominator(app_engine):
    at = page("shares", frame="oecd_pslc")
    line = "consensus coded this frame for 10 of 24 respondents"
    assert any(line in shown(w.value) for w in at.warning)
    assert at.dataframe[0].value.iloc[0]["display"] == "8/24 = 33.3%"
    assert at.radio(key="_sh_denominator").value == "all"
    at.radio(key="_sh_denominator").set_value("covered").run()
    ok(at)
    assert at.dataframe[0].value.iloc[0]["display"] == "8/10 = 80.0%"
    assert "the respondents consensus covered in this frame" in texts(at)
    import json

    bars = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert line in bars["title"]["subtitle"]
    full = page("shares", frame=FRAME)
    assert not full.warning and "consensus coded this frame for 24 of 24 respondents" in texts(full)


# --------------------------------------------------------------------------- item 7


def test_settings_exclude_then_remove_pilot_documents(app_engine, tmp_path):
    files = []
    for name in ("P01", "P02"):
        path = tmp_path / f"{name}.txt"
        path.write_text(f"Interviewer: Why?\n\nRespondent: {name} says we need a systematic approach.\n")
        files.append(path)
    service.import_transcripts(app_engine, P, files)
    service.ensure_coder(app_engine, P, "pilot")
    service.add_coding(app_engine, P, segment_id=units(app_engine, "P01")[0], code="rd_systemic_approach",
                       coder="pilot")
    assert page("shares", frame=FRAME).dataframe[0].value.iloc[0]["display"] == "7/26 = 26.9%"
    at = page("settings", "supervisor")
    at.multiselect(key="_ex_documents").set_value(["P01", "P02"]).run()
    at.button(key="_ex_save").click().run()
    assert "Excluded document P01; excluded document P02." in texts(ok(at))
    assert page("shares", frame=FRAME).dataframe[0].value["display"].tolist() == FIGURE_1
    at.selectbox(key="_rm_document").set_value("P01").run()
    assert any("Removing P01 deletes its" in w.value and "1 codings (pilot 1)" in w.value for w in ok(at).warning)
    at.button(key="_rm_remove").click().run()  # not confirmed: nothing goes
    assert "not removed" in texts(ok(at)) and len(service.list_documents(app_engine, P)) == 26
    at.selectbox(key="_rm_document").set_value("P01").run()
    at.checkbox(key="_rm_confirm").check().run()
    at.button(key="_rm_remove").click().run()
    assert "Removed P01" in texts(ok(at)) and len(service.list_documents(app_engine, P)) == 25
    history = next(d.value for d in at.dataframe if "action" in d.value.columns)
    assert history["action"].tolist() == ["exclude", "exclude", "remove"]
    coder_at = page("settings", "aigerim")
    coder_at.multiselect(key="_ex_documents").set_value(["R01"]).run()
    coder_at.button(key="_ex_save").click().run()
    assert "only supervisors and admins" in texts(ok(coder_at))


# --------------------------------------------------------------------------- items 8 and 9


def test_crosstab_csv_is_the_crosstab_and_quotes_are_the_counted_coders(app_engine):
    at = page("shares", frame=FRAME)
    at.selectbox(key="by").set_value("expert_group").run()
    assert "Crosstab (CSV)" in {b.label for b in ok(at).get("download_button")}
    overall = service.share_report(app_engine, P, frame=FRAME)
    cross = service.share_report(app_engine, P, frame=FRAME, by="expert_group")
    text = service.share_csv(cross)
    assert text != service.share_csv(overall)
    header = text.splitlines()[0].split(",")
    assert {"group", "group_n", "coverage"} <= set(header)
    workbook = openpyxl.load_workbook(io.BytesIO(service.share_xlsx(overall)))
    rows = list(workbook["Quotes"].values)
    coder = rows[0].index("coder")
    assert {r[coder] for r in rows[1:]} == {"consensus"}


def test_spread_and_undefined_alpha_say_what_they_are(app_engine):
    at = page("shares", frame=FRAME)
    assert "Coders min/max: the share each of aigerim, daniyar would give" in texts(at)
    oecd = page("shares", frame="oecd_pslc").dataframe[0].value.set_index("code")
    assert oecd.loc["pslc_p1_values_culture", "agreement_reason"].startswith("parent code")
    shown = texts(page("codebook"))
    assert "every coder's codings together, the consensus included" in shown


def test_settings_remove_a_test_coder_after_confirmation(app_engine):
    pilots(app_engine)
    at = page("settings", "supervisor")
    at.selectbox(key="_rmc_coder").set_value("pilot").run()
    assert any("Removing coder pilot deletes their 2 codings" in w.value for w in ok(at).warning)
    at.checkbox(key="_rmc_confirm").check().run()
    at.button(key="_rmc_remove").click().run()
    assert "Removed coder pilot: 2 codings are gone." in texts(ok(at))
    assert "pilot" not in [c["name"] for c in service.list_coders(app_engine, P)]


def test_blind_suggestion_evidence_cites_only_the_coders_own_passages(app_engine, monkeypatch):
    """The coding page's 'why' under a suggestion, in blind mode: no consensus or other coder's passage."""
    import re

    import streamlit as st
    from test_app_suggestions import code_page, unit_suggestions
    from topics import WordHashing

    import coding.suggestions

    model = WordHashing()
    monkeypatch.setattr(service, "embedder_for", lambda engine, project=service.DEFAULT_PROJECT: model)
    # The word-hashing stand-in puts the coder's own passages below the 0.4 evidence cutoff that the real
    # model clears; this test is about whose passages are cited, so it shows every neighbour.
    monkeypatch.setattr(coding.suggestions, "MIN_EVIDENCE_SIMILARITY", 0.0)
    service.clear_suggestion_cache()
    st.cache_data.clear()
    st.cache_resource.clear()
    # she finished the frame, so her base rates keep suggestions few: take a unit whose suggestion cites some
    found = service.suggest(app_engine, P, frame="oecd_pslc", coder="aigerim", embedder=model)
    cited = next(s for s in found if s.evidence.neighbours)
    doc = cited.document_id
    # A consensus-only passage with the very text of that unit: the nearest coded passage there is.
    service.import_transcripts(app_engine, P, [("X01.txt", f"Interviewer: Why?\n\nRespondent: {cited.text}\n"
                                                .encode())])
    service.adjudicate(app_engine, P, segment_id=units(app_engine, "X01")[0], frame="oecd_pslc",
                       codes=[cited.code], actor="supervisor", reason="test")
    blind(app_engine)
    service.clear_suggestion_cache()
    at = code_page(doc, frames=["oecd_pslc"], coder="aigerim")
    shown = "\n".join(s["why"] for s in unit_suggestions(at, cited.segment_id))  # the view's "why" lines
    quoted = re.findall(r"closest coded: [^“]*?“(.*?)”", shown)
    assert quoted and "closest coded: X01" not in shown
    codings = service.export_codings_frame(app_engine, P, frame="oecd_pslc")
    own = [t for t in codings.loc[codings["coder"] == "aigerim", "text"]]
    for text in quoted:
        assert any(t.startswith(text.rstrip("…").rstrip()) for t in own), text
    service.clear_suggestion_cache()


# --------------------------------------------------------------------------- issue 27, item 1


def test_coder_pickers_do_not_offer_an_excluded_coder(app_engine):
    pilots(app_engine)
    assert service.set_excluded(app_engine, P, kind="coder", name="pilot", actor="supervisor")
    at = page("agreement", "supervisor", frame=FRAME, _ag_coders=["aigerim", "daniyar", "pilot"])
    assert "pilot" not in at.multiselect(key="_ag_coders").options
    assert at.multiselect(key="_ag_coders").value == ["aigerim", "daniyar"]  # a stale choice loses pilot
    assert "trainee" in at.multiselect(key="_ag_coders").options
    dis = page("agreement", "supervisor", tab="Disagreements", frame=FRAME)
    assert "pilot" not in dis.multiselect(key="_dis_coders").options
    assert "pilot (" not in texts(dis)
    shares = page("shares", "supervisor", frame=FRAME)
    assert "pilot" not in shares.selectbox(key="coder_shares").options
