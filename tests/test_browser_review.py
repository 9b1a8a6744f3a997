"""Issue 14 in a real browser: a supervisor adjudicates 'nothing applies' and sees it decided and counted."""

from __future__ import annotations

import pytest
from browser_server import CHROMIUM, CHROMIUM_ARGS, require_chromium
from test_browser import PROJECT, choose_coder, server  # noqa: F401  (server: fixture)

from coding import service

pytestmark = pytest.mark.browser
FRAME = "reform_directions"


def test_a_supervisor_adjudicates_nothing_applies_in_the_browser(server):  # noqa: F811
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)
    base, engine = server
    before = service.disagreement_report(engine, PROJECT, frame=FRAME)
    item = next(i for i in before.items if not i["decided"] and any(not c for c in i["coders"].values()))
    empty = next(name for name, codes in item["coders"].items() if not codes)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            page.set_default_timeout(30_000)
            page.goto(f"{base}/agreement?frame={FRAME}&tab=Disagreements")
            expect(page.get_by_role("heading", name="Agreement & adjudication")).to_be_visible(timeout=60_000)
            page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").first.click()
            options = page.get_by_role("option").all_inner_texts()
            assert "consensus" not in " ".join(options) and "supervisor (supervisor)" in options
            page.keyboard.press("Escape")
            choose_coder(page, "supervisor (supervisor)")
            summary = f"{before.decided} decided, {before.total - before.decided} undecided"
            expect(page.get_by_text(summary)).to_be_visible()
            card = page.locator(f".st-key-cf_dis_{item['segment_id']}")
            expect(card).to_contain_text("not decided yet")
            card.get_by_role("button", name=f"Take {empty}'s decision").click()
            expect(card).to_contain_text("decided: no code of this frame")
            expect(page.get_by_text(f"{before.decided + 1} decided, {before.total - before.decided - 1} undecided"))\
                .to_be_visible()
            page.get_by_test_id("stRadio").filter(has_text="Undecided").get_by_text("Undecided", exact=True).click()
            expect(page.locator(f".st-key-cf_dis_{item['segment_id']}")).to_have_count(0)
        finally:
            browser.close()
    after = service.disagreement_report(engine, PROJECT, frame=FRAME, show="decided").items
    decided = next(i for i in after if i["segment_id"] == item["segment_id"])
    assert decided["consensus"] == {} and decided["reason"] == f"took {empty}'s decision"
