"""Engine factory and migrations: SQLite pragmas on every connection, schema equal to the tables, upgrades keep data."""

from __future__ import annotations

import migrations_helper as seed
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from coding.database import engine as engine_module
from coding.database import tables  # noqa: F401  (registers the tables)
from coding.database.engine import data_dir, default_url, make_engine, migrate


def test_every_sqlite_connection_has_foreign_keys_wal_and_a_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    seen = []  # strong references, so a freed connection's id() cannot be reused by the next one
    for _ in range(3):  # a fresh DBAPI connection each time: every one is configured by the listener
        engine.dispose()
        with engine.connect() as conn:
            seen.append(conn.connection.dbapi_connection)
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == engine_module.SQLITE_BUSY_TIMEOUT_MS
    assert len({id(c) for c in seen}) == 3
    engine.dispose()


def test_a_second_writer_waits_for_the_first_instead_of_failing(tmp_path):
    import threading

    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    first = engine.connect()
    first.exec_driver_sql("INSERT INTO project (name, language, segmentation_unit, blind_mode, team_mode, "
                          "embedding_model, created) VALUES ('a', 'en', 'sentence', 1, 0, 'm', '2026-01-01')")
    done = []

    def second_writer():
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO project (name, language, segmentation_unit, blind_mode, team_mode, "
                                 "embedding_model, created) VALUES ('b', 'en', 'sentence', 1, 0, 'm', '2026-01-01')")
        done.append(True)

    thread = threading.Thread(target=second_writer)
    thread.start()
    thread.join(0.5)
    assert not done  # queued behind the first transaction's write lock
    first.commit()
    first.close()
    thread.join(10)
    assert done
    with engine.connect() as conn:
        assert sorted(conn.exec_driver_sql("SELECT name FROM project").scalars()) == ["a", "b"]
    engine.dispose()


