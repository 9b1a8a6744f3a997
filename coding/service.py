"""The facade: every operation the CLI and the app perform, one unit of work each.

Each public function opens one ``with Session(engine)``, does its work through the
pure modules and :mod:`coding.database.queries`, and commits once, so an import either
lands whole or not at all. Functions take and return plain data (dataclasses, pandas
frames), never ORM objects bound to a session.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import delete, func, insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from coding.database import queries
from coding.database.tables import (
    Assignment,
    Code,
    CodeFrame,
    Coder,
    Coding,
    CodingEvent,
    Document,
    DocumentProgress,
    Project,
    Segment,
    utcnow,
)
from coding.errors import (
    CodeframeError,
    CodingsError,
    DuplicateDocumentError,
    NotFound,
    PermissionDenied,
    Problem,
)

T = TypeVar("T")

SOURCES = ("hand", "suggestion", "adjudication", "import")
ROLES = ("coder", "supervisor", "admin")
CONSENSUS = "consensus"
DEFAULT_PROJECT = "default"


# --------------------------------------------------------------------------- plumbing


def _retry_locked(fn: Callable[..., T]) -> Callable[..., T]:
    """Retry a unit of work when SQLite reports 'database is locked' (the user never sees it)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        delay = 0.05
        for attempt in range(8):
            try:
                return fn(*args, **kwargs)
            except OperationalError as exc:
                if "locked" not in str(exc).lower() or attempt == 7:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    return wrapper


def repo_root() -> Path:
    """The checkout this package runs from (editable install), where codebook.yaml and corpus/ live."""
    return Path(__file__).resolve().parent.parent


def sample_corpus_dir() -> Path:
    """The shipped sample corpus: ``$CODEFRAME_CORPUS`` or ``corpus/`` of the checkout."""
    return Path(os.environ.get("CODEFRAME_CORPUS", repo_root() / "corpus"))


# --------------------------------------------------------------------------- plain results


@dataclass
class ProjectInfo:
    id: int
    name: str
    language: str
    segmentation_unit: str
    blind_mode: bool
    team_mode: bool
    embedding_model: str


