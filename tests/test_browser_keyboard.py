"""A whole (small) transcript coded with the keyboard alone, in a real browser, then checked in the database.

Shortcuts for codes, moves and "read, nothing applies"; a memo added to a code already applied;
an undo; a refresh in the middle that comes back to the same unit (the address keeps it).
"""

from __future__ import annotations

import pytest
from browser_server import CHROMIUM, CHROMIUM_ARGS, require_chromium
from test_browser import PROJECT, server  # noqa: F401  (the fixture)

from coding import service
from coding.service import coding_page

pytestmark = pytest.mark.browser

CODER = "keys"
TRANSCRIPT = (
    "Interviewer: How did the reform go?\n"
    "Respondent: We need a systematic approach. Trust in government is low.\n"
    "Interviewer: And contracts?\n"
    "Respondent: Contracts should cover narrow specialists only. Salaries matter. That is all.\n"
)


def test_code_a_whole_transcript_with_the_keyboard(server, tmp_path):  # noqa: F811
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    base, engine = server
    service.import_transcripts(engine, PROJECT, [("KEYS.txt", TRANSCRIPT.encode())], unit="sentence")
    service.ensure_coder(engine, PROJECT, CODER)
    doc = next(d.id for d in service.list_documents(engine, PROJECT) if d.name == "KEYS")
    units = [s.id for s in service.document_view(engine, PROJECT, doc, viewer=CODER).segments if s.is_unit]
    assert len(units) == 5
    codes = [c.id for c in service.find_codes(service.project_codebook(engine, PROJECT))]
    frames = [f.id for f in service.project_codebook(engine, PROJECT).frames]

    expect.set_options(timeout=30_000)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            selected = page.locator(".cf-seg.cf-selected")

            def at_unit(n: int) -> None:
                expect(selected).to_have_attribute("id", f"cf-seg-{units[n - 1]}")
                expect(page.locator(".cf-quote")).to_contain_text(f"unit {n} of 5")

            def chips(n: int):
                return page.locator(f"#cf-seg-{units[n - 1]} .cf-chips .cf-chip")

            def press(key: str) -> None:
                page.keyboard.press(key)

            page.goto(f"{base}/code?coder={CODER}&doc={doc}")  # a shared link: coder and transcript
            expect(page.get_by_role("heading", name="Code a transcript")).to_be_visible(timeout=60_000)
            at_unit(1)
            page.wait_for_function("() => window.__cfKeysInstalled === true")  # the keyboard component is up
            press("?")  # the list of keys
            expect(page.locator(".cf-keys-help")).to_be_visible()
            press("Escape")
            expect(page.locator(".cf-keys-help")).to_be_hidden()

            press("1")  # unit 1: the first listed code
            expect(chips(1)).to_have_count(1)
            press("m")  # a memo on the code just applied
            page.keyboard.type("the core claim")
            press("Enter")
            expect(page.get_by_text("Memo saved.")).to_be_visible()
            press("Escape")
            press("j")
            at_unit(2)
            press("2")  # unit 2: the second code ...
            expect(chips(2)).to_have_count(1)
            press("u")  # ... undone
            expect(page.get_by_text("Undid 1 change")).to_be_visible()
            expect(chips(2)).to_have_count(0)
            press("0")  # read, nothing applies: marked, and on to unit 3
            at_unit(3)
            expect(page.locator(f"#cf-seg-{units[1]}.cf-marked")).to_have_count(1)

            page.reload()  # F5 in the middle: back on unit 3
            at_unit(3)
            page.wait_for_function("() => window.__cfKeysInstalled === true")
            press("3")
            expect(chips(3)).to_have_count(1)
            press("n")  # the next unread unit
            at_unit(4)
            press("1")
            expect(chips(4)).to_have_count(1)
            press("j")
            at_unit(5)
            press("0")
            expect(page.locator(f"#cf-seg-{units[4]}.cf-marked")).to_have_count(1)
            expect(page.get_by_text("5 of 5 units read")).to_be_visible()
            page.screenshot(path=str(tmp_path / "keyboard.png"))
            page.locator(".st-key-cf_history button").first.click()  # the history opens (read only when open)
            label = service.project_codebook(engine, PROJECT).code(codes[0]).label
            expect(page.get_by_text(f"added “{label}” · unit 4")).to_be_visible()
            page.get_by_role("button", name="Undo these").click()  # the last one: unit 4's code
            expect(chips(4)).to_have_count(0)
        finally:
            browser.close()

    view = service.document_view(engine, PROJECT, doc, viewer=CODER)
    mine = {s.id: {(c.code, c.memo) for c in s.codings if c.coder == CODER} for s in view.segments if s.is_unit}
    assert mine == {units[0]: {(codes[0], "the core claim")}, units[1]: set(), units[2]: {(codes[2], None)},
                    units[3]: set(), units[4]: set()}
    marks = coding_page.unit_marks(engine, PROJECT, doc, coder=CODER)
    assert marks == {units[1]: frozenset(frames), units[4]: frozenset(frames)}
    history = service.history(engine, PROJECT, coder=CODER)
    assert list(history["action"]) == ["add", "memo", "add", "undo", "add", "add", "undo"]
    progress = coding_page.reading_progress(engine, PROJECT).set_index("coder").loc[CODER]
    assert progress["units_read"] - progress["units_coded"] == 2  # the two marked units count as read
