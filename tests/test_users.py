"""Team mode: users, roles and sign-in; undo and the audit trail; backup and restore; the CLI.

Every database test runs on SQLite and on the real PostgreSQL server.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3

import pytest
import sqlalchemy as sa

from coding import service
from coding.cli import main
from coding.database.backup import backup_tables
from coding.database.engine import make_engine
from coding.errors import CodeframeError, PermissionDenied

P = "default"
PASSWORD = "correct horse battery"

TRANSCRIPT = (
    "Interviewer: How did the reform go?\n"
    "Respondent: We need a systematic approach.\n"
    "Interviewer: And trust?\n"
    "Respondent: Trust in government is low.\n"
    "Interviewer: Contract staff?\n"
    "Respondent: Contracts should cover narrow specialists only.\n"
)


def _project(engine) -> list[int]:
    """A small project: one transcript coded by turn, coders ann and bob, consensus, a supervisor."""
    service.create_project(engine, P)
    service.import_transcripts(engine, P, [("R01.txt", TRANSCRIPT.encode())], unit="turn")
    for name, role in (("ann", "coder"), ("bob", "coder"), ("consensus", "supervisor"), ("sue", "supervisor")):
        service.ensure_coder(engine, P, name, role=role)
    document = service.list_documents(engine, P)[0]
    return [s.id for s in service.document_view(engine, P, document.id, viewer="sue").segments if s.is_unit]


@pytest.fixture
def units(engine):
    return _project(engine)


# --------------------------------------------------------------------------- users and sign-in


def test_passwords_are_stored_as_argon2_hashes_and_sign_in_checks_them(engine, units):
    service.create_user(engine, P, "alice", role="admin", password=PASSWORD)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM coder WHERE name = 'alice'")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert service.authenticate(engine, P, "alice", PASSWORD) == "alice"
    messages = set()
    for name, password in (("alice", "wrong password"), ("nobody", PASSWORD), ("ann", PASSWORD),
                           ("consensus", PASSWORD), ("alice", ""), ("alice", None)):
        with pytest.raises(PermissionDenied) as err:
            service.authenticate(engine, P, name, password)
        messages.add(str(err.value))
    assert messages == {"sign-in failed: unknown user or wrong password"}  # never says which part was wrong


def test_short_passwords_and_bad_roles_are_refused(engine, units):
    with pytest.raises(CodeframeError, match="at least 8 characters"):
        service.create_user(engine, P, "alice", role="admin", password="short")
    with pytest.raises(CodeframeError, match="role must be one of"):
        service.create_user(engine, P, "alice", role="boss")
    with pytest.raises(CodeframeError, match="already exists"):
        service.create_user(engine, P, "ann", role="coder")
    with pytest.raises(CodeframeError, match="adjudicated coder"):
        service.create_user(engine, P, "consensus", role="admin")
    assert "alice" not in {u["name"] for u in service.list_users(engine, P)}


def test_only_an_admin_manages_users_once_the_project_has_one(engine, units):
    service.create_user(engine, P, "carl", role="coder")  # local mode: no admin yet, no actor needed
    service.create_user(engine, P, "alice", role="admin", password=PASSWORD)  # the first admin
    with pytest.raises(PermissionDenied, match="only an admin may add users"):
        service.create_user(engine, P, "dora", role="coder")
    with pytest.raises(PermissionDenied, match="ann is a coder"):
        service.create_user(engine, P, "dora", role="coder", actor="ann")
    with pytest.raises(PermissionDenied, match="sue is a supervisor"):
        service.set_role(engine, P, "ann", "admin", actor="sue")
    service.create_user(engine, P, "dora", role="coder", password=PASSWORD, actor="alice")
    service.set_role(engine, P, "dora", "supervisor", actor="alice")
    with pytest.raises(PermissionDenied):
        service.set_password(engine, P, "dora", "a new password", actor="ann")
    service.set_password(engine, P, "dora", "dora's own password", actor="dora")
    assert service.authenticate(engine, P, "dora", "dora's own password") == "dora"
    service.set_password(engine, P, "dora", "reset by the admin", actor="alice")
    assert service.authenticate(engine, P, "dora", "reset by the admin") == "dora"
    users = {u["name"]: u for u in service.list_users(engine, P)}
    assert users["dora"]["role"] == "supervisor" and users["dora"]["can_sign_in"]
    assert users["carl"]["role"] == "coder" and not users["carl"]["can_sign_in"]
    assert "password_hash" not in users["dora"]


def test_team_mode_is_switched_by_an_admin_who_can_sign_in(engine, units):
    service.create_user(engine, P, "alice", role="admin")
    with pytest.raises(PermissionDenied, match="only an admin"):
        service.set_team_mode(engine, P, True, actor="sue")
    with pytest.raises(CodeframeError, match="set a password for alice"):
        service.set_team_mode(engine, P, True, actor="alice")
    service.set_password(engine, P, "alice", PASSWORD, actor="alice")
    assert service.set_team_mode(engine, P, True, actor="alice").team_mode
    assert service.get_project(engine, P).team_mode
    with pytest.raises(PermissionDenied, match="last admin"):
        service.set_role(engine, P, "alice", "coder", actor="alice")
    assert not service.set_team_mode(engine, P, False, actor="alice").team_mode


def test_codebook_changes_are_admin_only_in_team_mode(engine, units, tmp_path):
    from coding.codebook import default_codebook_path

    text = default_codebook_path().read_text(encoding="utf-8")
    changed = tmp_path / "codebook.yaml"
    changed.write_text(text.replace("label: Approaches to contract civil servants",
                                    "label: Contract civil servants"), encoding="utf-8")
    service.create_user(engine, P, "alice", role="admin", password=PASSWORD)
    service.set_team_mode(engine, P, True, actor="alice")
    for who in ("ann", "sue", None):
        with pytest.raises(PermissionDenied, match="only an admin may change the codebook"):
            service.apply_codebook(engine, P, path=changed, actor=who)
    with pytest.raises(PermissionDenied, match="only an admin may change the codebook"):
        service.import_codebook_object(engine, P, service.project_codebook(engine, P), actor="ann")
    assert service.project_codebook(engine, P).frame("contract_service").label == "Approaches to contract civil servants"
    service.apply_codebook(engine, P, path=changed, actor="alice")
    assert service.project_codebook(engine, P).frame("contract_service").label == "Contract civil servants"
    service.set_team_mode(engine, P, False, actor="alice")
    service.apply_codebook(engine, P, path=default_codebook_path(), actor="ann")  # outside team mode: allowed
    assert service.project_codebook(engine, P).frame("contract_service").label == "Approaches to contract civil servants"


def test_imports_are_admin_only_in_team_mode_from_the_library_as_from_the_cli(engine, units, tmp_path):
    from coding.service.instruments import instruments_sample_dir

    sample = instruments_sample_dir()
    ocai_file = next(sample.glob("ocai*"))
    transcript = tmp_path / "R99.txt"
    transcript.write_text("Interviewer: Why?\nRespondent: Because the reform stalled.\n", encoding="utf-8")
    service.create_user(engine, P, "alice", role="admin", password=PASSWORD)
    service.set_team_mode(engine, P, True, actor="alice")
    before = (len(service.list_documents(engine, P)), len(service.list_instruments(engine, P)))
    for who in ("ann", "sue", None):  # a coder, a supervisor, and no one named (a CLI without --as)
        with pytest.raises(PermissionDenied, match="only an admin may import"):
            service.import_transcripts(engine, P, [transcript], actor=who)
        with pytest.raises(PermissionDenied, match="only an admin may import OCAI answers"):
            service.import_ocai(engine, P, ocai_file, actor=who)
        with pytest.raises(PermissionDenied, match="only an admin may import a survey"):
            service.import_survey(engine, P, ocai_file, actor=who)
    assert (len(service.list_documents(engine, P)), len(service.list_instruments(engine, P))) == before
    assert service.import_ocai(engine, P, ocai_file, actor="alice").respondents > 0
    assert service.import_transcripts(engine, P, [transcript], actor="alice").documents


def test_coders_edit_and_see_only_their_own_codings_and_never_adjudicate(engine, units):
    service.add_coding(engine, P, segment_id=units[0], code="rd_systemic_approach", coder="ann")
    service.add_coding(engine, P, segment_id=units[0], code="rd_delegation", coder="bob")
    with pytest.raises(PermissionDenied, match="ann may not change codings of bob"):
        service.add_coding(engine, P, segment_id=units[1], code="rd_delegation", coder="bob", actor="ann")
    with pytest.raises(PermissionDenied, match="ann may not change codings of bob"):
        service.remove_coding(engine, P, segment_id=units[0], code="rd_delegation", coder="bob", actor="ann")
    with pytest.raises(PermissionDenied, match="written only by adjudication"):
        service.add_coding(engine, P, segment_id=units[0], code="rd_delegation", coder="consensus", actor="ann")
    with pytest.raises(PermissionDenied, match="only supervisors adjudicate"):
        service.add_coding(engine, P, segment_id=units[1], code="rd_delegation", coder="ann", source="adjudication")
    with pytest.raises(PermissionDenied, match="ann may not change codings of bob"):
        service.undo(engine, P, coder="bob", actor="ann")
    service.adjudicate(engine, P, segment_id=units[0], frame="reform_directions", codes=["rd_delegation"],
                       actor="sue", reason="both coders saw it")
    document = service.list_documents(engine, P)[0].id
    seen_by_ann = {(c.coder, c.code) for s in service.document_view(engine, P, document, viewer="ann").segments
                   for c in s.codings}
    seen_by_sue = {(c.coder, c.code) for s in service.document_view(engine, P, document, viewer="sue").segments
                   for c in s.codings}
    assert seen_by_ann == {("ann", "rd_systemic_approach")}  # blind mode: only her own
    assert seen_by_sue == {("ann", "rd_systemic_approach"), ("bob", "rd_delegation"),
                           ("consensus", "rd_delegation")}
    assert len(service.history(engine, P)) == 3  # refused attempts leave no trace


# --------------------------------------------------------------------------- undo and history


def _codings(engine, coder):
    df = service.history(engine, P)  # noqa: F841  (history must stay readable after undo)
    from sqlmodel import Session

    from coding.database.queries import codings_frame

    with Session(engine) as session:
        frame = codings_frame(session, service.get_project(engine, P).id, coders=[coder])
    return {(r.segment_id, r.code): r.memo for r in frame.itertuples()}


def test_undo_applies_inverse_changes_and_only_appends_to_history(engine, units):
    a, b = units[0], units[1]
    service.add_coding(engine, P, segment_id=a, code="rd_systemic_approach", coder="ann")
    service.add_coding(engine, P, segment_id=b, code="rd_delegation", coder="ann", memo="first")
    service.set_memo(engine, P, segment_id=b, code="rd_delegation", coder="ann", memo="second")
    service.remove_coding(engine, P, segment_id=a, code="rd_systemic_approach", coder="ann")
    service.add_coding(engine, P, segment_id=a, code="rd_human_capital", coder="bob")
    assert _codings(engine, "ann") == {(b, "rd_delegation"): "second"}

    assert service.undo(engine, P, coder="ann") == 1  # the remove
    assert _codings(engine, "ann") == {(a, "rd_systemic_approach"): None, (b, "rd_delegation"): "second"}
    assert service.undo(engine, P, coder="ann", steps=2) == 2  # the memo, then the add of rd_delegation
    assert _codings(engine, "ann") == {(a, "rd_systemic_approach"): None}
    assert service.undo(engine, P, coder="ann", steps=5) == 1  # only the first add is left
    assert _codings(engine, "ann") == {}
    assert service.undo(engine, P, coder="ann") == 0
    assert _codings(engine, "bob") == {(a, "rd_human_capital"): None}  # other coders untouched

    history = service.history(engine, P)
    assert list(history["action"]) == ["add", "add", "memo", "remove", "add", "undo", "undo", "undo", "undo"]
    assert list(history["reason"][5:]) == ["undo of event #4", "undo of event #3", "undo of event #2",
                                           "undo of event #1"]
    with pytest.raises(CodeframeError, match="at least 1"):
        service.undo(engine, P, coder="ann", steps=0)


def test_undo_of_a_mutually_exclusive_replacement_restores_the_replaced_code(engine, units):
    service.add_coding(engine, P, segment_id=units[2], code="cs_evolutionary", coder="ann", memo="narrow")
    service.add_coding(engine, P, segment_id=units[2], code="cs_progressive", coder="ann")
    assert _codings(engine, "ann") == {(units[2], "cs_progressive"): None}
    assert service.undo(engine, P, coder="ann") == 1
    assert _codings(engine, "ann") == {(units[2], "cs_evolutionary"): "narrow"}


def test_supervisor_undoes_an_adjudication(engine, units):
    service.adjudicate(engine, P, segment_id=units[0], frame="reform_directions", codes=["rd_delegation"],
                       actor="sue", reason="both coders saw it")
    with pytest.raises(PermissionDenied):
        service.undo(engine, P, coder="consensus", actor="ann")
    assert service.undo(engine, P, coder="consensus", actor="sue") == 1
    assert _codings(engine, "consensus") == {}
    assert service.history(engine, P)["actor"].tolist() == ["sue", "sue"]


def test_history_exports_as_csv_and_json_lines(engine, units, tmp_path):
    service.add_coding(engine, P, segment_id=units[0], code="rd_delegation", coder="ann", memo="why, \"quoted\"")
    service.remove_coding(engine, P, segment_id=units[0], code="rd_delegation", coder="ann")
    service.undo(engine, P, coder="ann")
    assert service.export_history(engine, P, tmp_path / "h.csv") == 3
    rows = list(csv.DictReader((tmp_path / "h.csv").open(encoding="utf-8")))
    assert [r["action"] for r in rows] == ["add", "remove", "undo"]
    assert json.loads(rows[0]["after"])["memo"] == 'why, "quoted"'
    assert rows[1]["after"] == "" and rows[2]["reason"] == "undo of event #2"
    assert service.export_history(engine, P, tmp_path / "h.jsonl", fmt="jsonl", coder="ann") == 3
    records = [json.loads(line) for line in (tmp_path / "h.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["action"] for r in records] == ["add", "remove", "undo"]
    assert records[2]["after"]["memo"] == 'why, "quoted"' and records[0]["before"] is None
    assert all(r["coder"] == "ann" and r["actor"] == "ann" for r in records)
    with pytest.raises(CodeframeError, match="csv' or 'jsonl"):
        service.export_history(engine, P, tmp_path / "h.xml", fmt="xml")


# --------------------------------------------------------------------------- backup and restore


@pytest.fixture
def second_url(backend, request, tmp_path):
    """Another migrated, empty database on the backend of the test (a copy of the session's template)."""
    if backend == "sqlite":
        path = tmp_path / "restored.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    from conftest import PostgresDatabase

    database = PostgresDatabase(template=request.getfixturevalue("postgres_template"))
    try:
        yield database.url
    finally:
        database.drop()


def _all_rows(engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(t.select().order_by(*t.primary_key.columns))]
                for t in backup_tables()}


