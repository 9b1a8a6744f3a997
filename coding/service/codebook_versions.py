"""The codebook's versions: the history of changes, each version exported, and what reports say of them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.database import queries
from coding.database.tables import Code, CodebookVersion, Coder, CodingEvent, Project
from coding.errors import CodeframeError, NotFound, Problem
from coding.roles import may_see_others
from coding.service.common import DEFAULT_PROJECT

EXPORT_FORMATS = ("yaml", "qdc")


def codebook_history(engine: Engine, project: str = DEFAULT_PROJECT, *, viewer: str | None = None) -> "Any":
    """Every codebook version, oldest first: number, at, actor, action, code, summary (what), reason (why),
    undone (by which version, or None) and the review warning of an edit. In blind mode a coder ``viewer``
    does not see the changes of codes other coders proposed and no supervisor accepted yet."""
    import pandas as pd

    columns = ["version", "at", "actor", "action", "code", "summary", "reason", "undone_by", "warning"]
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        names = {c.id: c.name for c in session.exec(select(Coder).where(Coder.project_id == row.id))}
        versions = _versions(session, row)
        hidden = _hidden_proposals(session, row, viewer)
    versions = [v for v in versions if v.code_key not in hidden]
    undone_by = {v.undoes: v.number for v in versions if v.undoes is not None}
    return pd.DataFrame([
        {"version": v.number, "at": v.at, "actor": names.get(v.actor_id), "action": v.action, "code": v.code_key,
         "summary": v.summary, "reason": v.reason, "undone_by": undone_by.get(v.number),
         "warning": (v.detail or {}).get("warning")}
        for v in versions
    ], columns=columns)


def _hidden_proposals(session: Session, project: Project, viewer: str | None) -> set[str]:
    """Keys of the proposals ``viewer`` may not see: others' while in blind mode, for a coder."""
    if viewer is None:
        return set()
    who = queries.coder_by_name(session, project.id, viewer)
    if may_see_others(who.role) or not project.blind_mode:
        return set()
    return set(session.exec(select(Code.key).where(Code.project_id == project.id, Code.proposed_by.is_not(None),
                                                   Code.proposed_by != who.id)).all())


def _versions(session: Session, project: Project) -> list[CodebookVersion]:
    return list(session.exec(select(CodebookVersion).where(CodebookVersion.project_id == project.id)
                             .order_by(CodebookVersion.number)))


def codebook_version(engine: Engine, project: str = DEFAULT_PROJECT) -> int | None:
    """The number of the current codebook version, or None when the codebook was never changed here."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        return session.exec(select(func.max(CodebookVersion.number))
                            .where(CodebookVersion.project_id == row.id)).one()


def _codebook_of(data: dict[str, Any]):
    """A :class:`coding.codebook.Codebook` from its ``to_dict`` form."""
    from coding.codebook import Code, Codebook, Frame

    return Codebook(title=data.get("title") or "Codebook", description=data.get("description") or "", frames=tuple(
        Frame(id=f["id"], label=f["label"], description=f.get("description") or "",
              mutually_exclusive=bool(f.get("mutually_exclusive")), codes=tuple(
                  Code(id=c["id"], label=c["label"], frame=f["id"], parent=c.get("parent"),
                       definition=c.get("definition") or "", include=tuple(c.get("include") or ()),
                       exclude=tuple(c.get("exclude") or ()), examples=tuple(c.get("examples") or ()))
                  for c in f.get("codes", [])))
        for f in data.get("frames", [])))


def codebook_at(engine: Engine, project: str = DEFAULT_PROJECT, *, version: int | None = None):
    """The codebook as it was at ``version`` (default: the current codebook)."""
    from coding.service.codebook import project_codebook

    if version is None:
        return project_codebook(engine, project)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        found = session.exec(select(CodebookVersion).where(CodebookVersion.project_id == row.id,
                                                           CodebookVersion.number == version)).first()
        if found is None:
            raise NotFound(f"no codebook version {version} in project {project!r}")
        return _codebook_of(found.codebook)


def export_codebook_version(engine: Engine, project: str = DEFAULT_PROJECT, *, version: int | None = None,
                            fmt: str = "yaml") -> bytes:
    """One version of the codebook as ``codebook.yaml`` text (which ``codeframe codebook check`` accepts:
    gaps of codes added in the app are marked, see :func:`coding.codebook_changes.exportable`) or as a
    REFI-QDA ``.qdc``. Default: the current codebook."""
    import yaml

    from coding.codebook import parse_codebook
    from coding.codebook_changes import exportable

    if fmt not in EXPORT_FORMATS:
        raise CodeframeError(f"codebook export format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}",
                             [Problem(fmt, field="format")])
    codebook = codebook_at(engine, project, version=version)
    if fmt == "qdc":
        from coding.refiqda import export_qdc

        return export_qdc(codebook)
    text = yaml.safe_dump(exportable(codebook.to_dict()), sort_keys=False, allow_unicode=True, width=100)
    parse_codebook(text, source=f"codebook version {version or 'current'}")  # refuses what `check` would
    return text.encode("utf-8")


def _facts(session: Session, project: Project):
    from coding.codebook_changes import VersionFact

    versions = _versions(session, project)
    undone = {v.undoes for v in versions if v.undoes is not None}
    facts = [VersionFact(v.number, v.action, v.code_key, v.summary, v.at, v.number in undone) for v in versions]
    start = session.exec(select(func.min(CodingEvent.at)).where(CodingEvent.project_id == project.id)).one()
    return facts, start


def codebook_methods_sentence(engine: Engine, project: str = DEFAULT_PROJECT) -> str:
    """The methods paragraph's sentence: which codebook version the figures rest on and how many codes were
    added, merged or split after coding began (the first coding change), undone changes not counted."""
    from coding.codebook_changes import changes_after, methods_sentence

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        facts, start = _facts(session, row)
    number = max((f.number for f in facts), default=None)
    return methods_sentence(number, changes_after(facts, start))


def codebook_restructure_note(engine: Engine, project: str = DEFAULT_PROJECT, *,
                              codes=None) -> str | None:
    """For agreement and shares: the codes (of ``codes``, or all) merged or split during coding, or None."""
    from coding.codebook_changes import restructure_note

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        facts, start = _facts(session, row)
    return restructure_note(facts, start, codes)


def proposed_codes(engine: Engine, project: str = DEFAULT_PROJECT, *, viewer: str | None = None) -> list[dict]:
    """Codes proposed by coders and not yet accepted: key, label, frame, proposed_by. A viewer sees their own;
    others' only a supervisor or admin, or anyone outside blind mode (``viewer=None``: all, for local use)."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        names = {c.id: (c.name, c.role) for c in session.exec(select(Coder).where(Coder.project_id == row.id))}
        frames = {f.id: f.key for f in queries.frames_by_key(session, row.id).values()}
        rows = session.exec(select(Code).where(Code.project_id == row.id, Code.proposed_by.is_not(None),
                                               Code.active == True).order_by(Code.position)).all()  # noqa: E712
        who = queries.coder_by_name(session, row.id, viewer) if viewer else None
        sees_all = who is None or may_see_others(who.role) or not row.blind_mode
        return [{"key": c.key, "label": c.label, "frame": frames.get(c.frame_id),
                 "proposed_by": names.get(c.proposed_by, ("?",))[0]}
                for c in rows if sees_all or c.proposed_by == who.id]
