"""Changing the codebook in the app and the CLI: add, edit, move, retire and accept codes, each a version.

Every change is one unit of work that also appends a numbered :class:`CodebookVersion` with its
changelog line (what, who, when, why) and the whole codebook after it, so each version can be
read and exported. Who may change the codebook is the project setting ``codebook_editors``
(:data:`coding.roles.CODEBOOK_EDITORS`). Merging, splitting and undoing are in
:mod:`coding.service.codebook_merge`; the history and exports in :mod:`coding.service.codebook_versions`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.database import queries
from coding.database.retry import retry_locked
from coding.database.tables import Code, CodebookVersion, CodeFrame, Coder, Coding, Project, Segment
from coding.errors import CodeframeError, NotFound, PermissionDenied, Problem
from coding.roles import CODEBOOK_EDITORS, may_admin, may_edit_codebook, may_propose_code
from coding.service.codebook import _codebook_from_rows
from coding.service.codings import _upsert_coding
from coding.service.common import DEFAULT_PROJECT
from coding.service.permissions import _check_may_edit, _has_admin

CODE_FIELDS = ("label", "definition", "include", "exclude", "examples")


@dataclass
class CodebookChange:
    """What one codebook change did: the new version, the code, the changelog line and any warnings."""

    version: int
    code: str
    summary: str
    proposed: bool = False
    moved: int = 0  # codings re-pointed (merge, split, undo of either)
    dropped: int = 0  # codings removed because the unit already carried the target code (merge)
    coding_id: int | None = None  # the coding made by create_and_apply_code
    warnings: list[str] = field(default_factory=list)


def _editor(session: Session, project: Project, actor: str | None, what: str, *,
            may_propose: bool = False) -> tuple[Coder | None, bool]:
    """The acting coder and whether their change is only a proposal; refused if they may not.

    In local single-user mode (no admin yet, team mode off) anyone may, named or not. Otherwise the
    project's ``codebook_editors`` decides: supervisors and admins by default, only admins, or
    also coders as proposals (``may_propose``: adding a code).
    """
    acting = queries.coder_by_name(session, project.id, actor) if actor else None
    if acting is None:
        if project.team_mode or _has_admin(session, project):
            raise PermissionDenied(f"say who you are to {what}: the codebook is changed by named users here")
        return None, False
    if not project.team_mode and not _has_admin(session, project):
        return acting, False
    editors = project.codebook_editors or "supervisors"
    if may_edit_codebook(acting.role, editors):
        return acting, False
    if may_propose and may_propose_code(acting.role, editors):
        return acting, True
    who = "admins" if editors == "admins" else "supervisors and admins"
    extra = " (coders may propose new codes)" if editors == "propose" else ""
    raise PermissionDenied(f"{acting.name} is a {acting.role}: only {who} may {what}{extra}")


def _record(session: Session, project: Project, action: str, code: str, summary: str, *, acting: Coder | None,
            reason: str | None, detail: dict[str, Any], undoes: int | None = None) -> int:
    """Append the next codebook version (the caller commits) and return its number."""
    from sqlalchemy import func

    session.flush()
    last = session.exec(select(func.max(CodebookVersion.number))
                        .where(CodebookVersion.project_id == project.id)).one()
    codebook = _codebook_from_rows(project.name, queries.frames_by_key(session, project.id).values(),
                                   queries.codes_by_key(session, project.id).values())
    number = (last or 0) + 1
    session.add(CodebookVersion(
        project_id=project.id, number=number, action=action, code_key=code, summary=summary,
        reason=(reason or "").strip() or None, actor_id=acting.id if acting else None, undoes=undoes,
        detail=detail, codebook=codebook.to_dict(),
    ))
    session.flush()
    return number


def code_state(code: Code) -> dict[str, Any]:
    """A code's editable fields as plain data (what the history keeps before and after)."""
    return {"label": code.label, "definition": code.definition, "include": list(code.inclusion),
            "exclude": list(code.exclusion), "examples": list(code.examples)}


def _set_state(code: Code, state: dict[str, Any]) -> None:
    code.label, code.definition = state["label"], state["definition"]
    code.inclusion, code.exclusion = list(state["include"]), list(state["exclude"])
    code.examples = list(state["examples"])