@dataclass
class CodebookReport:
    """What applying a codebook changed; removed and relabelled codes are reported, never dropped."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    relabelled: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    kept_inactive: dict[str, int] = field(default_factory=dict)  # removed code -> codings kept
    moved_codings: dict[str, int] = field(default_factory=dict)  # renamed code -> codings moved

    def lines(self) -> list[str]:
        out = []
        for label, items in (("added", self.added), ("relabelled", self.relabelled), ("moved", self.moved)):
            if items:
                out.append(f"{label}: {', '.join(items)}")
        for old, new in self.renamed.items():
            out.append(f"renamed: {old} -> {new} ({self.moved_codings.get(old, 0)} coding(s) moved)")
        for key in self.removed:
            kept = self.kept_inactive.get(key, 0)
            out.append(
                f"removed from the codebook: {key}"
                + (f" — {kept} coding(s) kept; the code stays as inactive" if kept else " (no codings)")
            )
        return out


@dataclass
class ImportReport:
    documents: list[str] = field(default_factory=list)
    segments: int = 0
    units: int = 0
    codings: int = 0
    attributes_applied: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class DocumentInfo:
    id: int
    name: str
    respondent: str
    attributes: dict[str, Any]
    format: str
    language: str
    segments: int
    units: int


@dataclass
class CodingView:
    coding_id: int
    code: str
    label: str
    frame: str
    coder: str
    source: str
    score: float | None
    memo: str | None


@dataclass
class SegmentView:
    id: int
    position: int
    turn_index: int
    speaker: str | None
    role: str
    is_unit: bool
    start: int
    end: int
    text: str
    time_start: float | None
    time_end: float | None
    codings: list[CodingView] = field(default_factory=list)


@dataclass
class DocumentView:
    document: DocumentInfo
    segments: list[SegmentView]
    viewer: str
    visible_coders: list[str] | None  # None: everyone's codings are visible
    done: bool


@dataclass
class Status:
    project: ProjectInfo
    documents: int
    respondents: int
    segments: int
    units: int
    codings_by_coder: dict[str, int]
    frames: dict[str, int]  # frame -> number of codes


# --------------------------------------------------------------------------- projects


def _info(project: Project) -> ProjectInfo:
    return ProjectInfo(
        id=project.id,
        name=project.name,
        language=project.language,
        segmentation_unit=project.segmentation_unit,
        blind_mode=project.blind_mode,
        team_mode=project.team_mode,
        embedding_model=project.embedding_model,
    )


def list_projects(engine: Engine) -> list[ProjectInfo]:
    with Session(engine) as session:
        return [_info(p) for p in session.exec(select(Project).order_by(Project.name))]


def get_project(engine: Engine, project: str = DEFAULT_PROJECT) -> ProjectInfo:
    with Session(engine) as session:
        return _info(queries.project_by_name(session, project))


def project_exists(engine: Engine, project: str = DEFAULT_PROJECT) -> bool:
    with Session(engine) as session:
        return session.exec(select(Project.id).where(Project.name == project)).first() is not None


@_retry_locked
def create_project(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    language: str = "en",
    codebook_path: str | Path | None = None,
) -> ProjectInfo:
    """Create a project with the codebook (default: the shipped ``codebook.yaml``) in one transaction."""
    from coding.codebook import default_codebook_path, load_codebook

    path = Path(codebook_path) if codebook_path else default_codebook_path()
    codebook = load_codebook(path)
    source_text = path.read_text(encoding="utf-8-sig")
    with Session(engine) as session:
        if session.exec(select(Project.id).where(Project.name == project)).first() is not None:
            raise CodeframeError(f"project {project!r} already exists")
        row = Project(name=project, language=language)
        session.add(row)
        session.flush()
        _apply_codebook(session, row, codebook, source_text=source_text, renames={})
        session.commit()
        return _info(row)


@_retry_locked
def update_settings(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    language: str | None = None,
    segmentation_unit: str | None = None,
    blind_mode: bool | None = None,
    embedding_model: str | None = None,
) -> ProjectInfo:
    """Change project settings. Segmentation settings apply to documents imported afterwards."""
    if segmentation_unit is not None and segmentation_unit not in ("sentence", "turn"):
        raise CodeframeError(f"segmentation unit must be 'sentence' or 'turn', not {segmentation_unit!r}")
    if language is not None and language not in SUPPORTED_LANGUAGES:
        raise CodeframeError(f"language must be one of {', '.join(SUPPORTED_LANGUAGES)}, not {language!r}")
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        if language is not None:
            row.language = language
        if segmentation_unit is not None:
            row.segmentation_unit = segmentation_unit
        if blind_mode is not None:
            row.blind_mode = blind_mode
        if embedding_model is not None:
            row.embedding_model = embedding_model
        session.add(row)
        session.commit()
        return _info(row)


SUPPORTED_LANGUAGES = ("en", "ru", "kk")


# --------------------------------------------------------------------------- codebook


def _apply_codebook(session: Session, project: Project, codebook, *, source_text: str | None, renames: dict[str, str]) -> CodebookReport:
    """Upsert frames and codes; keep removed codes (and their codings) as inactive."""
    report = CodebookReport()
    frames = queries.frames_by_key(session, project.id)
    codes = queries.codes_by_key(session, project.id)
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

    for position, code in enumerate(codebook.codes()):
        row = codes.get(code.id)
        if row is None:
            if code.id not in renames.values():
                report.added.append(code.id)
            row = Code(project_id=project.id, frame_id=frames[code.frame].id, key=code.id, label=code.label)
        else:
            if row.label != code.label:
                report.relabelled.append(code.id)
            if row.frame_id != frames[code.frame].id or row.parent_key != code.parent:
                report.moved.append(code.id)
        row.frame_id = frames[code.frame].id
        row.label, row.parent_key, row.definition = code.label, code.parent, code.definition
        row.inclusion, row.exclusion, row.examples = list(code.include), list(code.exclude), list(code.examples)
        row.position, row.active = position, True
        session.add(row)
        codes[code.id] = row
    session.flush()

    for old, new in renames.items():
        report.renamed[old] = new
        report.moved_codings[old] = _move_codings(session, project.id, codes[old].id, codes[new].id)

    for key, row in codes.items():
        if key in new_ids or not row.active:
            continue
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
        before = _snapshot(coding)
        if exists is None:
            coding.code_id = new_code_id
            coding.updated = utcnow()
            session.add(coding)
            _log(session, project_id, coding, "rename", before=before, after=_snapshot(coding), actor_id=None)
        else:
            _log(session, project_id, coding, "remove", before=before, after=None, actor_id=None,
                 reason="merged into renamed code")
            session.delete(coding)
        moved += 1
    session.flush()
    return moved


@_retry_locked
def apply_codebook(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    path: str | Path,
    renames: dict[str, str] | None = None,
) -> CodebookReport:
    """Replace the project's codebook with the file at ``path``, keeping every coding.

    Codes that left the codebook stay in the database as inactive with their codings and
    are listed in the report; ``renames`` (old id -> new id) moves codings to a new id.
    """
    from coding.codebook import load_codebook

    path = Path(path)
    codebook = load_codebook(path)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        report = _apply_codebook(
            session, row, codebook, source_text=path.read_text(encoding="utf-8-sig"), renames=dict(renames or {})
        )
        session.commit()
        return report


def project_codebook(engine: Engine, project: str = DEFAULT_PROJECT, *, include_inactive: bool = False):
    """The project's codebook rebuilt from the database as a :class:`coding.codebook.Codebook`."""
    from coding.codebook import Code as CbCode, Codebook, Frame

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        frames = sorted(queries.frames_by_key(session, row.id).values(), key=lambda f: f.position)
        codes = sorted(queries.codes_by_key(session, row.id).values(), key=lambda c: c.position)
        by_frame: dict[int, list] = defaultdict(list)
        for c in codes:
            if c.active or include_inactive:
                by_frame[c.frame_id].append(c)
        built = []
        for f in frames:
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
                            examples=tuple(c.examples), line=None,
                        )
                        for c in by_frame[f.id]
                    ),
                    line=None,
                )
            )
        return Codebook(title=row.name, frames=tuple(built))


