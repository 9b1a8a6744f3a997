"""Backup and restore of the whole database.

SQLite: a single-file copy made with SQLite's online backup API. PostgreSQL: a plain-SQL
``pg_dump`` of the engine's schema, restored with COPY. Either restores into an empty database."""

from __future__ import annotations

import os
import re
from pathlib import Path

from sqlalchemy import func
from sqlalchemy.engine import Engine

from coding.database.retry import retry_locked
from coding.errors import CodeframeError, NotFound, Problem


def backup_tables():
    from sqlmodel import SQLModel

    return list(SQLModel.metadata.sorted_tables)  # parents before children, so foreign keys hold on restore


def table_row_counts(engine: Engine) -> dict[str, int]:
    """Rows per Codeframe table: the emptiness check of :func:`restore`, and a quick fingerprint."""
    with engine.connect() as conn:
        return {t.name: conn.execute(func.count().select().select_from(t)).scalar_one() for t in backup_tables()}


def backup(engine: Engine, path: str | Path) -> Path:
    """Write a consistent backup of the whole database to ``path``.

    SQLite: a single-file copy made with SQLite's online backup API (safe while others
    write). PostgreSQL: a plain-SQL ``pg_dump`` of the engine's schema. Either restores
    with :func:`restore` into an empty database.
    """
    from coding.database.engine import is_sqlite

    path = Path(path)
    if path.is_dir():
        raise CodeframeError(f"{path} is a folder; give a file name for the backup")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if is_sqlite(engine):
            _backup_sqlite(engine, partial)
        else:
            _backup_postgres(engine, partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def _backup_sqlite(engine: Engine, target: Path) -> None:
    import sqlite3

    raw = engine.raw_connection()
    try:
        copy = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            copy.close()
    finally:
        raw.close()


def _backup_postgres(engine: Engine, target: Path) -> None:
    import shutil
    import subprocess

    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise CodeframeError(
            "pg_dump is not installed; install the PostgreSQL client tools to back up a server database")
    with engine.connect() as conn:
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    for key, var in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        if key in url.query:
            env[var] = str(url.query[key])
    command = [pg_dump, "--format=plain", "--no-owner", "--no-privileges", "--encoding=UTF8",
               "--schema=" + '"' + schema.replace('"', '""') + '"', f"--file={target}"]
    if url.host:
        command.append(f"--host={url.host}")
    if url.port:
        command.append(f"--port={url.port}")
    if url.username:
        command.append(f"--username={url.username}")
    command.append(f"--dbname={url.database}")
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise CodeframeError(f"pg_dump failed: {result.stderr.strip() or f'exit status {result.returncode}'}")


@retry_locked
def restore(engine: Engine, path: str | Path) -> dict[str, int]:
    """Load a backup made by :func:`backup` into an EMPTY database; returns rows restored per table.

    A SQLite backup restores into SQLite or PostgreSQL (older backups are migrated first);
    a PostgreSQL dump restores into PostgreSQL, into any schema. A database that already
    holds data is refused, and a failed restore leaves it empty.
    """
    from coding.database.engine import is_sqlite

    path = Path(path)
    if not path.is_file():
        raise NotFound(f"no backup file at {path}")
    with path.open("rb") as handle:
        head = handle.read(4096)
    filled = {t: n for t, n in table_row_counts(engine).items() if n}
    if filled:
        raise CodeframeError(
            "restore needs an empty database, and this one has data; nothing was restored",
            [Problem(f"{n} row(s) in table {t}") for t, n in filled.items()],
        )
    if head.startswith(b"SQLite format 3\x00"):
        _restore_from_sqlite(engine, path)
    elif b"PostgreSQL database dump" in head:
        _read_pg_dump(path)  # a crafted dump is refused by its line, whatever the target
        if is_sqlite(engine):
            raise CodeframeError(f"{path.name} is a PostgreSQL dump; restore it into a PostgreSQL database",
                                 [Problem("PostgreSQL dump", file=path.name)])
        _restore_from_pg_dump(engine, path)
    else:
        raise CodeframeError(
            f"{path.name} is not a Codeframe backup (neither a SQLite database nor a pg_dump file); "
            "nothing was restored",
            [Problem("unrecognised backup format", file=path.name, line=1)],
        )
    return table_row_counts(engine)


def _restore_from_sqlite(engine: Engine, path: Path) -> None:
    import shutil
    import tempfile

    from sqlalchemy.exc import DatabaseError

    from coding.database.engine import is_sqlite, make_engine

    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "backup.sqlite"
        shutil.copy(path, copy)
        try:
            source = make_engine(f"sqlite:///{copy}")  # brings an older backup up to the current schema
        except DatabaseError as exc:
            raise CodeframeError(f"{path.name} is not a readable SQLite backup: {exc.orig}",
                                 [Problem("damaged SQLite file", file=path.name)]) from None
        try:
            with source.connect() as src, engine.begin() as dst:
                for table in backup_tables():
                    rows = [dict(r._mapping) for r in src.execute(table.select().order_by(*table.primary_key.columns))]
                    for start in range(0, len(rows), 1000):
                        dst.execute(table.insert(), rows[start:start + 1000])
                if not is_sqlite(engine):
                    _reset_sequences(dst)
        finally:
            source.dispose()


def _reset_sequences(conn) -> None:
    """After inserting explicit ids on PostgreSQL, move each id sequence past the largest id."""
    from sqlalchemy import text

    for table in backup_tables():
        if "id" not in table.c:
            continue
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence(:table, 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) "
            f'FROM "{table.name}"'
        ), {"table": f'"{table.name}"'})