def _clean_state(label: str, definition: str, include: Iterable[str], exclude: Iterable[str],
                 examples: Iterable[str]) -> dict[str, Any]:
    """Stripped fields, refused with a clear error when the label is empty or examples too many."""
    from coding.codebook import MAX_EXAMPLES

    state = {"label": (label or "").strip(), "definition": (definition or "").strip(),
             "include": [s.strip() for s in include if s and s.strip()],
             "exclude": [s.strip() for s in exclude if s and s.strip()],
             "examples": [s.strip() for s in examples if s and s.strip()]}
    if not state["label"]:
        raise CodeframeError("a code needs a label", [Problem("empty label", field="label")])
    if len(state["examples"]) > MAX_EXAMPLES:
        raise CodeframeError(f"give at most {MAX_EXAMPLES} examples, not {len(state['examples'])}",
                             [Problem(str(len(state["examples"])), field="examples")])
    return state


def _code_row(session: Session, project: Project, key: str) -> Code:
    code = session.exec(select(Code).where(Code.project_id == project.id, Code.key == key)).first()
    if code is None:
        raise NotFound(f"no code {key!r} in this project's codebook")
    return code


def _frame_row(session: Session, project: Project, key: str) -> CodeFrame:
    frame = queries.frames_by_key(session, project.id).get(key)
    if frame is None or not frame.active:
        raise NotFound(f"no frame {key!r} in this project's codebook")
    return frame


def _check_parent(session: Session, project: Project, frame: CodeFrame, parent: str | None, key: str) -> None:
    if parent is None:
        return
    row = _code_row(session, project, parent)
    if row.frame_id != frame.id:
        raise CodeframeError(f"parent {parent!r} is not in frame {frame.key!r}; a parent must be in the same frame",
                             [Problem(parent, field="parent")])
    codes = {c.key: c for c in queries.codes_by_key(session, project.id).values()}
    seen, current = set(), parent
    while current is not None and current not in seen:
        if current == key:
            raise CodeframeError(f"{key!r} cannot be under {parent!r}: a code cannot be its own ancestor",
                                 [Problem(parent, field="parent")])
        seen.add(current)
        current = codes[current].parent_key if current in codes else None


def _new_code(session: Session, project: Project, *, frame: str, label: str, key: str | None, parent: str | None,
              state: dict[str, Any], proposed_by: int | None) -> Code:
    from coding.codebook import ID_PATTERN
    from coding.codebook_changes import new_code_key

    frame_row = _frame_row(session, project, frame)
    taken = set(queries.codes_by_key(session, project.id))
    if key is None:
        key = new_code_key(label, taken)
    elif not ID_PATTERN.match(key):
        raise CodeframeError(f"code id {key!r} is not valid; use lowercase letters, digits and underscores, "
                             "starting with a letter", [Problem(key, field="id")])
    elif key in taken:
        raise CodeframeError(f"code id {key!r} is already used in this project (perhaps by a retired code)",
                             [Problem(key, field="id")])
    _check_parent(session, project, frame_row, parent, key)
    position = max((c.position for c in queries.codes_by_key(session, project.id).values()), default=-1) + 1
    code = Code(project_id=project.id, frame_id=frame_row.id, key=key, label=state["label"], parent_key=parent,
                position=position, proposed_by=proposed_by)
    _set_state(code, state)
    session.add(code)
    session.flush()
    return code


@retry_locked
def add_code(engine: Engine, project: str = DEFAULT_PROJECT, *, frame: str, label: str, key: str | None = None,
             definition: str = "", include: Iterable[str] = (), exclude: Iterable[str] = (),
             examples: Iterable[str] = (), parent: str | None = None, actor: str | None = None,
             reason: str | None = None) -> CodebookChange:
    """Add a code to ``frame`` (its id derived from the label unless ``key`` is given); a new version.

    A coder allowed only to propose (``codebook_editors = "propose"``) adds it as a proposal,
    which in blind mode only they and supervisors see until :func:`accept_code`.
    """
    state = _clean_state(label, definition, include, exclude, examples)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        acting, proposed = _editor(session, row, actor, "add codes", may_propose=True)
        code = _new_code(session, row, frame=frame, label=label, key=key, parent=parent, state=state,
                         proposed_by=acting.id if proposed else None)
        change = _added(session, row, code, frame, proposed, acting, reason)
        session.commit()
        return change


def _added(session, row, code, frame, proposed, acting, reason) -> CodebookChange:
    from coding.codebook_changes import summary_line

    summary = summary_line("add", code.key, frame=frame, proposed=proposed)
    number = _record(session, row, "add", code.key, summary, acting=acting, reason=reason,
                     detail={"proposed": proposed})
    return CodebookChange(number, code.key, summary, proposed=proposed)