def code_usage(engine: Engine, project: str = DEFAULT_PROJECT, *, coders: Iterable[str] | None = None) -> "Any":
    """Per code: codings, segments and respondents carrying it (a pandas DataFrame)."""
    import pandas as pd

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        df = queries.codings_frame(session, row.id, coders=coders)
    if df.empty:
        return pd.DataFrame(columns=["code", "frame", "codings", "segments", "respondents"])
    grouped = df.groupby(["code", "frame"]).agg(
        codings=("coding_id", "size"), segments=("segment_id", "nunique"), respondents=("respondent", "nunique")
    )
    return grouped.reset_index().sort_values(["frame", "code"]).reset_index(drop=True)


def code_quotes(engine: Engine, project: str = DEFAULT_PROJECT, *, code: str, limit: int = 5) -> list[dict]:
    """A few coded passages for one code (consensus first, then anyone's), for the codebook browser."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        df = queries.codings_frame(session, row.id)
    df = df[df["code"] == code]
    if df.empty:
        return []
    df = df.assign(_rank=(df["coder"] != CONSENSUS).astype(int)).sort_values(["_rank", "document", "position"])
    df = df.drop_duplicates("segment_id").head(limit)
    return df[["document", "respondent", "coder", "text"]].to_dict("records")


# --------------------------------------------------------------------------- coders


@_retry_locked
def ensure_coder(engine: Engine, project: str = DEFAULT_PROJECT, name: str = "", *, role: str = "coder") -> str:
    """Create the coder if missing; return its name. The name 'consensus' is the adjudicated coder."""
    name = name.strip()
    if not name:
        raise CodeframeError("a coder needs a name")
    if role not in ROLES:
        raise CodeframeError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        existing = session.exec(select(Coder).where(Coder.project_id == row.id, Coder.name == name)).first()
        if existing is None:
            session.add(Coder(project_id=row.id, name=name, role=role, is_consensus=name == CONSENSUS))
            session.commit()
        return name


def list_coders(engine: Engine, project: str = DEFAULT_PROJECT) -> list[dict]:
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        coders = session.exec(select(Coder).where(Coder.project_id == row.id).order_by(Coder.name)).all()
        return [{"name": c.name, "role": c.role, "is_consensus": c.is_consensus} for c in coders]


# --------------------------------------------------------------------------- transcripts


def _source(item) -> tuple[str, Path | None, bytes | None]:
    """Normalise an import item: a path, or ``(file name, bytes)`` from an upload."""
    if isinstance(item, tuple):
        name, data = item
        return str(name), None, data
    path = Path(item)
    return path.name, path, None


def parse_transcripts(
    files: Sequence, *, language: str = "en", unit: str = "sentence"
) -> list[tuple[Any, list[Any]]]:
    """Read and segment transcripts without touching the database (the import preview).

    Returns ``[(Transcript, [SegmentSpan, ...]), ...]``; raises one TranscriptError listing
    every bad file.
    """
    from coding.errors import TranscriptError
    from coding.segmentation import segment_transcript
    from coding.transcripts import read_transcript

    parsed, problems = [], []
    for item in files:
        name, path, data = _source(item)
        try:
            transcript = read_transcript(path if path is not None else name, name=Path(name).stem, data=data)
        except TranscriptError as exc:
            problems.extend(exc.problems or [Problem(str(exc), file=name)])
            continue
        parsed.append((transcript, segment_transcript(transcript, language=language, unit=unit)))
    if problems:
        raise TranscriptError(f"{len(problems)} problem(s) in the transcripts; nothing was imported", problems)
    return parsed


def _read_attributes(attributes) -> tuple[str, dict[str, dict[str, str]]]:
    from coding.attributes import read_attributes_csv

    name, path, data = _source(attributes)
    parsed = read_attributes_csv(path if path is not None else name, data=data)
    return name, parsed.rows


@_retry_locked
def import_transcripts(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    files: Sequence = (),
    *,
    attributes=None,
    language: str | None = None,
    unit: str | None = None,
) -> ImportReport:
    """Import transcripts (paths or ``(name, bytes)``) and optional attributes, all or nothing.

    Every file is parsed and checked first; duplicates of documents already in the project
    (same content or same name) are refused; then everything is written in one transaction.
    """
    if not files:
        raise CodeframeError("no transcript files given")
    info = get_project(engine, project)
    language = language or info.language
    unit = unit or info.segmentation_unit
    if language not in SUPPORTED_LANGUAGES:
        raise CodeframeError(f"language must be one of {', '.join(SUPPORTED_LANGUAGES)}, not {language!r}")
    parsed = parse_transcripts(files, language=language, unit=unit)
    attribute_rows: dict[str, dict[str, str]] = {}
    attributes_name = None
    if attributes is not None:
        attributes_name, attribute_rows = _read_attributes(attributes)

    report = ImportReport()
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        existing = session.exec(select(Document.name, Document.sha256).where(Document.project_id == row.id)).all()
        names = {n for n, _ in existing}
        hashes = {h: n for n, h in existing}
        problems: list[Problem] = []
        batch_hashes: dict[str, str] = {}
        for transcript, _ in parsed:
            if transcript.name in names:
                problems.append(Problem(f"a document named {transcript.name!r} is already in the project", file=transcript.name))
            if transcript.sha256 in hashes:
                problems.append(Problem(f"same content as document {hashes[transcript.sha256]!r} already in the project", file=transcript.name))
            if transcript.sha256 in batch_hashes:
                problems.append(Problem(f"same content as {batch_hashes[transcript.sha256]!r} in this import", file=transcript.name))
            batch_hashes[transcript.sha256] = transcript.name
            names.add(transcript.name)
        if problems:
            raise DuplicateDocumentError("duplicate documents; nothing was imported", problems)

        known = {t.name for t, _ in parsed} | {n for n, _ in existing}
        unknown = [key for key in attribute_rows if key not in known]
        if unknown:
            raise CodeframeError(
                "the attributes file names respondents or documents that are not in this import or the project;"
                " nothing was imported",
                [Problem(f"unknown document or respondent {key!r}", file=attributes_name) for key in unknown],
            )
        for transcript, spans in parsed:
            attrs = dict(attribute_rows.get(transcript.name, {}))
            respondent = attrs.pop("respondent", None) or transcript.name
            document = Document(
                project_id=row.id, name=transcript.name, respondent=respondent, attributes=attrs,
                text=transcript.text, format=transcript.format, encoding=transcript.encoding,
                language=language, sha256=transcript.sha256,
            )
            session.add(document)
            session.flush()
            _insert_segments(session, document.id, spans)
            report.documents.append(transcript.name)
            report.segments += len(spans)
            report.units += sum(1 for s in spans if s.is_unit)
            report.attributes_applied += bool(attrs)
        report.attributes_applied += _update_existing_attributes(
            session, row.id, {k: v for k, v in attribute_rows.items() if k not in report.documents}
        )
        session.commit()
    return report


def _insert_segments(session: Session, document_id: int, spans) -> None:
    if not spans:
        return
    session.execute(
        insert(Segment),
        [
            {
                "document_id": document_id, "position": s.position, "turn_index": s.turn_index,
                "speaker": s.speaker, "role": s.role, "is_unit": s.is_unit, "start": s.start, "end": s.end,
                "text": s.text, "time_start": s.time_start, "time_end": s.time_end,
            }
            for s in spans
        ],
    )


def _update_existing_attributes(session: Session, project_id: int, rows: dict[str, dict[str, str]]) -> int:
    """Apply attribute rows to documents already in the project, matched by name or respondent."""
    updated = 0
    if not rows:
        return 0
    for document in queries.documents(session, project_id):
        attrs = rows.get(document.name) or rows.get(document.respondent)
        if attrs is None:
            continue
        attrs = dict(attrs)
        document.respondent = attrs.pop("respondent", None) or document.respondent
        document.attributes = {**document.attributes, **attrs}
        session.add(document)
        updated += 1
    return updated


@_retry_locked
def import_attributes(engine: Engine, project: str = DEFAULT_PROJECT, attributes=None) -> ImportReport:
    """Set respondent attributes on documents already imported; every row must match one."""
    name, rows = _read_attributes(attributes)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        docs = queries.documents(session, row.id)
        known = {d.name for d in docs} | {d.respondent for d in docs}
        unknown = [key for key in rows if key not in known]
        if unknown:
            raise CodeframeError(
                "the attributes file names unknown documents or respondents; nothing was changed",
                [Problem(f"unknown document or respondent {key!r}", file=name) for key in unknown],
            )
        report = ImportReport(attributes_applied=_update_existing_attributes(session, row.id, rows))
        session.commit()
        return report


def list_documents(engine: Engine, project: str = DEFAULT_PROJECT) -> list[DocumentInfo]:
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        units = queries.unit_counts_by_document(session, row.id)
        totals = dict(
            session.exec(
                select(Segment.document_id, func.count(Segment.id))
                .join(Document, Segment.document_id == Document.id)
                .where(Document.project_id == row.id)
                .group_by(Segment.document_id)
            ).all()
        )
        return [_document_info(d, totals.get(d.id, 0), units.get(d.id, 0)) for d in queries.documents(session, row.id)]


def _document_info(d: Document, segments: int, units: int) -> DocumentInfo:
    return DocumentInfo(
        id=d.id, name=d.name, respondent=d.respondent, attributes=dict(d.attributes), format=d.format,
        language=d.language, segments=segments, units=units,
    )


def document_text(engine: Engine, project: str, document_id: int) -> str:
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        return queries.document_in_project(session, row.id, document_id).text


# --------------------------------------------------------------------------- visibility & permissions


def _actor(session: Session, project: Project, name: str) -> Coder:
    return queries.coder_by_name(session, project.id, name)


def _visible_coder_ids(session: Session, project: Project, actor: Coder, document_id: int) -> set[int] | None:
    """Whose codings ``actor`` may see on a document; None means everyone's.

    Supervisors and admins see all. A coder sees only their own codings on a document in
    the blind double-coding sample until it is released, and everywhere while the project
    is in blind mode (released sample documents excepted).
    """
    if actor.role in ("supervisor", "admin"):
        return None
    assignments = session.exec(select(Assignment).where(Assignment.document_id == document_id)).all()
    if assignments and not all(a.released for a in assignments):
        return {actor.id}
    if assignments:
        return None
    return {actor.id} if project.blind_mode else None


def _check_may_edit(actor: Coder, coder: Coder, source: str) -> None:
    """A coder edits only their own codings; adjudication is for supervisors and admins."""
    if source == "adjudication" or coder.is_consensus:
        if actor.role not in ("supervisor", "admin"):
            raise PermissionDenied(f"{actor.name} is a {actor.role}: only supervisors adjudicate")
    elif actor.id != coder.id and actor.role not in ("supervisor", "admin"):
        raise PermissionDenied(f"{actor.name} may not change codings of {coder.name}")


# --------------------------------------------------------------------------- reading a document


def document_view(engine: Engine, project: str, document_id: int, *, viewer: str) -> DocumentView:
    """A transcript as the viewer may see it: segments with the codings visible to them."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        actor = _actor(session, row, viewer)
        document = queries.document_in_project(session, row.id, document_id)
        segments = queries.segments_of(session, document.id)
        visible = _visible_coder_ids(session, row, actor, document.id)
        stmt = (
            select(Coding, Code, CodeFrame, Coder)
            .join(Segment, Coding.segment_id == Segment.id)
            .join(Code, Coding.code_id == Code.id)
            .join(CodeFrame, Code.frame_id == CodeFrame.id)
            .join(Coder, Coding.coder_id == Coder.id)
            .where(Segment.document_id == document.id)
        )
        if visible is not None:
            stmt = stmt.where(Coding.coder_id.in_(visible))
        by_segment: dict[int, list[CodingView]] = defaultdict(list)
        for coding, code, frame, coder in session.exec(stmt.order_by(Code.position, Coder.name)):
            by_segment[coding.segment_id].append(
                CodingView(coding.id, code.key, code.label, frame.key, coder.name, coding.source, coding.score, coding.memo)
            )
        views = [
            SegmentView(
                s.id, s.position, s.turn_index, s.speaker, s.role, s.is_unit, s.start, s.end, s.text,
                s.time_start, s.time_end, by_segment.get(s.id, []),
            )
            for s in segments
        ]
        progress = session.exec(
            select(DocumentProgress).where(
                DocumentProgress.document_id == document.id, DocumentProgress.coder_id == actor.id
            )
        ).first()
        visible_names = None
        if visible is not None:
            visible_names = [actor.name]
        info = _document_info(document, len(segments), sum(1 for s in segments if s.is_unit))
        return DocumentView(info, views, actor.name, visible_names, bool(progress and progress.done))