def test_foreign_keys_are_enforced(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.connect() as conn:
        try:
            conn.exec_driver_sql(
                "INSERT INTO segment (document_id, position, turn_index, role, is_unit, start, \"end\", text) "
                "VALUES (999, 0, 0, 'respondent', 1, 0, 1, 'x')")
            conn.commit()
            raised = False
        except sa.exc.IntegrityError:
            raised = True
    assert raised
    engine.dispose()


def test_migrations_build_exactly_the_tables(engine):
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []


def test_upgrade_from_the_first_revision_keeps_data(any_db_url):
    engine = make_engine(any_db_url, migrate_schema=False)
    migrate(engine, "0001")
    with engine.begin() as conn:
        seed.project(conn)
        assert "frame_coverage" not in sa.inspect(conn).get_table_names()
        seed.document(conn)
        seed.segment(conn)  # a segment referencing it: the table rebuild of 0003 must keep the reference
        with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():  # 0001: equal text was refused
            seed.document(conn, name="S2")
    migrate(engine)
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT name FROM project")).scalars().all() == ["old"]
        assert conn.execute(sa.text("SELECT name FROM document")).scalars().all() == ["S1"]
        assert conn.execute(sa.text(
            "SELECT d.name FROM segment s JOIN document d ON d.id = s.document_id")).scalars().all() == ["S1"]
        assert "frame_coverage" in sa.inspect(conn).get_table_names()
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == _head()
        assert {"instrument", "instrument_response"} <= set(sa.inspect(conn).get_table_names())  # 0006
        assert "unit_mark" in sa.inspect(conn).get_table_names()  # 0008
        seed.coder(conn)  # 0008: a mark on the kept segment, by a coder
        conn.execute(sa.text(
            "INSERT INTO unit_mark (segment_id, coder_id, frame_key, created) "
            "SELECT s.id, c.id, 'f', CURRENT_TIMESTAMP FROM segment s, coder c"))
        with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():  # one mark per unit, coder and frame
            conn.execute(sa.text(
                "INSERT INTO unit_mark (segment_id, coder_id, frame_key, created) "
                "SELECT s.id, c.id, 'f', CURRENT_TIMESTAMP FROM segment s, coder c"))
        seed.document(conn, name="S2")  # 0003: equal text under another name is allowed
        with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():  # names stay unique
            seed.document(conn, name="S1")
        assert sorted(conn.execute(sa.text("SELECT name FROM document")).scalars().all()) == ["S1", "S2"]
    engine.dispose()


def _head() -> str:
    from pathlib import Path

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import coding.database.engine as engine_module

    config = Config()
    config.set_main_option("script_location", str(Path(engine_module.__file__).parent / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def test_upgrade_from_0003_keeps_codes_and_codings_and_adds_original_spans(any_db_url):
    engine = make_engine(any_db_url, migrate_schema=False)
    migrate(engine, "0003")
    with engine.begin() as conn:
        assert "selection" not in sa.inspect(conn).get_table_names()
        seed.coded_project(conn, text="No pay.", attributes='{"group": "a"}', key="pay", label="Pay",
                           definition="About pay.", inclusion='["x"]', memo="kept memo")
    migrate(engine)
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == _head()
        assert conn.execute(sa.text(
            "SELECT key, label, definition, color, codable FROM code")).one() == ("pay", "Pay", "About pay.", None,
                                                                                  True)
        assert conn.execute(sa.text(
            "SELECT s.text, c.memo, c.source FROM coding c JOIN segment s ON s.id = c.segment_id")).one() == (
            "No pay.", "kept memo", "hand")
        assert conn.execute(sa.text("SELECT attributes FROM document")).scalar() in ({"group": "a"},
                                                                                     '{"group": "a"}')
        tables = sa.inspect(conn).get_table_names()
        assert "selection" in tables and "item_set" in tables
        conn.execute(sa.text(  # the new table takes an original span of the old document
            'INSERT INTO selection (document_id, code_id, coder_id, start, "end", memo) '
            "SELECT d.id, c.id, r.id, 3, 6, 'span' FROM document d, code c, coder r"))
        assert conn.execute(sa.text(
            'SELECT substr(d.text, s.start + 1, s."end" - s.start) FROM selection s '
            "JOIN document d ON d.id = s.document_id")).scalar() == "pay"
    engine.dispose()


def test_default_location_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("CODEFRAME_DB", raising=False)
    monkeypatch.setenv("CODEFRAME_HOME", str(tmp_path / "home"))
    assert data_dir() == tmp_path / "home"
    assert default_url() == f"sqlite:///{tmp_path / 'home' / 'codeframe.sqlite'}"
    make_engine().dispose()
    assert (tmp_path / "home" / "codeframe.sqlite").exists()  # the folder is created on first use
    monkeypatch.setenv("CODEFRAME_DB", "sqlite:///elsewhere.sqlite")
    assert default_url() == "sqlite:///elsewhere.sqlite"


def test_upgrade_to_review_tables_keeps_data(any_db_url):
    """0005 (chained after 0008) adds exclusion, adjudication and project_event; documents stay as they were."""
    engine = make_engine(any_db_url, migrate_schema=False)
    migrate(engine, "0008")
    with engine.begin() as conn:
        assert "exclusion" not in sa.inspect(conn).get_table_names()
        seed.project(conn)
        seed.document(conn)
    migrate(engine, "0005")
    with engine.begin() as conn:
        names = sa.inspect(conn).get_table_names()
        assert {"exclusion", "adjudication", "project_event"} <= set(names)
        assert conn.execute(sa.text("SELECT name FROM document")).scalars().all() == ["S1"]
        conn.execute(sa.text(
            "INSERT INTO exclusion (project_id, kind, target_id, at) SELECT project_id, 'document', id, "
            "CURRENT_TIMESTAMP FROM document"))
        with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():  # one exclusion per document
            conn.execute(sa.text(
                "INSERT INTO exclusion (project_id, kind, target_id, at) SELECT project_id, 'document', id, "
                "CURRENT_TIMESTAMP FROM document"))
    engine.dispose()
