"""Writing codings: the core every writer shares (snapshot, history, upsert) and add/remove/memo."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.database import queries
from coding.database.retry import retry_locked
from coding.database.tables import Code, CodeFrame, Coder, Coding, CodingEvent, Document, Project, Segment, utcnow
from coding.errors import CodeframeError, NotFound
from coding.service.common import SOURCES
from coding.service.permissions import _check_may_edit
from coding.textio import check_storable


def snapshot(coding: Coding) -> dict:
    return {
        "source": coding.source, "score": coding.score, "model_id": coding.model_id, "memo": coding.memo,
    }


def _log(session: Session, project_id: int, coding: Coding, action: str, *, before, after, actor_id, reason=None,
         source: str | None = None) -> None:
    session.add(
        CodingEvent(
            project_id=project_id, segment_id=coding.segment_id, code_id=coding.code_id,
            coder_id=coding.coder_id, actor_id=actor_id, action=action, source=source or coding.source,
            before=before, after=after, reason=reason,
        )
    )


def _code(session: Session, project: Project, key: str) -> Code:
    code = session.exec(select(Code).where(Code.project_id == project.id, Code.key == key)).first()
    if code is None:
        raise NotFound(f"no code {key!r} in this project's codebook")
    if not code.active:
        raise CodeframeError(f"code {key!r} is no longer in the codebook (inactive); it cannot be applied")
    return code


@dataclass(frozen=True, slots=True)
class _IdRow:
    """A row known only by its id (project, segment) where the writers need nothing else."""

    id: int


@dataclass(frozen=True, slots=True)
class _CoderRow:
    """The fields of a coder that permission checks read (:func:`_check_may_edit`)."""

    id: int
    name: str
    role: str
    is_consensus: bool


@dataclass(frozen=True, slots=True)
class _CodeRow:
    """The fields of a code that :func:`_upsert_coding` reads."""

    id: int
    key: str
    frame_id: int


@functools.cache
def _write_lookup():
    """One SELECT resolving everything :func:`add_coding` checks: the project by name, the
    target and acting coders by name, the code by key (with its frame's mutually_exclusive
    flag) and whether the segment belongs to the project. Outer joins, so a missing piece
    is a NULL column and gets its own error message."""
    from sqlalchemy import and_, bindparam
    from sqlalchemy import select as core_select

    project, code, frame = Project.__table__, Code.__table__, CodeFrame.__table__
    segment, document = Segment.__table__, Document.__table__
    target, acting = Coder.__table__.alias("target"), Coder.__table__.alias("acting")
    segment_in_project = (
        core_select(segment.c.id)
        .join(document, segment.c.document_id == document.c.id)
        .where(segment.c.id == bindparam("segment_id"), document.c.project_id == project.c.id)
        .scalar_subquery()
    )
    joined = (
        project.outerjoin(target, and_(target.c.project_id == project.c.id, target.c.name == bindparam("coder")))
        .outerjoin(acting, and_(acting.c.project_id == project.c.id, acting.c.name == bindparam("actor")))
        .outerjoin(code, and_(code.c.project_id == project.c.id, code.c.key == bindparam("code")))
        .outerjoin(frame, frame.c.id == code.c.frame_id)
    )
    return core_select(
        project.c.id.label("project_id"),
        target.c.id.label("target_id"), target.c.name.label("target_name"), target.c.role.label("target_role"),
        target.c.is_consensus.label("target_is_consensus"),
        acting.c.id.label("acting_id"), acting.c.name.label("acting_name"), acting.c.role.label("acting_role"),
        acting.c.is_consensus.label("acting_is_consensus"),
        code.c.id.label("code_id"), code.c.key.label("code_key"), code.c.frame_id.label("frame_id"),
        code.c.active.label("code_active"), frame.c.mutually_exclusive.label("mutually_exclusive"),
        segment_in_project.label("segment_id"),
    ).select_from(joined).where(project.c.name == bindparam("project"))


@retry_locked
def add_coding(
    engine: Engine,
    project: str,
    *,
    segment_id: int,
    code: str,
    coder: str,
    actor: str | None = None,
    source: str = "hand",
    score: float | None = None,
    model_id: str | None = None,
    memo: str | None = None,
    reason: str | None = None,
) -> int:
    """Apply ``code`` to a segment for ``coder`` (saved at once; history appended). Returns the coding id.

    Applying a code that is already there updates its memo (if given) instead of duplicating it.
    In a mutually exclusive frame, the coder's other code of that frame on the segment is replaced.
    """
    if source not in SOURCES:
        raise CodeframeError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    check_storable(memo, "memo")
    with Session(engine) as session:
        # One round trip for all lookups (the app calls this on every click); the checks and
        # their messages and order are those of queries.project_by_name, coder_by_name,
        # _check_may_edit, queries.segment_in_project and _code.
        found = session.connection().execute(
            _write_lookup(),
            {"project": project, "coder": coder, "actor": actor if actor else coder, "code": code,
             "segment_id": segment_id},
        ).first()
        if found is None:
            raise NotFound(f"no project named {project!r}; create it with `codeframe init`")
        if found.target_id is None:
            raise NotFound(f"no coder named {coder!r} in this project")
        if found.acting_id is None:
            raise NotFound(f"no coder named {actor!r} in this project")
        target = _CoderRow(found.target_id, found.target_name, found.target_role, found.target_is_consensus)
        acting = _CoderRow(found.acting_id, found.acting_name, found.acting_role, found.acting_is_consensus)
        _check_may_edit(acting, target, source)
        if found.segment_id is None:
            raise NotFound(f"no segment with id {segment_id} in this project")
        if found.code_id is None:
            raise NotFound(f"no code {code!r} in this project's codebook")
        if not found.code_active:
            raise CodeframeError(f"code {code!r} is no longer in the codebook (inactive); it cannot be applied")
        coding_id = _upsert_coding(
            session, _IdRow(found.project_id), _IdRow(found.segment_id),
            _CodeRow(found.code_id, found.code_key, found.frame_id), target, acting, source=source, score=score,
            model_id=model_id, memo=memo, reason=reason, mutually_exclusive=bool(found.mutually_exclusive),
        )
        session.commit()
        return coding_id


@functools.cache
def _insert_coding_or_skip(dialect: str):
    """``INSERT ... ON CONFLICT (segment, code, coder) DO NOTHING RETURNING id`` where the
    dialect has it (SQLite, PostgreSQL), else None. It returns no row when the coding exists;
    on PostgreSQL it waits for a concurrent writer of the same coding to finish first."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        return None
    table = Coding.__table__
    return (
        dialect_insert(table)
        .on_conflict_do_nothing(index_elements=["segment_id", "code_id", "coder_id"])
        .returning(table.c.id)
    )