# --------------------------------------------------------------------------- writing codings


def _snapshot(coding: Coding) -> dict:
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


@_retry_locked
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
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        acting = queries.coder_by_name(session, row.id, actor) if actor else target
        _check_may_edit(acting, target, source)
        segment, _ = queries.segment_in_project(session, row.id, segment_id)
        code_row = _code(session, row, code)
        coding_id = _upsert_coding(
            session, row, segment, code_row, target, acting, source=source, score=score, model_id=model_id,
            memo=memo, reason=reason,
        )
        session.commit()
        return coding_id


def _upsert_coding(session, project, segment, code_row, target, acting, *, source, score, model_id, memo, reason) -> int:
    frame = session.get(CodeFrame, code_row.frame_id)
    if frame.mutually_exclusive:
        others = session.exec(
            select(Coding)
            .join(Code, Coding.code_id == Code.id)
            .where(
                Coding.segment_id == segment.id, Coding.coder_id == target.id, Code.frame_id == frame.id,
                Coding.code_id != code_row.id,
            )
        ).all()
        for other in others:
            _log(session, project.id, other, "remove", before=_snapshot(other), after=None, actor_id=acting.id,
                 reason=f"replaced by {code_row.key} (mutually exclusive frame)")
            session.delete(other)
    existing = session.exec(
        select(Coding).where(
            Coding.segment_id == segment.id, Coding.code_id == code_row.id, Coding.coder_id == target.id
        )
    ).first()
    if existing is not None:
        if memo is not None and memo != existing.memo:
            before = _snapshot(existing)
            existing.memo, existing.updated = memo, utcnow()
            session.add(existing)
            _log(session, project.id, existing, "memo", before=before, after=_snapshot(existing), actor_id=acting.id,
                 reason=reason)
        return existing.id
    coding = Coding(
        segment_id=segment.id, code_id=code_row.id, coder_id=target.id, source=source, score=score,
        model_id=model_id, memo=memo or None,
    )
    session.add(coding)
    session.flush()
    _log(session, project.id, coding, "add", before=None, after=_snapshot(coding), actor_id=acting.id, reason=reason)
    return coding.id


