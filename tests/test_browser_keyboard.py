"""A whole (small) transcript coded with the keyboard alone in the coding view, in a real browser, then checked
in the database: codes, moves, "nothing applies" marked per frame in the header, a memo on a unit, an undo
that says what it undid, a refresh in the middle that comes back to the same unit (the address keeps it),
keys that work at once after a transcript switch, and hostile text shown as text."""

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
    "Respondent: Contracts should cover narrow specialists only. <img src=x onerror=\"window.__pwned=1\">Salaries"
    " matter. That is all.\n"
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
    codebook = service.project_codebook(engine, PROJECT)
    codes = [c.id for c in service.find_codes(codebook)]
    frames = [f.id for f in codebook.frames]

    expect.set_options(timeout=30_000)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(30_000)
            selected = page.locator(".cf-seg.cf-selected")

            def at_unit(n: int) -> None:
                expect(selected).to_have_attribute("id", f"cf-seg-{units[n - 1]}")
                expect(page.locator(".cf-unitno")).to_have_text(f"Unit {n} of 5")

            def chips(n: int):
                return page.locator(f"#cf-seg-{units[n - 1]} .cf-chips .cf-chip")

            def press(key: str) -> None:
                page.keyboard.press(key)

            page.goto(f"{base}/code?coder={CODER}&doc={doc}")  # a shared link: coder and transcript
            expect(page.get_by_role("heading", name="Code a transcript")).to_be_visible(timeout=60_000)
            expect(page.locator(".cf-view[data-ready='1']")).to_be_visible(timeout=60_000)  # its keys are live
            at_unit(1)
            press("?")  # the list of keys
            expect(page.locator(".cf-help")).to_be_visible()
            press("Escape")
            expect(page.locator(".cf-help")).to_be_hidden()

            press("1")  # unit 1: the first listed code, drawn at once
            expect(chips(1)).to_have_count(1)
            press("m")  # a memo on the unit
            expect(page.locator(".cf-memotext")).to_be_focused()
            page.keyboard.type("the core <b>claim</b>")
            press("Enter")
            expect(page.locator(".cf-message")).to_have_text("Memo saved on this unit.")
            press("j")
            at_unit(2)
            press("2")  # unit 2: the second code ...
            expect(chips(2)).to_have_count(1)
            press("j")
            press("u")  # ... undone from unit 3: back on unit 2, and it says what it undid
            at_unit(2)
            expect(chips(2)).to_have_count(0)
            expect(page.locator(".cf-message")).to_contain_text(f"Undid code {codes[1]} on unit 2")
            press("0")  # nothing applies: marked, and on to unit 3
            at_unit(3)
            expect(page.locator(f"#cf-seg-{units[1]} .cf-mark")).to_have_text("nothing applies")
            expect(page.locator(".cf-view")).to_have_attribute("data-pending", "0")

            page.reload()  # F5 in the middle: back on unit 3
            at_unit(3)
            press("3")
            expect(chips(3)).to_have_count(1)
            press("n")  # the next unread unit
            at_unit(4)
            press("1")
            press("0")  # unit 4 carries a code in the first frame: "nothing applies" marks the others
            at_unit(5)
            press("k")
            at_unit(4)
            header = page.locator(".cf-head")
            expect(header.locator(f"[data-frame='{frames[0]}']")).to_have_attribute("data-state", "coded")
            expect(header.locator(f"[data-frame='{frames[1]}']")).to_have_attribute("data-state", "nothing")
            expect(page.locator(f"#cf-seg-{units[3]} .cf-mark")).to_have_text("nothing else applies")
            press("j")
            press("0")
            expect(page.locator(".cf-progress")).to_contain_text("5 of 5 units read")
            expect(page.locator(".cf-view")).to_have_attribute("data-pending", "0")
            assert page.evaluate("() => window.__pwned") is None  # the transcript's markup is shown as text
            expect(page.locator(f"#cf-seg-{units[3]} .cf-text")).to_contain_text("<img src=x")
            page.screenshot(path=str(tmp_path / "keyboard.png"))

            # keys work at once after a transcript switch with the picker
            page.get_by_test_id("stSelectbox").filter(has_text="Transcript").click()
            page.get_by_role("option").filter(has_text="R01").first.click()
            expect(page.locator(".cf-unitno")).to_have_text("Unit 1 of 27")
            first = page.locator(".cf-seg.cf-selected").get_attribute("id")
            press("1")
            expect(page.locator(f"#{first} .cf-chips .cf-chip")).not_to_have_count(0)
            expect(page.locator(".cf-view")).to_have_attribute("data-pending", "0")
        finally:
            browser.close()

    view = service.document_view(engine, PROJECT, doc, viewer=CODER)
    mine = {s.id: {c.code for c in s.codings if c.coder == CODER} for s in view.segments if s.is_unit}
    assert mine == {units[0]: {codes[0]}, units[1]: set(), units[2]: {codes[2]}, units[3]: {codes[0]},
                    units[4]: set()}
    assert service.unit_memos(engine, PROJECT, doc, coder=CODER) == {units[0]: "the core <b>claim</b>"}
    marks = coding_page.unit_marks(engine, PROJECT, doc, coder=CODER)
    assert marks == {units[1]: frozenset(frames), units[3]: frozenset(frames) - {frames[0]},
                     units[4]: frozenset(frames)}
    history = service.history(engine, PROJECT, coder=CODER)
    assert list(history["action"])[:5] == ["add", "add", "remove", "add", "add"]
    progress = coding_page.reading_progress(engine, PROJECT).set_index("coder").loc[CODER]
    assert progress["units_read"] >= 5