def _upsert_coding(session, project, segment, code_row, target, acting, *, source, score, model_id, memo, reason,
                   mutually_exclusive: bool | None = None) -> int:
    """Insert a coding (or update the memo of the existing one) with its history; the caller commits.

    Reads only ``.id`` of project, segment, target and acting, and ``.id``, ``.key`` and
    ``.frame_id`` of ``code_row``, so ORM rows and :func:`add_coding`'s light rows both fit.
    ``mutually_exclusive`` is the code's frame flag, looked up when not given.
    """
    if mutually_exclusive is None:
        mutually_exclusive = session.get(CodeFrame, code_row.frame_id).mutually_exclusive
    if mutually_exclusive:
        others = session.exec(
            select(Coding)
            .join(Code, Coding.code_id == Code.id)
            .where(
                Coding.segment_id == segment.id, Coding.coder_id == target.id, Code.frame_id == code_row.frame_id,
                Coding.code_id != code_row.id,
            )
            .with_for_update(of=Coding)
        ).all()
        for other in others:
            _log(session, project.id, other, "remove", before=snapshot(other), after=None, actor_id=acting.id,
                 reason=f"replaced by {code_row.key} (mutually exclusive frame)")
            session.delete(other)
    session.flush()  # the Core statements below bypass the ORM: pending changes (and their events) go first
    connection = session.connection()
    insert_or_skip = _insert_coding_or_skip(connection.dialect.name)
    now = utcnow()
    values = {
        "segment_id": segment.id, "code_id": code_row.id, "coder_id": target.id, "source": source, "score": score,
        "model_id": model_id, "memo": memo or None, "created": now, "updated": now,
    }
    coding_id = None
    for _ in range(5 if insert_or_skip is not None else 1):  # a conflicting coding may be replaced meanwhile
        if insert_or_skip is not None:
            coding_id = connection.execute(insert_or_skip, values).scalar()
            if coding_id is not None:
                break
        existing = queries.coding_for_update(session, segment.id, code_row.id, target.id)
        if existing is not None:
            if memo is not None and memo != existing.memo:
                before = snapshot(existing)
                existing.memo, existing.updated = memo, utcnow()
                session.add(existing)
                _log(session, project.id, existing, "memo", before=before, after=snapshot(existing),
                     actor_id=acting.id, reason=reason)
            return existing.id
    if coding_id is None:
        # No ON CONFLICT on this database, or a concurrent writer removed the coding between
        # the two statements: a plain insert (a duplicate raises IntegrityError, which
        # retry_locked runs again).
        coding_id = connection.execute(insert(Coding.__table__), values).inserted_primary_key[0]
    connection.execute(
        insert(CodingEvent.__table__),
        {
            "project_id": project.id, "segment_id": segment.id, "code_id": code_row.id, "coder_id": target.id,
            "actor_id": acting.id, "action": "add", "source": source, "before": None,
            "after": {"source": source, "score": score, "model_id": model_id, "memo": memo or None},
            "reason": reason, "at": now,
        },
    )
    return coding_id