@_retry_locked
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
        existing = session.exec(
            select(Coding).where(
                Coding.segment_id == segment_id, Coding.code_id == code_row.id, Coding.coder_id == target.id
            )
        ).first()
        if existing is None:
            return False
        _check_may_edit(acting, target, existing.source)
        _log(session, row.id, existing, "remove", before=_snapshot(existing), after=None, actor_id=acting.id,
             reason=reason)
        session.delete(existing)
        session.commit()
        return True


@_retry_locked
def set_memo(engine: Engine, project: str, *, segment_id: int, code: str, coder: str, memo: str | None,
             actor: str | None = None) -> None:
    """Set or clear the memo of an existing coding."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        acting = queries.coder_by_name(session, row.id, actor) if actor else target
        code_row = session.exec(select(Code).where(Code.project_id == row.id, Code.key == code)).first()
        existing = code_row and session.exec(
            select(Coding).where(
                Coding.segment_id == segment_id, Coding.code_id == code_row.id, Coding.coder_id == target.id
            )
        ).first()
        if not existing:
            raise NotFound(f"{coder} has not applied {code!r} to segment {segment_id}")
        _check_may_edit(acting, target, existing.source)
        before = _snapshot(existing)
        existing.memo, existing.updated = (memo or None), utcnow()
        session.add(existing)
        _log(session, row.id, existing, "memo", before=before, after=_snapshot(existing), actor_id=acting.id)
        session.commit()


def next_uncoded_segment(engine: Engine, project: str, document_id: int, *, coder: str,
                         after_position: int = -1) -> int | None:
    """Id of the coder's next unit without any code after ``after_position`` (wrapping), or None."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        queries.document_in_project(session, row.id, document_id)
        coded = select(Coding.segment_id).where(Coding.coder_id == target.id)
        units = session.exec(
            select(Segment.id, Segment.position)
            .where(Segment.document_id == document_id, Segment.is_unit == True, Segment.id.not_in(coded))  # noqa: E712
            .order_by(Segment.position)
        ).all()
        for seg_id, position in units:
            if position > after_position:
                return seg_id
        return units[0][0] if units else None


