"""The Codebook page's editing forms, driven with AppTest on a copy of the sample database."""

from __future__ import annotations

from apptest import APP, ok, texts
from streamlit.testing.v1 import AppTest

from coding import service

PROJECT = "default"


def codebook_page(coder: str | None = "aigerim") -> AppTest:
    at = ok(AppTest.from_file(str(APP), default_timeout=90).run())
    if coder is not None:
        ok(at.selectbox(key="_coder_pick").set_value(coder).run())
    at.switch_page("app_pages/codebook.py")
    return ok(at.run())


def submit(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    return ok(at.run())


def test_add_edit_merge_split_and_undo_from_the_page(app_engine):
    at = codebook_page()
    at.selectbox(key="_cbe_add_frame").set_value("reform_directions")
    at.text_input(key="_cbe_add_label").input("Digital tools")
    at.text_area(key="_cbe_add_def").input("Talk of IT systems.")
    at.text_input(key="_cbe_add_reason").input("pilot round")
    submit(at, "Add code")
    assert "Codebook version 1: added 'digital_tools'" in texts(at)
    assert service.project_codebook(app_engine, PROJECT).code("digital_tools").definition == "Talk of IT systems."
    assert "<code>digital_tools</code>" in texts(at)  # the list below shows it at once

    ok(at.selectbox(key="_cbe_edit_code").set_value("rd_delegation").run())
    at.text_area(key="_cbe_edit_def_rd_delegation").input("Only delegation of decisions.")
    submit(at, "Save changes")
    assert "may need review" in texts(at)
    assert service.project_codebook(app_engine, PROJECT).code("rd_delegation").definition == \
        "Only delegation of decisions."

    before = set(service.coded_units(app_engine, PROJECT, code="rd_delegation")["segment_id"])
    at.selectbox(key="_cbe_merge_source").set_value("rd_delegation")
    at.selectbox(key="_cbe_merge_into").set_value("rd_evidence_based")
    submit(at, "Merge codes")
    assert "merged 'rd_delegation' into 'rd_evidence_based'" in texts(at)
    assert service.coded_units(app_engine, PROJECT, code="rd_delegation").empty
    assert before <= set(service.coded_units(app_engine, PROJECT, code="rd_evidence_based")["segment_id"])

    ok(at.selectbox(key="_cbe_split_code").set_value("rd_systemic_approach").run())
    first = int(service.coded_units(app_engine, PROJECT, code="rd_systemic_approach")["segment_id"].iloc[0])
    at.text_input(key="_cbe_split_label_rd_systemic_approach").input("Whole-system reform")
    at.checkbox(key=f"_cbe_split_rd_systemic_approach_{first}").check()
    submit(at, "Split code")
    assert list(service.coded_units(app_engine, PROJECT, code="whole_system_reform")["segment_id"]) == [first]

    ok(at.selectbox(key="_cbe_undo_version").set_value(3).run())
    submit(at, "Undo version 3")
    assert "undid version 3" in texts(at)
    assert set(service.coded_units(app_engine, PROJECT, code="rd_delegation")["segment_id"]) == before
    history = service.codebook_history(app_engine, PROJECT)
    assert list(history["actor"]) == ["aigerim"] * 5 and history["reason"].iloc[0] == "pilot round"
    assert [b.label for b in at.get("download_button")] == ["codebook.yaml", "REFI-QDA .qdc"]


def test_a_coder_proposal_waits_for_a_supervisor_in_a_managed_project(app_engine):
    service.ensure_coder(app_engine, PROJECT, "boss", role="admin")
    service.set_codebook_editors(app_engine, PROJECT, "propose", actor="boss")
    at = codebook_page("aigerim")  # a coder
    at.selectbox(key="_cbe_merge_source").set_value("rd_delegation")
    at.selectbox(key="_cbe_merge_into").set_value("rd_evidence_based")
    submit(at, "Merge codes")
    assert "aigerim is a coder" in texts(at)
    assert not service.coded_units(app_engine, PROJECT, code="rd_delegation").empty
    at.selectbox(key="_cbe_add_frame").set_value("reform_directions")
    at.text_input(key="_cbe_add_label").input("Career paths")
    submit(at, "Add code")
    assert "proposal until a supervisor accepts it" in texts(at)
    assert "<em>(proposed)</em>" in texts(at)
    other = codebook_page("daniyar")
    assert "career_paths" not in texts(other)  # blind mode: hidden from the other coders
    boss = codebook_page("boss")
    submit(boss, "Accept")
    assert "accepted the proposed code 'career_paths'" in texts(boss)
    assert "<code>career_paths</code>" in texts(codebook_page("daniyar"))