_IDENTIFIER = rb'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'  # quoted or bare, as pg_dump writes them
_COPY_LINE = re.compile(rb"^COPY (?:(" + _IDENTIFIER + rb")\.)?(" + _IDENTIFIER + rb") \(("
                        + _IDENTIFIER + rb"(?:, " + _IDENTIFIER + rb")*)\) FROM stdin;$")


def _unquote(identifier: bytes) -> str:
    text = identifier.decode("utf-8")
    return text[1:-1].replace('""', '"') if text.startswith('"') else text


class _Block:
    """One COPY block of a dump: its table and columns (schema names, validated) and its data lines."""

    def __init__(self, table, columns: list[str], line: int):
        self.table, self.columns, self.line, self.lines = table, columns, line, []


def _copy_header(path: Path, line: bytes, number: int) -> tuple[str, list[str]]:
    """Table and column names of a ``COPY ... FROM stdin;`` line of pg_dump's form, else refused."""
    match = _COPY_LINE.match(line)
    if match is None:
        raise CodeframeError(
            f"{path.name} line {number}: a COPY line that is not of pg_dump's form; nothing was restored",
            [Problem("unexpected COPY line", file=path.name, line=number)])
    columns = [_unquote(c) for c in re.findall(_IDENTIFIER, match.group(3))]
    return _unquote(match.group(2)), columns


def _read_pg_dump(path: Path) -> dict[str, _Block]:
    """The COPY blocks of a plain pg_dump, by table; every table and column name checked against the schema.

    Nothing of the file is ever pasted into SQL: the names used later are the schema's own.
    """
    tables = {t.name: t for t in backup_tables()}
    blocks: dict[str, _Block] = {}
    with path.open("rb") as handle:
        current = None
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip(b"\r\n")
            if current is not None:
                if line == b"\\.":
                    current = None
                else:
                    current.lines.append(raw if raw.endswith(b"\n") else raw + b"\n")
                continue
            if not line.startswith(b"COPY "):
                continue
            name, columns = _copy_header(path, line, number)
            if name == "alembic_version" and columns == ["version_num"]:
                current = blocks[name] = _Block(None, columns, number)
                continue
            table = tables.get(name)
            bad = [c for c in columns if table is None or c not in table.c]
            if table is None or bad or len(set(columns)) != len(columns) or name in blocks:
                what = (f"table {name!r} is not a Codeframe table" if table is None else
                        f"column(s) {', '.join(map(repr, bad))} are not columns of {name}" if bad else
                        f"table {name!r} is repeated or names a column twice")
                raise CodeframeError(f"{path.name} line {number}: {what}; nothing was restored",
                                     [Problem(what, file=path.name, line=number)])
            current = blocks[name] = _Block(table, [table.c[c].name for c in columns], number)
        if current is not None:
            raise CodeframeError(f"{path.name} is truncated: a COPY block never ends; nothing was restored",
                                 [Problem("truncated dump", file=path.name, line=number)])
    return blocks


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _restore_from_pg_dump(engine: Engine, path: Path) -> None:
    blocks = _read_pg_dump(path)
    if "project" not in blocks:
        raise CodeframeError(f"{path.name} is not a Codeframe database dump; nothing was restored",
                             [Problem("no project table in the dump", file=path.name)])
    version = blocks.get("alembic_version")
    dumped_revision = b"".join(version.lines if version else []).decode("utf-8").strip()
    with engine.connect() as conn:
        current_revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    if dumped_revision and dumped_revision != current_revision:
        raise CodeframeError(
            f"{path.name} holds schema revision {dumped_revision}, this Codeframe expects {current_revision}; "
            "restore it with the Codeframe version that made it, then upgrade",
            [Problem("schema revision differs", file=path.name)],
        )
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        with connection.cursor() as cursor:
            for table in backup_tables():
                if table.name not in blocks:
                    continue
                block = blocks[table.name]
                columns, lines = ", ".join(_quoted(c) for c in block.columns), block.lines
                with cursor.copy(f"COPY {_quoted(table.name)} ({columns}) FROM STDIN") as copy:
                    for start in range(0, len(lines), 2000):
                        copy.write(b"".join(lines[start:start + 2000]))
            for table in backup_tables():
                if "id" in table.c:
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) "
                        f'FROM "{table.name}"', (f'"{table.name}"',),
                    )
        raw.commit()
    except Exception as exc:
        raw.rollback()
        if isinstance(exc, CodeframeError):
            raise
        raise CodeframeError(f"{path.name} could not be restored ({type(exc).__name__}: {exc}); nothing was restored",
                             [Problem(str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                                      file=path.name)]) from None
    finally:
        raw.close()