@_retry_locked
def mark_done(engine: Engine, project: str, document_id: int, *, coder: str, done: bool = True) -> None:
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        queries.document_in_project(session, row.id, document_id)
        progress = session.exec(
            select(DocumentProgress).where(
                DocumentProgress.document_id == document_id, DocumentProgress.coder_id == target.id
            )
        ).first() or DocumentProgress(document_id=document_id, coder_id=target.id)
        progress.done, progress.updated = done, utcnow()
        session.add(progress)
        session.commit()


def progress_by_coder(engine: Engine, project: str = DEFAULT_PROJECT) -> "Any":
    """Per coder: units coded (with at least one code), of all units, and documents marked done."""
    import pandas as pd

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        total_units = sum(queries.unit_counts_by_document(session, row.id).values())
        coded = dict(
            session.exec(
                select(Coder.name, func.count(func.distinct(Coding.segment_id)))
                .join(Coding, Coding.coder_id == Coder.id)
                .where(Coder.project_id == row.id)
                .group_by(Coder.name)
            ).all()
        )
        done = dict(
            session.exec(
                select(Coder.name, func.count(DocumentProgress.id))
                .join(DocumentProgress, DocumentProgress.coder_id == Coder.id)
                .where(Coder.project_id == row.id, DocumentProgress.done == True)  # noqa: E712
                .group_by(Coder.name)
            ).all()
        )
        names = [c.name for c in session.exec(select(Coder).where(Coder.project_id == row.id).order_by(Coder.name))]
    return pd.DataFrame(
        [
            {"coder": n, "segments_coded": coded.get(n, 0), "segments_total": total_units,
             "documents_done": done.get(n, 0)}
            for n in names
        ],
        columns=["coder", "segments_coded", "segments_total", "documents_done"],
    )


# --------------------------------------------------------------------------- codings CSV


CODINGS_CSV_REQUIRED = ("document", "coder", "code")
CODINGS_CSV_LOCATORS = ("segment", "start", "end", "quote")


@dataclass
class _CodingRow:
    line: int
    document: str
    coder: str
    code: str
    segment: int | None
    start: int | None
    end: int | None
    quote: str | None
    source: str
    memo: str | None


