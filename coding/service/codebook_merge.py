"""Merging and splitting codes with their codings, and undoing any codebook change.

A merge re-points every coding of one code to another (each move a ``merge`` event in the coding
history); where a coder had both codes on a unit, the unit keeps one coding and the other is
removed, its state kept so an undo brings it back. A split moves the codings of chosen units to a
new code. Each is one codebook version (:mod:`coding.service.codebook_edits`) and can be undone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.database import queries
from coding.database.retry import retry_locked
from coding.database.tables import Code, CodebookVersion, Coding, CodingEvent, Project, utcnow
from coding.errors import CodeframeError, NotFound, Problem
from coding.service.codebook_edits import (
    CodebookChange,
    _clean_state,
    _code_row,
    _editor,
    _new_code,
    _record,
    _set_state,
    _subtree,
)
from coding.service.codings import _log, snapshot
from coding.service.common import DEFAULT_PROJECT


def _frozen(coding: Coding) -> dict[str, Any]:
    """Everything needed to write a removed coding back."""
    return {**snapshot(coding), "segment_id": coding.segment_id, "coder_id": coding.coder_id,
            "key_quote": bool(coding.key_quote), "created": coding.created.isoformat()}


def _repoint(session: Session, project: Project, coding: Coding, to: Code, action: str, reason: str,
             actor_id: int | None) -> None:
    """Move one coding to another code, with a history event naming both codes."""
    before = {**snapshot(coding), "code": session.get(Code, coding.code_id).key}
    coding.code_id, coding.updated = to.id, utcnow()
    session.add(coding)
    _log(session, project.id, coding, action, before=before, after={**snapshot(coding), "code": to.key},
         actor_id=actor_id, reason=reason)


@retry_locked
def merge_codes(engine: Engine, project: str = DEFAULT_PROJECT, *, source: str, into: str,
                actor: str | None = None, reason: str | None = None) -> CodebookChange:
    """Merge code ``source`` into ``into`` (same frame): codings re-pointed, ``source`` retired.

    A unit on which a coder had both keeps one coding (``into``'s). The examples are pooled
    (:func:`coding.codebook_changes.pool_examples`) and ``source``'s child codes move under ``into``.
    """
    from coding.codebook_changes import pool_examples, summary_line

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        acting, _ = _editor(session, row, actor, "merge codes")
        src, dst = _code_row(session, row, source), _code_row(session, row, into)
        _check_mergeable(src, dst)
        number_next = _next_number(session, row)
        why = f"codebook version {number_next}: merged {source} into {into}"
        actor_id = acting.id if acting else None
        have = {(c.segment_id, c.coder_id) for c in session.exec(select(Coding).where(Coding.code_id == dst.id))}
        moved, dropped = [], []
        for coding in session.exec(select(Coding).where(Coding.code_id == src.id).order_by(Coding.id)).all():
            if (coding.segment_id, coding.coder_id) in have:
                dropped.append(_frozen(coding))
                _log(session, row.id, coding, "merge", before=snapshot(coding), after=None, actor_id=actor_id,
                     reason=why + f" (the unit already carried {into})")
                session.delete(coding)
            else:
                _repoint(session, row, coding, dst, "merge", why, actor_id)
                moved.append(coding.id)
        children = [c for c in queries.codes_by_key(session, row.id).values() if c.parent_key == source]
        for child in children:
            child.parent_key = into
            session.add(child)
        detail = {"source": source, "into": into, "moved": moved, "dropped": dropped,
                  "children": [c.key for c in children], "examples_before": list(dst.examples),
                  "codes": [source, into, *(c.key for c in children)]}
        dst.examples = list(pool_examples(dst.examples, src.examples))
        src.active = False
        session.add_all([src, dst])
        summary = summary_line("merge", into, source=source, moved=len(moved), dropped=len(dropped))
        number = _record(session, row, "merge", into, summary, acting=acting, reason=reason, detail=detail)
        session.commit()
        return CodebookChange(number, into, summary, moved=len(moved), dropped=len(dropped))


def _check_mergeable(src: Code, dst: Code) -> None:
    if src.id == dst.id:
        raise CodeframeError("a code cannot be merged into itself", [Problem(src.key, field="source")])
    for code in (src, dst):
        if not code.active:
            raise CodeframeError(f"{code.key!r} is retired; bring it back (undo) before merging",
                                 [Problem(code.key, field="code")])
    if src.frame_id != dst.frame_id:
        raise CodeframeError(f"{src.key!r} and {dst.key!r} are in different frames; move one first",
                             [Problem(src.key, field="source")])


def _next_number(session: Session, project: Project) -> int:
    last = session.exec(select(func.max(CodebookVersion.number)).where(CodebookVersion.project_id == project.id)).one()
    return (last or 0) + 1


def coded_units(engine: Engine, project: str = DEFAULT_PROJECT, *, code: str, viewer: str | None = None) -> "Any":
    """The units carrying ``code`` (any coder) with their text, for choosing what a split moves.

    A DataFrame: segment_id, document, respondent, position, text, coders (comma-separated), codings.
    In blind mode a coder ``viewer`` gets only the units they coded themselves.
    """
    import pandas as pd

    from coding.service.review import visible_coders

    visible = visible_coders(engine, project, viewer)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        df = queries.codings_frame(session, row.id, codes=[code], coders=visible)
    columns = ["segment_id", "document", "respondent", "position", "text", "coders", "codings"]
    if df.empty:
        return pd.DataFrame(columns=columns)
    grouped = df.groupby(["segment_id", "document", "respondent", "position", "text"], sort=False).agg(
        coders=("coder", lambda s: ", ".join(sorted(set(s)))), codings=("coding_id", "size"))
    return grouped.reset_index().sort_values(["document", "position"]).reset_index(drop=True)[columns]


@retry_locked
def split_code(engine: Engine, project: str = DEFAULT_PROJECT, *, code: str, label: str,
               segment_ids: Iterable[int], key: str | None = None, definition: str = "",
               actor: str | None = None, reason: str | None = None) -> CodebookChange:
    """Split ``code``: a new code (same frame and parent) takes the codings of the chosen units, every coder's."""
    from coding.codebook_changes import summary_line

    chosen = sorted({int(s) for s in segment_ids})
    if not chosen:
        raise CodeframeError("choose at least one unit whose codings move to the new code",
                             [Problem("none", field="segment_ids")])
    state = _clean_state(label, definition, (), (), ())
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        acting, _ = _editor(session, row, actor, "split codes")
        src = _code_row(session, row, code)
        if not src.active:
            raise CodeframeError(f"{code!r} is retired; it cannot be split", [Problem(code, field="code")])
        codings = session.exec(select(Coding).where(Coding.code_id == src.id, Coding.segment_id.in_(chosen))
                               .order_by(Coding.id)).all()
        missing = sorted(set(chosen) - {c.segment_id for c in codings})
        if missing:
            raise CodeframeError(f"{code!r} is not applied to unit(s) {', '.join(map(str, missing))}",
                                 [Problem(str(m), field="segment_ids") for m in missing])
        frame = next(f for f in queries.frames_by_key(session, row.id).values() if f.id == src.frame_id)
        new = _new_code(session, row, frame=frame.key, label=state["label"], key=key, parent=src.parent_key,
                        state=state, proposed_by=None)
        why = f"codebook version {_next_number(session, row)}: split {code}, unit moved to {new.key}"
        for coding in codings:
            _repoint(session, row, coding, new, "split", why, acting.id if acting else None)
        summary = summary_line("split", new.key, source=code, moved=len(codings))
        detail = {"source": code, "new": new.key, "moved": [c.id for c in codings], "codes": [code, new.key]}
        number = _record(session, row, "split", new.key, summary, acting=acting, reason=reason, detail=detail)
        session.commit()
        return CodebookChange(number, new.key, summary, moved=len(codings))


def _touched(version: CodebookVersion) -> set[str]:
    return {version.code_key, *(version.detail or {}).get("codes", []), *(version.detail or {}).get("subtree", [])}


def _version_to_undo(session: Session, project: Project, number: int | None) -> CodebookVersion:
    """The version to undo (default: the last change not undone), refused when a later change builds on it."""
    versions = session.exec(select(CodebookVersion).where(CodebookVersion.project_id == project.id)
                            .order_by(CodebookVersion.number)).all()
    undone = {v.undoes for v in versions if v.undoes is not None}
    open_changes = [v for v in versions if v.action != "undo" and v.number not in undone]
    if number is None and not open_changes:
        raise CodeframeError("there is no codebook change to undo")
    number = open_changes[-1].number if number is None else number
    target = next((v for v in versions if v.number == number), None)
    if target is None:
        raise NotFound(f"no codebook version {number} in this project")
    if target.action == "apply":
        raise CodeframeError(f"version {target.number} applied a codebook file; to go back, export the version "
                             "before it and apply that file", [Problem(str(target.number), field="version")])
    if target.action == "undo":
        raise CodeframeError(f"version {number} is itself an undo; make the change again instead",
                             [Problem(str(number), field="version")])
    if number in undone:
        raise CodeframeError(f"version {number} is already undone", [Problem(str(number), field="version")])
    later = [v.number for v in open_changes  # a codebook file applied later touches every code
             if v.number > number and (v.action == "apply" or _touched(v) & _touched(target))]
    if later:
        raise CodeframeError(f"version {number} cannot be undone while later changes of the same codes stand "
                             f"(version {', '.join(map(str, later))}); undo those first",
                             [Problem(str(number), field="version")])
    return target


@retry_locked
def undo_codebook_change(engine: Engine, project: str = DEFAULT_PROJECT, *, version: int | None = None,
                         actor: str | None = None, reason: str | None = None) -> CodebookChange:
    """Undo one codebook change (default: the last one not undone); appends an 'undo' version.

    Merges and splits put their codings back where they were (a coding dropped by a merge is
    written back); an added code leaves the codebook (deleted if nothing used it, else retired).
    """
    from coding.codebook_changes import summary_line

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        acting, _ = _editor(session, row, actor, "undo codebook changes")
        target = _version_to_undo(session, row, version)
        why = f"undo of codebook version {target.number}"
        moved = _REVERT[target.action](session, row, target, why, acting.id if acting else None)
        summary = summary_line("undo", target.code_key, version=target.number, what=target.summary)
        number = _record(session, row, "undo", target.code_key, summary, acting=acting, reason=reason,
                         detail={"codes": sorted(_touched(target))}, undoes=target.number)
        session.commit()
        return CodebookChange(number, target.code_key, summary, moved=moved)


def _revert_add(session, project, version, why, actor_id) -> int:
    code = _code_row(session, project, version.code_key)
    used = session.exec(select(func.count(Coding.id)).where(Coding.code_id == code.id)).one()
    events = session.exec(select(func.count(CodingEvent.id)).where(CodingEvent.code_id == code.id)).one()
    if used or events:
        code.active = False
        session.add(code)
    else:
        session.delete(code)
    return 0


def _revert_edit(session, project, version, why, actor_id) -> int:
    code = _code_row(session, project, version.code_key)
    _set_state(code, version.detail["before"])
    session.add(code)
    return 0


def _revert_move(session, project, version, why, actor_id) -> int:
    code = _code_row(session, project, version.code_key)
    frame = queries.frames_by_key(session, project.id)[version.detail["frame"]]
    code.parent_key = version.detail["parent"]
    for c in _subtree(session, project, code):
        c.frame_id = frame.id
        session.add(c)
    return 0


def _revert_flag(session, project, version, why, actor_id) -> int:
    code = _code_row(session, project, version.code_key)
    if version.action == "retire":
        code.active = True
    else:  # accept
        code.proposed_by = version.detail["proposed_by"]
    session.add(code)
    return 0


def _move_back(session, project, ids: list[int], to: Code, from_id: int, action: str, why, actor_id) -> int:
    moved = 0
    for coding in session.exec(select(Coding).where(Coding.id.in_(ids or [-1]))).all():
        if coding.code_id == from_id:
            _repoint(session, project, coding, to, action, why, actor_id)
            moved += 1
    return moved


def _revert_merge(session, project, version, why, actor_id) -> int:
    detail = version.detail
    src, dst = _code_row(session, project, detail["source"]), _code_row(session, project, detail["into"])
    moved = _move_back(session, project, detail["moved"], src, dst.id, "unmerge", why, actor_id)
    for old in detail["dropped"]:
        if queries.coding_for_update(session, old["segment_id"], src.id, old["coder_id"]) is None:
            from datetime import datetime

            coding = Coding(segment_id=old["segment_id"], code_id=src.id, coder_id=old["coder_id"],
                            source=old["source"], score=old["score"], model_id=old["model_id"], memo=old["memo"],
                            key_quote=old["key_quote"], created=datetime.fromisoformat(old["created"]))
            session.add(coding)
            session.flush()
            _log(session, project.id, coding, "unmerge", before=None, after=snapshot(coding), actor_id=actor_id,
                 reason=why)
            moved += 1
    for key in detail["children"]:
        child = _code_row(session, project, key)
        child.parent_key = src.key
        session.add(child)
    dst.examples, src.active = list(detail["examples_before"]), True
    session.add_all([src, dst])
    return moved


def _revert_split(session, project, version, why, actor_id) -> int:
    detail = version.detail
    src, new = _code_row(session, project, detail["source"]), _code_row(session, project, detail["new"])
    others = session.exec(select(func.count(Coding.id)).where(
        Coding.code_id == new.id, Coding.id.not_in(detail["moved"] or [-1]))).one()
    if others:
        raise CodeframeError(f"{new.key!r} has {others} coding(s) made after the split; remove or move them "
                             "before undoing it", [Problem(new.key, field="code")])
    moved = _move_back(session, project, detail["moved"], src, new.id, "unsplit", why, actor_id)
    new.active = False
    session.add(new)
    return moved


_REVERT = {"add": _revert_add, "edit": _revert_edit, "move": _revert_move, "retire": _revert_flag,
           "accept": _revert_flag, "merge": _revert_merge, "split": _revert_split}

