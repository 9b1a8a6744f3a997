"""Shared fixtures: a fresh project database on SQLite and on the real PostgreSQL server.

PostgreSQL comes from ``$CODEFRAME_TEST_POSTGRES`` (default: the server on these machines,
127.0.0.1:5432, trust auth, database ``test``, a user who may create databases).

Migrating costs far more than copying, so each test session (each xdist worker) migrates one
template per backend and every ``engine`` / ``db_url`` is a copy of it: a copied file on SQLite,
``CREATE DATABASE ... TEMPLATE`` on PostgreSQL (dropped after). ``any_db_url`` stays an EMPTY
database (a schema of its own on PostgreSQL), for the tests that migrate from nothing or from an
old revision; a test that asks for both ``engine`` and ``any_db_url`` gets the engine on that URL.
If the server does not answer, the PostgreSQL tests FAIL: they are never skipped silently.
A developer without a server may set ``CODEFRAME_TEST_POSTGRES=off`` to leave them out
(refused when ``CI`` is set).
"""

from __future__ import annotations

import os
import queue
import shutil
import sys
import threading
import uuid
from pathlib import Path

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


def _postgres_unreachable(exc: Exception):
    pytest.fail(
        f"PostgreSQL at {POSTGRES_URL} does not answer ({getattr(exc, 'orig', exc)}); the suite must run against it. "
        "Start the server, point CODEFRAME_TEST_POSTGRES at one, or set CODEFRAME_TEST_POSTGRES=off outside CI.",
        pytrace=False,
    )


class PostgresSchema:
    """A throw-away empty schema on the test server."""

    def __init__(self):
        self.name = "cf_" + uuid.uuid4().hex[:12]
        self.admin = sa.create_engine(POSTGRES_URL)
        try:
            with self.admin.begin() as conn:
                conn.execute(sa.text(f"CREATE SCHEMA {self.name}"))
        except sa.exc.OperationalError as exc:
            _postgres_unreachable(exc)
        self.url = postgres_schema_url(self.name)

    def drop(self):
        with self.admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {self.name} CASCADE"))
        self.admin.dispose()


class PostgresDatabase:
    """A throw-away database on the test server, a copy of ``template`` (a database name) if given."""

    def __init__(self, template: str | None = None, prefix: str = "cf_"):
        self.name = prefix + uuid.uuid4().hex[:12]
        self.admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        clause = f" TEMPLATE {template}" if template else ""
        try:
            with self.admin.connect() as conn:
                conn.execute(sa.text(f"CREATE DATABASE {self.name}{clause}"))
        except sa.exc.OperationalError as exc:
            _postgres_unreachable(exc)
        self.url = sa.engine.make_url(POSTGRES_URL).set(database=self.name).render_as_string(hide_password=False)

    def drop(self):
        with self.admin.connect() as conn:  # FORCE: an engine a test left open does not keep it alive
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"))
        self.admin.dispose()

    def drop_later(self):
        """Drop in a background thread: DROP DATABASE waits for a checkpoint, the next test need not."""
        _DROPS.put(self)
        if not any(t.name == "drop-test-databases" and t.is_alive() for t in threading.enumerate()):
            threading.Thread(target=_drop_queued, name="drop-test-databases", daemon=True).start()


_DROPS: queue.Queue = queue.Queue()


def _drop_queued() -> None:
    while True:
        database = _DROPS.get()
        try:
            database.drop()
        except Exception as exc:  # noqa: BLE001 - reported, and the other drops go on
            print(f"could not drop test database {database.name}: {exc}", file=sys.stderr)
        finally:
            _DROPS.task_done()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """An empty SQLite database migrated to the head once per session; copy it, don't write to it."""
    from coding.database.engine import make_engine

    path = tmp_path_factory.mktemp("template") / "migrated.sqlite"
    make_engine(f"sqlite:///{path}").dispose()  # the last close checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def postgres_template():
    """A database migrated to the head once per session (per xdist worker); its name, for TEMPLATE."""
    from coding.database.engine import make_engine

    template = PostgresDatabase(prefix="cf_template_")
    try:
        make_engine(template.url).dispose()  # no connection may stay open on a template
        yield template.name
    finally:
        _DROPS.join()  # the copies dropped in the background are gone before the session ends
        template.drop()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """The backend of the test: ``sqlite`` and ``postgresql`` (one parameter for every fixture below)."""
    return request.param


@pytest.fixture
def any_db_url(backend, tmp_path):
    """A URL for an EMPTY database (SQLite file; PostgreSQL schema dropped after), for migration tests."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'codeframe.sqlite'}"
        return
    schema = PostgresSchema()
    try:
        yield schema.url
    finally:
        schema.drop()


@pytest.fixture
def db_url(backend, request, tmp_path):
    """A URL for a database already migrated to the head: a copy of the session's template."""
    if backend == "sqlite":
        path = tmp_path / "codeframe.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    database = PostgresDatabase(template=request.getfixturevalue("postgres_template"))
    try:
        yield database.url
    finally:
        database.drop_later()


@pytest.fixture
def engine(backend, request):
    """A migrated engine on each backend (on ``any_db_url`` if the test asks for it too, else on ``db_url``)."""
    from coding.database.engine import make_engine

    url = request.getfixturevalue("any_db_url" if "any_db_url" in request.fixturenames else "db_url")
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(sqlite_template, tmp_path):
    """A migrated SQLite engine (a copy of the template)."""
    from coding.database.engine import make_engine

    path = tmp_path / "codeframe.sqlite"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def minilm():
    """The shipped embedding model (all-MiniLM-L6-v2), loaded once per run; tests must not change it."""
    from coding.embeddings import load_embedder

    return load_embedder("all-MiniLM-L6-v2")


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


@pytest.fixture(scope="session")
def postgres_sample_template(postgres_template):
    """A PostgreSQL database with the sample corpus loaded once per run (built on first use)."""
    from coding import service
    from coding.database.engine import make_engine

    template = PostgresDatabase(template=postgres_template, prefix="cf_sample_")
    try:
        engine = make_engine(template.url)
        service.initialize(engine, sample=True)
        engine.dispose()  # no connection may stay open on a template
        yield template.name
    finally:
        template.drop()


@pytest.fixture
def sample_db_url(backend, request, tmp_path):
    """A URL for a private copy of the sample-corpus database, on each backend."""
    if backend == "sqlite":
        path = tmp_path / "sample.sqlite"
        shutil.copy(request.getfixturevalue("sample_db_template"), path)
        yield f"sqlite:///{path}"
        return
    database = PostgresDatabase(template=request.getfixturevalue("postgres_sample_template"))
    try:
        yield database.url
    finally:
        database.drop_later()


@pytest.fixture
def sample_engine(sample_db_template, tmp_path):
    """A private copy of the sample-corpus database."""
    from coding.database.engine import make_engine

    path = tmp_path / "sample.sqlite"
    shutil.copy(sample_db_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def app_engine(sample_db_template, tmp_path, monkeypatch):
    """A private copy of the sample database that the app is pointed at through $CODEFRAME_DB."""
    from coding.database.engine import make_engine

    path = tmp_path / "app.sqlite"
    shutil.copy(sample_db_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("CODEFRAME_DB", url)
    monkeypatch.delenv("CODEFRAME_PROJECT", raising=False)
    engine = make_engine(url)
    yield engine
    engine.dispose()
