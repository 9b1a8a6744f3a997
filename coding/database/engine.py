"""Engine factory: SQLite by default (WAL, foreign keys, busy timeout), any SQLAlchemy URL otherwise.

Schema changes go through Alembic migrations (:func:`migrate`), so a user's
database survives an upgrade.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import create_engine

from coding.paths import DB_ENV, HOME_ENV, data_dir, default_url  # noqa: F401 - light, for the first paint

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _on_sqlite_connect(dbapi_connection, _record) -> None:
    """Every SQLite connection: foreign keys on, WAL journal, wait instead of 'database is locked'."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn) -> None:
    """Take the write lock at BEGIN, so concurrent writers queue instead of failing mid-transaction."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str | None = None, *, migrate_schema: bool = True, echo: bool = False) -> Engine:
    """Create an engine for ``url`` (default :func:`default_url`) and bring its schema up to date."""
    url = url or default_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                          "isolation_level": None},
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = create_engine(url, echo=echo, pool_pre_ping=True)
    if migrate_schema:
        migrate(engine)
    return engine


def migrate(engine: Engine, revision: str = "head") -> None:
    """Apply Alembic migrations up to ``revision`` on ``engine``."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    sqlite = is_sqlite(engine)
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection if sqlite else None
        if raw is not None:
            # A batch migration recreates a table; with foreign keys on, dropping the old copy would
            # fail (or cascade). SQLite ignores this pragma inside a transaction, so set it first,
            # and check every reference before committing.
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"migration to {revision} left {len(broken)} broken references, "
                                           f"e.g. {tuple(broken[0])}; nothing was changed")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
