"""Restore runs no SQL from the dump: crafted pg_dump headers are refused by their line, on both backends.

The round trips (SQLite <-> PostgreSQL) are in ``test_users.py``; here a real dump is tampered with.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from coding import service
from coding.database.engine import make_engine
from coding.errors import CodeframeError

P = "default"


@pytest.fixture(scope="module")
def dump_text(tmp_path_factory) -> str:
    """A real plain pg_dump of a small project (one admin, one transcript, one coding)."""
    from conftest import POSTGRES_OFF, PostgresSchema

    assert not POSTGRES_OFF, "these tests need the PostgreSQL server: its pg_dump makes the dump"
    schema = PostgresSchema()
    try:
        source = make_engine(schema.url)
        service.create_project(source, P)
        service.import_transcripts(source, P, [("R01.txt", b"Interviewer: Q?\nRespondent: We need trust.\n")],
                                   unit="turn")
        service.create_user(source, P, "alice", role="admin", password="correct horse battery")
        path = service.backup(source, tmp_path_factory.mktemp("dump") / "dump.sql")
        source.dispose()
        return path.read_text(encoding="utf-8")
    finally:
        schema.drop()


def _crafted(tmp_path: Path, text: str, table: str, header: str) -> tuple[Path, int]:
    """The dump with ``table``'s COPY header replaced by ``header``; returns the file and that line's number."""
    match = re.search(rf"^COPY \S+\.{table} \(.*\) FROM stdin;$", text, re.MULTILINE)
    assert match, f"no COPY block for {table} in the dump"
    line = text.count("\n", 0, match.start()) + 1
    path = tmp_path / "crafted.sql"
    path.write_text(text[:match.start()] + header + text[match.end():], encoding="utf-8")
    return path, line


def test_a_copy_header_that_runs_a_program_is_refused_and_runs_nothing(engine, dump_text, tmp_path):
    marker = Path("/tmp") / f"codeframe_pwned_{uuid.uuid4().hex}"  # where the server (user postgres) may write
    header = f"COPY public.project (id) FROM PROGRAM 'id > {marker}' --) FROM stdin;"
    path, line = _crafted(tmp_path, dump_text, "project", header)
    with pytest.raises(CodeframeError, match=rf"crafted.sql line {line}: a COPY line that is not of pg_dump's form"
                                             r"; nothing was restored"):
        service.restore(engine, path)
    assert not marker.exists(), "the dump ran a program on the server"
    assert set(service.table_row_counts(engine).values()) == {0}


@pytest.mark.parametrize("table, header, message", [
    ("coder", "COPY public.coder (id, project_id, name, evil) FROM stdin;", r"column\(s\) 'evil' are not columns"),
    ("coder", 'COPY public."coder; DROP TABLE coding; --" (id) FROM stdin;', r"is not a Codeframe table"),
    ("coder", "COPY public.pg_authid (rolname) FROM stdin;", r"'pg_authid' is not a Codeframe table"),
    ("coder", 'COPY public.coder (id, "name"" FROM PROGRAM ''id''") FROM stdin;', r"are not columns of coder"),
    ("coder", "COPY public.coder (id, id) FROM stdin;", r"names a column twice"),
])
def test_unknown_tables_and_columns_are_refused_by_their_line(engine, dump_text, tmp_path, table, header, message):
    path, line = _crafted(tmp_path, dump_text, table, header)
    with pytest.raises(CodeframeError, match=rf"line {line}: .*{message}") as err:
        service.restore(engine, path)
    assert "nothing was restored" in str(err.value)
    assert err.value.problems[0].line == line
    assert set(service.table_row_counts(engine).values()) == {0}


def test_the_untampered_dump_still_restores_into_postgresql(dump_text, tmp_path):
    from conftest import PostgresSchema

    path = tmp_path / "dump.sql"
    path.write_text(dump_text, encoding="utf-8")
    schema = PostgresSchema()
    try:
        target = make_engine(schema.url)
        counts = service.restore(target, path)
        assert counts["project"] == 1 and counts["coder"] >= 1 and counts["segment"] == 2
        assert service.authenticate(target, P, "alice", "correct horse battery") == "alice"
        target.dispose()
    finally:
        schema.drop()
