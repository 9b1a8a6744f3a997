"""The Import page driven with AppTest on a copy of the sample database: the language of the transcripts."""

from __future__ import annotations

from apptest import APP, ok, texts
from streamlit.testing.v1 import AppTest

from coding import service

PROJECT = "default"
RUSSIAN = ("Интервьюер: Как вы оцениваете реформу?\n"
           "R90: Реформа должна быть системной. Без этого ничего не изменится.\n").encode("utf-8")


def import_page_with(upload: tuple[str, bytes, str]) -> AppTest:
    at = ok(AppTest.from_file(str(APP), default_timeout=90).run())
    ok(at.switch_page("app_pages/import_data.py").run())
    return ok(at.file_uploader[0].set_value(upload).run())


def import_button(at: AppTest):
    return next(b for b in at.button if b.label.startswith("Import 1 transcript"))


def language_of(engine, name: str) -> str:
    return next(d.language for d in service.list_documents(engine, PROJECT) if d.name == name)


def test_a_russian_transcript_is_detected_and_stored_as_russian_by_default(app_engine):
    at = import_page_with(("ru_interview.txt", RUSSIAN, "text/plain"))
    assert at.selectbox(key="_imp_language").value == "auto"
    summary = at.dataframe[0].value.set_index("document")
    assert summary.loc["ru_interview", "detected language"] == "Russian"
    assert summary.loc["ru_interview", "stored as"] == "Russian"
    assert not at.warning
    ok(import_button(at).click().run())
    assert "Imported 1 document(s)" in texts(at)
    assert language_of(app_engine, "ru_interview") == "ru"


def test_choosing_a_language_the_detection_contradicts_asks_for_confirmation(app_engine):
    at = import_page_with(("ru_interview.txt", RUSSIAN, "text/plain"))
    ok(at.selectbox(key="_imp_language").set_value("en").run())
    assert any("look Russian, not English: ru_interview" in w.value for w in at.warning)
    assert import_button(at).disabled
    ok(at.checkbox(key="_imp_language_confirm").check().run())
    assert not import_button(at).disabled
    ok(import_button(at).click().run())
    assert language_of(app_engine, "ru_interview") == "en"  # the user's explicit choice, confirmed
