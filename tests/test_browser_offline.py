"""Nothing is fetched from the internet: a browser session that visits every page asks only the app's own
host (no web font, no icon from a CDN). Playwright in Debian's chromium, as the other browser tests."""

from __future__ import annotations

import shutil
from urllib.parse import urlsplit

import pytest
from browser_server import CHROMIUM, CHROMIUM_ARGS, app_server, require_chromium

from coding.database.engine import make_engine

pytestmark = pytest.mark.browser

# (the label in the sidebar, the page's heading)
PAGES = [("Overview", "Project overview"), ("Code a transcript", "Code a transcript"), ("Codebook", "Codebook"),
         ("Agreement & adjudication", "Agreement & adjudication"), ("Shares (Figure 1)", "Shares of respondents"),
         ("Instruments", "Instruments"), ("Retrieve & report", "Retrieve & report"), ("Import", "Import transcripts"),
         ("Settings", "Settings")]
LOCAL = ("data:", "blob:", "about:")  # inline resources: no request leaves the browser


@pytest.fixture
def server(sample_db_template, tmp_path):
    db = tmp_path / "offline.sqlite"
    shutil.copy(sample_db_template, db)
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    try:
        with app_server(url, tmp_path / "streamlit.log") as base:
            yield base
    finally:
        engine.dispose()


def test_every_page_asks_only_the_apps_own_host(server):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    base = server
    own = urlsplit(base).netloc
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("request", lambda request: requests.append(request.url))
            page.set_default_timeout(60_000)
            page.goto(base)
            expect(page.get_by_role("heading", name="Project overview")).to_be_visible(timeout=120_000)
            page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").first.click()
            page.get_by_role("option", name="supervisor (supervisor)", exact=True).click()
            for label, heading in PAGES:
                page.get_by_test_id("stSidebarNav").get_by_text(label, exact=True).click()
                expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=120_000)
                page.wait_for_load_state("networkidle")
            icons = page.locator("link[rel~='icon']").evaluate_all("links => links.map(l => l.href)")
        finally:
            browser.close()
    assert icons and all(urlsplit(href).netloc in ("", own) for href in icons), icons  # the favicon is local
    elsewhere = sorted({url for url in requests if not url.startswith(LOCAL) and urlsplit(url).netloc != own})
    assert elsewhere == [], f"requests to other hosts: {elsewhere}"
    assert any(urlsplit(url).path.endswith(".js") for url in requests)  # the session was recorded
