"""The Streamlit app driven headlessly with AppTest, each test on its own copy of the sample database.

The pages may only call :mod:`coding.service`; these tests check their effects through the
service (what the database now holds) as well as what the page shows.
"""

from __future__ import annotations

import time

from apptest import APP, by_prefix, shown, texts
from streamlit.testing.v1 import AppTest
from test_app_coding_page import event, send, view

from coding import service
from coding.database.engine import make_engine

PROJECT = "default"
OECD_PRINCIPLES = [f"pslc_{n:02d}_" for n in range(1, 15)]


def start(coder: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception, at.exception
    if coder is not None:
        at.selectbox(key="_coder_pick").set_value(coder).run()
        assert not at.exception, at.exception
    return at


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


widget = by_prefix


def code_box(at: AppTest, segment: int, code: str):
    """One code of the coding view on a unit: its value as the view draws it, ticked as the view sends it."""
    return _CodeBox(at, segment, code)


class _CodeBox:
    def __init__(self, at: AppTest, segment: int, code: str):
        self.at, self.segment, self.code = at, segment, code

    @property
    def value(self) -> bool:
        return self.code in view(self.at)["state"][str(self.segment)]["mine"]

    def check(self):
        send(self.at, self.at.session_state["coder"], event(self.segment, "tick", code=self.code))
        return self.at

    def uncheck(self):
        send(self.at, self.at.session_state["coder"], event(self.segment, "untick", code=self.code))
        return self.at


def pick_unit(at: AppTest, segment: int) -> AppTest:
    """What the view reports after a move (a click, j/k): the selected unit."""
    at.session_state["cf_view"] = {"selected": segment}
    at.run()
    assert not at.exception, at.exception
    return at


def units_before(view) -> list:
    return [s for s in view.segments if s.is_unit]


def document_id(engine, name: str) -> int:
    return next(d.id for d in service.list_documents(engine, PROJECT) if d.name == name)


# --------------------------------------------------------------------------- start & overview


def test_first_start_loads_the_sample_and_the_overview_shows_24_documents(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    monkeypatch.setenv("CODEFRAME_DB", url)
    monkeypatch.delenv("CODEFRAME_PROJECT", raising=False)
    at = start()  # the sample loads in the background (its progress: tests/test_first_start.py)
    engine = make_engine(url)
    deadline = time.monotonic() + 120
    while service.sample_load_state(engine, PROJECT).status == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    engine.dispose()
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Project overview"
    assert at.metric[0].label == "Documents" and at.metric[0].value == "24"
    documents = at.dataframe[0].value
    assert len(documents) == 24 and "respondent" in documents.columns
    progress = at.dataframe[1].value
    assert {"aigerim", "daniyar", "consensus", "supervisor"} <= set(progress["coder"])
    # the sample coders read every transcript: all units read, every document done (not "18% coded, Done 0")
    aigerim = progress.set_index("coder").loc["aigerim"]
    assert aigerim["share"] == 1.0 and aigerim["documents_done"] == 24 and aigerim["units_coded"] < 1000
    assert not at.dataframe[2].value.empty  # codes in use
    engine = make_engine(url)
    try:
        assert len(service.list_documents(engine, PROJECT)) == 24
    finally:
        engine.dispose()


def test_overview_explains_an_empty_project(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    engine = make_engine(url)
    service.initialize(engine, PROJECT)  # the project exists, so the app must not load the sample
    monkeypatch.setenv("CODEFRAME_DB", url)
    at = start()
    assert "No documents yet — import transcripts on the **Import** page." in texts(at)
    assert "No codes applied yet" in texts(at)
    assert service.list_documents(engine, PROJECT) == []
    engine.dispose()


def test_sidebar_adds_a_coder_and_codes_as_them(app_engine):
    at = start()
    at.text_input(key="_new_coder_name").input("zhanna")
    next(b for b in at.button if b.label == "Add coder").click().run()
    assert not at.exception
    assert "zhanna" in [c["name"] for c in service.list_coders(app_engine, PROJECT)]
    assert at.selectbox(key="_coder_pick").value == "zhanna" and at.session_state["coder"] == "zhanna"


# --------------------------------------------------------------------------- coding


def test_code_page_asks_who_is_coding(app_engine):
    at = goto(start(), "code")
    assert "Choose who you are in the sidebar" in texts(at)
    assert not at.button_group


def test_apply_and_remove_a_code_through_the_page(app_engine):
    doc = document_id(app_engine, "R01")
    view = service.document_view(app_engine, PROJECT, doc, viewer="aigerim")
    code = "pslc_07_merit_recruitment"
    unit = next(s for s in view.segments if s.is_unit and all(c.code != code for c in s.codings))

    at = goto(start("aigerim"), "code")
    at.selectbox(key="_doc_pick").set_value(doc).run()
    pick_unit(at, unit.id)
    assert at.session_state["seg_id"] == unit.id and at.query_params["unit"] == str(unit.id)
    box = code_box(at, unit.id, code)
    assert box.value is False
    box.check().run()
    assert not at.exception

    def aigerims_codes():
        seen = service.document_view(app_engine, PROJECT, doc, viewer="aigerim")
        return {c.code for s in seen.segments if s.id == unit.id for c in s.codings if c.coder == "aigerim"}

    assert code in aigerims_codes()
    assert code_box(at, unit.id, code).value is True

    # a fresh session (a page refresh) still shows the code
    again = goto(start("aigerim"), "code")
    again.selectbox(key="_doc_pick").set_value(doc).run()
    pick_unit(again, unit.id)
    assert code_box(again, unit.id, code).value is True

    code_box(again, unit.id, code).uncheck().run()
    assert not again.exception
    assert code not in aigerims_codes()


def test_memo_is_saved_with_the_code_and_the_remove_button_removes(app_engine):
    doc = document_id(app_engine, "R02")
    at = goto(start("daniyar"), "code")
    at.selectbox(key="_doc_pick").set_value(doc).run()
    seg = view(at)["select"]["unit"]
    code_box(at, seg, "rd_delegation").check()
    send(at, "daniyar", event(seg, "memo", code="rd_delegation", text="clear example"))
    codings = service.document_view(app_engine, PROJECT, doc, viewer="daniyar").segments
    applied = [c for s in codings if s.id == seg for c in s.codings if c.code == "rd_delegation"]
    assert [c.memo for c in applied] == ["clear example"]
    code_box(at, seg, "rd_delegation").uncheck()  # the × beside the code sends the same
    codings = service.document_view(app_engine, PROJECT, doc, viewer="daniyar").segments
    assert not [c for s in codings if s.id == seg for c in s.codings if c.code == "rd_delegation"]


def test_next_uncoded_and_mark_done(app_engine):
    doc = document_id(app_engine, "R03")
    at = goto(start("aigerim"), "code")
    at.selectbox(key="_doc_pick").set_value(doc).run()
    first = at.session_state["seg_id"]
    assert first == service.next_uncoded_segment(app_engine, PROJECT, doc, coder="aigerim")
    assert view(at)["select"]["unit"] == first  # the view opens the transcript at the first unread unit

    assert service.document_view(app_engine, PROJECT, doc, viewer="aigerim").done is False
    widget(at.toggle, f"_done_{doc}_").set_value(True).run()
    assert service.document_view(app_engine, PROJECT, doc, viewer="aigerim").done is True
    assert service.progress_by_coder(app_engine, PROJECT).set_index("coder").loc["aigerim", "documents_done"] == 1


def test_blind_coder_sees_own_codings_supervisor_sees_all(app_engine):
    doc = document_id(app_engine, "R01")
    service.update_settings(app_engine, PROJECT, blind_mode=True)
    at = goto(start("aigerim"), "code")
    at.selectbox(key="_doc_pick").set_value(doc).run()
    assert "blind coding: only aigerim's codings are shown" in texts(at)
    assert not [o for u in view(at)["state"].values() for o in u["others"]]
    sup = goto(start("supervisor"), "code")
    sup.selectbox(key="_doc_pick").set_value(doc).run()
    assert "everyone's codings are visible" in texts(sup)
    assert "daniyar" in {o["coder"] for u in view(sup)["state"].values() for o in u["others"]}


def test_preamble_reads_as_context_and_is_not_a_numbered_unit(app_engine):
    at = goto(start("aigerim"), "code")
    at.selectbox(key="_doc_pick").set_value(document_id(app_engine, "R01")).run()
    segments = view(at)["segments"]
    assert not segments[0]["unit"] and segments[0]["text"].startswith("[SYNTHETIC TRANSCRIPT")
    first = next(s for s in segments if s["unit"])
    assert first["n"] == 1 and first["text"].startswith("I have worked in the civil service")  # the first answer


# --------------------------------------------------------------------------- codebook, import, settings


def test_codebook_page_shows_the_14_oecd_principles_with_usage_and_quotes(app_engine):
    at = goto(start(), "codebook")
    shown = texts(at)
    for prefix in OECD_PRINCIPLES:
        assert f"<code>{prefix}" in shown, prefix
    assert any("OECD" in e.label for e in at.expander)
    assert "Coded in the transcripts" in shown and "coded by consensus" in shown
    at.text_input(key="_cb_filter").input("merit").run()
    assert "<code>pslc_07_merit_recruitment" in texts(at) and "<code>pslc_12_mobility" not in texts(at)


TRANSCRIPT = (
    "Interviewer: How would you assess the reforms?\n"
    "Respondent: Reform must be systematic. Partial changes do not work.\n"
    "Interviewer: Anything else?\n"
    "Respondent: Salaries matter too.\n"
).encode()


def test_import_page_previews_and_imports_an_upload(app_engine):
    at = goto(start(), "import_data")
    assert "No files chosen yet" in texts(at)
    at.file_uploader[0].set_value(("new_interview.txt", TRANSCRIPT, "text/plain")).run()
    assert not at.exception
    # the page's preview is service.parse_transcripts on the same bytes
    parsed = service.parse_transcripts([("new_interview.txt", TRANSCRIPT)], language="en", unit="sentence")
    units = sum(1 for s in parsed[0][1] if s.is_unit)
    summary = at.dataframe[0].value
    assert summary.loc[0, "document"] == "new_interview" and summary.loc[0, "units"] == units == 3
    segments = at.dataframe[1].value
    assert "Reform must be systematic." in list(segments["text"])
    next(b for b in at.button if b.label.startswith("Import 1 transcript")).click().run()
    assert not at.exception
    assert "Imported 1 document(s)" in texts(at)
    assert "new_interview" in [d.name for d in service.list_documents(app_engine, PROJECT)]


def test_import_page_imports_identical_survey_answers_only_when_allowed(app_engine):
    at = goto(start(), "import_data")
    answers = [(f"SV{i}.txt", b"Respondent: No opinion.\n", "text/plain") for i in (1, 2)]
    at.file_uploader[0].set_value(answers).run()
    next(b for b in at.button if b.label.startswith("Import 2 transcripts")).click().run()
    errors = "\n".join(shown(e.value) for e in at.error)
    assert "same content" in errors and "Allow files with identical text" in errors
    assert len(service.list_documents(app_engine, PROJECT)) == 24  # nothing was imported
    next(c for c in at.checkbox if c.label == "Allow files with identical text").check().run()
    next(b for b in at.button if b.label.startswith("Import 2 transcripts")).click().run()
    assert not at.exception
    assert "Imported 2 document(s)" in texts(at)
    names = {d.name for d in service.list_documents(app_engine, PROJECT)}
    assert {"SV1", "SV2"} <= names and len(names) == 26


def test_import_page_shows_each_problem_of_a_bad_file(app_engine):
    at = goto(start(), "import_data")
    at.file_uploader[0].set_value([("empty.txt", b"", "text/plain"), ("blank.md", b"  \n", "text/markdown")]).run()
    errors = "\n".join(shown(e.value) for e in at.error)
    assert "empty.txt" in errors and "blank.md" in errors
    assert not any(b.label.startswith("Import") for b in at.button)
    assert len(service.list_documents(app_engine, PROJECT)) == 24


def test_settings_change_persists(app_engine):
    at = goto(start(), "settings")
    at.selectbox(key="_set_language").set_value("ru")
    at.radio(key="_set_unit").set_value("turn")
    at.toggle(key="_set_blind").set_value(False)
    next(b for b in at.button if b.label == "Save settings").click().run()
    assert not at.exception
    assert "Settings saved." in texts(at)
    info = service.get_project(app_engine, PROJECT)
    assert (info.language, info.segmentation_unit, info.blind_mode) == ("ru", "turn", False)
    again = goto(start(), "settings")
    assert again.radio(key="_set_unit").value == "turn" and again.toggle(key="_set_blind").value is False


def test_exclusive_frame_swaps_the_code_and_navigation_writes_nothing(app_engine):
    doc = document_id(app_engine, "R04")
    at = goto(start("aigerim"), "code")
    at.selectbox(key="_doc_pick").set_value(doc).run()
    seg = at.session_state["seg_id"]
    code_box(at, seg, "cs_evolutionary").check()
    code_box(at, seg, "cs_progressive").check()
    # contract_service is mutually exclusive: the second code replaced the first, and the page shows it
    assert code_box(at, seg, "cs_evolutionary").value is False
    assert code_box(at, seg, "cs_progressive").value is True
    seen = service.document_view(app_engine, PROJECT, doc, viewer="aigerim")
    assert {c.code for s in seen.segments if s.id == seg for c in s.codings} == {"cs_progressive"}
    events = len(service.history(app_engine, PROJECT))
    units = [s["id"] for s in view(at)["segments"] if s["unit"]]
    pick_unit(at, units[3])
    pick_unit(at, units[0])
    assert len(service.history(app_engine, PROJECT)) == events  # moving around changes no coding
