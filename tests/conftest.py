"""Shared fixtures: a fresh project database on SQLite and on the real PostgreSQL server.

PostgreSQL comes from ``$CODEFRAME_TEST_POSTGRES`` (default: the server on these machines,
127.0.0.1:5432, trust auth, database ``test``); each test gets its own schema, dropped after.
If the server does not answer, the PostgreSQL tests FAIL: they are never skipped silently.
A developer without a server may set ``CODEFRAME_TEST_POSTGRES=off`` to leave them out
(refused when ``CI`` is set).
"""

from __future__ import annotations

import os
import sys
import uuid

import pytest
import sqlalchemy as sa

os.environ.setdefault("CODEFRAME_WARM_UP", "0")  # no background model load in AppTests

POSTGRES_URL = os.environ.get("CODEFRAME_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
POSTGRES_OFF = POSTGRES_URL.lower() == "off"
if POSTGRES_OFF and os.environ.get("CI"):
    raise pytest.UsageError("CODEFRAME_TEST_POSTGRES=off is not allowed in CI: the suite must run on PostgreSQL")

BACKENDS = ["sqlite"] if POSTGRES_OFF else ["sqlite", "postgresql"]


_ORIGINAL_MAIN = sys.modules.get("__main__")  # captured before any fixture, module-scoped ones included


@pytest.fixture(autouse=True)
def _restore_main_module():
    """Put the original ``__main__`` back after each test: AppTest leaves its temporary script
    there, and a later multiprocessing 'spawn' child would try to re-run that deleted file and die."""
    yield
    sys.modules["__main__"] = _ORIGINAL_MAIN


def postgres_schema_url(schema: str) -> str:
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"


class PostgresSchema:
    """A throw-away schema on the test server."""

    def __init__(self):
        self.name = "cf_" + uuid.uuid4().hex[:12]
        self.admin = sa.create_engine(POSTGRES_URL)
        try:
            with self.admin.begin() as conn:
                conn.execute(sa.text(f"CREATE SCHEMA {self.name}"))
        except sa.exc.OperationalError as exc:
            pytest.fail(
                f"PostgreSQL at {POSTGRES_URL} does not answer ({exc.orig}); the suite must run against it. "
                "Start the server, point CODEFRAME_TEST_POSTGRES at one, or set CODEFRAME_TEST_POSTGRES=off "
                "outside CI.",
                pytrace=False,
            )
        self.url = postgres_schema_url(self.name)

    def drop(self):
        with self.admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {self.name} CASCADE"))
        self.admin.dispose()


@pytest.fixture(params=BACKENDS)
def any_db_url(request, tmp_path):
    """A URL for an empty database, once per backend (SQLite file; PostgreSQL schema dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'codeframe.sqlite'}"
        return
    schema = PostgresSchema()
    try:
        yield schema.url
    finally:
        schema.drop()


@pytest.fixture
def engine(any_db_url):
    """A migrated engine on each backend."""
    from coding.database.engine import make_engine

    engine = make_engine(any_db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path):
    from coding.database.engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'codeframe.sqlite'}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sample_db_template(tmp_path_factory):
    """A SQLite database with the sample corpus loaded once per run; copy it, don't write to it."""
    from coding import service
    from coding.database.engine import make_engine

    path = tmp_path_factory.mktemp("sample") / "sample.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    service.initialize(engine, sample=True)
    engine.dispose()  # closing the last connection checkpoints the WAL into the main file
    return path


@pytest.fixture
def sample_engine(sample_db_template, tmp_path):
    """A private copy of the sample-corpus database."""
    import shutil

    from coding.database.engine import make_engine

    path = tmp_path / "sample.sqlite"
    shutil.copy(sample_db_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def app_engine(sample_db_template, tmp_path, monkeypatch):
    """A private copy of the sample database that the app is pointed at through $CODEFRAME_DB."""
    import shutil

    from coding.database.engine import make_engine

    path = tmp_path / "app.sqlite"
    shutil.copy(sample_db_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("CODEFRAME_DB", url)
    monkeypatch.delenv("CODEFRAME_PROJECT", raising=False)
    engine = make_engine(url)
    yield engine
    engine.dispose()