@retry_locked
def remove_coding(
    engine: Engine, project: str, *, segment_id: int, code: str, coder: str, actor: str | None = None,
    reason: str | None = None,
) -> bool:
    """Remove ``code`` from a segment for ``coder``; returns False if it was not there."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        acting = queries.coder_by_name(session, row.id, actor) if actor else target
        code_row = session.exec(select(Code).where(Code.project_id == row.id, Code.key == code)).first()
        if code_row is None:
            raise NotFound(f"no code {code!r} in this project's codebook")
        queries.segment_in_project(session, row.id, segment_id)
        existing = queries.coding_for_update(session, segment_id, code_row.id, target.id)
        if existing is None:
            return False
        _check_may_edit(acting, target, existing.source)
        _log(session, row.id, existing, "remove", before=snapshot(existing), after=None, actor_id=acting.id,
             reason=reason)
        session.delete(existing)
        session.commit()
        return True


@retry_locked
def set_memo(engine: Engine, project: str, *, segment_id: int, code: str, coder: str, memo: str | None,
             actor: str | None = None) -> None:
    """Set or clear the memo of an existing coding."""
    check_storable(memo, "memo")
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        acting = queries.coder_by_name(session, row.id, actor) if actor else target
        code_row = session.exec(select(Code).where(Code.project_id == row.id, Code.key == code)).first()
        existing = code_row and queries.coding_for_update(session, segment_id, code_row.id, target.id)
        if not existing:
            raise NotFound(f"{coder} has not applied {code!r} to segment {segment_id}")
        _check_may_edit(acting, target, existing.source)
        before = snapshot(existing)
        existing.memo, existing.updated = (memo or None), utcnow()
        session.add(existing)
        _log(session, row.id, existing, "memo", before=before, after=snapshot(existing), actor_id=acting.id)
        session.commit()