@retry_locked
def create_and_apply_code(engine: Engine, project: str = DEFAULT_PROJECT, *, frame: str, segment_id: int,
                          coder: str, label: str | None = None, words: str | None = None, definition: str = "",
                          actor: str | None = None, reason: str | None = None) -> CodebookChange:
    """From the coding view: create a code and apply it to one unit for ``coder``, in one transaction.

    In-vivo: give the selected ``words`` (and no ``label``); the label is those words and they are
    the code's first example. The code is a proposal when the actor may only propose. Returns the
    change with ``coding_id`` set. Nothing is written if either step is refused.
    """
    from coding.codebook_changes import in_vivo_label

    if label is None and not (words or "").strip():
        raise CodeframeError("give a label, or the selected words for an in-vivo code",
                             [Problem("empty", field="label")])
    examples = [in_vivo_label(words)] if (words or "").strip() else []
    state = _clean_state(label if label is not None else in_vivo_label(words), definition, (), (), examples)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        acting_name = actor or coder
        acting, proposed = _editor(session, row, acting_name, "add codes", may_propose=True)
        who = acting or target
        _check_may_edit(who, target, "hand")
        queries.segment_in_project(session, row.id, segment_id)
        code = _new_code(session, row, frame=frame, label=state["label"], key=None, parent=None, state=state,
                         proposed_by=who.id if proposed else None)
        change = _added(session, row, code, frame, proposed, acting, reason)
        change.coding_id = _upsert_coding(session, row, session.get(Segment, segment_id), code, target, who,
                                          source="hand", score=None, model_id=None, memo=None,
                                          reason=f"new code (codebook version {change.version})")
        session.commit()
        return change


def _other_coders(session: Session, code: Code, acting: Coder | None) -> list[str]:
    names = session.exec(select(Coder.name).join(Coding, Coding.coder_id == Coder.id)
                         .where(Coding.code_id == code.id).distinct()).all()
    return sorted(n for n in names if acting is None or n != acting.name)


@retry_locked
def edit_code(engine: Engine, project: str = DEFAULT_PROJECT, *, code: str, label: str | None = None,
              definition: str | None = None, include: Iterable[str] | None = None,
              exclude: Iterable[str] | None = None, examples: Iterable[str] | None = None,
              actor: str | None = None, reason: str | None = None) -> CodebookChange:
    """Change a code's label, definition, criteria or examples (``None`` keeps a field); a new version.

    When the definition or criteria change after other coders applied the code, the change
    carries a warning that their earlier codings may need review.
    """
    from coding.codebook_changes import meaning_changed, review_warning, summary_line

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        acting, _ = _editor(session, row, actor, "edit codes")
        code_row = _code_row(session, row, code)
        before = code_state(code_row)
        asked = {"label": label, "definition": definition, "include": include, "exclude": exclude,
                 "examples": examples}
        merged = {k: (list(v) if k in ("include", "exclude", "examples") else v) if v is not None else before[k]
                  for k, v in asked.items()}
        after = _clean_state(**merged)
        fields = [k for k in CODE_FIELDS if after[k] != before[k]]
        if not fields:
            raise CodeframeError(f"nothing to change: {code!r} already reads so", [Problem(code, field="code")])
        _set_state(code_row, after)
        session.add(code_row)
        summary = summary_line("edit", code, fields=fields)
        warning = review_warning(code, meaning_changed(before, after), _other_coders(session, code_row, acting))
        number = _record(session, row, "edit", code, summary, acting=acting, reason=reason,
                         detail={"before": before, "after": after, "warning": warning})
        session.commit()
        return CodebookChange(number, code, summary, warnings=[warning] if warning else [])


@retry_locked
def move_code(engine: Engine, project: str = DEFAULT_PROJECT, *, code: str, frame: str | None = None,
              parent: str | None = None, actor: str | None = None, reason: str | None = None) -> CodebookChange:
    """Move a code under another ``parent`` (None: top level) and/or to another ``frame``; a new version.

    Its children move with it when the frame changes; codings stay on the code.
    """
    from coding.codebook_changes import summary_line

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        acting, _ = _editor(session, row, actor, "move codes")
        code_row = _code_row(session, row, code)
        frames = {f.id: f for f in queries.frames_by_key(session, row.id).values()}
        old_frame = frames[code_row.frame_id]
        new_frame = _frame_row(session, row, frame) if frame else old_frame
        _check_parent(session, row, new_frame, parent, code)
        if new_frame.id == old_frame.id and parent == code_row.parent_key:
            raise CodeframeError(f"{code!r} is already there", [Problem(code, field="code")])
        moved = _subtree(session, row, code_row)
        if new_frame.id != old_frame.id and new_frame.mutually_exclusive:
            _check_exclusive_move(session, new_frame, [c.id for c in moved], code)
        detail = {"frame": old_frame.key, "parent": code_row.parent_key, "subtree": [c.key for c in moved]}
        code_row.parent_key = parent
        for c in moved:
            c.frame_id = new_frame.id
            session.add(c)
        summary = summary_line("move", code, frame=new_frame.key, parent=parent)
        number = _record(session, row, "move", code, summary, acting=acting, reason=reason, detail=detail)
        session.commit()
        return CodebookChange(number, code, summary)


