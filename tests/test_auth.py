"""Sign-in for the app: throttled password checks, server-side sessions, account management, the role
rules, and migration 0009. Every database test runs on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

from datetime import timedelta

import migrations_helper as seed
import pytest
import sqlalchemy as sa

from coding import roles, service
from coding.database.engine import make_engine, migrate
from coding.database.tables import utcnow
from coding.errors import CodeframeError, PermissionDenied
from coding.service.auth import THROTTLE_AFTER

P = "default"
PASSWORD = "correct horse battery"


@pytest.fixture
def team(engine):
    """A project in team mode: admin ada, supervisor sue, coder cal (all with passwords)."""
    service.create_project(engine, P)
    service.create_user(engine, P, "ada", role="admin", password=PASSWORD)
    service.create_user(engine, P, "sue", role="supervisor", password=PASSWORD, actor="ada")
    service.create_user(engine, P, "cal", role="coder", password=PASSWORD, actor="ada")
    service.set_team_mode(engine, P, True, actor="ada")
    return engine


def events(engine) -> list[tuple[str, str]]:
    return [(e["action"], e["name"]) for e in reversed(service.auth_history(engine, P, actor="ada"))]


def test_role_predicates():
    assert [roles.may_code(r) for r in (*roles.ROLES, None, "")] == [True, True, True, False, False]
    assert [roles.may_see_others(r) for r in roles.ROLES] == [False, True, True]
    assert [roles.may_adjudicate(r) for r in roles.ROLES] == [False, True, True]
    assert [roles.may_admin(r) for r in roles.ROLES] == [False, False, True]
    assert service.ROLES == roles.ROLES


def test_sign_in_opens_a_session_that_resolves_to_the_user_and_sign_out_ends_it(team):
    signed = service.sign_in(team, P, "cal", PASSWORD, client="10.0.0.1")
    assert (signed.name, signed.role) == ("cal", "coder")
    assert len(signed.session_id) >= 40
    assert service.session_user(team, P, signed.session_id) == signed
    with team.connect() as conn:  # only the hash is stored
        stored = conn.execute(sa.text("SELECT token_hash FROM user_session")).scalars().all()
    assert signed.session_id not in stored and len(stored) == 1
    assert service.session_user(team, P, "forged-" + signed.session_id) is None
    assert service.session_user(team, P, None) is None
    assert service.sign_out(team, P, signed.session_id) is True
    assert service.session_user(team, P, signed.session_id) is None
    assert service.sign_out(team, P, signed.session_id) is False
    assert events(team)[-2:] == [("sign_in", "cal"), ("sign_out", "cal")]


def test_a_role_change_applies_to_an_open_session(team):
    signed = service.sign_in(team, P, "cal", PASSWORD)
    service.change_role(team, P, "cal", "supervisor", actor="ada")
    assert service.session_user(team, P, signed.session_id).role == "supervisor"


def test_wrong_password_is_refused_and_logged_without_the_password(team):
    with pytest.raises(PermissionDenied, match="unknown user or wrong password"):
        service.sign_in(team, P, "cal", "not the password", client="10.0.0.2")
    with pytest.raises(PermissionDenied, match="unknown user or wrong password"):
        service.sign_in(team, P, "nobody", PASSWORD, client="10.0.0.2")
    assert events(team)[-2:] == [("sign_in_failed", "cal"), ("sign_in_failed", "nobody")]
    with team.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(sa.text("SELECT * FROM auth_event")) for v in row)
    assert "not the password" not in dump and PASSWORD not in dump


def test_the_sixth_attempt_after_five_failures_is_throttled_and_the_back_off_doubles(team):
    start = utcnow()
    for i in range(5):
        with pytest.raises(PermissionDenied) as caught:
            service.sign_in(team, P, "cal", f"wrong {i}", client="a", now=start + timedelta(seconds=i))
        assert not isinstance(caught.value, service.Throttled)
    with pytest.raises(service.Throttled, match="try again in") as caught:  # even the right password
        service.sign_in(team, P, "cal", PASSWORD, client="b", now=start + timedelta(seconds=5))
    assert 0 < caught.value.retry_after <= 30
    # after the wait a sixth failure doubles it
    later = start + timedelta(seconds=40)
    with pytest.raises(PermissionDenied):
        service.sign_in(team, P, "cal", "wrong 5", client="a", now=later)
    with pytest.raises(service.Throttled) as caught:
        service.sign_in(team, P, "cal", PASSWORD, now=later + timedelta(seconds=1))
    assert 30 < caught.value.retry_after <= 60
    # other users are not throttled from another client; success resets the count
    assert service.sign_in(team, P, "sue", PASSWORD, client="c", now=later).name == "sue"
    assert service.sign_in(team, P, "cal", PASSWORD, now=later + timedelta(seconds=61)).name == "cal"
    assert service.sign_in(team, P, "cal", PASSWORD, now=later + timedelta(seconds=62)).name == "cal"
    assert ("sign_in_throttled", "cal") in events(team)


def test_a_client_is_throttled_across_names(team):
    start = utcnow()
    for i, name in enumerate(("cal", "sue", "ada", "x", "y")):
        with pytest.raises(PermissionDenied):
            service.sign_in(team, P, name, "guess", client="10.9.9.9", now=start + timedelta(seconds=i))
    with pytest.raises(service.Throttled):
        service.sign_in(team, P, "ada", PASSWORD, client="10.9.9.9", now=start + timedelta(seconds=6))
    assert service.sign_in(team, P, "ada", PASSWORD, client="10.1.1.1", now=start + timedelta(seconds=6))


def test_fifty_concurrent_wrong_attempts_verify_at_most_the_allowed_passwords(team, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from coding.service import users

    verified, real = [], users._password_hasher

    class Counting:  # the real argon2 hasher (parameters kept), counting its verifications
        def __init__(self, inner):
            self.inner = inner

        def verify(self, stored, password):
            verified.append(password)
            return self.inner.verify(stored, password)

        def __getattr__(self, name):
            return getattr(self.inner, name)

    monkeypatch.setattr(users, "_password_hasher", lambda: Counting(real()))

    def attempt(i):
        try:
            service.sign_in(team, P, "cal", f"wrong {i}", client=f"10.0.{i}.1")  # 50 clients, one account
        except service.Throttled:
            return "throttled"
        except PermissionDenied:
            return "failed"
        return "signed in"

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(attempt, range(50)))  # any other exception (a pool timeout) fails the test
    assert len(verified) <= THROTTLE_AFTER
    assert outcomes.count("failed") == len(verified) and outcomes.count("throttled") == 50 - len(verified)
    assert sorted(a for a, n in events(team) if n == "cal" and a != "user_added") == sorted(
        ["sign_in_failed"] * len(verified) + ["sign_in_throttled"] * (50 - len(verified)))
    verified.clear()

    def from_one_client(i):  # and per client: one address trying many names
        try:
            service.sign_in(team, P, f"user{i}", "guess", client="10.66.6.6")
        except PermissionDenied:
            pass

    with ThreadPoolExecutor(max_workers=50) as pool:
        list(pool.map(from_one_client, range(50)))
    assert len(verified) <= THROTTLE_AFTER


def test_the_cli_client_is_the_os_user_not_one_shared_name():
    import getpass

    from coding.cli.users import cli_client

    assert cli_client() == f"cli:{getpass.getuser()}"


def test_the_back_off_survives_a_new_engine(team, db_url):
    for i in range(5):
        with pytest.raises(PermissionDenied):
            service.sign_in(team, P, "cal", f"wrong {i}")
    fresh = make_engine(db_url)  # as after a restart of the app
    try:
        with pytest.raises(service.Throttled):
            service.sign_in(fresh, P, "cal", PASSWORD)
    finally:
        fresh.dispose()


def test_idle_sessions_expire_after_the_configured_time(team, monkeypatch):
    signed = service.sign_in(team, P, "cal", PASSWORD)
    now = utcnow()
    assert service.session_user(team, P, signed.session_id, now=now + timedelta(hours=7, minutes=59))
    # used at 7:59, so still alive 7:59 later
    assert service.session_user(team, P, signed.session_id, now=now + timedelta(hours=15, minutes=50))
    assert service.session_user(team, P, signed.session_id, now=now + timedelta(hours=24)) is None
    assert events(team)[-1] == ("session_expired", "cal")
    monkeypatch.setenv(service.IDLE_HOURS_ENV, "0.5")
    other = service.sign_in(team, P, "sue", PASSWORD)
    assert service.session_user(team, P, other.session_id, now=utcnow() + timedelta(minutes=31)) is None
    monkeypatch.setenv(service.IDLE_HOURS_ENV, "soon")
    with pytest.raises(CodeframeError, match="number of hours"):
        service.idle_timeout()


def test_change_own_password_needs_the_old_one_and_ends_other_sessions(team):
    here = service.sign_in(team, P, "cal", PASSWORD)
    there = service.sign_in(team, P, "cal", PASSWORD)
    with pytest.raises(PermissionDenied):
        service.change_own_password(team, P, here.session_id, "wrong old", "a new passphrase")
    with pytest.raises(PermissionDenied, match="current password is wrong"):
        service.change_own_password(team, P, here.session_id, "wrong again", "a new passphrase")
    service.change_own_password(team, P, here.session_id, PASSWORD, "a new passphrase")
    assert service.session_user(team, P, here.session_id) is not None
    assert service.session_user(team, P, there.session_id) is None
    assert service.authenticate(team, P, "cal", "a new passphrase") == "cal"


def test_every_password_change_ends_the_users_sessions_whatever_the_door(team, monkeypatch, capsys):
    import io

    from coding.cli import main

    def sessions():
        return [service.sign_in(team, P, "cal", password) for _ in range(2)]

    password = PASSWORD
    open_ = sessions()
    service.set_password(team, P, "cal", "library reset 1", actor="ada")  # the library door
    assert [service.session_user(team, P, s.session_id) for s in open_] == [None, None]
    password = "library reset 1"
    open_ = sessions()
    db = team.url.render_as_string(hide_password=False)
    monkeypatch.setenv("CODEFRAME_PASSWORD", PASSWORD)
    monkeypatch.setattr("sys.stdin", io.StringIO("cli reset 22\n"))
    assert main(["--db", db, "user", "password", "cal", "--as", "ada"]) == 0, capsys.readouterr().err
    assert [service.session_user(team, P, s.session_id) for s in open_] == [None, None]  # the CLI door
    password = "cli reset 22"
    open_ = sessions()
    service.set_password(team, P, "cal", "own change 333", actor="cal")  # a user's own change, without a session
    assert [service.session_user(team, P, s.session_id) for s in open_] == [None, None]
    with team.connect() as conn:
        reasons = conn.execute(sa.text("SELECT end_reason FROM user_session ORDER BY id")).scalars().all()
    assert reasons == ["password_reset"] * 4 + ["password_changed"] * 2
    assert [a for a, n in events(team) if n == "cal" and a.startswith("password")] == [
        "password_reset", "password_reset", "password_changed"]
    assert [e["by"] for e in service.auth_history(team, P, actor="ada") if e["action"] == "password_reset"] == ["ada", "ada"]


def test_admin_manages_users_and_others_may_not(team):
    assert service.add_user(team, P, "dan", role="coder", password="dan's passphrase", actor="ada") == "dan"
    assert service.sign_in(team, P, "dan", "dan's passphrase").role == "coder"
    for actor in ("sue", "cal"):
        with pytest.raises(PermissionDenied, match="only an admin"):
            service.add_user(team, P, "eve", role="coder", password=PASSWORD, actor=actor)
        with pytest.raises(PermissionDenied, match="only an admin"):
            service.change_role(team, P, "cal", "admin", actor=actor)
        with pytest.raises(PermissionDenied, match="only an admin"):
            service.reset_password(team, P, "ada", "taken over!", actor=actor)
    session = service.sign_in(team, P, "dan", "dan's passphrase")
    service.reset_password(team, P, "dan", "reset passphrase", actor="ada")
    assert service.session_user(team, P, session.session_id) is None
    service.change_role(team, P, "dan", "supervisor", actor="ada")
    assert {u["name"]: u["role"] for u in service.list_users(team, P)}["dan"] == "supervisor"
    assert [a for a, n in events(team) if n == "dan"] == [
        "user_added", "sign_in", "sign_in", "password_reset", "role_changed"]


def test_ensure_coder_checks_permissions(engine):
    service.create_project(engine, P)
    assert service.ensure_coder(engine, P, "sam", role="supervisor") == "sam"  # no admin yet: anyone
    service.create_user(engine, P, "ada", role="admin", password=PASSWORD)
    for role in ("supervisor", "admin"):
        with pytest.raises(PermissionDenied, match="only an admin"):
            service.ensure_coder(engine, P, "mallory", role=role)
        with pytest.raises(PermissionDenied, match="only an admin"):
            service.ensure_coder(engine, P, "mallory", role=role, actor="sam")
    assert service.ensure_coder(engine, P, "kim", role="coder") == "kim"  # solo mode: coders still added freely
    assert service.ensure_coder(engine, P, "lee", role="supervisor", actor="ada") == "lee"
    service.set_team_mode(engine, P, True, actor="ada")
    with pytest.raises(PermissionDenied, match="only an admin"):
        service.ensure_coder(engine, P, "newbie", role="coder", actor="kim")
    assert service.ensure_coder(engine, P, "kim") == "kim"  # an existing coder is fine
    assert "mallory" not in {u["name"] for u in service.list_users(engine, P)}


def test_in_team_mode_only_an_admin_imports_and_changes_settings(team):
    data = [("R01.txt", b"Interviewer: Hi?\nRespondent: Hello there.\n")]
    for actor in ("sue", "cal"):
        with pytest.raises(PermissionDenied, match="only an admin"):
            service.import_transcripts(team, P, data, actor=actor)
        with pytest.raises(PermissionDenied, match="only an admin"):
            service.update_settings(team, P, blind_mode=False, actor=actor)
    assert service.get_project(team, P).blind_mode is True
    assert service.list_documents(team, P) == []
    service.import_transcripts(team, P, data, actor="ada")
    service.update_settings(team, P, blind_mode=False, actor="ada")
    assert service.get_project(team, P).blind_mode is False


def test_migration_0009_upgrades_a_0003_database_and_keeps_its_users(any_db_url):
    engine = make_engine(any_db_url, migrate_schema=False)
    try:
        migrate(engine, "0003")
        with engine.begin() as conn:
            assert "user_session" not in sa.inspect(conn).get_table_names()
            seed.project(conn, name="default", team_mode=True)
        migrate(engine, "0009")
        with engine.begin() as conn:
            names = set(sa.inspect(conn).get_table_names())
            assert {"user_session", "auth_event"} <= names
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0009"
        migrate(engine)  # the later migrations, for the current tables
        service.create_user(engine, P, "ada", role="admin", password=PASSWORD)
        assert service.sign_in(engine, P, "ada", PASSWORD).name == "ada"
    finally:
        engine.dispose()


def test_cli_apply_codebook_and_import_qdc_take_as_in_team_mode(tmp_path, monkeypatch, capsys):
    import io

    from coding.cli import main

    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    engine = make_engine(db)
    service.initialize(engine, P, codebook_path=service.repo_root() / "codebook.yaml")
    service.create_user(engine, P, "ada", role="admin", password=PASSWORD)
    service.create_user(engine, P, "cal", role="coder", password=PASSWORD, actor="ada")
    service.set_team_mode(engine, P, True, actor="ada")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    codebook = str(service.repo_root() / "codebook.yaml")
    qdc = str(tmp_path / "codebook.qdc")
    monkeypatch.setenv("CODEFRAME_PASSWORD", PASSWORD)
    assert main(["--db", db, "export", "qdc", qdc, "--as", "cal"]) == 0  # reading the codebook: any user
    capsys.readouterr()
    for argv in (["apply-codebook", codebook], ["import", "qdc", qdc]):
        monkeypatch.delenv("CODEFRAME_PASSWORD", raising=False)
        assert main(["--db", db, *argv]) == 2
        assert "needs --as NAME" in capsys.readouterr().err
        monkeypatch.setenv("CODEFRAME_PASSWORD", PASSWORD)
        assert main(["--db", db, *argv, "--as", "cal"]) == 2
        assert "cal is a coder: in team mode only an admin may" in capsys.readouterr().err
        monkeypatch.setenv("CODEFRAME_PASSWORD", "wrong password")
        assert main(["--db", db, *argv, "--as", "ada"]) == 2
        assert "sign-in failed" in capsys.readouterr().err
        monkeypatch.setenv("CODEFRAME_PASSWORD", PASSWORD)
        assert main(["--db", db, *argv, "--as", "ada"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["--db", db, "history", "--sign-ins", "--format", "csv", "--as", "ada"]) == 0
    listed = capsys.readouterr().out
    assert listed.splitlines()[0] == "at,action,name,by,client,detail" and ",sign_in_failed,ada,,cli:" in listed
    assert PASSWORD not in listed and "wrong password" not in listed
    cli_attempts = [e for e in service.auth_history(engine, P, actor="ada") if e["client"].startswith("cli:")]
    assert {e["action"] for e in cli_attempts} == {"sign_in_failed", "sign_in"}  # the CLI's checks are logged too
    engine.dispose()