def _read_codings_csv(name: str, data: bytes) -> list[_CodingRow]:
    """Parse the long codings table; report every bad row by line."""
    from coding.transcripts import decode_bytes

    if not data.strip():
        raise CodingsError("the codings file is empty", [Problem("empty file", file=name)])
    text, _ = decode_bytes(data, file=name)
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CODINGS_CSV_REQUIRED if c not in header]
    if missing:
        raise CodingsError(
            "the codings file lacks required columns",
            [Problem(f"missing column(s) {', '.join(missing)}; found {', '.join(header) or 'none'}", file=name, line=1)],
        )
    if not ("segment" in header or "quote" in header or ("start" in header and "end" in header)):
        raise CodingsError(
            "the codings file does not say where each code applies",
            [Problem("need a 'segment' column, a 'quote' column, or 'start' and 'end' columns", file=name, line=1)],
        )
    rows, problems = [], []
    for raw in reader:
        line = reader.line_num
        if None in raw:
            problems.append(Problem("more fields than columns in the header", file=name, line=line))
            continue
        values = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if any(values.get(c, "") == "" for c in CODINGS_CSV_REQUIRED):
            blank = [c for c in CODINGS_CSV_REQUIRED if values.get(c, "") == ""]
            problems.append(Problem(f"blank {', '.join(blank)}", file=name, line=line))
            continue
        try:
            segment = int(values["segment"]) if values.get("segment") else None
            start = int(values["start"]) if values.get("start") else None
            end = int(values["end"]) if values.get("end") else None
        except ValueError as exc:
            problems.append(Problem(f"not a whole number: {exc}", file=name, line=line))
            continue
        quote = raw.get("quote") or None
        if segment is None and quote is None and (start is None or end is None):
            problems.append(Problem("no segment, quote or start/end given", file=name, line=line))
            continue
        source = values.get("source") or "import"
        if source not in SOURCES:
            problems.append(Problem(f"unknown source {source!r} (use {', '.join(SOURCES)})", file=name, line=line, field="source"))
            continue
        rows.append(_CodingRow(line, values["document"], values["coder"], values["code"], segment, start, end, quote,
                               source, values.get("memo") or None))
    if problems:
        raise CodingsError(f"{len(problems)} bad row(s) in the codings file; nothing was imported", problems)
    return rows


@_retry_locked
def import_codings(
    engine: Engine,
    project: str,
    codings,
    *,
    create_coders: bool = False,
    actor: str | None = None,
) -> ImportReport:
    """Import a long codings table, all or nothing.

    Columns: ``document, coder, code`` and a locator: ``segment`` (1-based number of the
    unit of coding in the document), ``start``/``end`` (character offsets), or ``quote``
    (exact text, which must occur once). Optional ``source`` and ``memo``. Unknown documents,
    codes or coders are errors naming the line; ``create_coders`` adds missing coders.
    """
    from coding.alignment import locate_quote, overlapping

    name, path, data = _source(codings)
    data = data if data is not None else path.read_bytes()
    rows = _read_codings_csv(name, data)
    report = ImportReport()
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        docs = {d.name: d for d in queries.documents(session, row.id)}
        codes = queries.codes_by_key(session, row.id)
        coders = queries.coders_by_name(session, row.id)
        acting = queries.coder_by_name(session, row.id, actor) if actor else None
        problems: list[Problem] = []
        if create_coders:
            for new in sorted({r.coder for r in rows} - set(coders)):
                coder = Coder(project_id=row.id, name=new, is_consensus=new == CONSENSUS,
                              role="supervisor" if new == CONSENSUS else "coder")
                session.add(coder)
                coders[new] = coder
            session.flush()
        segments_cache: dict[int, list[Segment]] = {}
        resolved: list[tuple[_CodingRow, Segment, Code, Coder]] = []
        multi = 0
        for r in rows:
            doc = docs.get(r.document)
            if doc is None:
                problems.append(Problem(f"unknown document {r.document!r}", file=name, line=r.line, field="document"))
            code = codes.get(r.code)
            if code is None:
                problems.append(Problem(f"unknown code {r.code!r}", file=name, line=r.line, field="code"))
            elif not code.active:
                problems.append(Problem(f"code {r.code!r} is no longer in the codebook", file=name, line=r.line, field="code"))
            coder = coders.get(r.coder)
            if coder is None:
                problems.append(Problem(f"unknown coder {r.coder!r} (add it first, or use --create-coders)",
                                        file=name, line=r.line, field="coder"))
            if doc is None or code is None or coder is None:
                continue
            if doc.id not in segments_cache:
                segments_cache[doc.id] = [s for s in queries.segments_of(session, doc.id)]
            segs = segments_cache[doc.id]
            units = [s for s in segs if s.is_unit]
            targets: list[Segment] = []
            if r.segment is not None:
                if not 1 <= r.segment <= len(units):
                    problems.append(Problem(f"segment {r.segment} out of range 1..{len(units)} for {r.document}",
                                            file=name, line=r.line, field="segment"))
                    continue
                targets = [units[r.segment - 1]]
            else:
                if r.quote is not None:
                    hits = locate_quote(doc.text, r.quote)
                    if len(hits) != 1:
                        problems.append(Problem(
                            f"quote found {len(hits)} times in {r.document} (must occur exactly once)",
                            file=name, line=r.line, field="quote"))
                        continue
                    start, end = hits[0], hits[0] + len(r.quote)
                else:
                    start, end = r.start, r.end
                    if not 0 <= start < end <= len(doc.text):
                        problems.append(Problem(f"span {start}-{end} outside the text of {r.document}",
                                                file=name, line=r.line, field="start"))
                        continue
                spans = [(s.start, s.end) for s in units]
                targets = [units[i] for i in overlapping(spans, start, end)]
                if not targets:
                    problems.append(Problem(f"span {start}-{end} of {r.document} covers no unit of coding",
                                            file=name, line=r.line))
                    continue
                multi += len(targets) > 1
            resolved.extend((r, seg, code, coder) for seg in targets)
        if problems:
            raise CodingsError(f"{len(problems)} problem(s) in the codings file; nothing was imported", problems)
        for r, seg, code, coder in resolved:
            target_actor = acting or coder
            _check_may_edit(target_actor, coder, r.source)
            _upsert_coding(session, row, seg, code, coder, target_actor, source=r.source, score=None, model_id=None,
                           memo=r.memo, reason=f"imported from {name}")
            report.codings += 1
        if multi:
            report.notes.append(f"{multi} row(s) spanned several segments and were applied to each")
        session.commit()
    return report


