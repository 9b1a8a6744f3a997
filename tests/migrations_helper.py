"""Seeding a database left at an old revision with raw SQL, for the migration upgrade tests.

Each function inserts one kind of row with the columns every revision since 0001 has, so the same
statements work below and above the migration under test. Rows are tied together by ``SELECT`` over
the (single) project, document, segment, code and coder of the seed.
"""

from __future__ import annotations

import sqlalchemy as sa


def _insert(conn, table: str, columns: str, select: str) -> None:
    conn.execute(sa.text(f"INSERT INTO {table} ({columns}) {select}"))


def project(conn, *, name: str = "old", team_mode: bool = False) -> None:
    _insert(conn, "project", "name, language, segmentation_unit, blind_mode, team_mode, embedding_model, created",
            f"VALUES ('{name}', 'en', 'sentence', true, {'true' if team_mode else 'false'}, 'm', CURRENT_TIMESTAMP)")


def document(conn, *, name: str = "S1", text: str = "No.", attributes: str = "{}") -> None:
    _insert(conn, "document", "project_id, name, respondent, attributes, text, format, encoding, language, sha256, "
            "imported", f"SELECT id, '{name}', '{name}', '{attributes}', '{text}', 'txt', 'utf-8', 'en', 'h', "
            "CURRENT_TIMESTAMP FROM project")


def segment(conn, *, text: str = "No.") -> None:
    """One unit covering the whole text of each document."""
    _insert(conn, "segment", 'document_id, position, turn_index, role, is_unit, start, "end", text',
            f"SELECT id, 0, 0, 'respondent', true, 0, {len(text)}, '{text}' FROM document")


def code(conn, *, key: str = "c", label: str = "C", definition: str = "d", inclusion: str = "[]") -> None:
    """A frame ``f`` and one code in it."""
    _insert(conn, "code_frame", "project_id, key, label, description, mutually_exclusive, position, active",
            "SELECT id, 'f', 'F', '', false, 0, true FROM project")
    _insert(conn, "code", "project_id, frame_id, key, label, definition, inclusion, exclusion, examples, position, "
            "active", f"SELECT p.id, f.id, '{key}', '{label}', '{definition}', '{inclusion}', '[]', '[]', 0, true "
            "FROM project p JOIN code_frame f ON f.project_id = p.id")


def coder(conn, *, name: str = "ann") -> None:
    _insert(conn, "coder", "project_id, name, role, is_consensus, created",
            f"SELECT id, '{name}', 'coder', false, CURRENT_TIMESTAMP FROM project")


def coding(conn, *, memo: str) -> None:
    """The coder's hand coding of the code on the segment, with ``memo``."""
    _insert(conn, "coding", "segment_id, code_id, coder_id, source, memo, created, updated",
            f"SELECT s.id, c.id, r.id, 'hand', '{memo}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP "
            "FROM segment s, code c, coder r")


def coded_project(conn, *, text: str = "No.", attributes: str = "{}", key: str = "c", label: str = "C",
                  definition: str = "d", inclusion: str = "[]", coder_name: str = "ann", memo: str = "kept") -> None:
    """A project ``old`` with one document of one unit, coded once by one coder."""
    project(conn)
    code(conn, key=key, label=label, definition=definition, inclusion=inclusion)
    coder(conn, name=coder_name)
    document(conn, text=text, attributes=attributes)
    segment(conn, text=text)
    coding(conn, memo=memo)
