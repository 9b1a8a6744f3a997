"""Team mode keeps the address: signing in after F5 or from a shared link lands on the page and query asked
for (``/code?…&unit=…``, ``/agreement?tab=Disagreements``), in a real browser on PostgreSQL (issue 26)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select
from test_browser_team import PASSWORD, P, browser, server  # noqa: F401  (the fixtures)

from coding import service
from coding.database.tables import Decision

pytestmark = pytest.mark.browser


def _sign_in(page, name: str) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name="Sign in to Codeframe")).to_be_visible()
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_from_a_shared_link_and_after_f5_lands_on_the_unit_asked_for(server, browser):  # noqa: F811
    from playwright.sync_api import expect

    base, engine = server
    document = service.list_documents(engine, P)[0].id
    units = [s.id for s in service.document_view(engine, P, document, viewer="ada").segments if s.is_unit]
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{base}/code?doc={document}&unit={units[1]}")
        _sign_in(page, "cal")
        expect(page.get_by_role("heading", name="Code a transcript")).to_be_visible()
        expect(page.locator(".cf-seg.cf-selected")).to_have_attribute("id", f"cf-seg-{units[1]}")
        assert "/code?" in page.url and f"unit={units[1]}" in page.url
        page.reload()  # F5: a new session, the sign-in again, and back on the same unit
        _sign_in(page, "cal")
        expect(page.get_by_role("heading", name="Code a transcript")).to_be_visible()
        expect(page.locator(".cf-seg.cf-selected")).to_have_attribute("id", f"cf-seg-{units[1]}")
        page.keyboard.press("1")  # and the keys work there at once
        expect(page.locator(f"#cf-seg-{units[1]} .cf-chips .cf-chip")).to_have_count(1)
        expect(page.locator(".cf-view")).to_have_attribute("data-pending", "0")
    finally:
        context.close()
    view = service.document_view(engine, P, document, viewer="cal")
    assert [c.coder for s in view.segments if s.id == units[1] for c in s.codings] == ["cal"]
    with Session(engine) as session:  # the key went through the facade once: one decision, on that unit
        rows = session.exec(select(Decision.segment_id, Decision.action, Decision.status)).all()
    assert [tuple(r) for r in rows] == [(units[1], "tick", "applied")]


def test_sign_in_from_a_link_to_a_tab_lands_on_that_tab(server, browser):  # noqa: F811
    from playwright.sync_api import expect

    base, _ = server
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{base}/agreement?tab=Disagreements")
        _sign_in(page, "sue")
        expect(page.get_by_role("heading", name="Agreement & adjudication")).to_be_visible()
        expect(page.get_by_role("tab", name="Disagreements", selected=True)).to_be_visible()
        assert "/agreement" in page.url and "tab=Disagreements" in page.url
    finally:
        context.close()
