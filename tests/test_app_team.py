"""The app in team mode, driven with AppTest: the sign-in gate, and every page for each role.

Each test works on its own copy of the sample database with admin ``ada``, supervisor
``supervisor`` and coder ``aigerim`` (all with passwords) and team mode on.
"""

from __future__ import annotations

import pytest
from apptest import APP, ok, shown, texts
from streamlit.testing.v1 import AppTest

from coding import service

P = "default"
PASSWORD = "correct horse battery"
PAGES = ("overview", "code", "codebook", "agreement", "shares", "instruments", "retrieve", "import_data", "settings",
         "account", "users")


def locked(at: AppTest) -> bool:
    """The page says "X is for <role>; you are <name> (<role>)." instead of offering it."""
    return any(" is for " in i.value and "; you are " in i.value for i in at.info)


@pytest.fixture
def team_engine(app_engine):
    service.create_user(app_engine, P, "ada", role="admin", password=PASSWORD)
    for name in ("aigerim", "supervisor"):
        service.set_password(app_engine, P, name, PASSWORD, actor="ada")
    service.set_team_mode(app_engine, P, True, actor="ada")
    return app_engine


def sign_in(name: str | None, password: str = PASSWORD) -> AppTest:
    at = ok(AppTest.from_file(str(APP), default_timeout=90).run())
    assert "Sign in to Codeframe" in [t.value for t in at.title]
    if name is not None:
        at.text_input(key="_signin_name").input(name)
        at.text_input(key="_signin_password").input(password)
        ok(at.button[0].click().run())
    return at


def goto(at: AppTest, page: str) -> AppTest:
    return ok(at.switch_page(f"app_pages/{page}.py").run())


def test_nothing_but_the_sign_in_form_before_signing_in(team_engine):
    at = sign_in(None)
    assert not at.sidebar.selectbox  # no "Who are you?"
    assert "Project overview" not in texts(at) and len(at.text_input) == 2
    assert [t.value for t in at.title] == ["Sign in to Codeframe"]


def test_a_wrong_password_is_refused_and_nobody_is_signed_in(team_engine):
    at = sign_in("aigerim", "not her password")
    assert any("unknown user or wrong password" in shown(e.value) for e in at.error)
    assert [t.value for t in at.title] == ["Sign in to Codeframe"]
    assert at.text_input(key="_signin_password").value == ""
    assert service.auth_history(team_engine, P, actor="ada")[0]["action"] == "sign_in_failed"


def test_signed_in_the_sidebar_shows_who_and_sign_out_ends_the_session(team_engine):
    at = sign_in("aigerim")
    assert at.session_state["coder"] == "aigerim"
    assert "Signed in as **aigerim** (coder)" in [m.value for m in at.sidebar.markdown]
    assert not at.sidebar.selectbox and not at.sidebar.expander  # no choice of name, no "Add a coder"
    session_id = at.session_state[f"{'_auth_session'}"]
    assert service.session_user(team_engine, P, session_id).name == "aigerim"
    ok(at.sidebar.button(key="_sign_out").click().run())
    assert [t.value for t in at.title] == ["Sign in to Codeframe"]
    assert service.session_user(team_engine, P, session_id) is None
    assert "coder" not in at.session_state


def test_a_forged_coder_name_in_the_session_state_is_ignored(team_engine):
    at = sign_in("aigerim")
    at.session_state["coder"] = "ada"  # whatever a page wrote there, the session decides
    at.session_state["_signed_in"] = ("ada", "admin")
    goto(at, "users")
    assert locked(at) and "aigerim (coder)" in texts(at)
    at.session_state["_auth_session"] = "guessed"
    ok(at.run())
    assert [t.value for t in at.title] == ["Sign in to Codeframe"]


EXPECTED_LOCKS = {  # page -> roles that see "X is for ..." instead of the page
    "users": {"aigerim", "supervisor"},
    "import_data": {"aigerim", "supervisor"},
    "settings": {"aigerim", "supervisor"},
    "shares": {"aigerim"},  # blind mode is on in the sample
    "instruments": {"aigerim", "supervisor"},  # the Import tab
}


@pytest.mark.parametrize("user", ["aigerim", "supervisor", "ada"])
def test_every_page_for_each_role(team_engine, user):
    at = sign_in(user)
    for page in PAGES:
        goto(at, page)
        assert locked(at) == (user in EXPECTED_LOCKS.get(page, set())), (page, user)
        assert "Sign in to Codeframe" not in [t.value for t in at.title]
    # the agreement page: adjudication and double coding are locked for a coder only
    goto(at, "agreement")
    at.query_params["tab"] = "Disagreements"
    ok(at.run())
    assert ("Adjudication is for a supervisor or an admin" in texts(at)) == (user == "aigerim")
    assert bool([b for b in at.button if (b.key or "").startswith("_decide_")]) == (user != "aigerim")
    at.query_params["tab"] = "Double coding"
    ok(at.run())
    assert ("Assigning and releasing double coding is for" in texts(at)) == (user == "aigerim")
    # the codebook counts only a coder's own codings in blind mode
    goto(at, "codebook")
    assert ("only aigerim's own codings (blind mode)" in texts(at)) == (user == "aigerim")


def test_an_admin_adds_a_user_who_can_then_sign_in(team_engine):
    at = goto(sign_in("ada"), "users")
    at.text_input(key="_u_name").input("dana")
    at.selectbox(key="_u_role").set_value("coder")
    at.text_input(key="_u_password").input("dana's passphrase")
    ok(at.button[[b.label for b in at.button].index("Add user")].click().run())
    assert any("User 'dana' added" in s.value for s in at.success)
    assert sign_in("dana", "dana's passphrase").session_state["coder"] == "dana"


def test_a_coder_changes_her_password(team_engine):
    at = goto(sign_in("aigerim"), "account")
    fields = at.text_input
    fields[0].input(PASSWORD)
    fields[1].input("her new passphrase")
    fields[2].input("her new passphrase")
    ok(at.button[[b.label for b in at.button].index("Change password")].click().run())
    assert any("Password changed" in s.value for s in at.success)
    assert service.authenticate(team_engine, P, "aigerim", "her new passphrase") == "aigerim"


def test_a_wrong_current_password_is_named_as_such(team_engine):
    at = goto(sign_in("aigerim"), "account")
    fields = at.text_input
    fields[0].input("not her password")
    fields[1].input("her new passphrase")
    fields[2].input("her new passphrase")
    ok(at.button[[b.label for b in at.button].index("Change password")].click().run())
    errors = [e.value for e in at.error]
    assert any("current password is wrong" in e for e in errors), errors
    assert not any("sign-in failed" in e for e in errors)
    assert service.authenticate(team_engine, P, "aigerim", PASSWORD) == "aigerim"


def test_solo_mode_asks_no_sign_in_and_offers_no_supervisor_once_there_is_an_admin(app_engine):
    at = ok(AppTest.from_file(str(APP), default_timeout=90).run())
    assert "Sign in to Codeframe" not in [t.value for t in at.title]
    assert at.selectbox(key="_new_coder_role").options == ["coder", "supervisor"]
    service.create_user(app_engine, P, "ada", role="admin", password=PASSWORD)
    ok(at.run())
    assert at.selectbox(key="_new_coder_role").options == ["coder"]