def _fill(engine, units) -> None:
    service.create_user(engine, P, "alice", role="admin", password=PASSWORD)
    service.add_coding(engine, P, segment_id=units[0], code="rd_delegation", coder="ann", memo="ünïcode\ttab\nline")
    service.add_coding(engine, P, segment_id=units[1], code="cs_evolutionary", coder="bob")
    service.add_coding(engine, P, segment_id=units[1], code="cs_progressive", coder="bob")
    service.adjudicate(engine, P, segment_id=units[0], frame="reform_directions", codes=["rd_delegation"],
                       actor="sue", reason="both coders saw it")
    service.mark_done(engine, P, service.list_documents(engine, P)[0].id, coder="ann")
    service.undo(engine, P, coder="bob")


def test_backup_and_restore_reproduce_every_row(engine, units, second_url, tmp_path):
    _fill(engine, units)
    before = _all_rows(engine)
    path = service.backup(engine, tmp_path / "backup.cfb")
    assert path.stat().st_size > 0 and not (tmp_path / "backup.cfb.partial").exists()
    target = make_engine(second_url)
    try:
        counts = service.restore(target, path)
        assert counts == {t: len(rows) for t, rows in before.items()}
        assert _all_rows(target) == before
        assert service.authenticate(target, P, "alice", PASSWORD) == "alice"
        # ids continue after the restored ones (PostgreSQL sequences were moved on)
        service.add_coding(target, P, segment_id=units[2], code="rd_delegation", coder="ann")
        assert service.history(target, P)["id"].tolist() == sorted(set(service.history(target, P)["id"]))
        with pytest.raises(CodeframeError, match="needs an empty database") as err:
            service.restore(target, path)
        assert "row(s) in table project" in str(err.value)
    finally:
        target.dispose()
    assert _all_rows(engine) == before  # the backup did not change the source


