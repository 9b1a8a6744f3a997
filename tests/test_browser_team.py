"""Team mode end to end in a real browser: `streamlit run app.py` on PostgreSQL (a fresh schema),
driven by Playwright in Debian's chromium (never downloaded; the test FAILS when it is missing).

One server for the module; the tests run in order and each opens a fresh browser context (a new
Streamlit session). The throttling test comes last: all attempts come from one client address.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from browser_server import CHROMIUM, CHROMIUM_ARGS, app_server, require_chromium, settled
from conftest import PostgresSchema

from coding import service
from coding.database.engine import make_engine

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
P = "default"
PASSWORD = "correct horse battery"
XSS = '<script>window.__pwned = "{0}"</script><img src=x onerror="window.__pwned=\'{0}\'">'
TRANSCRIPT = ("Interviewer: How did the reform go?\n"
              f"Respondent: We need a systematic approach. {XSS.format('transcript')} Trust is low.\n"
              "Interviewer: And contracts?\n"
              "Respondent: Contracts should cover narrow specialists only.\n")


def _project(engine, tmp: Path) -> None:
    """Codebook with a hostile label, one transcript, codings by cal (with a hostile memo) and dan, four users."""
    codebook = (ROOT / "codebook.yaml").read_text(encoding="utf-8")
    label = "label: Systematic and comprehensive approach to reform\n"
    assert label in codebook
    (tmp / "codebook.yaml").write_text(codebook.replace(label, f"label: {json.dumps(XSS.format('label') + ' Systematic')}\n", 1),
                                       encoding="utf-8")
    service.initialize(engine, P, codebook_path=tmp / "codebook.yaml")
    service.import_transcripts(engine, P, [("R01.txt", TRANSCRIPT.encode())], unit="turn")
    service.create_user(engine, P, "ada", role="admin", password=PASSWORD)
    for name, role in (("sue", "supervisor"), ("cal", "coder"), ("dan", "coder")):
        service.create_user(engine, P, name, role=role, password=PASSWORD, actor="ada")
    document = service.list_documents(engine, P)[0]
    units = [s.id for s in service.document_view(engine, P, document.id, viewer="ada").segments if s.is_unit]
    service.add_coding(engine, P, segment_id=units[0], code="rd_systemic_approach", coder="cal",
                       memo=XSS.format("memo"))
    service.add_coding(engine, P, segment_id=units[1], code="rd_delegation", coder="dan")
    service.set_team_mode(engine, P, True, actor="ada")
    assert service.get_project(engine, P).blind_mode


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    tmp = tmp_path_factory.mktemp("team")
    schema = PostgresSchema()
    engine = make_engine(schema.url)
    try:
        _project(engine, tmp)
        with app_server(schema.url, tmp / "streamlit.log", timeout=90) as base:
            yield base, engine
    finally:
        engine.dispose()
        schema.drop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(server, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs
    page.goto(server[0])
    yield page
    context.close()


def expect():
    from playwright.sync_api import expect as _expect

    return _expect


def sign_in(page, name: str, password: str = PASSWORD) -> None:
    expect()(page.get_by_role("heading", name="Sign in to Codeframe")).to_be_visible(timeout=90_000)
    form = page.get_by_test_id("stForm")
    form.get_by_role("textbox", name="Name").fill(name)
    form.get_by_role("textbox", name="Password").fill(password)
    form.get_by_role("button", name="Sign in").click()


def signed_in_as(page, name: str, role: str) -> None:
    expect()(page.get_by_test_id("stSidebar").get_by_text(f"Signed in as {name} ({role})")).to_be_visible()


def open_page(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()


def live_sessions(engine, name: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT count(*) FROM user_session s JOIN coder c ON c.id = s.coder_id "
            "WHERE c.name = :n AND s.ended IS NULL"), {"n": name}).scalar_one()


def failures(engine, name: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM auth_event WHERE name = :n AND action = 'sign_in_failed'"),
                            {"n": name}).scalar_one()


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the app did not record the attempt in time")
        time.sleep(0.2)


def test_a_wrong_password_is_refused(page, server):
    sign_in(page, "cal", "not the password")
    expect()(page.get_by_text("sign-in failed: unknown user or wrong password")).to_be_visible()
    expect()(page.get_by_role("heading", name="Sign in to Codeframe")).to_be_visible()
    expect()(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    assert live_sessions(server[1], "cal") == 0


def test_a_coder_sees_only_her_own_codings_in_blind_mode_and_markup_never_runs(page, server):
    sign_in(page, "cal")
    signed_in_as(page, "cal", "coder")
    expect()(page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox")).to_have_count(0)  # no name to pick
    open_page(page, "Code a transcript")
    expect()(page.get_by_role("heading", name="Code a transcript")).to_be_visible()
    transcript = page.locator(".cf-seg").first  # the coding view's units
    expect()(transcript).to_be_visible()
    chips = page.locator(".cf-seg .cf-chips .cf-chip")
    expect()(chips.first).to_be_visible()
    # one chip: cal's own coding (its label shown as text); dan's coding is not shown to cal
    expect()(chips).to_have_count(1)
    expect()(chips.first).to_contain_text('<script>window.__pwned = "label"')
    assert "dan" not in page.locator(".cf-seg").all_inner_texts().__str__()
    # the chip's tooltip is set as a plain attribute (the view never parses it as markup)
    assert chips.first.get_attribute("title").startswith(f"rd_systemic_approach: {XSS.format('label')}")
    # the transcript, the memo and the label are shown as text; none of the markup ran
    expect()(page.get_by_text('<script>window.__pwned = "transcript"</script>', exact=False).first).to_be_visible()
    settled(page)  # the markup would have run by now: the script stopped, the images loaded or failed
    assert page.evaluate("typeof window.__pwned") == "undefined"
    open_page(page, "Codebook")
    page.get_by_label("Find a code").fill("rd_systemic_approach")
    page.get_by_label("Find a code").press("Enter")
    expect()(page.get_by_text('<script>window.__pwned = "label"</script>', exact=False).first).to_be_visible()
    settled(page)  # the markup would have run by now: the script stopped, the images loaded or failed
    assert page.evaluate("typeof window.__pwned") == "undefined" and not page.dialogs


def test_a_coder_cannot_open_adjudication_or_user_management(page):
    sign_in(page, "cal")
    signed_in_as(page, "cal", "coder")
    open_page(page, "Agreement & adjudication")
    expect()(page.get_by_role("heading", name="Agreement & adjudication")).to_be_visible()
    page.get_by_role("tab", name="Disagreements").click()
    expect()(page.get_by_text("Adjudication is for a supervisor or an admin; you are cal (coder).")).to_be_visible()
    expect()(page.get_by_role("button", name="Save decision")).to_have_count(0)
    open_page(page, "Users")
    expect()(page.get_by_text("Managing users is for an admin; you are cal (coder).")).to_be_visible()
    expect()(page.get_by_role("button", name="Add user")).to_have_count(0)


def test_an_admin_adds_a_user_who_can_then_sign_in(page, server, browser):
    sign_in(page, "ada")
    signed_in_as(page, "ada", "admin")
    open_page(page, "Users")
    form = page.get_by_test_id("stForm").filter(has_text="Add a user")
    form.get_by_role("textbox", name="Name").fill("eve")
    form.get_by_role("textbox", name="Password").fill("eve's passphrase")
    form.get_by_role("button", name="Add user").click()
    expect()(page.get_by_text("User 'eve' added as coder; they can sign in now.")).to_be_visible()
    other = browser.new_context().new_page()
    try:
        other.goto(server[0])
        sign_in(other, "eve", "eve's passphrase")
        signed_in_as(other, "eve", "coder")
    finally:
        other.context.close()


def test_sign_out_ends_the_session(page, server):
    sign_in(page, "sue")
    signed_in_as(page, "sue", "supervisor")
    assert live_sessions(server[1], "sue") == 1
    page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    expect()(page.get_by_role("heading", name="Sign in to Codeframe")).to_be_visible()
    expect()(page.get_by_text("You are signed out.")).to_be_visible()
    assert live_sessions(server[1], "sue") == 0
    page.reload()
    expect()(page.get_by_role("heading", name="Sign in to Codeframe")).to_be_visible()
    expect()(page.get_by_test_id("stSidebarNav")).to_have_count(0)


def test_a_password_reset_from_the_cli_ends_a_coders_session(page, server, monkeypatch):
    import io

    from coding.cli import main

    sign_in(page, "cal")
    signed_in_as(page, "cal", "coder")
    open_page(page, "Codebook")
    expect()(page.get_by_role("heading", name="Codebook")).to_be_visible()
    assert live_sessions(server[1], "cal") >= 1  # this one, and those of earlier tests' closed tabs
    monkeypatch.setenv("CODEFRAME_PASSWORD", PASSWORD)  # the admin at a terminal: codeframe user password cal --as ada
    monkeypatch.setattr("sys.stdin", io.StringIO("a new passphrase for cal\n"))
    assert main(["--db", server[1].url.render_as_string(hide_password=False), "user", "password", "cal",
                 "--as", "ada"]) == 0
    assert live_sessions(server[1], "cal") == 0
    open_page(page, "Overview")  # cal's next click asks to sign in again
    expect()(page.get_by_role("heading", name="Sign in to Codeframe")).to_be_visible()
    expect()(page.get_by_text("Signed in as cal (coder)")).to_have_count(0)
    with server[1].connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM auth_event WHERE name = 'cal' AND action = 'password_reset'"
                                    )).scalar_one() == 1
    sign_in(page, "cal", "a new passphrase for cal")
    signed_in_as(page, "cal", "coder")
    service.set_password(server[1], P, "cal", PASSWORD, actor="ada")


def test_the_sixth_wrong_attempt_is_throttled(page, server):
    for attempt in range(5):
        sign_in(page, "dan", f"wrong guess {attempt}")
        wait_for(lambda: failures(server[1], "dan") == attempt + 1)
        expect()(page.get_by_text("sign-in failed: unknown user or wrong password")).to_be_visible()
    sign_in(page, "dan")  # the right password, but too late
    expect()(page.get_by_text("too many failed sign-ins for this name or from this computer")).to_be_visible()
    assert live_sessions(server[1], "dan") == 0
    with server[1].connect() as conn:
        actions = conn.execute(sa.text("SELECT action FROM auth_event WHERE name = 'dan' ORDER BY id")).scalars().all()
        clients = conn.execute(sa.text("SELECT DISTINCT client FROM auth_event WHERE name = 'dan'")).scalars().all()
    assert actions[-6:] == ["sign_in_failed"] * 5 + ["sign_in_throttled"]
    assert clients == ["localhost"]  # a browser on this machine is a client too, never NULL

    def throttled(name):
        with server[1].connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM auth_event WHERE name = :n "
                                        "AND action = 'sign_in_throttled'"), {"n": name}).scalar_one()

    sign_in(page, "sue")  # so another name from the same browser waits as well
    wait_for(lambda: throttled("sue") == 1)
    expect()(page.get_by_text("too many failed sign-ins for this name or from this computer")).to_be_visible()
    assert live_sessions(server[1], "sue") == 0
