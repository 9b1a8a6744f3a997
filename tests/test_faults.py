"""Errors, not tracebacks: database faults give one line that says what happened and that nothing was lost.

Read-only database, full disk, NUL and lone surrogates in text, removing a coder who signed in, and
PostgreSQL backends terminated under the app. Both backends where the fault exists on both.
"""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from coding import service
from coding.cli import main
from coding.database.engine import make_engine
from coding.database.faults import NOTHING_LOST, database_fault
from coding.errors import CodeframeError

P = "default"
PASSWORD = "correct horse battery"
TRANSCRIPT = "Interviewer: How did the reform go?\nRespondent: The reform needs delegation.\n"


@pytest.fixture
def project(engine):
    service.create_project(engine, P)
    service.import_transcripts(engine, P, [("R01.txt", TRANSCRIPT.encode())], unit="turn")
    service.ensure_coder(engine, P, "dana")
    return engine


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _cli(monkeypatch, capsys, *argv) -> tuple[int, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = main(list(argv))
    return code, capsys.readouterr().err


def _unit(engine) -> int:
    document = service.list_documents(engine, P)[0]
    return next(s.id for s in service.document_view(engine, P, document.id, viewer="dana").segments if s.is_unit)


def _read_only_url(engine) -> str:
    url = _url(engine)
    if url.startswith("sqlite"):
        return "sqlite:///file:" + url.removeprefix("sqlite:///") + "?mode=ro&uri=true"
    parsed = sa.engine.make_url(url)  # a read-only session, added to any options the URL already has
    options = " ".join(filter(None, [parsed.query.get("options"), "-cdefault_transaction_read_only=on"]))
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


def test_a_read_only_database_is_one_line_and_loses_nothing(project, monkeypatch, capsys):
    unit = _unit(project)
    code, err = _cli(monkeypatch, capsys, "--db", _read_only_url(project), "memo", "add", "--on", "segment",
                     str(unit), "--coder", "dana", "a memo")
    assert code == 2 and "Traceback" not in err, err
    assert "the database is read-only" in err and NOTHING_LOST in err and len(err.strip().splitlines()) <= 2
    assert service.memos(project, P).empty


def test_a_full_disk_is_one_line_and_loses_nothing(project, tmp_path):
    limited = make_engine(_url(project))
    if limited.dialect.name == "sqlite":
        sa.event.listen(limited, "connect", lambda conn, _: conn.execute("PRAGMA max_page_count=1"))
        limited.dispose()  # new connections, each limited to the pages the file has now
        big = ("Interviewer: Q?\nRespondent: " + "a long answer " * 20000 + "\n").encode()
        with pytest.raises(sa.exc.OperationalError) as raised:
            service.import_transcripts(limited, P, [("R02.txt", big)], unit="turn")
        fault = database_fault(raised.value)
    else:  # PostgreSQL's own error for a full disk, as psycopg reports it
        import psycopg

        fault = database_fault(sa.exc.OperationalError("INSERT", {}, psycopg.errors.DiskFull(
            'could not extend file "base/16384/2619": No space left on device')))
    limited.dispose()
    assert str(fault).startswith("the disk is full") and NOTHING_LOST in str(fault)
    assert [d.name for d in service.list_documents(project, P)] == ["R01"]


def test_nul_and_lone_surrogates_are_refused_before_the_database(project, monkeypatch, capsys, tmp_path):
    unit = _unit(project)
    db = _url(project)
    for text in ("a memo with a NUL \x00 inside", "half an emoji \udcff here"):
        code, err = _cli(monkeypatch, capsys, "--db", db, "memo", "add", "--on", "segment", str(unit),
                         "--coder", "dana", text)
        assert code == 2 and "Traceback" not in err and "nothing was saved" in err, err
        with pytest.raises(CodeframeError, match="memo contains"):
            service.add_coding(project, P, segment_id=unit, code="rd_delegation", coder="dana", memo=text)
    assert service.memos(project, P).empty and service.history(project, P).empty
    codebook = (service.repo_root() / "codebook.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "codebook.yaml"
    bad.write_text(codebook.replace("label: ", 'label: "nul \\0 label" #', 1), encoding="utf-8")
    for argv in (["codebook", "check", str(bad)], ["--db", db, "apply-codebook", str(bad)]):
        code, err = _cli(monkeypatch, capsys, *argv)
        assert code == 2 and "a NUL character" in err and "Traceback" not in err, err
    assert all("\x00" not in c.label for f in service.project_codebook(project, P).frames for c in f.codes)


def test_removing_a_coder_who_signed_in_works(project, monkeypatch, capsys):
    service.create_user(project, P, "ada", role="admin", password=PASSWORD)
    service.set_password(project, P, "dana", PASSWORD, actor="ada")
    service.set_team_mode(project, P, True, actor="ada")
    session = service.sign_in(project, P, "dana", PASSWORD)
    monkeypatch.setenv("CODEFRAME_PASSWORD", PASSWORD)
    code, err = _cli(monkeypatch, capsys, "--db", _url(project), "coders", "remove", "dana", "--yes", "--as", "ada")
    assert code == 0, err
    assert "dana" not in [u["name"] for u in service.list_users(project, P)]
    assert service.session_user(project, P, session.session_id) is None
    assert ("sign_in", "dana") in [(e["action"], e["name"]) for e in service.auth_history(project, P, actor="ada")]


@pytest.mark.postgres
def test_terminated_postgresql_backends_give_one_message_and_the_app_recovers():
    from conftest import POSTGRES_OFF, PostgresSchema

    assert not POSTGRES_OFF, "this test needs the PostgreSQL server"
    schema = PostgresSchema()
    try:
        engine = make_engine(schema.url)
        service.create_project(engine, P)
        with engine.connect() as conn:  # a pooled connection, then the server ends every backend of the schema
            conn.exec_driver_sql("SELECT 1")
        with engine.connect() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with schema.admin.connect() as admin:
            assert admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        assert service.get_project(engine, P).name == P  # the pool's pre-ping replaces the dead connection
        with engine.connect() as conn:  # a connection killed mid-use: one line, nothing lost
            conn.exec_driver_sql("SELECT 1")
            with schema.admin.connect() as admin:
                admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"),
                              {"pid": conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()})
            with pytest.raises(sa.exc.OperationalError) as raised:
                conn.exec_driver_sql("SELECT 1")
        assert str(database_fault(raised.value)).startswith("the database cannot be reached right now")
        assert service.get_project(engine, P).name == P  # and it recovers at once
        engine.dispose()
    finally:
        schema.drop()


def test_the_app_shows_one_message_while_the_database_is_gone_and_recovers(app_engine, monkeypatch):
    from apptest import APP
    from streamlit.testing.v1 import AppTest

    real = service.status

    def gone(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT", {}, Exception("terminating connection due to administrator command"))

    monkeypatch.setattr(service, "status", gone)  # the overview's first read, as when the server ends backends
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("the database cannot be reached right now")
    assert NOTHING_LOST in at.error[0].value
    monkeypatch.setattr(service, "status", real)  # the database is back: the next run works
    at.run()
    assert not at.exception and not at.error