def test_a_sqlite_backup_restores_into_either_backend(tmp_path, db_url):
    source = make_engine(f"sqlite:///{tmp_path / 'source.sqlite'}")
    try:
        _fill(source, _project(source))
        rows = _all_rows(source)
        path = service.backup(source, tmp_path / "copy.sqlite")
    finally:
        source.dispose()
    with sqlite3.connect(path) as conn:  # a self-contained SQLite file
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("SELECT count(*) FROM coding").fetchone()[0] == len(rows["coding"])
    target = make_engine(db_url)
    try:
        service.restore(target, path)
        restored = _all_rows(target)
    finally:
        target.dispose()
    assert {t: len(r) for t, r in restored.items()} == {t: len(r) for t, r in rows.items()}
    assert restored["coding_event"] == rows["coding_event"] and restored["coder"] == rows["coder"]


def test_restore_refuses_files_that_are_not_backups(engine, tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01garbage" * 100)
    with pytest.raises(CodeframeError, match="not a Codeframe backup"):
        service.restore(engine, junk)
    with pytest.raises(CodeframeError, match="no backup file"):
        service.restore(engine, tmp_path / "missing.sqlite")
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    with pytest.raises(CodeframeError, match="damaged.sqlite"):
        service.restore(engine, damaged)
    assert set(service.table_row_counts(engine).values()) == {0}


@pytest.mark.postgres
def test_a_truncated_postgresql_dump_restores_nothing(tmp_path):
    from conftest import POSTGRES_OFF, PostgresSchema

    assert not POSTGRES_OFF, "this test needs the PostgreSQL server"
    first, second = PostgresSchema(), PostgresSchema()
    try:
        source = make_engine(first.url)
        _fill(source, _project(source))
        path = service.backup(source, tmp_path / "dump.sql")
        source.dispose()
        text = path.read_text(encoding="utf-8")
        assert "PostgreSQL database dump" in text
        cut = re.search(r"^COPY \S+\.code \(", text, re.MULTILINE).start()  # the codes: long rows
        (tmp_path / "cut.sql").write_text(text[:cut + 2000], encoding="utf-8")
        target = make_engine(second.url)
        with pytest.raises(CodeframeError, match="truncated"):
            service.restore(target, tmp_path / "cut.sql")
        assert set(service.table_row_counts(target).values()) == {0}
        sqlite_target = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
        with pytest.raises(CodeframeError, match="restore it into a PostgreSQL database"):
            service.restore(sqlite_target, path)
        sqlite_target.dispose()
        target.dispose()
    finally:
        first.drop()
        second.drop()


# --------------------------------------------------------------------------- command line


def _cli(monkeypatch, capsys, *argv, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_users_team_undo_history_backup_and_restore(tmp_path, monkeypatch, capsys):
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    engine = make_engine(db)
    units = _project(engine)
    service.add_coding(engine, P, segment_id=units[0], code="rd_delegation", coder="ann")
    monkeypatch.delenv("CODEFRAME_PASSWORD", raising=False)

    code, out, err = _cli(monkeypatch, capsys, "--db", db, "user", "add", "alice", "--role", "admin",
                          "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 0 and "alice" in out and service.authenticate(engine, P, "alice", PASSWORD) == "alice"
    code, out, err = _cli(monkeypatch, capsys, "--db", db, "user", "add", "eve", "--role", "admin")
    assert code == 2 and "only an admin may add users" in err and "Traceback" not in err
    code, out, err = _cli(monkeypatch, capsys, "--db", db, "team", "on", "--as", "alice")
    assert code == 0 and "team mode on" in out
    code, out, err = _cli(monkeypatch, capsys, "--db", db, "user", "add", "eve", "--as", "alice")
    assert code == 2 and "CODEFRAME_PASSWORD" in err
    monkeypatch.setenv("CODEFRAME_PASSWORD", "not the password")
    code, out, err = _cli(monkeypatch, capsys, "--db", db, "user", "add", "eve", "--as", "alice")
    assert code == 2 and "sign-in failed" in err
    monkeypatch.setenv("CODEFRAME_PASSWORD", PASSWORD)
    code, out, err = _cli(monkeypatch, capsys, "--db", db, "user", "add", "eve", "--as", "alice")
    assert code == 0
    code, out, err = _cli(monkeypatch, capsys, "--db", db, "user", "role", "eve", "supervisor", "--as", "alice")
    assert code == 0
    transcript = tmp_path / "R99.txt"
    transcript.write_text("Interviewer: Why?\nRespondent: The reform stalled.\n", encoding="utf-8")
    code, out, err = _cli(monkeypatch, capsys, "--db", db, "import", "transcripts", str(transcript))
    assert code == 2 and "needs --as NAME" in err  # team mode: say which admin you are
    code, out, err = _cli(monkeypatch, capsys, "--db", db, "import", "transcripts", str(transcript), "--as", "eve")
    assert code == 2 and "sign-in failed" in err  # --as is checked by password, not taken on trust
    code, out, err = _cli(monkeypatch, capsys, "--db", db, "import", "transcripts", str(transcript), "--as", "alice")
    assert code == 0 and "R99" in service.list_documents(engine, P)[-1].name
    code, out, err = _cli(monkeypatch, capsys, "--db", db, "user", "list", "--format", "csv", "--as", "alice")
    listed = {r["name"]: r for r in csv.DictReader(io.StringIO(out))}
    assert listed["eve"]["role"] == "supervisor" and listed["alice"]["can_sign_in"] == "True"

    code, out, err = _cli(monkeypatch, capsys, "--db", db, "undo", "--coder", "ann", "--steps", "3", "--as", "alice")
    assert code == 0 and "undid 1 change(s) of ann" in out
    with pytest.raises(SystemExit) as exit_info:
        main(["--db", db, "undo", "--coder", "ann", "--steps", "0"])
    assert exit_info.value.code == 2 and "must be at least 1" in capsys.readouterr().err

    code, out, err = _cli(monkeypatch, capsys, "--db", db, "history", "--output", str(tmp_path / "h.jsonl"),
                          "--as", "alice")
    assert code == 0 and "2 event(s)" in out
    assert [json.loads(line)["action"] for line in (tmp_path / "h.jsonl").read_text().splitlines()] == ["add", "undo"]

    code, out, err = _cli(monkeypatch, capsys, "--db", db, "backup", str(tmp_path / "b.sqlite"), "--as", "alice")
    assert code == 0
    restored_db = f"sqlite:///{tmp_path / 'restored.sqlite'}"
    code, out, err = _cli(monkeypatch, capsys, "--db", restored_db, "restore", str(tmp_path / "b.sqlite"))
    assert code == 0 and "restored" in out
    code, out, err = _cli(monkeypatch, capsys, "--db", restored_db, "restore", str(tmp_path / "b.sqlite"))
    assert code == 2 and "needs --as NAME" in err and "Traceback" not in err  # now a project in team mode
    restored = make_engine(restored_db)
    assert _all_rows(restored) == _all_rows(engine)
    restored.dispose()
    engine.dispose()