def _check_exclusive_move(session: Session, frame: CodeFrame, code_ids: list[int], code: str) -> None:
    """Refuse a move into a mutually exclusive frame that would give a unit two of its codes (one coder)."""
    from sqlalchemy import and_
    from sqlalchemy.orm import aliased

    other = aliased(Coding)
    clash = session.exec(
        select(Coding.segment_id).join(other, and_(other.segment_id == Coding.segment_id,
                                                   other.coder_id == Coding.coder_id))
        .join(Code, other.code_id == Code.id)
        .where(Coding.code_id.in_(code_ids), Code.frame_id == frame.id)).first()
    if clash is not None:
        raise CodeframeError(f"{code!r} cannot move into the mutually exclusive frame {frame.key!r}: unit {clash} "
                             "would carry two of its codes for one coder", [Problem(code, field="frame")])


def _subtree(session: Session, project: Project, code: Code) -> list[Code]:
    """The code and its descendants."""
    rows = list(queries.codes_by_key(session, project.id).values())
    found, frontier = [code], [code.key]
    while frontier:
        children = [c for c in rows if c.parent_key in frontier and c not in found]
        found += children
        frontier = [c.key for c in children]
    return found


@retry_locked
def retire_code(engine: Engine, project: str = DEFAULT_PROJECT, *, code: str, actor: str | None = None,
                reason: str | None = None) -> CodebookChange:
    """Retire a code: kept with its codings, marked inactive, offered no more; a new version."""
    from coding.codebook_changes import summary_line

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        acting, _ = _editor(session, row, actor, "retire codes")
        code_row = _code_row(session, row, code)
        if not code_row.active:
            raise CodeframeError(f"{code!r} is already retired", [Problem(code, field="code")])
        children = [c.key for c in queries.codes_by_key(session, row.id).values()
                    if c.parent_key == code and c.active]
        if children:
            raise CodeframeError(f"{code!r} still has active codes under it ({', '.join(children)}); move or "
                                 "retire them first", [Problem(code, field="code")])
        code_row.active = False
        session.add(code_row)
        summary = summary_line("retire", code)
        number = _record(session, row, "retire", code, summary, acting=acting, reason=reason, detail={})
        session.commit()
        return CodebookChange(number, code, summary)


@retry_locked
def accept_code(engine: Engine, project: str = DEFAULT_PROJECT, *, code: str, actor: str | None = None,
                reason: str | None = None) -> CodebookChange:
    """Accept a coder's proposed code into the codebook (a supervisor or admin); a new version."""
    from coding.codebook_changes import summary_line

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        acting, _ = _editor(session, row, actor, "accept proposed codes")
        code_row = _code_row(session, row, code)
        if code_row.proposed_by is None:
            raise CodeframeError(f"{code!r} is not a proposal; it is already in the codebook",
                                 [Problem(code, field="code")])
        detail = {"proposed_by": code_row.proposed_by}
        code_row.proposed_by = None
        session.add(code_row)
        summary = summary_line("accept", code)
        number = _record(session, row, "accept", code, summary, acting=acting, reason=reason, detail=detail)
        session.commit()
        return CodebookChange(number, code, summary)


def codebook_editors(engine: Engine, project: str = DEFAULT_PROJECT) -> str:
    """Who may change the codebook: the project setting (one of :data:`coding.roles.CODEBOOK_EDITORS`)."""
    with Session(engine) as session:
        return queries.project_by_name(session, project).codebook_editors or "supervisors"


@retry_locked
def set_codebook_editors(engine: Engine, project: str = DEFAULT_PROJECT, editors: str = "supervisors", *,
                         actor: str | None = None) -> None:
    """Set who may change the codebook: ``admins``, ``supervisors`` (default) or ``propose``.

    Once the project has an admin, only an admin changes this setting.
    """
    if editors not in CODEBOOK_EDITORS:
        raise CodeframeError(f"codebook editors must be one of {', '.join(CODEBOOK_EDITORS)}, not {editors!r}",
                             [Problem(editors, field="codebook_editors")])
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        acting = queries.coder_by_name(session, row.id, actor) if actor else None
        if _has_admin(session, row) and (acting is None or not may_admin(acting.role)):
            raise PermissionDenied("only an admin may decide who changes the codebook")
        row.codebook_editors = editors
        session.add(row)
        session.commit()