# --------------------------------------------------------------------------- status & sample


def status(engine: Engine, project: str = DEFAULT_PROJECT) -> Status:
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        docs = queries.documents(session, row.id)
        segs = session.exec(
            select(func.count(Segment.id), func.coalesce(func.sum(func.cast(Segment.is_unit, _int_type())), 0))
            .join(Document, Segment.document_id == Document.id)
            .where(Document.project_id == row.id)
        ).one()
        by_coder = dict(
            session.exec(
                select(Coder.name, func.count(Coding.id))
                .join(Coding, Coding.coder_id == Coder.id, isouter=True)
                .where(Coder.project_id == row.id)
                .group_by(Coder.name)
            ).all()
        )
        frames = dict(
            session.exec(
                select(CodeFrame.key, func.count(Code.id))
                .join(Code, Code.frame_id == CodeFrame.id)
                .where(CodeFrame.project_id == row.id, CodeFrame.active == True, Code.active == True)  # noqa: E712
                .group_by(CodeFrame.key)
            ).all()
        )
        return Status(
            project=_info(row), documents=len(docs), respondents=len({d.respondent for d in docs}),
            segments=int(segs[0]), units=int(segs[1]), codings_by_coder=by_coder, frames=frames,
        )


def _int_type():
    from sqlalchemy import Integer

    return Integer


SAMPLE_CODERS = (("aigerim", "coder"), ("daniyar", "coder"), (CONSENSUS, "supervisor"), ("supervisor", "supervisor"))


def initialize(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    sample: bool = False,
    codebook_path: str | Path | None = None,
    language: str = "en",
) -> ImportReport:
    """Create the project (codebook loaded) and, with ``sample``, load the shipped corpus.

    Idempotent for the sample: a project that already has documents is left alone.
    """
    if not project_exists(engine, project):
        create_project(engine, project, language=language, codebook_path=codebook_path)
    if not sample:
        return ImportReport()
    if status(engine, project).documents:
        return ImportReport(notes=["the project already has documents; the sample was not loaded again"])
    return load_sample(engine, project)


def load_sample(engine: Engine, project: str = DEFAULT_PROJECT) -> ImportReport:
    """Load the sample corpus: transcripts (English and Russian), attributes, two coders' and consensus codings."""
    corpus = sample_corpus_dir()
    transcripts = sorted((corpus / "transcripts").glob("*.txt"))
    if not transcripts:
        raise NotFound(f"no sample corpus at {corpus}")
    english, russian = [], []
    for path in transcripts:
        (russian if _is_cyrillic(path.read_text(encoding="utf-8-sig")) else english).append(path)
    for name, role in SAMPLE_CODERS:
        ensure_coder(engine, project, name, role=role)
    report = import_transcripts(engine, project, english, attributes=corpus / "respondents.csv", language="en")
    if russian:
        ru = import_transcripts(engine, project, russian, language="ru")
        report.documents += ru.documents
        report.segments += ru.segments
        report.units += ru.units
    codings = import_codings(engine, project, corpus / "codings.csv", actor="supervisor")
    report.codings = codings.codings
    report.notes += codings.notes
    return report


def _is_cyrillic(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    cyrillic = sum(1 for c in letters if "\u0400" <= c <= "\u04ff")
    return bool(letters) and cyrillic / len(letters) > 0.5


# --------------------------------------------------------------------------- history


def history(engine: Engine, project: str = DEFAULT_PROJECT, *, coder: str | None = None) -> "Any":
    """The append-only history of coding changes as a DataFrame (oldest first)."""
    import pandas as pd

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        coder_names = {c.id: c.name for c in session.exec(select(Coder).where(Coder.project_id == row.id))}
        code_keys = {c.id: c.key for c in session.exec(select(Code).where(Code.project_id == row.id))}
        stmt = select(CodingEvent).where(CodingEvent.project_id == row.id)
        if coder is not None:
            stmt = stmt.where(CodingEvent.coder_id == queries.coder_by_name(session, row.id, coder).id)
        events = session.exec(stmt.order_by(CodingEvent.id)).all()
        return pd.DataFrame(
            [
                {
                    "id": e.id, "at": e.at, "segment_id": e.segment_id, "code": code_keys.get(e.code_id),
                    "coder": coder_names.get(e.coder_id), "actor": coder_names.get(e.actor_id),
                    "action": e.action, "source": e.source, "before": e.before, "after": e.after, "reason": e.reason,
                }
                for e in events
            ],
            columns=["id", "at", "segment_id", "code", "coder", "actor", "action", "source", "before", "after", "reason"],
        )
