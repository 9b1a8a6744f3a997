"""End to end in a real browser: `streamlit run app.py` driven by Playwright in Debian's chromium.

No browser is downloaded: the test uses /usr/bin/chromium (``make test`` installs it) and
FAILS with a clear message when it is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
from pathlib import Path

import pytest
from browser_server import CHROMIUM, CHROMIUM_ARGS, app_server, require_chromium, settled

from coding import service
from coding.database.engine import make_engine

pytestmark = pytest.mark.browser

PROJECT = "default"
CODE = "rd_delegation"


@pytest.fixture
def server(sample_db_template, tmp_path):
    """The app on a free port over a private copy of the sample database; killed afterwards."""
    db = tmp_path / "browser.sqlite"
    shutil.copy(sample_db_template, db)
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    try:
        with app_server(url, tmp_path / "streamlit.log") as base:
            yield base, engine
    finally:
        engine.dispose()


def choose_coder(page, name: str) -> None:
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name=name, exact=True).click()


def selected_segment(page) -> int:
    return int(page.locator(".cf-selected").get_attribute("id").removeprefix("cf-seg-"))


def test_code_a_segment_in_the_browser_and_see_it_after_reload(server, tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)
    base, engine = server
    label = service.project_codebook(engine, PROJECT).code(CODE).label
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            page.goto(base)
            expect(page.get_by_role("heading", name="Project overview")).to_be_visible(timeout=60_000)
            choose_coder(page, "aigerim")
            page.get_by_test_id("stSidebarNav").get_by_text("Code a transcript", exact=True).click()
            expect(page.get_by_role("heading", name="Code a transcript")).to_be_visible()
            expect(page.locator(".cf-selected")).to_have_count(1)
            segment = selected_segment(page)
            doc = next(d.id for d in service.list_documents(engine, PROJECT) if d.name == "R01")
            assert segment == service.next_uncoded_segment(engine, PROJECT, doc, coder="aigerim")

            page.locator(".cf-code").filter(has_text=label).first.click()
            chip = page.locator(f"#cf-seg-{segment} .cf-chips .cf-chip[title^='{CODE}:']")
            expect(chip).to_have_count(1)
            expect(page.locator(".cf-view")).to_have_attribute("data-pending", "0")  # acknowledged: saved
            view = service.document_view(engine, PROJECT, doc, viewer="aigerim")
            assert CODE in {c.code for s in view.segments if s.id == segment for c in s.codings}

            page.reload()
            choose_coder(page, "aigerim")
            expect(page.get_by_role("heading", name="Code a transcript")).to_be_visible()
            expect(chip).to_have_count(1)
            expect(chip).to_be_visible()
            settled(page)  # the page as the coder sees it: the script stopped, its images drawn
            # what the screenshot shows: the selected unit in view, carrying the code's chip with its label
            unit = page.locator(f"#cf-seg-{segment}")
            expect(unit).to_have_class(re.compile(r"\bcf-selected\b"))
            expect(unit).to_be_in_viewport()
            expect(chip).to_be_in_viewport()
            expect(chip).to_have_attribute("title", re.compile(rf"^{CODE}: {re.escape(label)}"))
            expect(chip).to_have_text(label)  # the whole label, as the view draws it
            assert selected_segment(page) == segment
            shot = tmp_path / "coded_segment.png"
            png = page.screenshot(path=str(shot))
            assert png[:8] == b"\x89PNG\r\n\x1a\n"
            assert struct.unpack(">II", png[16:24]) == (1400, 1000)  # the whole viewport, as set above
            if os.environ.get("CODEFRAME_SCREENSHOTS"):
                target = Path(os.environ["CODEFRAME_SCREENSHOTS"])
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy(shot, target / shot.name)
        finally:
            browser.close()


def test_instruments_page_downloads_the_kite_plot(server, tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)
    base, _ = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            page.set_default_timeout(60_000)
            page.goto(base)
            expect(page.get_by_role("heading", name="Project overview")).to_be_visible(timeout=60_000)
            page.get_by_test_id("stSidebarNav").get_by_text("Instruments", exact=True).click()
            expect(page.get_by_role("heading", name="Instruments")).to_be_visible()
            expect(page.get_by_text("ipsative").first).to_be_visible()
            with page.expect_download() as download_info:
                page.get_by_test_id("stDownloadButton").filter(has_text="Chart (PNG)").first.click()
            download = download_info.value
            assert download.suggested_filename == "ocai_kite.png"
            target = tmp_path / download.suggested_filename
            download.save_as(target)
            data = target.read_bytes()
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
        finally:
            browser.close()


def test_retrieve_quotes_for_one_group_and_download_the_docx_report(server, tmp_path):
    """Retrieve the quotes of one code for one expert group, then download the findings report (DOCX)."""
    require_chromium()
    import io

    from docx import Document
    from playwright.sync_api import expect, sync_playwright

    from coding import service

    expect.set_options(timeout=30_000)
    base, engine = server
    code = "rd_systemic_approach"
    label = service.project_codebook(engine, PROJECT).code(code).label
    expected = service.retrieve(engine, PROJECT, codes=[code], where=["expert_group=academia and research"])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            page.set_default_timeout(30_000)
            page.goto(base)
            expect(page.get_by_role("heading", name="Project overview")).to_be_visible(timeout=60_000)
            choose_coder(page, "supervisor (supervisor)")  # roles other than coder are shown
            page.get_by_test_id("stSidebarNav").get_by_text("Retrieve & report", exact=True).click()
            expect(page.get_by_role("heading", name="Retrieve & report")).to_be_visible()
            page.get_by_test_id("stMultiSelect").filter(has_text="Codes").click()
            page.get_by_role("option", name=f"{label} ({code})").click()
            page.keyboard.press("Escape")
            expect(page.get_by_text("segment(s) from 7 respondent(s)")).to_be_visible()
            page.get_by_test_id("stSelectbox").filter(has_text="Respondent attribute").click()
            page.get_by_role("option", name="expert_group", exact=True).click()
            values = page.get_by_test_id("stMultiSelect").filter(has_text="Values")
            # the rerun after choosing the attribute replaces the disabled, empty list by the attribute's values
            expect(page.get_by_placeholder("No options to select")).to_have_count(0)
            expect(values).to_have_count(1)
            expect(values.locator("input")).to_be_enabled()
            option = page.get_by_role("option", name="academia and research", exact=True)
            for _ in range(3):  # on a busy machine the list can open before the rerun has filled it
                values.click()
                try:
                    option.click(timeout=10_000)
                    break
                except Exception:
                    page.keyboard.press("Escape")
            page.keyboard.press("Escape")
            expect(page.get_by_text(f"{len(expected)} segment(s) from 2 respondent(s)")).to_be_visible()
            for text in expected["text"]:
                expect(page.locator(".cf-quote").filter(has_text=text)).to_have_count(1)
            expect(page.locator(".cf-quote")).to_have_count(len(expected))

            page.get_by_role("tab", name="Report & codebook").click()
            with page.expect_download(timeout=120_000) as download_info:
                page.get_by_test_id("stDownloadButton").filter(has_text="Report (DOCX)").click()
            target = tmp_path / "findings.docx"
            download_info.value.save_as(target)
            document = Document(io.BytesIO(target.read_bytes()))
            text = "\n".join(p.text for p in document.paragraphs)
            assert "Systematic and comprehensive approach to reform: 7 of 24 respondents (29.2%" in text
            assert len(document.inline_shapes) == 1
            assert download_info.value.suggested_filename == "findings_reform_directions.docx"
        finally:
            browser.close()
