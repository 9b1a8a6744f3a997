"""The Codebook page in a real browser: edit a definition, merge two codes, split one, undo the merge.

After each step the codings in the database are checked. Debian's chromium through Playwright; the
test FAILS (never skips) when chromium is missing.
"""

from __future__ import annotations

import shutil

import pytest
from browser_server import CHROMIUM, CHROMIUM_ARGS, app_server, require_chromium
from sqlmodel import Session, select

from coding import service
from coding.database.engine import make_engine
from coding.database.tables import Code, Coder, Coding

pytestmark = pytest.mark.browser

PROJECT = "default"
SOURCE, TARGET, SPLIT = "rd_delegation", "rd_evidence_based", "rd_systemic_approach"


@pytest.fixture
def server(sample_db_template, tmp_path):
    db = tmp_path / "browser.sqlite"
    shutil.copy(sample_db_template, db)
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    try:
        with app_server(url, tmp_path / "streamlit.log") as base:
            yield base, engine
    finally:
        engine.dispose()


def codings(engine) -> set[tuple[int, str, str]]:
    with Session(engine) as session:
        rows = session.exec(select(Coding.segment_id, Code.key, Coder.name)
                            .join(Code, Coding.code_id == Code.id).join(Coder, Coding.coder_id == Coder.id)).all()
    return {tuple(r) for r in rows}


def pick(page, box: str, option: str) -> None:
    """Choose ``option`` in the select box labelled ``box`` (of the open tab: the other tabs' boxes are in the
    page too, hidden), then wait until its list of options has closed."""
    from playwright.sync_api import expect

    select = page.locator("[data-testid='stSelectbox']:visible").filter(
        has=page.locator("label", has_text=box)).first
    select.click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(page.get_by_role("option", name=option, exact=True)).to_have_count(0)


def test_edit_merge_split_and_undo_on_the_codebook_page(server):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)
    base, engine = server
    labels = {c.id: f"{c.label} ({c.id})" for c in service.project_codebook(engine, PROJECT).codes()}
    start = codings(engine)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            page.set_default_timeout(30_000)
            page.goto(base)
            expect(page.get_by_role("heading", name="Project overview")).to_be_visible(timeout=60_000)
            page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").first.click()
            page.get_by_role("option", name="supervisor (supervisor)", exact=True).click()
            page.get_by_test_id("stSidebarNav").get_by_text("Codebook", exact=True).click()
            expect(page.get_by_role("heading", name="Codebook", exact=True)).to_be_visible()
            page.get_by_text("Change the codebook", exact=False).first.click()

            page.get_by_role("tab", name="Edit", exact=True).click()
            pick(page, "Code to edit", labels[SOURCE])
            definition = page.locator("textarea[aria-label='Definition']:visible")
            expect(definition).to_be_visible()
            definition.fill("Only the delegation of decisions to lower levels.")
            page.get_by_role("button", name="Save changes").click()
            expect(page.get_by_text("Codebook version 1: edited 'rd_delegation': definition")).to_be_visible()
            assert service.project_codebook(engine, PROJECT).code(SOURCE).definition.startswith("Only the delegation")
            assert codings(engine) == start  # an edit moves no coding

            page.get_by_role("tab", name="Merge", exact=True).click()
            pick(page, "Merge this code", labels[SOURCE])
            pick(page, "into this code", labels[TARGET])
            page.get_by_role("button", name="Merge codes").click()
            expect(page.get_by_text("Codebook version 2: merged 'rd_delegation' into 'rd_evidence_based'")) \
                .to_be_visible()
            merged = codings(engine)
            assert not any(code == SOURCE for _, code, _ in merged)
            assert {(s, TARGET if c == SOURCE else c, w) for s, c, w in start} == merged

            page.get_by_role("tab", name="Split", exact=True).click()
            pick(page, "Code to split", labels[SPLIT])
            units = service.coded_units(engine, PROJECT, code=SPLIT)
            first = units.iloc[0]
            page.get_by_label("New code's label").fill("Whole-system reform")
            page.get_by_test_id("stCheckbox").filter(has_text=first["text"][:60]).first.click()
            page.get_by_role("button", name="Split code").click()
            expect(page.get_by_text("Codebook version 3: split 'rd_systemic_approach'")).to_be_visible()
            split = codings(engine)
            moved = {(s, w) for s, c, w in merged if c == SPLIT and s == int(first["segment_id"])}
            assert moved and {(s, w) for s, c, w in split if c == "whole_system_reform"} == moved

            page.get_by_role("tab", name="History", exact=True).click()
            pick(page, "Undo version", "2")
            page.get_by_role("button", name="Undo version 2").click()
            expect(page.get_by_text("Codebook version 4: undid version 2")).to_be_visible()
            after_undo = codings(engine)
            restored = {(s, "whole_system_reform" if (s, w) in moved and c == SPLIT else c, w) for s, c, w in start}
            assert after_undo == restored  # the merge is undone, the split stands
        finally:
            browser.close()


def test_a_new_code_made_in_the_coding_view_lands_on_the_selected_unit(server):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)
    base, engine = server
    service.ensure_coder(engine, PROJECT, "nina")
    doc = next(d.id for d in service.list_documents(engine, PROJECT) if d.name == "R04")
    units = [s.id for s in service.document_view(engine, PROJECT, doc, viewer="nina").segments if s.is_unit]
    label = "Trust <i>gap</i>"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/code?coder=nina&doc={doc}&unit={units[0]}")
            expect(page.locator(".cf-view[data-ready='1']")).to_be_visible()
            page.locator(f"#cf-seg-{units[2]}").click()  # the coder selects the third unit
            expect(page.get_by_text("New code for unit 3 (the one selected in the view)")).to_be_visible()
            page.get_by_label("New code label").fill(label)
            page.get_by_role("button", name="New code").click()
            chips = page.locator(f"#cf-seg-{units[2]} .cf-chips")
            expect(chips).to_contain_text(label)  # the label as text, not markup
            assert page.locator(f"#cf-seg-{units[2]} .cf-chips i").count() == 0
            expect(page.locator(".cf-code", has_text=label)).to_have_attribute("aria-pressed", "true")
            # away to another transcript and back: the view opens at its first unread unit (a move Python
            # asked for), and the form follows the view, not the unit the coder had clicked before
            for name in ("R05", "R04"):
                d = next(d for d in service.list_documents(engine, PROJECT) if d.name == name)
                pick(page, "Transcript", f"{d.name} — respondent {d.respondent} ({d.units} units)")
            expect(page.locator(".cf-seg.cf-selected")).to_have_attribute("id", f"cf-seg-{units[0]}")
            expect(page.get_by_text("New code for unit 1 (the one selected in the view)")).to_be_visible()
        finally:
            browser.close()
    code = next(c for c in service.project_codebook(engine, PROJECT).codes() if c.label == label)
    assert {(s, k) for s, k, who in codings(engine) if who == "nina"} == {(units[2], code.id)}
