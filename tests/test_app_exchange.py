"""REFI-QDA import and export on the Import and Settings pages, driven with AppTest."""

from __future__ import annotations

from dataclasses import replace

from apptest import APP, by_prefix, ok, shown, texts
from streamlit.testing.v1 import AppTest
from test_refiqda_roundtrip import emoji

from coding import service
from coding.codebook import Code
from coding.refiqda import export_qdc, import_qdc, import_qdpx

PROJECT = "default"


def page(name: str) -> AppTest:
    at = ok(AppTest.from_file(str(APP), default_timeout=90).run())
    at.switch_page(f"app_pages/{name}.py")
    return ok(at.run())


def button(at: AppTest, label: str):
    return next(b for b in at.button if shown(b.label) == label)


def test_import_page_imports_a_qdpx_into_a_new_project_with_its_spans_and_exports_the_project(app_engine):
    at = page("import_data")
    fixture = emoji()
    by_prefix(at.file_uploader, "_imp_refi_upload_").set_value(("study.qdpx", fixture.data(), "application/zip"))
    ok(at.run())
    assert at.text_input(key="_imp_refi_target").value == "study"  # the open project has documents
    ok(button(at, "Import study.qdpx").click().run())
    assert "Imported study.qdpx into project 'study'" in texts(at)
    assert "offsets of emoji.txt: UTF-16 units" in at.code[0].value  # the import report is shown
    bundle = service.export_bundle(app_engine, "study")
    spans = sorted(bundle.documents[0].text[c.start:c.end] for c in bundle.codings)
    assert spans == sorted(quote for _, quote, _, _ in fixture.expected)  # every selection on its own text
    assert len(service.list_documents(app_engine, PROJECT)) == 24  # the open project is untouched

    ok(button(at, "Prepare project export (.qdpx)").click().run())
    exported = at.session_state["_imp_refi_qdpx"]
    back, _ = import_qdpx(exported)
    assert len(back.documents) == 24
    assert len(back.codings) == len(service.export_bundle(app_engine, PROJECT).codings) > 0


def test_settings_page_applies_a_qdc_and_exports_the_codebook(app_engine):
    book = service.project_codebook(app_engine, PROJECT)
    codings_before = service.status(app_engine, PROJECT).codings_by_coder
    frame = book.frames[0]
    extra = Code("new_from_qdc", "New from a .qdc", frame.id, None, "Added in another tool.", (), (), ())
    changed = replace(book, frames=(replace(frame, codes=(*frame.codes, extra)), *book.frames[1:]))
    at = page("settings")
    by_prefix(at.file_uploader, "_set_refi_upload_").set_value(("book.qdc", export_qdc(changed), "application/xml"))
    ok(at.run())
    ok(button(at, "Apply this codebook").click().run())
    assert "Codebook book.qdc applied to project 'default'." in texts(at)
    after = service.project_codebook(app_engine, PROJECT)
    assert "new_from_qdc" in after.code_ids and after.code("new_from_qdc").definition == "Added in another tool."
    assert service.status(app_engine, PROJECT).codings_by_coder == codings_before  # every coding kept

    ok(button(at, "Prepare codebook export (.qdc)").click().run())
    exported = import_qdc(at.session_state["_set_refi_qdc"])
    assert exported.code_ids == after.code_ids
