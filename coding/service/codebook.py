"""The project's codebook: applying a new one (codings kept), rebuilding it, and reading code usage."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.database import queries
from coding.database.retry import retry_locked
from coding.database.tables import Code, CodeFrame, Coding, Project, utcnow
from coding.errors import CodebookError, NotFound, Problem
from coding.roles import may_see_others
from coding.service.codings import _log, snapshot
from coding.service.common import CONSENSUS, DEFAULT_PROJECT
from coding.service.permissions import _require_team_admin
from coding.service.results import CodebookReport
from coding.service.scope import excluded, in_scope


def _refuse_deceptive(codebook) -> None:
    """Labels may not hide or reverse text; no text of a codebook may hold NUL (every source: YAML, .qdc)."""
    from coding.markup import name_problem, text_problem

    problems = []
    for item in [*codebook.frames, *codebook.codes()]:
        why = name_problem(item.label, f"the label of {item.id!r}") or name_problem(item.id, "an id")
        texts = [getattr(item, k, "") or "" for k in ("definition", "description")]
        texts += [*getattr(item, "include", ()), *getattr(item, "exclude", ()), *getattr(item, "examples", ())]
        why = why or next((text_problem(t, f"the text of {item.id!r}") for t in texts if text_problem(t, "")), None)
        if why:
            problems.append(Problem(why, field=item.id))
    if problems:
        raise CodebookError("the codebook was refused: nothing was changed", problems)


def _apply_codebook(session: Session, project: Project, codebook, *, source_text: str | None,
                    renames: dict[str, str]) -> CodebookReport:
    """Upsert frames and codes; keep removed codes (and their codings) as inactive.

    What changed is :func:`coding.codebook.diff_codebooks` of the project's active codebook and
    the new one; a code new to the project (not even inactive) is 'added'.
    """
    from coding.codebook import diff_codebooks

    _refuse_deceptive(codebook)
    report = CodebookReport()
    frames = queries.frames_by_key(session, project.id)
    codes = queries.codes_by_key(session, project.id)
    diff = diff_codebooks(_codebook_from_rows(project.name, frames.values(), codes.values()), codebook)
    new_ids = {c.id for c in codebook.codes()}
    for old, new in renames.items():
        if old not in codes:
            raise NotFound(f"cannot rename {old!r}: no such code in the project")
        if new not in new_ids:
            raise NotFound(f"cannot rename {old!r} to {new!r}: {new!r} is not in the new codebook")

    for position, frame in enumerate(codebook.frames):
        row = frames.get(frame.id) or CodeFrame(project_id=project.id, key=frame.id, label=frame.label)
        row.label, row.description = frame.label, frame.description
        row.mutually_exclusive, row.position, row.active = frame.mutually_exclusive, position, True
        session.add(row)
        frames[frame.id] = row
    session.flush()

    report.added = [key for key in diff.added if key not in codes and key not in renames.values()]
    report.relabelled, report.moved = list(diff.relabelled), list(diff.moved)
    for position, code in enumerate(codebook.codes()):
        row = codes.get(code.id) or Code(project_id=project.id, frame_id=frames[code.frame].id, key=code.id,
                                         label=code.label)
        row.frame_id = frames[code.frame].id
        row.label, row.parent_key, row.definition = code.label, code.parent, code.definition
        row.inclusion, row.exclusion, row.examples = list(code.include), list(code.exclude), list(code.examples)
        row.expected_share = code.expected_share
        row.position, row.active, row.proposed_by = position, True, None  # a codebook file accepts a proposal
        session.add(row)
        codes[code.id] = row
    session.flush()

    for old, new in renames.items():
        report.renamed[old] = new
        report.moved_codings[old] = _move_codings(session, project.id, codes[old].id, codes[new].id)

    for key in diff.removed:
        row = codes[key]
        row.active = False
        session.add(row)
        if key not in renames:
            report.removed.append(key)
            report.kept_inactive[key] = session.exec(
                select(func.count(Coding.id)).where(Coding.code_id == row.id)
            ).one()
    new_frames = {f.id for f in codebook.frames}
    for key, row in frames.items():
        if key not in new_frames and row.active:
            row.active = False
            session.add(row)
    if source_text is not None:
        project.codebook_source = source_text
        session.add(project)
    return report


def _move_codings(session: Session, project_id: int, old_code_id: int, new_code_id: int) -> int:
    """Re-point codings of a renamed code, merging into existing ones; history records each move."""
    moved = 0
    for coding in session.exec(select(Coding).where(Coding.code_id == old_code_id)).all():
        exists = session.exec(
            select(Coding.id).where(
                Coding.segment_id == coding.segment_id,
                Coding.code_id == new_code_id,
                Coding.coder_id == coding.coder_id,
            )
        ).first()
        before = snapshot(coding)
        if exists is None:
            coding.code_id = new_code_id
            coding.updated = utcnow()
            session.add(coding)
            _log(session, project_id, coding, "rename", before=before, after=snapshot(coding), actor_id=None)
        else:
            _log(session, project_id, coding, "remove", before=before, after=None, actor_id=None,
                 reason="merged into renamed code")
            session.delete(coding)
        moved += 1
    session.flush()
    return moved


@retry_locked
def apply_codebook(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    path: str | Path,
    renames: dict[str, str] | None = None,
    actor: str | None = None,
) -> CodebookReport:
    """Replace the project's codebook with the file at ``path``, keeping every coding.

    Codes that left the codebook stay in the database as inactive with their codings and
    are listed in the report; ``renames`` (old id -> new id) moves codings to a new id.
    In team mode only an admin ``actor`` may change the codebook (``None``: local use).
    """
    from coding.codebook import load_codebook

    path = Path(path)
    codebook = load_codebook(path)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        _require_team_admin(session, row, actor, "change the codebook")
        report = _apply_codebook(
            session, row, codebook, source_text=path.read_text(encoding="utf-8-sig"), renames=dict(renames or {})
        )
        _record_applied(session, row, codebook, report, actor, path.name)
        session.commit()
        return report


def _record_applied(session: Session, project: Project, codebook, report: CodebookReport, actor: str | None,
                    source: str) -> None:
    """A codebook file applied is a codebook version too (undone by applying the earlier version's export)."""
    from coding.service.codebook_edits import _record

    acting = queries.coder_by_name(session, project.id, actor) if actor else None
    what = "; ".join(report.lines()) or "no change"
    _record(session, project, "apply", "*", f"applied {source}: {what}", acting=acting, reason=None,
            detail={"codes": [c.id for c in codebook.codes()]})


def _codebook_from_rows(title: str, frames: Iterable[CodeFrame], codes: Iterable[Code], *,
                        include_inactive: bool = False, proposals: bool | set[int] = False):
    """Frame and code rows as a :class:`coding.codebook.Codebook`, in codebook order.

    Codes proposed by a coder and not yet accepted are left out, unless ``proposals`` is True (all)
    or a set of the proposing coders' ids whose proposals to include."""
    from coding.codebook import Code as CbCode
    from coding.codebook import Codebook, Frame

    by_frame: dict[int, list] = defaultdict(list)
    for c in sorted(codes, key=lambda c: c.position):
        shown = c.proposed_by is None or proposals is True or (
            isinstance(proposals, set) and c.proposed_by in proposals)
        if (c.active or include_inactive) and shown:
            by_frame[c.frame_id].append(c)
    built = []
    for f in sorted(frames, key=lambda f: f.position):
        if not f.active and not include_inactive:
            continue
        built.append(
            Frame(
                id=f.key, label=f.label, description=f.description,
                mutually_exclusive=f.mutually_exclusive,
                codes=tuple(
                    CbCode(
                        id=c.key, label=c.label, frame=f.key, parent=c.parent_key,
                        definition=c.definition, include=tuple(c.inclusion), exclude=tuple(c.exclusion),
                        examples=tuple(c.examples), expected_share=c.expected_share, line=None,
                    )
                    for c in by_frame[f.id]
                ),
                line=None,
            )
        )
    return Codebook(title=title, frames=tuple(built))


def project_codebook(engine: Engine, project: str = DEFAULT_PROJECT, *, include_inactive: bool = False,
                     viewer: str | None = None, include_proposed: bool = False):
    """The project's codebook rebuilt from the database as a :class:`coding.codebook.Codebook`.

    Codes a coder proposed and no supervisor accepted yet are not in it (all are with
    ``include_proposed``); with ``viewer``, those the viewer may see are (their own; in blind
    mode others' only for supervisors and admins).
    """
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        proposals: bool | set[int] = include_proposed
        if viewer is not None:
            acting = queries.coder_by_name(session, row.id, viewer)
            proposals = True if (may_see_others(acting.role) or not row.blind_mode) else {acting.id}
        return _codebook_from_rows(row.name, queries.frames_by_key(session, row.id).values(),
                                   queries.codes_by_key(session, row.id).values(), include_inactive=include_inactive,
                                   proposals=proposals)


def code_usage(engine: Engine, project: str = DEFAULT_PROJECT, *, coders: Iterable[str] | None = None) -> "Any":
    """Per code: codings, segments and respondents carrying it (a pandas DataFrame), over the documents
    and coders in analysis (excluded ones are not counted)."""
    import pandas as pd

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        df = _counted_codings(session, row, coders)
    if df.empty:
        return pd.DataFrame(columns=["code", "frame", "codings", "segments", "respondents"])
    grouped = df.groupby(["code", "frame"]).agg(
        codings=("coding_id", "size"), segments=("segment_id", "nunique"), respondents=("respondent", "nunique")
    )
    return grouped.reset_index().sort_values(["frame", "code"]).reset_index(drop=True)


@retry_locked
def import_codebook_object(engine: Engine, project: str, codebook, *, actor: str | None = None) -> CodebookReport:
    """Apply a codebook built in memory (e.g. from a REFI-QDA .qdc), keeping every coding.

    In team mode only an admin ``actor`` may do this.
    """
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        _require_team_admin(session, row, actor, "change the codebook")
        report = _apply_codebook(session, row, codebook, source_text=None, renames={})
        _record_applied(session, row, codebook, report, actor, "an imported codebook")
        session.commit()
        return report


def _counted_codings(session: Session, row, coders: Iterable[str] | None):
    """The codings of ``coders`` (all when None) without excluded documents and coders."""
    documents, skip = excluded(session, row.id)
    df = in_scope(queries.codings_frame(session, row.id, coders=coders), documents)
    return df[~df["coder"].isin(skip)] if skip and not df.empty else df


def quotes_by_code(engine: Engine, project: str = DEFAULT_PROJECT, *, limit: int = 3,
                   coders: Iterable[str] | None = None) -> dict[str, list[dict]]:
    """Up to ``limit`` coded passages per code (consensus first), read in one query for the codebook page.
    ``coders`` limits them to those coders' codings (a blind coder's own)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        df = _counted_codings(session, row, coders)
    if df.empty:
        return {}
    df = df.assign(_rank=(df["coder"] != CONSENSUS).astype(int)).sort_values(["code", "_rank", "document", "position"])
    df = df.drop_duplicates(["code", "segment_id"]).groupby("code", sort=False).head(limit)
    return {
        code: group[["document", "respondent", "coder", "text"]].to_dict("records")
        for code, group in df.groupby("code", sort=True)
    }
