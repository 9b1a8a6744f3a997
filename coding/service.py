"""The facade: every operation the CLI and the app perform, one unit of work each.

Each public function opens one ``with Session(engine)``, does its work through the
pure modules and :mod:`coding.database.queries`, and commits once, so an import either
lands whole or not at all. Functions take and return plain data (dataclasses, pandas
frames), never ORM objects bound to a session.
"""

from __future__ import annotations

import csv
import dataclasses
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
from sqlalchemy.exc import IntegrityError, OperationalError
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
    FrameCoverage,
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
from coding.roles import ELEVATED, may_adjudicate, may_admin, may_see_others
from coding.roles import ROLES as _ROLES

T = TypeVar("T")

SOURCES = ("hand", "suggestion", "adjudication", "import")
ROLES = _ROLES
CONSENSUS = "consensus"
DEFAULT_PROJECT = "default"


# --------------------------------------------------------------------------- plumbing


def _retry_locked(fn: Callable[..., T]) -> Callable[..., T]:
    """Retry a unit of work when SQLite reports 'database is locked' (the user never sees it)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        delay = 0.05
        races = 0
        for attempt in range(8):
            try:
                return fn(*args, **kwargs)
            except OperationalError as exc:
                if not _is_transient(exc) or attempt == 7:
                    raise
            except IntegrityError as exc:
                # Two writers inserted the same unique row at once (PostgreSQL): the
                # retry sees the other's committed row and treats it as existing.
                races += 1
                if not _is_unique_violation(exc) or races > 2:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    return wrapper


def _is_transient(exc: OperationalError) -> bool:
    """Lock waits, deadlocks and serialization failures: worth running the unit of work again."""
    message = str(exc).lower()
    return any(s in message for s in ("database is locked", "database table is locked", "deadlock detected",
                                      "could not serialize", "lock timeout"))


def _is_unique_violation(exc: IntegrityError) -> bool:
    message = str(exc).lower()
    return "unique" in message or "duplicate key" in message


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
    actor: str | None = None,
) -> ProjectInfo:
    """Change project settings. Segmentation settings apply to documents imported afterwards.

    Given an ``actor`` (the app always names one), in team mode only an admin may do this.
    """
    if segmentation_unit is not None and segmentation_unit not in ("sentence", "turn"):
        raise CodeframeError(f"segmentation unit must be 'sentence' or 'turn', not {segmentation_unit!r}")
    if language is not None and language not in SUPPORTED_LANGUAGES:
        raise CodeframeError(f"language must be one of {', '.join(SUPPORTED_LANGUAGES)}, not {language!r}")
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        if actor is not None:
            _require_team_admin(session, row, actor, "change the project settings")
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
def ensure_coder(engine: Engine, project: str = DEFAULT_PROJECT, name: str = "", *, role: str = "coder",
                 actor: str | None = None) -> str:
    """Create the coder if missing; return its name. The name 'consensus' is the adjudicated coder.

    Once the project has an admin, only an admin ``actor`` creates a supervisor or an admin,
    and in team mode only an admin creates anyone (users are managed, not picked).
    """
    name = name.strip()
    if not name:
        raise CodeframeError("a coder needs a name")
    if role not in ROLES:
        raise CodeframeError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        existing = session.exec(select(Coder).where(Coder.project_id == row.id, Coder.name == name)).first()
        if existing is None:
            if (role in ELEVATED and name != CONSENSUS) or row.team_mode:
                _require_user_admin(session, row, actor, f"add a {role}" if role in ELEVATED else "add coders")
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


KAZAKH_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")


def detect_language(text: str) -> str:
    """Guess a transcript's language from its script: ``kk``, ``ru`` or ``en``.

    Cyrillic text with Kazakh-specific letters (ә ғ қ ң ө ұ ү һ і) is Kazakh, other
    Cyrillic text Russian, anything else English (the project default for Latin script).

    >>> detect_language("Реформа должна быть системной."), detect_language("Реформа жүйелі болуы керек.")
    ('ru', 'kk')
    >>> detect_language("Reform must be systematic.")
    'en'
    """
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "en"
    cyrillic = [c for c in letters if "\u0400" <= c <= "\u04ff"]
    if len(cyrillic) / len(letters) <= 0.5:
        return "en"
    kazakh = sum(1 for c in cyrillic if c in KAZAKH_LETTERS)
    return "kk" if kazakh / len(cyrillic) >= 0.01 else "ru"


def parse_transcripts(
    files: Sequence, *, language: str = "en", unit: str = "sentence"
) -> list[tuple[Any, list[Any]]]:
    """Read and segment transcripts without touching the database (the import preview).

    ``language="auto"`` picks en, ru or kk per document (:func:`detect_language`).

    Returns ``[(Transcript, [SegmentSpan, ...]), ...]``; raises one TranscriptError listing
    every bad file.
    """
    from coding.errors import TranscriptError
    from coding.segmentation import segment_transcripts
    from coding.transcripts import read_transcript

    transcripts, problems = [], []
    for item in files:
        name, path, data = _source(item)
        try:
            transcript = read_transcript(path if path is not None else name, name=name, data=data)
        except TranscriptError as exc:
            problems.extend(exc.problems or [Problem(str(exc), file=name)])
            continue
        transcripts.append(dataclasses.replace(transcript, name=Path(name).stem))  # the document is named by its stem
    # One nlp.pipe over all transcripts of a language (much less per-call overhead than one each).
    by_language: dict[str, list[int]] = defaultdict(list)
    for number, transcript in enumerate(transcripts):
        by_language[detect_language(transcript.text) if language == "auto" else language].append(number)
    segments: list[list[Any]] = [[] for _ in transcripts]
    for nlp_language, numbers in by_language.items():
        batch = segment_transcripts([transcripts[n] for n in numbers], language=nlp_language, unit=unit)
        for number, spans in zip(numbers, batch):
            segments[number] = spans
    parsed = list(zip(transcripts, segments))
    if problems:
        raise TranscriptError(f"{len(problems)} problem(s) in the transcripts; nothing was imported", problems)
    return parsed


def _read_attributes(attributes) -> tuple[str, dict[str, dict[str, str]]]:
    from coding.attributes import read_attributes_csv

    name, path, data = _source(attributes)
    parsed = read_attributes_csv(path if path is not None else name, data=data)
    return name, parsed.rows


_SAME_CONTENT_HINT = (" (different respondents with identical answers? Tick 'Allow files with identical text' "
                      "on the Import page, or use --allow-same-content)")


@_retry_locked
def import_transcripts(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    files: Sequence = (),
    *,
    attributes=None,
    language: str | None = None,
    unit: str | None = None,
    allow_same_content: bool = False,
    actor: str | None = None,
) -> ImportReport:
    """Import transcripts (paths or ``(name, bytes)``) and optional attributes, all or nothing.

    Given an ``actor`` (the app always names one), in team mode only an admin may import.

    Every file is parsed and checked first; duplicates of documents already in the project
    (same name, or same content) are refused; then everything is written in one transaction.
    ``allow_same_content`` accepts documents whose text equals another's under a different
    name: short open survey answers ("No.") are often identical across respondents.
    """
    if not files:
        raise CodeframeError("no transcript files given")
    if actor is not None:
        _require_team_admin_by_name(engine, project, actor, "import transcripts")
    info = get_project(engine, project)
    language = language or info.language
    unit = unit or info.segmentation_unit
    if language not in SUPPORTED_LANGUAGES + ("auto",):
        raise CodeframeError(f"language must be auto or one of {', '.join(SUPPORTED_LANGUAGES)}, not {language!r}")
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
            if transcript.sha256 in hashes and not allow_same_content:
                problems.append(Problem(f"same content as document {hashes[transcript.sha256]!r} already in the project"
                                        f"{_SAME_CONTENT_HINT}", file=transcript.name))
            if transcript.sha256 in batch_hashes and not allow_same_content:
                problems.append(Problem(f"same content as {batch_hashes[transcript.sha256]!r} in this import"
                                        f"{_SAME_CONTENT_HINT}", file=transcript.name))
            batch_hashes.setdefault(transcript.sha256, transcript.name)
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
        documents = []
        for transcript, spans in parsed:
            attrs = dict(attribute_rows.get(transcript.name, {}))
            respondent = attrs.pop("respondent", None) or transcript.name
            documents.append({
                "project_id": row.id, "name": transcript.name, "respondent": respondent, "attributes": attrs,
                "text": transcript.text, "format": transcript.format, "encoding": transcript.encoding,
                "language": detect_language(transcript.text) if language == "auto" else language,
                "sha256": transcript.sha256, "imported": utcnow(),
            })
            report.documents.append(transcript.name)
            report.segments += len(spans)
            report.units += sum(1 for s in spans if s.is_unit)
            report.attributes_applied += bool(attrs)
        rows: list[dict] = []
        for document_id, (_, spans) in zip(_insert_documents(session, documents), parsed):
            rows.extend(_segment_rows(document_id, spans))
            if len(rows) >= _SEGMENT_BATCH:  # a few large executemany calls, without holding every row at once
                _insert_segment_rows(session, rows)
                rows = []
        _insert_segment_rows(session, rows)
        report.attributes_applied += _update_existing_attributes(
            session, row.id, {k: v for k, v in attribute_rows.items() if k not in report.documents}
        )
        session.commit()
    return report


def _insert_documents(session: Session, rows: list[dict]) -> list[int]:
    """Insert document rows with Core and return their ids in order: one executemany with
    RETURNING where the dialect keeps the order (SQLite, PostgreSQL), else one insert each."""
    if not rows:
        return []
    session.flush()  # Core below bypasses the ORM: anything pending goes first
    table = Document.__table__
    connection = session.connection()
    if connection.dialect.insert_executemany_returning_sort_by_parameter_order:
        result = connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        return list(result.scalars())
    return [connection.execute(insert(table), r).inserted_primary_key[0] for r in rows]


_SEGMENT_BATCH = 5000


def _segment_rows(document_id: int, spans) -> Iterable[dict]:
    for s in spans:
        yield {
            "document_id": document_id, "position": s.position, "turn_index": s.turn_index,
            "speaker": s.speaker, "role": s.role, "is_unit": s.is_unit, "start": s.start, "end": s.end,
            "text": s.text, "time_start": s.time_start, "time_end": s.time_end,
        }


def _insert_segment_rows(session: Session, rows: list[dict]) -> None:
    """One Core executemany (no ORM bookkeeping per row)."""
    if rows:
        session.flush()
        session.connection().execute(insert(Segment.__table__), rows)


def _insert_segments(session: Session, document_id: int, spans) -> None:
    _insert_segment_rows(session, list(_segment_rows(document_id, spans)))


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
def import_attributes(engine: Engine, project: str = DEFAULT_PROJECT, attributes=None, *,
                      actor: str | None = None) -> ImportReport:
    """Set respondent attributes on documents already imported; every row must match one.

    Given an ``actor``, in team mode only an admin may do this."""
    name, rows = _read_attributes(attributes)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        if actor is not None:
            _require_team_admin(session, row, actor, "import attributes")
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
    if may_see_others(actor.role):
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
        if not may_adjudicate(actor.role):
            raise PermissionDenied(f"{actor.name} is a {actor.role}: only supervisors adjudicate")
    elif actor.id != coder.id and not may_adjudicate(actor.role):
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
            _log(session, project.id, other, "remove", before=_snapshot(other), after=None, actor_id=acting.id,
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
    for _ in range(2 if insert_or_skip is not None else 1):
        if insert_or_skip is not None:
            coding_id = connection.execute(insert_or_skip, values).scalar()
            if coding_id is not None:
                break
        existing = session.exec(
            select(Coding).where(
                Coding.segment_id == segment.id, Coding.code_id == code_row.id, Coding.coder_id == target.id
            ).with_for_update()  # PostgreSQL: concurrent writers of this coding queue here
        ).first()
        if existing is not None:
            if memo is not None and memo != existing.memo:
                before = _snapshot(existing)
                existing.memo, existing.updated = memo, utcnow()
                session.add(existing)
                _log(session, project.id, existing, "memo", before=before, after=_snapshot(existing),
                     actor_id=acting.id, reason=reason)
            return existing.id
    if coding_id is None:
        # No ON CONFLICT on this database, or a concurrent writer removed the coding between
        # the two statements: a plain insert (a duplicate raises IntegrityError, which
        # _retry_locked runs again).
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
            ).with_for_update()
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
            ).with_for_update()
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
def mark_done(engine: Engine, project: str, document_id: int, *, coder: str, done: bool = True,
              frames: Sequence[str] = ()) -> None:
    """Mark a transcript done (or not) for a coder, and record the ``frames`` they finished on it.

    Finished frames make the segments the coder left uncoded count as 'not applied' in agreement.
    """
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        queries.document_in_project(session, row.id, document_id)
        known = queries.frames_by_key(session, row.id)
        unknown = [f for f in frames if f not in known]
        if unknown:
            raise NotFound(f"no code frame(s) {', '.join(unknown)} in this project")
        _set_coverage(session, document_id, target.id, frames, done)
        progress = session.exec(
            select(DocumentProgress).where(
                DocumentProgress.document_id == document_id, DocumentProgress.coder_id == target.id
            )
        ).first() or DocumentProgress(document_id=document_id, coder_id=target.id)
        progress.done, progress.updated = done, utcnow()
        session.add(progress)
        session.commit()


def _set_coverage(session: Session, document_id: int, coder_id: int, frames: Iterable[str], done: bool) -> None:
    for frame in frames:
        existing = session.exec(select(FrameCoverage).where(
            FrameCoverage.document_id == document_id, FrameCoverage.coder_id == coder_id,
            FrameCoverage.frame_key == frame)).first()
        if done and existing is None:
            session.add(FrameCoverage(document_id=document_id, coder_id=coder_id, frame_key=frame))
        elif not done and existing is not None:
            session.delete(existing)


@_retry_locked
def import_coverage(engine: Engine, project: str, coverage) -> int:
    """Record which frames each coder finished on which documents, from a CSV ``document,coder,frame``."""
    from coding.transcripts import decode_bytes

    name, path, data = _source(coverage)
    text, _ = decode_bytes(data if data is not None else path.read_bytes(), file=name, error=CodingsError)
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("document", "coder", "frame") if c not in (reader.fieldnames or [])]
    if missing:
        raise CodingsError("the coverage file lacks columns",
                           [Problem(f"missing column(s) {', '.join(missing)}", file=name, line=1)])
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        docs = {d.name: d.id for d in queries.documents(session, row.id)}
        coders = queries.coders_by_name(session, row.id)
        frames = queries.frames_by_key(session, row.id)
        problems, wanted = [], []
        for record in reader:
            line = reader.line_num
            for column, known in (("document", docs), ("coder", coders), ("frame", frames)):
                if record[column] not in known:
                    problems.append(Problem(f"unknown {column} {record[column]!r}", file=name, line=line, field=column))
            wanted.append(record)
        if problems:
            raise CodingsError(f"{len(problems)} problem(s) in the coverage file; nothing was imported", problems)
        for record in wanted:
            _set_coverage(session, docs[record["document"]], coders[record["coder"]].id, [record["frame"]], True)
        session.commit()
        return len(wanted)


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
    text, _ = decode_bytes(data, file=name, error=CodingsError)
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

    Idempotent for the sample: a project that already has documents is left alone. A new
    project whose sample fails to load is removed again, so a failed first start never leaves
    an empty project behind that later starts would mistake for the user's own.
    """
    created = not project_exists(engine, project)
    if created:
        create_project(engine, project, language=language, codebook_path=codebook_path)
    if not sample:
        return ImportReport()
    if status(engine, project).documents:
        return ImportReport(notes=["the project already has documents; the sample was not loaded again"])
    try:
        return load_sample(engine, project)
    except BaseException:
        if created:
            delete_project(engine, project)
        raise


@_retry_locked
def delete_project(engine: Engine, project: str) -> None:
    """Remove a project and everything in it (documents, codings, history, coders), in one transaction."""
    from coding.database import tables as t

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        doc_ids = select(t.Document.id).where(t.Document.project_id == row.id)
        seg_ids = select(t.Segment.id).where(t.Segment.document_id.in_(doc_ids))
        coder_ids = select(t.Coder.id).where(t.Coder.project_id == row.id)
        for stmt in (
            delete(t.SuggestionFeedback).where(t.SuggestionFeedback.segment_id.in_(seg_ids)),
            delete(t.CodingEvent).where(t.CodingEvent.project_id == row.id),
            delete(t.AuthEvent).where(t.AuthEvent.project_id == row.id),
            delete(t.UserSession).where(t.UserSession.project_id == row.id),
            delete(t.Coding).where(t.Coding.segment_id.in_(seg_ids)),
            delete(t.FrameCoverage).where(t.FrameCoverage.document_id.in_(doc_ids)),
            delete(t.Assignment).where(t.Assignment.document_id.in_(doc_ids)),
            delete(t.DocumentProgress).where(t.DocumentProgress.document_id.in_(doc_ids)),
            delete(t.Segment).where(t.Segment.document_id.in_(doc_ids)),
            delete(t.Document).where(t.Document.project_id == row.id),
            delete(t.Code).where(t.Code.project_id == row.id),
            delete(t.CodeFrame).where(t.CodeFrame.project_id == row.id),
            delete(t.Coder).where(t.Coder.id.in_(coder_ids)),
            delete(t.Project).where(t.Project.id == row.id),
        ):
            session.execute(stmt)
        session.commit()


def load_sample(engine: Engine, project: str = DEFAULT_PROJECT) -> ImportReport:
    """Load the sample corpus: transcripts (English and Russian), attributes, two coders' and consensus codings."""
    corpus = sample_corpus_dir()
    transcripts = sorted((corpus / "transcripts").glob("*.txt"))
    if not transcripts:
        raise NotFound(f"no sample corpus at {corpus}")
    for name, role in SAMPLE_CODERS:
        ensure_coder(engine, project, name, role=role)
    report = import_transcripts(engine, project, transcripts, attributes=corpus / "respondents.csv", language="auto")
    codings = import_codings(engine, project, corpus / "codings.csv", actor="supervisor")
    report.codings = codings.codings
    report.notes += codings.notes
    if (corpus / "coverage.csv").exists():
        import_coverage(engine, project, corpus / "coverage.csv")
    return report


# --------------------------------------------------------------------------- agreement & adjudication


def _frame_codes(session: Session, project: Project, frame: str) -> tuple[CodeFrame, list[Code]]:
    row = session.exec(select(CodeFrame).where(CodeFrame.project_id == project.id, CodeFrame.key == frame)).first()
    if row is None:
        raise NotFound(f"no code frame {frame!r} in this project")
    codes = session.exec(select(Code).where(Code.frame_id == row.id).order_by(Code.position)).all()
    return row, list(codes)


def _coder_universes(session: Session, project: Project, frame_row: CodeFrame, coders: Iterable[str],
                     units: "Any") -> dict[str, set[int]]:
    """The units each coder saw in a frame: every unit of each document they coded in the frame,
    finished the frame on (:func:`mark_done` with ``frames``), or were assigned for double coding.
    A unit such a coder left uncoded is a real 'not applied'."""
    names = list(coders)
    coder_ids = {c.name: c.id for c in session.exec(select(Coder).where(Coder.project_id == project.id))}
    worked: dict[str, set[int]] = {n: set() for n in names}
    rows = session.exec(
        select(Coder.name, Segment.document_id)
        .join(Coding, Coding.coder_id == Coder.id)
        .join(Segment, Coding.segment_id == Segment.id)
        .join(Code, Coding.code_id == Code.id)
        .where(Code.frame_id == frame_row.id, Coder.project_id == project.id)
        .distinct()
    ).all()
    for name, doc_id in rows:
        if name in worked:
            worked[name].add(doc_id)
    name_of = {i: n for n, i in coder_ids.items() if n in worked}
    finished = select(FrameCoverage.coder_id, FrameCoverage.document_id).where(
        FrameCoverage.frame_key == frame_row.key)
    assigned = select(Assignment.coder_id, Assignment.document_id)
    for stmt in (finished, assigned):
        for coder_id, doc_id in session.exec(stmt).all():
            if coder_id in name_of:
                worked[name_of[coder_id]].add(doc_id)
    by_document = units.groupby("document_id")["segment_id"].apply(set).to_dict()
    return {n: set().union(*[by_document.get(d, set()) for d in docs]) if docs else set()
            for n, docs in worked.items()}


def agreement_report(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    frame: str,
    unit: str = "segment",
    coders: Sequence[str] | None = None,
    level: str = "nominal",
    n_boot: int = 1000,
    seed: int = 0,
):
    """Inter-coder agreement for one frame from the database, at the segment or respondent level.

    Compares every coder but the consensus unless ``coders`` names them. Each coder's units are
    those of the documents they worked on in the frame (see :func:`_coder_universes`), so a
    segment a coder left uncoded counts as 'not applied', not as missing. At the respondent level,
    a respondent carries a code for a coder if any of their segments does (Figure 1's unit).
    Returns a :class:`coding.reliability.AgreementReport`.
    """
    from coding import reliability

    if unit not in ("segment", "respondent"):
        raise CodeframeError(f"unit must be 'segment' or 'respondent', not {unit!r}")
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        frame_row, codes = _frame_codes(session, row, frame)
        df = queries.codings_frame(session, row.id, frame=frame)
        units = queries.units_frame(session, row.id)
        all_coders = sorted({c for c in df["coder"]} - {CONSENSUS})
        chosen = list(coders) if coders else all_coders
        universes = _coder_universes(session, row, frame_row, chosen, units)
    if len(chosen) < 2:
        raise CodeframeError(
            f"agreement needs at least two coders in frame {frame!r}; found {', '.join(chosen) or 'none'}"
        )
    long = df[df["coder"].isin(chosen)].rename(columns={"segment_id": "unit"})[["unit", "coder", "code"]]
    keys = [c.key for c in codes if c.active]
    if unit == "respondent":
        mapping = dict(zip(units["segment_id"], units["respondent"]))
        long, universes = reliability.presence_by_respondent(long, mapping, units_by_coder=universes)
    return reliability.report_from_codings(
        long, codes=keys, units_by_coder=universes, coders=chosen,
        exclusive_frame=keys if frame_row.mutually_exclusive else None, unit=unit, level=level,
        n_boot=n_boot, seed=seed,
    )


def _require_supervisor(session: Session, project: Project, actor: str) -> Coder:
    acting = queries.coder_by_name(session, project.id, actor)
    if not may_adjudicate(acting.role):
        raise PermissionDenied(f"{actor} is a {acting.role}: only supervisors and admins may do this")
    return acting


@_retry_locked
def assign_double_coding(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    coders: Sequence[str],
    actor: str,
    fraction: float | None = None,
    documents: Sequence[str] | None = None,
    seed: int = 0,
) -> list[str]:
    """Put a sample of documents under blind double coding by ``coders``; returns the document names.

    Either ``documents`` (chosen by name) or a random ``fraction`` of respondents (seeded), whose
    documents are all included. Until :func:`release_double_coding`, each coder sees only their own
    codings on these documents, whatever the project's blind mode.
    """
    import random

    if len(set(coders)) < 2:
        raise CodeframeError("double coding needs at least two coders")
    if (fraction is None) == (documents is None):
        raise CodeframeError("give either a fraction of respondents or a list of documents")
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        _require_supervisor(session, row, actor)
        targets = [queries.coder_by_name(session, row.id, c) for c in dict.fromkeys(coders)]
        docs = queries.documents(session, row.id)
        if documents is not None:
            by_name = {d.name: d for d in docs}
            missing = [n for n in documents if n not in by_name]
            if missing:
                raise NotFound(f"no document(s) named {', '.join(missing)}")
            chosen = [by_name[n] for n in documents]
        else:
            if not 0 < fraction <= 1:
                raise CodeframeError(f"fraction must be in (0, 1], not {fraction}")
            respondents = sorted({d.respondent for d in docs})
            k = max(1, round(fraction * len(respondents)))
            picked = set(random.Random(seed).sample(respondents, k))
            chosen = [d for d in docs if d.respondent in picked]
        for document in chosen:
            for coder in targets:
                exists = session.exec(select(Assignment).where(
                    Assignment.document_id == document.id, Assignment.coder_id == coder.id)).first()
                if exists is None:
                    session.add(Assignment(document_id=document.id, coder_id=coder.id))
        session.commit()
        return [d.name for d in chosen]


@_retry_locked
def release_double_coding(engine: Engine, project: str = DEFAULT_PROJECT, *, actor: str,
                          documents: Sequence[str] | None = None) -> int:
    """Release blind documents (all, or those named) so coders may see each other's codings."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        _require_supervisor(session, row, actor)
        stmt = select(Assignment).join(Document, Assignment.document_id == Document.id).where(
            Document.project_id == row.id)
        if documents is not None:
            stmt = stmt.where(Document.name.in_(list(documents)))
        released = 0
        for assignment in session.exec(stmt).all():
            if not assignment.released:
                assignment.released = True
                session.add(assignment)
                released += 1
        session.commit()
        return released


def list_assignments(engine: Engine, project: str = DEFAULT_PROJECT) -> "Any":
    import pandas as pd

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        rows = session.exec(
            select(Document.name, Coder.name, Assignment.released)
            .join(Document, Assignment.document_id == Document.id)
            .join(Coder, Assignment.coder_id == Coder.id)
            .where(Document.project_id == row.id)
            .order_by(Document.name, Coder.name)
        ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["document", "coder", "released"])


def disagreement_details(
    engine: Engine, project: str = DEFAULT_PROJECT, *, frame: str, coders: Sequence[str] | None = None,
    actor: str | None = None,
) -> list[dict]:
    """Every segment where coders differ in a frame, side by side: text, each coder's codes and memos,
    and the consensus so far. Supervisors only when ``actor`` is given."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        if actor is not None:
            _require_supervisor(session, row, actor)
        frame_row, _ = _frame_codes(session, row, frame)
        df = queries.codings_frame(session, row.id, frame=frame)
        units = queries.units_frame(session, row.id)
        chosen = list(coders) if coders else sorted(set(df["coder"]) - {CONSENSUS})
        universes = _coder_universes(session, row, frame_row, chosen, units)
    text = dict(zip(units["segment_id"], units["text"]))
    where = {s: (d, p) for s, d, p in zip(units["segment_id"], units["document"], units["position"])}
    decisions: dict[int, dict[str, dict[str, str | None]]] = defaultdict(lambda: defaultdict(dict))
    for r in df.itertuples(index=False):
        decisions[r.segment_id][r.coder][r.code] = r.memo
    out = []
    shared = set.intersection(*(universes[c] for c in chosen)) if chosen else set()
    for segment_id in sorted(shared, key=lambda s: where.get(s, ("", 0))):
        sets = {c: frozenset(decisions[segment_id].get(c, {})) for c in chosen}
        if len(set(sets.values())) <= 1:
            continue
        document, position = where[segment_id]
        out.append({
            "segment_id": int(segment_id), "document": document, "position": int(position),
            "text": text[segment_id],
            "coders": {c: dict(decisions[segment_id].get(c, {})) for c in chosen},
            "consensus": dict(decisions[segment_id].get(CONSENSUS, {})),
        })
    return out


@_retry_locked
def adjudicate(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    segment_id: int,
    frame: str,
    codes: Sequence[str],
    actor: str,
    reason: str,
) -> list[str]:
    """Set the consensus decision on a segment for a frame to exactly ``codes``, with a reason.

    Picking one coder's decision means passing that coder's codes; an empty list records that
    the segment carries no code of the frame. Every change is in the history with the reason.
    """
    if not reason or not reason.strip():
        raise CodeframeError("an adjudication needs a reason")
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        acting = _require_supervisor(session, row, actor)
        segment, _ = queries.segment_in_project(session, row.id, segment_id)
        frame_row, frame_codes = _frame_codes(session, row, frame)
        by_key = {c.key: c for c in frame_codes}
        unknown = [c for c in codes if c not in by_key]
        if unknown:
            raise NotFound(f"code(s) {', '.join(unknown)} are not in frame {frame!r}")
        if frame_row.mutually_exclusive and len(set(codes)) > 1:
            raise CodeframeError(f"frame {frame!r} is mutually exclusive: choose one code")
        consensus = session.exec(select(Coder).where(Coder.project_id == row.id, Coder.name == CONSENSUS)).first()
        if consensus is None:
            consensus = Coder(project_id=row.id, name=CONSENSUS, role="supervisor", is_consensus=True)
            session.add(consensus)
            session.flush()
        current = session.exec(
            select(Coding).where(Coding.segment_id == segment.id, Coding.coder_id == consensus.id,
                                 Coding.code_id.in_([c.id for c in frame_codes]))
        ).all()
        wanted = set(codes)
        key_of = {c.id: c.key for c in frame_codes}
        for coding in current:
            if key_of[coding.code_id] not in wanted:
                _log(session, row.id, coding, "remove", before=_snapshot(coding), after=None, actor_id=acting.id,
                     reason=reason, source="adjudication")
                session.delete(coding)
        have = {key_of[c.code_id] for c in current}
        for key in sorted(wanted - have):
            _upsert_coding(session, row, segment, by_key[key], consensus, acting, source="adjudication",
                           score=None, model_id=None, memo=None, reason=reason)
        session.commit()
        return sorted(wanted)


def coder_drift(engine: Engine, project: str = DEFAULT_PROJECT, *, frame: str, period: str = "W") -> "Any":
    """Each coder's agreement with the consensus over time, on the documents the consensus decided.

    A document belongs to the period (pandas frequency, default weekly) of the coder's first coding
    in it. Per coder and period, every unit of those documents and every code of the frame is one
    presence decision (applied or not) by the coder and by the consensus: percent agreement and
    Cohen's kappa are computed on those decisions, so 'both left it off' counts as agreement.
    """
    import numpy as np
    import pandas as pd

    from coding import agreement

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        _, frame_codes = _frame_codes(session, row, frame)
        df = queries.codings_frame(session, row.id, frame=frame)
        units = queries.units_frame(session, row.id)
    columns = ["coder", "period", "units", "percent_agreement", "cohen_kappa"]
    if df.empty or CONSENSUS not in set(df["coder"]):
        return pd.DataFrame(columns=columns)
    keys = [c.key for c in frame_codes]
    decided_docs = set(df.loc[df["coder"] == CONSENSUS, "document_id"])
    consensus = set(zip(df.loc[df["coder"] == CONSENSUS, "segment_id"], df.loc[df["coder"] == CONSENSUS, "code"]))
    units_by_doc = units.groupby("document_id")["segment_id"].apply(list).to_dict()
    out = []
    for coder, mine in df[df["coder"] != CONSENSUS].groupby("coder"):
        applied = set(zip(mine["segment_id"], mine["code"]))
        started = mine.groupby("document_id")["created"].min()
        docs = sorted(set(mine["document_id"]) & decided_docs)
        if not docs:
            continue
        periods = pd.to_datetime(started.loc[docs], utc=True).dt.tz_localize(None).dt.to_period(period)
        for label, doc_ids in periods.groupby(periods).groups.items():
            segments = [s for d in doc_ids for s in units_by_doc.get(d, [])]
            pairs = [(s, k) for s in segments for k in keys]
            if not pairs:
                continue
            matrix = np.array([[float(p in applied) for p in pairs], [float(p in consensus) for p in pairs]])
            out.append({
                "coder": coder, "period": str(label), "units": len(segments),
                "percent_agreement": agreement.percent_agreement(matrix),
                "cohen_kappa": agreement.cohen_kappa(matrix),
            })
    return pd.DataFrame(out, columns=columns)


# --------------------------------------------------------------------------- shares


def _respondents_and_codings(session: Session, project: Project, frame: str | None,
                             documents: Sequence[str] | None = None):
    """Every respondent in scope (with attributes) and respondent-level codings of a frame."""
    import pandas as pd

    docs = queries.documents(session, project.id)
    if documents is not None:
        docs = [d for d in docs if d.name in set(documents)]
    attributes: dict[str, dict] = {}
    for d in docs:
        attributes.setdefault(d.respondent, {}).update(d.attributes)
    respondents = pd.DataFrame([{"respondent": r, **a} for r, a in sorted(attributes.items())])
    if respondents.empty:
        respondents = pd.DataFrame(columns=["respondent"])
    df = queries.codings_frame(session, project.id, frame=frame, document_ids=[d.id for d in docs])
    codings = df[["respondent", "coder", "code", "document", "text", "segment_id"]].copy()
    return respondents, codings


def default_share_coder(codings, frame: str) -> str:
    """Consensus when it has coded the frame, else the only coder who has; otherwise ask."""
    coders = set(codings["coder"])
    if CONSENSUS in coders or not coders:  # nobody coded the frame yet: every share is 0/n
        return CONSENSUS
    if len(coders) == 1:
        return next(iter(coders))
    raise CodeframeError(
        f"frame {frame!r} has no consensus coding yet; choose a coder with --coder ({', '.join(sorted(coders))})"
    )


@dataclass
class ShareReport:
    frame: str
    coder: str
    n: int
    table: "Any"  # coding.shares.share_table
    crosstab: "Any | None"
    matrix: "Any"
    quotes: "Any"
    notes: list[str] = field(default_factory=list)


def share_report(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    frame: str,
    by: str | None = None,
    coder: str | None = None,
    documents: Sequence[str] | None = None,
    with_agreement: bool = True,
) -> ShareReport:
    """Figure 1 from the database: share of respondents mentioning each code of a frame.

    The denominator is every respondent in scope (all documents, or ``documents``), including
    respondents nobody coded. Parent codes count respondents with any descendant. Each row
    carries a Wilson interval, the spread across the individual coders, and the code's
    respondent-level agreement (Krippendorff's alpha) when two or more coders coded the frame.
    """
    from coding import shares

    codebook = project_codebook(engine, project)
    try:
        frame_obj = codebook.frame(frame)
    except Exception:
        raise NotFound(f"no code frame {frame!r} in this project") from None
    keys = [c.id for c in frame_obj.codes]
    labels = {c.id: c.label for c in frame_obj.codes}
    hierarchy = {k: codebook.descendants(k) for k in keys}
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        respondents, codings = _respondents_and_codings(session, row, frame, documents)
    chosen = coder or default_share_coder(codings, frame)
    notes = []
    if codings.empty:
        notes.append(f"nobody has coded frame {frame!r} yet: every share is 0 of {len(respondents)}")
    if chosen not in set(codings["coder"]) and coder is not None:
        known = ", ".join(sorted(set(codings["coder"]))) or "none"
        raise CodeframeError(f"coder {coder!r} has no codings in frame {frame!r} (coders with codings: {known})")
    agreement_by_code = None
    individual = sorted(set(codings["coder"]) - {CONSENSUS})
    if with_agreement and len(individual) >= 2:
        report = agreement_report(engine, project, frame=frame, unit="respondent", coders=individual, n_boot=0)
        agreement_by_code = dict(zip(report.table["code"], report.table["alpha"]))
    spread = codings[codings["coder"].isin(individual)] if len(individual) >= 2 else None
    table = shares.share_table(
        respondents, codings[codings["coder"] == chosen][["respondent", "coder", "code"]], codes=keys,
        hierarchy=hierarchy, labels=labels, agreement=agreement_by_code,
    )
    if spread is not None:
        per_coder = shares.share_table(respondents, spread[["respondent", "coder", "code"]], codes=keys,
                                       hierarchy=hierarchy, labels=labels)
        table["coder_min"] = per_coder["coder_min"].to_numpy()
        table["coder_max"] = per_coder["coder_max"].to_numpy()
    cross = None
    if by is not None:
        if by not in respondents.columns:
            known = ", ".join(c for c in respondents.columns if c != "respondent") or "none"
            raise CodeframeError(f"no respondent attribute {by!r} (attributes: {known})")
        cross = shares.crosstab(respondents, codings[codings["coder"] == chosen][["respondent", "coder", "code"]],
                                by=by, codes=keys, hierarchy=hierarchy, labels=labels)
    matrix = shares.case_code_matrix(respondents, codings[codings["coder"] == chosen][["respondent", "coder", "code"]],
                                     codes=keys, hierarchy=hierarchy)
    quotes = codings.merge(respondents, on="respondent", how="left")
    quotes = quotes.assign(label=quotes["code"].map(labels))
    return ShareReport(frame=frame, coder=chosen, n=len(respondents), table=table, crosstab=cross,
                       matrix=matrix, quotes=quotes, notes=notes)


# --------------------------------------------------------------------------- exchange (REFI-QDA, CSV)


def export_bundle(engine: Engine, project: str = DEFAULT_PROJECT):
    """The project as a :class:`coding.bundle.Bundle`: codebook (inactive codes too, so no coding is
    orphaned), documents with attributes, coders, and every coding as a character span."""
    from coding.bundle import Bundle, BundleCoding, BundleDocument

    codebook = project_codebook(engine, project, include_inactive=True)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        documents = [
            BundleDocument(name=d.name, text=d.text, respondent=d.respondent, attributes=dict(d.attributes),
                           language=d.language, format=d.format)
            for d in queries.documents(session, row.id)
        ]
        coders = [c.name for c in session.exec(select(Coder).where(Coder.project_id == row.id).order_by(Coder.name))]
        df = queries.codings_frame(session, row.id)
    codings = [
        BundleCoding(document=r.document, start=int(r.start), end=int(r.end), code=r.code, coder=r.coder,
                     source=r.source, memo=r.memo, score=None if r.score is None or r.score != r.score else float(r.score),
                     created=r.created)
        for r in df.itertuples(index=False)
    ]
    return Bundle(codebook=codebook, documents=documents, codings=codings, coders=coders, name=project)


def export_codings_frame(engine: Engine, project: str = DEFAULT_PROJECT, *, coder: str | None = None,
                         frame: str | None = None) -> "Any":
    """Codings in the long format that ``agreement``, ``shares`` and ``import codings`` read.

    Columns: document, respondent, unit (``document#segment``), segment (1-based unit number, as
    ``import codings`` expects), start, end, coder, code, frame, source, memo, text.
    """
    import pandas as pd

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        if coder is not None:
            queries.coder_by_name(session, row.id, coder)
        df = queries.codings_frame(session, row.id, frame=frame, coders=[coder] if coder else None)
        units = queries.units_frame(session, row.id)
    number = units.groupby("document_id").cumcount() + 1
    unit_number = dict(zip(units["segment_id"], number))
    out = pd.DataFrame({
        "document": df["document"], "respondent": df["respondent"],
        "unit": [f"{d}#{unit_number.get(s, 0)}" for d, s in zip(df["document"], df["segment_id"])],
        "segment": [unit_number.get(s) for s in df["segment_id"]],
        "start": df["start"], "end": df["end"], "coder": df["coder"], "code": df["code"], "frame": df["frame"],
        "source": df["source"], "memo": df["memo"], "text": df["text"],
    })
    return out.reset_index(drop=True)


def _offset_map(original: str, stored: str) -> list[int]:
    """For each offset of ``original``, the offset in ``stored`` (which dropped \\r, a BOM, ...)."""
    mapping, j = [], 0
    for ch in original:
        mapping.append(j)
        if j < len(stored) and (stored[j] == ch or (ch == "\r" and stored[j] == "\n")):
            j += 1
    mapping.append(j)
    return mapping


@_retry_locked
def import_bundle(engine: Engine, project: str, bundle, report=None) -> "Any":
    """Import a whole project (e.g. from REFI-QDA) into an empty project, in one transaction.

    The bundle's codebook replaces the project's; documents are segmented with the project's unit;
    coded spans are mapped to the segments they overlap, and the report says how many codings did
    not align with segment boundaries.
    """
    from coding.alignment import overlapping, span_is_aligned
    from coding.segmentation import segment_transcript
    from coding.transcripts import read_transcript

    report = report if report is not None else ImportReport()
    notes = report.warnings if hasattr(report, "warnings") else report.notes
    if bundle.codebook is None:
        raise CodeframeError("the file holds no codebook")
    if not project_exists(engine, project):
        create_project(engine, project)
    info = get_project(engine, project)
    parsed = []
    for document in bundle.documents:
        transcript = read_transcript(f"{document.name}.txt", name=document.name, data=document.text.encode("utf-8"))
        language = document.language if document.language in SUPPORTED_LANGUAGES else detect_language(transcript.text)
        spans = segment_transcript(transcript, language=language, unit=info.segmentation_unit)
        parsed.append((document, transcript, language, spans, _offset_map(document.text, transcript.text)))
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        if queries.documents(session, row.id):
            raise CodeframeError(f"project {project!r} already has documents; import a project into an empty one")
        _apply_codebook(session, row, bundle.codebook, source_text=None, renames={})
        coders = queries.coders_by_name(session, row.id)
        for name in sorted(set(bundle.coders) | {c.coder for c in bundle.codings}):
            if name not in coders:
                coders[name] = Coder(project_id=row.id, name=name, is_consensus=name == CONSENSUS,
                                     role="supervisor" if name == CONSENSUS else "coder")
                session.add(coders[name])
        session.flush()
        codes = queries.codes_by_key(session, row.id)
        segments_of: dict[str, list[Segment]] = {}
        offsets: dict[str, list[int]] = {}
        for document, transcript, language, spans, offset_map in parsed:
            doc = Document(project_id=row.id, name=document.name, respondent=document.respondent or document.name,
                           attributes=dict(document.attributes), text=transcript.text, format=document.format,
                           encoding="utf-8", language=language, sha256=transcript.sha256)
            session.add(doc)
            session.flush()
            _insert_segments(session, doc.id, spans)
            segments_of[document.name] = queries.segments_of(session, doc.id)
            offsets[document.name] = offset_map
        unaligned = unmatched = 0
        acting = {name: coder for name, coder in coders.items()}
        for coding in bundle.codings:
            segs = segments_of.get(coding.document)
            if segs is None or coding.code not in codes:
                unmatched += 1
                continue
            omap = offsets[coding.document]
            start = omap[min(max(coding.start, 0), len(omap) - 1)]
            end = omap[min(max(coding.end, 0), len(omap) - 1)]
            if end <= start:
                unmatched += 1
                continue
            units = [s for s in segs if s.is_unit]
            hits = [units[i] for i in overlapping([(s.start, s.end) for s in units], start, end)] if units else []
            pool = units
            if not hits:  # e.g. a coded interviewer question: keep it on the segments it covers
                pool = segs
                hits = [segs[i] for i in overlapping([(s.start, s.end) for s in segs], start, end)]
            if not hits:
                unmatched += 1
                continue
            if not span_is_aligned([(s.start, s.end) for s in pool], start, end):
                unaligned += 1
            coder = coders[coding.coder]
            for segment in hits:
                _upsert_coding(session, row, segment, codes[coding.code], coder, acting[coding.coder],
                               source=coding.source if coding.source in SOURCES else "import", score=coding.score,
                               model_id=None, memo=coding.memo, reason="imported project")
        if unaligned:
            notes.append(f"{unaligned} coding(s) did not align with segment boundaries and were mapped to the "
                         "segments they overlap")
        if unmatched:
            notes.append(f"{unmatched} coding(s) matched no document, code or text and were skipped")
        session.commit()
    return report


@_retry_locked
def import_codebook_object(engine: Engine, project: str, codebook, *, actor: str | None = None) -> CodebookReport:
    """Apply a codebook built in memory (e.g. from a REFI-QDA .qdc), keeping every coding.

    In team mode only an admin ``actor`` may do this.
    """
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        _require_team_admin(session, row, actor, "change the codebook")
        report = _apply_codebook(session, row, codebook, source_text=None, renames={})
        session.commit()
        return report


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


# ---- app support (added for the Streamlit pages)
# Small read helpers the pages need so that they hold no logic of their own.


def find_codes(codebook, query: str = "", *, frames: Iterable[str] | None = None) -> list:
    """Codes of ``codebook`` in the given frames whose id, label or definition hold every word of ``query``.

    Matching is case-insensitive; an empty query keeps every code of the frames (all
    frames when ``frames`` is None). Codebook order is kept.

    >>> from coding.codebook import Code, Codebook, Frame
    >>> cb = Codebook(title="t", frames=(Frame("f", "F", "", False, (
    ...     Code("merit", "Merit-based recruitment", "f", None, "Hiring by competence."),
    ...     Code("pay", "Reward", "f", None, "Salaries and bonuses."))),))
    >>> [c.id for c in find_codes(cb, "hiring")], [c.id for c in find_codes(cb, "")]
    (['merit'], ['merit', 'pay'])
    """
    wanted = None if frames is None else set(frames)
    words = query.casefold().split()
    found = []
    for frame in codebook.frames:
        if wanted is not None and frame.id not in wanted:
            continue
        for code in frame.codes:
            haystack = f"{code.id} {code.label} {code.definition}".casefold()
            if all(word in haystack for word in words):
                found.append(code)
    return found


def quotes_by_code(engine: Engine, project: str = DEFAULT_PROJECT, *, limit: int = 3) -> dict[str, list[dict]]:
    """Up to ``limit`` coded passages per code (consensus first), read in one query for the codebook page."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        df = queries.codings_frame(session, row.id)
    if df.empty:
        return {}
    df = df.assign(_rank=(df["coder"] != CONSENSUS).astype(int)).sort_values(["code", "_rank", "document", "position"])
    df = df.drop_duplicates(["code", "segment_id"]).groupby("code", sort=False).head(limit)
    return {
        code: group[["document", "respondent", "coder", "text"]].to_dict("records")
        for code, group in df.groupby("code", sort=True)
    }


def preview_attributes(attributes) -> "Any":
    """An attributes CSV (path or ``(name, bytes)``) as a table for the import preview; raises AttributesError."""
    import pandas as pd
    from coding.attributes import read_attributes_csv

    name, path, data = _source(attributes)
    parsed = read_attributes_csv(path if path is not None else name, data=data)
    return pd.DataFrame(
        [{parsed.id_column: key, **values} for key, values in parsed.rows.items()],
        columns=[parsed.id_column, *parsed.columns],
    )


# ---- team mode: users, sign-in, undo, backup
#
# Coder rows are the users. Roles: a coder edits and (in blind mode) sees only their own
# codings; a supervisor sees everyone's and adjudicates (writes to the consensus coder);
# an admin also manages users, the codebook and team mode. Until a project has an admin,
# it runs in local single-user mode and nothing here asks who you are.

MIN_PASSWORD_LENGTH = 8
UNDOABLE_ACTIONS = ("add", "remove", "memo")
_UNDO_REASON = "undo of event #{}"
_DUMMY_HASH: list[str] = []  # verified against for unknown users, so a miss costs as long as a hit


def _password_hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def _hash_password(password: str) -> str:
    """An argon2id hash of ``password``; the plain text is never stored."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise CodeframeError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters",
                             [Problem("password too short", field="password")])
    return _password_hasher().hash(password)


def _has_admin(session: Session, project: Project) -> bool:
    return session.exec(
        select(Coder.id).where(Coder.project_id == project.id, Coder.role == "admin")
    ).first() is not None


def _require_user_admin(session: Session, project: Project, actor: str | None, what: str) -> Coder | None:
    """Once the project has an admin, only an admin may manage users; before that, anyone may."""
    acting = queries.coder_by_name(session, project.id, actor) if actor else None
    if not _has_admin(session, project):
        return acting
    if acting is None:
        raise PermissionDenied(f"only an admin may {what}; say which admin you are")
    if not may_admin(acting.role):
        raise PermissionDenied(f"{acting.name} is a {acting.role}: only an admin may {what}")
    return acting


def _require_team_admin(session: Session, project: Project, actor: str | None, what: str) -> Coder | None:
    """In team mode, ``actor`` must be an admin to ``what``; outside it anyone (or no one named) may."""
    if actor is None:
        if project.team_mode:
            raise PermissionDenied(f"in team mode only an admin may {what}; say which admin you are")
        return None
    acting = queries.coder_by_name(session, project.id, actor)
    if project.team_mode and not may_admin(acting.role):
        raise PermissionDenied(f"{acting.name} is a {acting.role}: in team mode only an admin may {what}")
    return acting


def _require_team_admin_by_name(engine: Engine, project: str, actor: str, what: str) -> None:
    """:func:`_require_team_admin` in a session of its own, before a unit of work that opens several."""
    with Session(engine) as session:
        _require_team_admin(session, queries.project_by_name(session, project), actor, what)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise CodeframeError(f"role must be one of {', '.join(ROLES)}, not {role!r}", [Problem(role, field="role")])


@_retry_locked
def create_user(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    name: str = "",
    *,
    role: str,
    password: str | None = None,
    actor: str | None = None,
) -> str:
    """Create a user (a coder row) with a role and an optional password; returns the name.

    Once the project has an admin, only an admin ``actor`` may do this; the first admin
    needs no actor (that is how a project gets one, e.g. from the command line).
    """
    name = (name or "").strip()
    if not name:
        raise CodeframeError("a user needs a name", [Problem("blank name", field="name")])
    if name == CONSENSUS:
        raise CodeframeError(f"{CONSENSUS!r} is the adjudicated coder, not a person; pick another name")
    _check_role(role)
    password_hash = _hash_password(password) if password is not None else None
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        _require_user_admin(session, row, actor, "add users")
        if session.exec(select(Coder.id).where(Coder.project_id == row.id, Coder.name == name)).first():
            raise CodeframeError(f"a user or coder named {name!r} already exists; change it with set_role / set_password")
        session.add(Coder(project_id=row.id, name=name, role=role, password_hash=password_hash))
        session.commit()
        return name


@_retry_locked
def set_role(engine: Engine, project: str = DEFAULT_PROJECT, name: str = "", role: str = "coder", *,
             actor: str | None = None) -> None:
    """Change a user's role (admin only, once the project has an admin).

    The last admin of a project in team mode cannot be demoted: nobody could manage it.
    """
    _check_role(role)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        _require_user_admin(session, row, actor, "change roles")
        user = queries.coder_by_name(session, row.id, name)
        if user.is_consensus:
            raise CodeframeError(f"{CONSENSUS!r} is the adjudicated coder, not a person; it has no role to change")
        if may_admin(user.role) and not may_admin(role) and row.team_mode:
            admins = session.exec(
                select(func.count(Coder.id)).where(Coder.project_id == row.id, Coder.role == "admin")
            ).one()
            if admins <= 1:
                raise PermissionDenied(f"{name} is the last admin of a project in team mode; make another admin first")
        user.role = role
        session.add(user)
        session.commit()


@_retry_locked
def set_password(engine: Engine, project: str = DEFAULT_PROJECT, name: str = "", password: str = "", *,
                 actor: str | None = None) -> None:
    """Set a user's password: the user themself, or an admin (anyone before there is an admin)."""
    password_hash = _hash_password(password)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        user = queries.coder_by_name(session, row.id, name)
        if user.is_consensus:
            raise CodeframeError(f"{CONSENSUS!r} is the adjudicated coder; it cannot sign in")
        if actor != name:
            _require_user_admin(session, row, actor, "set other users' passwords")
        user.password_hash = password_hash
        session.add(user)
        session.commit()


def list_users(engine: Engine, project: str = DEFAULT_PROJECT) -> list[dict]:
    """Users with role and whether they can sign in (never the hash)."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        users = session.exec(select(Coder).where(Coder.project_id == row.id).order_by(Coder.name)).all()
        return [{"name": u.name, "role": u.role, "is_consensus": u.is_consensus,
                 "can_sign_in": u.password_hash is not None} for u in users]


def authenticate(engine: Engine, project: str, name: str, password: str) -> str:
    """Check a sign-in; returns the user name or raises PermissionDenied with a generic message.

    The message never says whether the name or the password was wrong.
    """
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _password_hasher()
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        user = session.exec(select(Coder).where(Coder.project_id == row.id, Coder.name == (name or "").strip())).first()
        stored = user.password_hash if user is not None and not user.is_consensus else None
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(hasher.hash("codeframe-no-such-user"))
        ok = False
        if isinstance(password, str) and password:
            try:
                ok = hasher.verify(stored or _DUMMY_HASH[0], password) and stored is not None
            except (VerificationError, InvalidHashError):
                ok = False
        if not ok:
            raise PermissionDenied("sign-in failed: unknown user or wrong password")
        if hasher.check_needs_rehash(stored):
            user.password_hash = hasher.hash(password)
            session.add(user)
            session.commit()
        return user.name


@_retry_locked
def set_team_mode(engine: Engine, project: str = DEFAULT_PROJECT, on: bool = True, *, actor: str) -> ProjectInfo:
    """Switch team mode (sign-in required in the app, admin-only codebook changes); admins only.

    Turning it on needs an admin who can sign in, or nobody could manage the project.
    """
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        acting = queries.coder_by_name(session, row.id, actor)
        if not may_admin(acting.role):
            raise PermissionDenied(f"{acting.name} is a {acting.role}: only an admin may switch team mode")
        if on and acting.password_hash is None:
            raise CodeframeError(f"set a password for {acting.name} first: in team mode everyone signs in")
        row.team_mode = bool(on)
        session.add(row)
        session.commit()
        return _info(row)


# -- undo and the audit trail


def _undone_event_ids(events: Iterable[CodingEvent]) -> set[int]:
    import re

    pattern = re.compile(r"^undo of event #(\d+)")
    return {int(m.group(1)) for e in events if e.action == "undo" and (m := pattern.match(e.reason or ""))}


def _revert_event(session: Session, project: Project, event: CodingEvent, acting: Coder) -> None:
    """Apply the inverse of one add/remove/memo event and log it as an 'undo' event."""
    current = session.exec(
        select(Coding).where(
            Coding.segment_id == event.segment_id, Coding.code_id == event.code_id, Coding.coder_id == event.coder_id
        ).with_for_update()
    ).first()
    before = _snapshot(current) if current is not None else None
    if event.action == "add":
        if current is not None:
            session.delete(current)
            current = None
    elif event.action == "remove":
        old = dict(event.before or {})
        if current is None:
            current = Coding(segment_id=event.segment_id, code_id=event.code_id, coder_id=event.coder_id,
                             source=old.get("source") or "hand")
        current.source = old.get("source") or current.source
        current.score, current.model_id, current.memo = old.get("score"), old.get("model_id"), old.get("memo")
        current.updated = utcnow()
        session.add(current)
    elif current is not None:  # memo: put the old memo back (a coding removed since stays removed)
        current.memo, current.updated = (event.before or {}).get("memo"), utcnow()
        session.add(current)
    session.flush()
    after = _snapshot(current) if current is not None else None
    session.add(CodingEvent(
        project_id=project.id, segment_id=event.segment_id, code_id=event.code_id, coder_id=event.coder_id,
        actor_id=acting.id, action="undo", source=(after or before or {}).get("source") or event.source,
        before=before, after=after, reason=_UNDO_REASON.format(event.id),
    ))


@_retry_locked
def undo(engine: Engine, project: str = DEFAULT_PROJECT, *, coder: str, actor: str | None = None,
         steps: int = 1) -> int:
    """Revert ``coder``'s last ``steps`` coding changes; returns how many were reverted.

    Each revert applies the inverse change and appends an 'undo' event: history is never
    deleted. Changes already undone are skipped, so repeated calls walk further back. An
    add that replaced a code in a mutually exclusive frame is undone together with that
    replacement. ``actor`` (default: the coder) needs the usual permission on the codings.
    """
    if not isinstance(steps, int) or steps < 1:
        raise CodeframeError(f"steps must be a whole number of at least 1, not {steps!r}", [Problem(str(steps), field="steps")])
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        acting = queries.coder_by_name(session, row.id, actor) if actor else target
        events = session.exec(
            select(CodingEvent)
            .where(CodingEvent.project_id == row.id, CodingEvent.coder_id == target.id)
            .order_by(CodingEvent.id)
        ).all()
        undone = _undone_event_ids(events)
        stack = [e for e in events if e.action in UNDOABLE_ACTIONS and e.id not in undone]
        code_keys = {c.id: c.key for c in session.exec(select(Code).where(Code.project_id == row.id))}
        reverted = 0
        while stack and reverted < steps:
            group = [stack.pop()]
            if group[0].action == "add":
                marker = f"replaced by {code_keys.get(group[0].code_id)} (mutually exclusive frame)"
                while (stack and stack[-1].action == "remove" and stack[-1].segment_id == group[0].segment_id
                       and stack[-1].reason == marker):
                    group.append(stack.pop())
            for event in group:
                _check_may_edit(acting, target, event.source)
                _revert_event(session, row, event, acting)
            reverted += 1
        session.commit()
        return reverted


def export_history(engine: Engine, project: str = DEFAULT_PROJECT, path: str | Path = "history.csv", *,
                   fmt: str = "csv", coder: str | None = None) -> int:
    """Write the audit trail (every coding change, oldest first) as CSV or JSON Lines; returns the row count."""
    import json

    if fmt not in ("csv", "jsonl"):
        raise CodeframeError(f"history format must be 'csv' or 'jsonl', not {fmt!r}", [Problem(fmt, field="format")])
    df = history(engine, project, coder=coder)
    records = []
    for rec in df.to_dict("records"):
        rec["at"] = rec["at"].isoformat() if hasattr(rec["at"], "isoformat") else rec["at"]
        rec = {k: (None if _is_missing(v) else v) for k, v in rec.items()}
        rec["id"] = int(rec["id"])
        rec["segment_id"] = int(rec["segment_id"])
        records.append(rec)
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8", newline="") as out:
        if fmt == "jsonl":
            for rec in records:
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        else:
            writer = csv.DictWriter(out, fieldnames=list(df.columns))
            writer.writeheader()
            for rec in records:
                writer.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v
                                 for k, v in rec.items()})
    os.replace(partial, path)
    return len(records)


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


# -- backup and restore


def _backup_tables():
    from sqlmodel import SQLModel

    return list(SQLModel.metadata.sorted_tables)  # parents before children, so foreign keys hold on restore


def table_row_counts(engine: Engine) -> dict[str, int]:
    """Rows per Codeframe table: the emptiness check of :func:`restore`, and a quick fingerprint."""
    with engine.connect() as conn:
        return {t.name: conn.execute(func.count().select().select_from(t)).scalar_one() for t in _backup_tables()}


def backup(engine: Engine, path: str | Path) -> Path:
    """Write a consistent backup of the whole database to ``path``.

    SQLite: a single-file copy made with SQLite's online backup API (safe while others
    write). PostgreSQL: a plain-SQL ``pg_dump`` of the engine's schema. Either restores
    with :func:`restore` into an empty database.
    """
    from coding.database.engine import is_sqlite

    path = Path(path)
    if path.is_dir():
        raise CodeframeError(f"{path} is a folder; give a file name for the backup")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if is_sqlite(engine):
            _backup_sqlite(engine, partial)
        else:
            _backup_postgres(engine, partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def _backup_sqlite(engine: Engine, target: Path) -> None:
    import sqlite3

    raw = engine.raw_connection()
    try:
        copy = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            copy.close()
    finally:
        raw.close()


def _backup_postgres(engine: Engine, target: Path) -> None:
    import shutil
    import subprocess

    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise CodeframeError("pg_dump is not installed; install the PostgreSQL client tools to back up a server database")
    with engine.connect() as conn:
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    for key, var in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        if key in url.query:
            env[var] = str(url.query[key])
    command = [pg_dump, "--format=plain", "--no-owner", "--no-privileges", "--encoding=UTF8",
               "--schema=" + '"' + schema.replace('"', '""') + '"', f"--file={target}"]
    if url.host:
        command.append(f"--host={url.host}")
    if url.port:
        command.append(f"--port={url.port}")
    if url.username:
        command.append(f"--username={url.username}")
    command.append(f"--dbname={url.database}")
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise CodeframeError(f"pg_dump failed: {result.stderr.strip() or f'exit status {result.returncode}'}")


@_retry_locked
def restore(engine: Engine, path: str | Path) -> dict[str, int]:
    """Load a backup made by :func:`backup` into an EMPTY database; returns rows restored per table.

    A SQLite backup restores into SQLite or PostgreSQL (older backups are migrated first);
    a PostgreSQL dump restores into PostgreSQL, into any schema. A database that already
    holds data is refused, and a failed restore leaves it empty.
    """
    from coding.database.engine import is_sqlite

    path = Path(path)
    if not path.is_file():
        raise NotFound(f"no backup file at {path}")
    with path.open("rb") as handle:
        head = handle.read(4096)
    filled = {t: n for t, n in table_row_counts(engine).items() if n}
    if filled:
        raise CodeframeError(
            "restore needs an empty database, and this one has data; nothing was restored",
            [Problem(f"{n} row(s) in table {t}") for t, n in filled.items()],
        )
    if head.startswith(b"SQLite format 3\x00"):
        _restore_from_sqlite(engine, path)
    elif b"PostgreSQL database dump" in head:
        if is_sqlite(engine):
            raise CodeframeError(f"{path.name} is a PostgreSQL dump; restore it into a PostgreSQL database",
                                 [Problem("PostgreSQL dump", file=path.name)])
        _restore_from_pg_dump(engine, path)
    else:
        raise CodeframeError(
            f"{path.name} is not a Codeframe backup (neither a SQLite database nor a pg_dump file); nothing was restored",
            [Problem("unrecognised backup format", file=path.name, line=1)],
        )
    return table_row_counts(engine)


def _restore_from_sqlite(engine: Engine, path: Path) -> None:
    import shutil
    import tempfile

    from sqlalchemy.exc import DatabaseError

    from coding.database.engine import is_sqlite, make_engine

    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "backup.sqlite"
        shutil.copy(path, copy)
        try:
            source = make_engine(f"sqlite:///{copy}")  # brings an older backup up to the current schema
        except DatabaseError as exc:
            raise CodeframeError(f"{path.name} is not a readable SQLite backup: {exc.orig}",
                                 [Problem("damaged SQLite file", file=path.name)]) from None
        try:
            with source.connect() as src, engine.begin() as dst:
                for table in _backup_tables():
                    rows = [dict(r._mapping) for r in src.execute(table.select().order_by(*table.primary_key.columns))]
                    for start in range(0, len(rows), 1000):
                        dst.execute(table.insert(), rows[start:start + 1000])
                if not is_sqlite(engine):
                    _reset_sequences(dst)
        finally:
            source.dispose()


def _reset_sequences(conn) -> None:
    """After inserting explicit ids on PostgreSQL, move each id sequence past the largest id."""
    from sqlalchemy import text

    for table in _backup_tables():
        if "id" not in table.c:
            continue
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence(:table, 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) "
            f'FROM "{table.name}"'
        ), {"table": f'"{table.name}"'})


def _read_pg_dump(path: Path) -> dict[str, tuple[bytes, list[bytes]]]:
    """The COPY blocks of a plain pg_dump: table -> (column list, data lines)."""
    import re

    header = re.compile(rb"^COPY (?:(?:\"(?:[^\"]|\"\")+\"|[^\s.(]+)\.)?(\"(?:[^\"]|\"\")+\"|[^\s.(]+) \((.*)\) FROM stdin;$")
    blocks: dict[str, tuple[bytes, list[bytes]]] = {}
    with path.open("rb") as handle:
        current = None
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip(b"\r\n")
            if current is not None:
                if line == b"\\.":
                    current = None
                else:
                    current[1].append(raw if raw.endswith(b"\n") else raw + b"\n")
                continue
            match = header.match(line)
            if match:
                name = match.group(1).decode("utf-8").strip('"').replace('""', '"')
                current = (match.group(2), [])
                blocks[name] = current
        if current is not None:
            raise CodeframeError(f"{path.name} is truncated: a COPY block never ends; nothing was restored",
                                 [Problem("truncated dump", file=path.name, line=number)])
    return blocks


def _restore_from_pg_dump(engine: Engine, path: Path) -> None:
    blocks = _read_pg_dump(path)
    known = {t.name for t in _backup_tables()}
    unknown = sorted(set(blocks) - known - {"alembic_version"})
    if unknown or "project" not in blocks:
        raise CodeframeError(
            f"{path.name} is not a Codeframe database dump; nothing was restored",
            [Problem(f"unexpected table {t}", file=path.name) for t in unknown]
            or [Problem("no project table in the dump", file=path.name)],
        )
    dumped_revision = b"".join(blocks.get("alembic_version", (b"", []))[1]).decode("utf-8").strip()
    with engine.connect() as conn:
        current_revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    if dumped_revision and dumped_revision != current_revision:
        raise CodeframeError(
            f"{path.name} holds schema revision {dumped_revision}, this Codeframe expects {current_revision}; "
            "restore it with the Codeframe version that made it, then upgrade",
            [Problem("schema revision differs", file=path.name)],
        )
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        with connection.cursor() as cursor:
            for table in _backup_tables():
                if table.name not in blocks:
                    continue
                columns, lines = blocks[table.name]
                with cursor.copy(f'COPY "{table.name}" ({columns.decode("utf-8")}) FROM STDIN') as copy:
                    for start in range(0, len(lines), 2000):
                        copy.write(b"".join(lines[start:start + 2000]))
            for table in _backup_tables():
                if "id" in table.c:
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) "
                        f'FROM "{table.name}"', (f'"{table.name}"',),
                    )
        raw.commit()
    except Exception as exc:
        raw.rollback()
        if isinstance(exc, CodeframeError):
            raise
        raise CodeframeError(f"{path.name} could not be restored ({type(exc).__name__}: {exc}); nothing was restored",
                             [Problem(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, file=path.name)]) from None
    finally:
        raw.close()


# ---- suggestions (embedding-based)
#
# The facade over coding.embeddings (model + cache), coding.suggestions (scoring) and
# coding.evaluation (metrics). Database reads happen in one short session per call;
# embedding and fitting run outside it. A fitted model is kept per process for each
# (database, project, frame, coder, model) and refitted when the data version changes
# (codings, history, feedback, coverage, units or the frame's codes), so suggestions
# follow the coder after every accept or reject.

import copy as _copy  # noqa: E402
import hashlib as _hashlib  # noqa: E402
import json as _json  # noqa: E402
import threading as _threading  # noqa: E402

from sqlalchemy import case as _case  # noqa: E402

from coding.database.tables import SuggestionFeedback  # noqa: E402

SUGGESTION_DECISIONS = ("accept", "reject")
_SUGGESTION_LOCK = _threading.Lock()
_UNIT_VECTORS: dict[tuple, tuple] = {}  # (db, project id, model id) -> (units version, units, matrix)
_FITTED: dict[tuple, tuple] = {}  # (db, project id, frame, coder, model id) -> (data version, _Suggester)


@dataclass
class SuggestionNeighbour:
    """An already-coded passage close to the suggested segment (evidence)."""

    segment_id: int
    document: str
    position: int
    text: str
    similarity: float


@dataclass
class SuggestionEvidence:
    """Why a code was suggested: the part of its definition matched, and nearby coded passages."""

    matched_kind: str  # label | definition | include | example
    matched_text: str
    matched_similarity: float
    neighbours: list[SuggestionNeighbour] = field(default_factory=list)
    exclusion_text: str | None = None  # an exclusion criterion the segment is even closer to


@dataclass
class SuggestionView:
    """One suggested code for one segment: accept it with ``score`` and ``model_id`` as given."""

    segment_id: int
    document_id: int
    document: str
    respondent: str
    position: int
    text: str
    frame: str
    code: str
    label: str
    score: float
    threshold: float
    model_id: str
    evidence: SuggestionEvidence

    def row(self) -> dict:
        """A flat record for tables and CSV."""
        nearest = "; ".join(f"{n.document}#{n.position} ({n.similarity:.2f}): {n.text}" for n in self.evidence.neighbours)
        return {
            "segment_id": self.segment_id, "document": self.document, "position": self.position,
            "frame": self.frame, "code": self.code, "score": self.score, "threshold": self.threshold,
            "text": self.text, "matched": f"{self.evidence.matched_kind}: {self.evidence.matched_text}",
            "matched_similarity": self.evidence.matched_similarity, "nearest_coded": nearest,
            "model_id": self.model_id,
        }


@dataclass
class UncertainSegment:
    """A segment the model is unsure about (active-learning queue), with its best guess."""

    segment_id: int
    document_id: int
    document: str
    position: int
    text: str
    uncertainty: float
    best_code: str
    best_score: float
    threshold: float


@dataclass
class SuggestionEvaluation:
    """How well suggestions reproduce a gold coder in one frame (see :func:`evaluate_suggestions`)."""

    frame: str
    gold: str
    model_id: str
    exclusive: bool
    units: int
    respondents: int
    gold_codings: int
    zero_shot: Any  # DataFrame, coding.evaluation.METRIC_COLUMNS
    few_shot: Any  # DataFrame, out-of-fold predictions of respondent-grouped cross-validation
    ranking: Any  # DataFrame: setting, k, accuracy, segments, note
    folds: Any  # DataFrame: fold, train/test units and respondents
    fold_respondents: list[tuple[frozenset, frozenset]]  # (train, test) respondents per fold
    seconds: dict[str, float] = field(default_factory=dict)

    def table(self) -> Any:
        """Zero-shot and few-shot metrics in one frame, with a ``setting`` column first."""
        import pandas as pd

        return pd.concat(
            [self.zero_shot.assign(setting="zero-shot"), self.few_shot.assign(setting="few-shot (CV)")],
            ignore_index=True,
        )[["setting", *self.zero_shot.columns]]


@dataclass
class _Suggester:
    """A fitted model and what the facade needs around it (internal)."""

    model: Any
    model_id: str
    frame: str
    exclusive: bool
    labels: dict[str, str]
    units: Any  # DataFrame of all units (units_frame)
    matrix: Any  # embeddings, rows follow ``units``
    coded: set  # segment ids the coder coded in the frame
    covered_documents: set  # documents the coder finished the frame on
    rejected: set  # (segment id, code) the coder rejected
    columns: dict = field(init=False)  # the unit columns as plain lists, built once per fit
    row_of: dict = field(init=False)  # segment id -> row of ``units``

    def __post_init__(self) -> None:
        # plain lists: building a suggestion view reads many fields; one pandas lookup each was the cost
        self.columns = {name: self.units[name].tolist() for name in
                        ("segment_id", "document_id", "document", "respondent", "position", "text")}
        self.row_of = {int(s): i for i, s in enumerate(self.columns["segment_id"])}


def _remember(cache: dict, key: tuple, value: tuple, *, size: int = 32) -> None:
    """Store in a small per-process cache, forgetting the oldest entries beyond ``size``."""
    cache.pop(key, None)
    cache[key] = value
    while len(cache) > size:
        cache.pop(next(iter(cache)))


def _engine_key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def clear_suggestion_cache() -> None:
    """Forget fitted models and in-memory unit embeddings (the database cache stays)."""
    with _SUGGESTION_LOCK:
        _UNIT_VECTORS.clear()
        _FITTED.clear()


def embedder_for(engine: Engine, project: str = DEFAULT_PROJECT):
    """The project's :class:`~coding.embeddings.Embedder` (its ``embedding_model``), loaded once per process."""
    from coding.embeddings import load_embedder

    return load_embedder(get_project(engine, project).embedding_model)


def embedding_precision(engine: Engine, project: str = DEFAULT_PROJECT) -> str:
    """Which precision the project's model runs in on this machine, and why (no model load)."""
    from coding.embeddings import model_precision

    return model_precision(get_project(engine, project).embedding_model)


def _embed_cached(engine: Engine, embedder, texts: Sequence[str]):
    from coding.database.embedding_store import SqlEmbeddingStore
    from coding.embeddings import embed_with_cache

    return embed_with_cache(embedder, list(texts), SqlEmbeddingStore(engine))


def embed_units(engine: Engine, project: str = DEFAULT_PROJECT, *, embedder=None,
                document_ids: Iterable[int] | None = None):
    """The units of coding (all, or of ``document_ids``) and their embeddings, rows aligned.

    Vectors come from the ``embedding_cache`` table where (model id, text hash) is known, so
    re-running or re-opening a project never re-embeds unchanged text; a different model id
    misses the cache and embeds once. Returns ``(units DataFrame, float32 matrix)``.
    """
    embedder = embedder or embedder_for(engine, project)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        if document_ids is not None:
            document_ids = [int(d) for d in document_ids]
            for document_id in document_ids:
                queries.document_in_project(session, row.id, document_id)
        units = queries.units_frame(session, row.id, document_ids=document_ids)
    return units, _embed_cached(engine, embedder, units["text"].tolist())


def _units_version(session: Session, project_id: int) -> tuple:
    return tuple(session.exec(
        select(func.count(Segment.id), func.max(Segment.id), func.min(Segment.id))
        .join(Document, Segment.document_id == Document.id)
        .where(Document.project_id == project_id, Segment.is_unit == True)  # noqa: E712
    ).one())


def _project_unit_vectors(engine: Engine, project: str, project_id: int, version: tuple, embedder):
    """All units and their embeddings, kept in memory while the project's units do not change."""
    key = (_engine_key(engine), project_id, getattr(embedder, "cache_id", embedder.model_id))
    with _SUGGESTION_LOCK:
        hit = _UNIT_VECTORS.get(key)
    if hit is not None and hit[0] == version:
        return hit[1], hit[2]
    units, matrix = embed_units(engine, project, embedder=embedder)
    with _SUGGESTION_LOCK:
        _remember(_UNIT_VECTORS, key, (version, units, matrix))
    return units, matrix


def _suggestion_data_version(session: Session, project_id: int, frame_key: str) -> tuple:
    """Changes whenever anything the fitted model depends on changes."""
    events = session.exec(select(func.max(CodingEvent.id)).where(CodingEvent.project_id == project_id)).one()
    codings = session.exec(
        select(func.count(Coding.id), func.max(Coding.id))
        .join(Coder, Coding.coder_id == Coder.id).where(Coder.project_id == project_id)
    ).one()
    feedback = session.exec(
        select(func.count(SuggestionFeedback.id), func.max(SuggestionFeedback.id),
               func.sum(_case((SuggestionFeedback.decision == "reject", 1), else_=0)))
        .join(Coder, SuggestionFeedback.coder_id == Coder.id).where(Coder.project_id == project_id)
    ).one()
    coverage = session.exec(
        select(func.count(FrameCoverage.id), func.max(FrameCoverage.id))
        .join(Coder, FrameCoverage.coder_id == Coder.id)
        .where(Coder.project_id == project_id, FrameCoverage.frame_key == frame_key)
    ).one()
    assignments = session.exec(
        select(func.count(Assignment.id), func.sum(_case((Assignment.released == True, 1), else_=0)))  # noqa: E712
        .join(Coder, Assignment.coder_id == Coder.id).where(Coder.project_id == project_id)
    ).one()
    return (events, *codings, *(int(v or 0) for v in feedback), *coverage, *(int(v or 0) for v in assignments))


def _code_objects(codes: Sequence[Code]) -> list:
    from types import SimpleNamespace

    return [
        SimpleNamespace(id=c.key, label=c.label, definition=c.definition, include=list(c.inclusion),
                        exclude=list(c.exclusion), examples=list(c.examples))
        for c in codes if c.active
    ]


def _codes_fingerprint(code_objects: Sequence) -> str:
    payload = [[c.id, c.label, c.definition, c.include, c.exclude, c.examples] for c in code_objects]
    return _hashlib.sha256(_json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()


def _code_part_embeddings(engine: Engine, embedder, code_objects: Sequence) -> dict:
    from coding.suggestions import code_texts, embed_code_texts

    texts = {c.id: code_texts(c) for c in code_objects}
    return embed_code_texts(texts, lambda batch: _embed_cached(engine, embedder, batch))


def _suggester(engine: Engine, project: str, *, frame: str, coder: str, embedder=None,
               document_id: int | None = None) -> _Suggester:
    """The fitted model for (project, frame, coder): cached, refitted when the data changed.

    Positives: the coder's and the consensus's codings in the frame (hand, accepted
    suggestions, adjudications). Negatives: suggestions the coder rejected. A segment
    counts as reviewed (every code not applied is a negative) when it carries a code of
    the frame or its document is one the coder or the consensus finished the frame on.
    The consensus teaches only where the coder may see others' codings (the rule of
    :func:`_visible_coder_ids`): never for a coder while the project is in blind mode, and
    not on documents of the coder's unreleased blind double-coding sample, so suggestions and
    their evidence cannot reveal the adjudicated answer.
    """
    from coding.suggestions import LabeledExamples, SuggestionModel

    embedder = embedder or embedder_for(engine, project)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        if document_id is not None:
            queries.document_in_project(session, row.id, document_id)
        frame_row, code_rows = _frame_codes(session, row, frame)
        code_objects = _code_objects(code_rows)
        if not code_objects:
            raise CodeframeError(f"frame {frame!r} has no active codes to suggest")
        key = (_engine_key(engine), row.id, frame, target.id, getattr(embedder, "cache_id", embedder.model_id))
        version = (_suggestion_data_version(session, row.id, frame), _units_version(session, row.id),
                   _codes_fingerprint(code_objects), bool(frame_row.mutually_exclusive))
        with _SUGGESTION_LOCK:
            hit = _FITTED.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        consensus = session.exec(select(Coder).where(Coder.project_id == row.id, Coder.name == CONSENSUS)).first()
        sees_others = may_see_others(target.role) or not row.blind_mode
        teachers = [target.name] + ([CONSENSUS] if sees_others and consensus is not None
                                    and consensus.id != target.id else [])
        codings = queries.codings_frame(session, row.id, frame=frame, coders=teachers)
        blind = set(session.exec(
            select(Assignment.document_id).where(Assignment.coder_id == target.id, Assignment.released == False)  # noqa: E712
        ).all())
        teacher_ids = [target.id] + ([consensus.id] if CONSENSUS in teachers else [])
        coverage = session.exec(
            select(FrameCoverage.document_id, FrameCoverage.coder_id)
            .where(FrameCoverage.frame_key == frame, FrameCoverage.coder_id.in_(teacher_ids))
        ).all()
        feedback = session.exec(
            select(SuggestionFeedback.segment_id, Code.key)
            .join(Code, SuggestionFeedback.code_id == Code.id)
            .where(SuggestionFeedback.coder_id == target.id, SuggestionFeedback.decision == "reject",
                   Code.frame_id == frame_row.id)
        ).all()
        units_version = _units_version(session, row.id)
    units, matrix = _project_unit_vectors(engine, project, row.id, units_version, embedder)
    parts = _code_part_embeddings(engine, embedder, code_objects)

    keys = [c.id for c in code_objects]
    own = codings[codings["coder"] == target.name]
    teach = codings[(codings["coder"] == target.name) | ~codings["document_id"].isin(blind)]
    positive: dict[int, set[str]] = defaultdict(set)
    for segment_id, code in zip(teach["segment_id"], teach["code"]):
        if code in keys:
            positive[int(segment_id)].add(code)
    negative: dict[int, set[str]] = defaultdict(set)
    for segment_id, code in feedback:
        negative[int(segment_id)].add(code)
    reviewed_documents = {d for d, c in coverage if c == target.id or d not in blind}
    covered_by_coder = {d for d, c in coverage if c == target.id}
    rows = [
        i for i, (s, d) in enumerate(zip(units["segment_id"], units["document_id"]))
        if s in positive or s in negative or d in reviewed_documents
    ]
    examples = None
    if rows:
        ids = [int(units["segment_id"].iat[i]) for i in rows]
        examples = LabeledExamples(
            segment_ids=ids, embeddings=matrix[rows],
            positive=[positive.get(s, set()) for s in ids], negative=[negative.get(s, set()) for s in ids],
            reviewed=[bool(positive.get(s)) or int(units["document_id"].iat[i]) in reviewed_documents
                      for s, i in zip(ids, rows)],
        )
    model = SuggestionModel().fit_codes(
        keys, parts, exclusive=bool(frame_row.mutually_exclusive), examples=examples,
        background=matrix if len(matrix) >= 20 else None,
    )
    fitted = _Suggester(
        model=model, model_id=embedder.model_id, frame=frame, exclusive=bool(frame_row.mutually_exclusive),
        labels={c.id: c.label for c in code_objects}, units=units, matrix=matrix,
        coded={int(s) for s in own["segment_id"]}, covered_documents=covered_by_coder,
        rejected={(int(s), c) for s, c in feedback},
    )
    with _SUGGESTION_LOCK:
        _remember(_FITTED, key, (version, fitted))
    return fitted


def _views(fitted: _Suggester, suggestions, *, top_k: int) -> list[SuggestionView]:
    columns, row_of = fitted.columns, fitted.row_of
    per_segment: dict[int, int] = Counter()
    limit = 1 if fitted.exclusive else top_k
    out = []
    for s in suggestions:
        segment_id = int(s.segment_id)
        if (segment_id, s.code) in fitted.rejected or per_segment[segment_id] >= limit:
            continue
        per_segment[segment_id] += 1
        i = row_of[segment_id]
        neighbours = []
        for n in s.evidence.neighbours:
            j = row_of.get(int(n.segment_id))
            if j is not None:
                neighbours.append(SuggestionNeighbour(
                    int(n.segment_id), str(columns["document"][j]), int(columns["position"][j]),
                    str(columns["text"][j]), round(float(n.similarity), 4)))
        matched = s.evidence.matched_part
        out.append(SuggestionView(
            segment_id=segment_id, document_id=int(columns["document_id"][i]),
            document=str(columns["document"][i]), respondent=str(columns["respondent"][i]),
            position=int(columns["position"][i]), text=str(columns["text"][i]), frame=fitted.frame,
            code=s.code, label=fitted.labels[s.code], score=float(s.score), threshold=float(s.threshold),
            model_id=fitted.model_id,
            evidence=SuggestionEvidence(
                matched.kind, matched.text, round(float(matched.similarity), 4), neighbours,
                s.evidence.exclusion.text if s.evidence.exclusion else None),
        ))
    return out


def suggest(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    frame: str,
    coder: str,
    document_id: int | None = None,
    top_k: int = 3,
    include_coded: bool = False,
    embedder=None,
) -> list[SuggestionView]:
    """Codes of ``frame`` suggested for ``coder``'s units (one document, or all), best first per segment.

    Only scores at or above each code's threshold are suggested (the model abstains below);
    at most ``top_k`` per segment, one in a mutually exclusive frame. Segments the coder has
    already coded in the frame are skipped unless ``include_coded``; a (segment, code) the
    coder rejected is never suggested to them again.
    """
    if top_k < 1:
        raise CodeframeError(f"top_k must be 1 or more, not {top_k}")
    fitted = _suggester(engine, project, frame=frame, coder=coder, embedder=embedder, document_id=document_id)
    segment_ids = fitted.columns["segment_id"]
    keep = [
        i for i, (s, d) in enumerate(zip(segment_ids, fitted.columns["document_id"]))
        if (document_id is None or d == document_id) and (include_coded or int(s) not in fitted.coded)
    ]
    if not keep:
        return []
    view = _copy.copy(fitted.model)  # rank every code above threshold; the limit is applied after
    view.exclusive = False  # dropping rejected codes, so the next best can take their place
    raw = view.suggest([int(segment_ids[i]) for i in keep], fitted.matrix[keep], top_k=len(fitted.model.codes))
    return _views(fitted, raw, top_k=top_k)


def precode_document(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    frame: str,
    coder: str,
    document_id: int,
    min_score: float | None = None,
    top_k: int = 3,
    embedder=None,
) -> list[SuggestionView]:
    """Suggestions to review for every uncoded unit of one transcript (at or above ``min_score`` if given)."""
    if min_score is not None and not 0 <= min_score <= 1:
        raise CodeframeError(f"min_score must be between 0 and 1, not {min_score}")
    found = suggest(engine, project, frame=frame, coder=coder, document_id=document_id, top_k=top_k,
                    embedder=embedder)
    return [s for s in found if min_score is None or s.score >= min_score]


def _check_suggestion_inputs(score: float | None, model_id: str | None) -> None:
    import math

    if score is not None and not (isinstance(score, (int, float)) and math.isfinite(score) and 0 <= score <= 1):
        raise CodeframeError(f"a suggestion score lies between 0 and 1, not {score!r}")
    if model_id is not None and not str(model_id).strip():
        raise CodeframeError("a suggestion needs the id of the model that made it")


def _record_feedback(session: Session, segment_id: int, code_id: int, coder_id: int, decision: str,
                     score: float | None, model_id: str | None) -> None:
    existing = session.exec(
        select(SuggestionFeedback).where(
            SuggestionFeedback.segment_id == segment_id, SuggestionFeedback.code_id == code_id,
            SuggestionFeedback.coder_id == coder_id,
        ).with_for_update()
    ).first()
    row = existing or SuggestionFeedback(segment_id=segment_id, code_id=code_id, coder_id=coder_id, decision=decision)
    row.decision, row.score, row.model_id, row.at = decision, score, model_id, utcnow()
    session.add(row)


def _accept(session: Session, row: Project, target: Coder, acting: Coder, segment_id: int, code: str,
            score: float | None, model_id: str | None) -> int:
    segment, _ = queries.segment_in_project(session, row.id, segment_id)
    code_row = _code(session, row, code)
    coding_id = _upsert_coding(
        session, row, segment, code_row, target, acting, source="suggestion", score=score, model_id=model_id,
        memo=None, reason="accepted suggestion",
    )
    _record_feedback(session, segment.id, code_row.id, target.id, "accept", score, model_id)
    return coding_id


@_retry_locked
def accept_suggestion(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    segment_id: int,
    code: str,
    coder: str,
    score: float,
    model_id: str,
    actor: str | None = None,
) -> int:
    """Save a suggested code as ``coder``'s coding (source "suggestion", with score and model id,
    history written) and remember the accept as a labelled example. Returns the coding id."""
    _check_suggestion_inputs(score, model_id)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        acting = queries.coder_by_name(session, row.id, actor) if actor else target
        _check_may_edit(acting, target, "suggestion")
        coding_id = _accept(session, row, target, acting, segment_id, code, score, model_id)
        session.commit()
        return coding_id


@_retry_locked
def reject_suggestion(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    segment_id: int,
    code: str,
    coder: str,
    score: float | None = None,
    model_id: str | None = None,
    actor: str | None = None,
) -> None:
    """Remember that ``coder`` rejected ``code`` for a segment: a negative example from now on,
    and never suggested to them again there. Existing codings are left as they are."""
    _check_suggestion_inputs(score, model_id)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        acting = queries.coder_by_name(session, row.id, actor) if actor else target
        _check_may_edit(acting, target, "suggestion")
        segment, _ = queries.segment_in_project(session, row.id, segment_id)
        code_row = _code(session, row, code)
        _record_feedback(session, segment.id, code_row.id, target.id, "reject", score, model_id)
        session.commit()


def bulk_accept(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    frame: str,
    coder: str,
    document_id: int,
    min_score: float,
    actor: str | None = None,
    embedder=None,
) -> int:
    """Accept every suggestion for a transcript scoring at least ``min_score``, in one transaction.

    Returns how many were accepted (one per segment in a mutually exclusive frame).
    """
    if min_score is None:
        raise CodeframeError("bulk accept needs a minimum score")
    chosen = precode_document(engine, project, frame=frame, coder=coder, document_id=document_id,
                              min_score=min_score, embedder=embedder)
    return _accept_many(engine, project, coder=coder, actor=actor, suggestions=chosen)


@_retry_locked
def _accept_many(engine: Engine, project: str, *, coder: str, actor: str | None,
                 suggestions: Sequence[SuggestionView]) -> int:
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        acting = queries.coder_by_name(session, row.id, actor) if actor else target
        _check_may_edit(acting, target, "suggestion")
        for s in suggestions:
            _accept(session, row, target, acting, s.segment_id, s.code, s.score, s.model_id)
        session.commit()
        return len(suggestions)


def uncertain_first(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    frame: str,
    coder: str,
    limit: int = 20,
    document_id: int | None = None,
    embedder=None,
) -> list[UncertainSegment]:
    """The units the model is least sure about, most uncertain first (an active-learning queue).

    Only units the coder has not labelled yet in the frame: not coded there, and not in a
    document they finished the frame on. Coding these first teaches the model the most.
    """
    import numpy as np

    if limit < 1:
        raise CodeframeError(f"limit must be 1 or more, not {limit}")
    fitted = _suggester(engine, project, frame=frame, coder=coder, embedder=embedder, document_id=document_id)
    units = fitted.units
    keep = [
        i for i, (s, d) in enumerate(zip(units["segment_id"], units["document_id"]))
        if (document_id is None or d == document_id) and int(s) not in fitted.coded
        and d not in fitted.covered_documents
    ]
    if not keep:
        return []
    x = fitted.matrix[keep]
    uncertainty = fitted.model.uncertainty(x)
    scores = fitted.model.score(x)
    thresholds = fitted.model.thresholds
    order = np.argsort(-uncertainty, kind="stable")[:limit]
    out = []
    for o in order:
        i = keep[o]
        best = int(np.argmax(scores[o] - thresholds))
        out.append(UncertainSegment(
            segment_id=int(units["segment_id"].iat[i]), document_id=int(units["document_id"].iat[i]),
            document=str(units["document"].iat[i]), position=int(units["position"].iat[i]),
            text=str(units["text"].iat[i]), uncertainty=float(uncertainty[o]), best_code=fitted.model.codes[best],
            best_score=float(scores[o, best]), threshold=float(thresholds[best]),
        ))
    return out


def evaluate_suggestions(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    frame: str,
    gold: str = CONSENSUS,
    n_splits: int = 5,
    seed: int = 0,
    top_k: int = 3,
    embedder=None,
) -> SuggestionEvaluation:
    """How well suggestions reproduce ``gold``'s coding of ``frame``.

    Units: every unit of the documents the gold coder covered in the frame (coded there or
    finished it, see :func:`mark_done`). Zero-shot: the codebook alone. Few-shot: trained on
    the gold codings of the other respondents under ``n_splits``-fold cross-validation grouped
    by respondent, so an interview is never in both the training and the test part. Each
    setting predicts what :func:`suggest` would (codes at or above threshold, at most
    ``top_k`` per segment, one in an exclusive frame). Per code: precision, recall, F1 and
    Cohen's kappa on presence, plus micro and macro rows; top-1/top-3 accuracy of the ranking
    on segments with exactly one gold code.
    """
    import numpy as np
    import pandas as pd

    from coding.evaluation import evaluate, respondent_folds, top_k_accuracy
    from coding.suggestions import LabeledExamples, SuggestionModel

    started = time.perf_counter()
    embedder = embedder or embedder_for(engine, project)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        queries.coder_by_name(session, row.id, gold)
        frame_row, code_rows = _frame_codes(session, row, frame)
        code_objects = _code_objects(code_rows)
        if not code_objects:
            raise CodeframeError(f"frame {frame!r} has no active codes to evaluate")
        codings = queries.codings_frame(session, row.id, frame=frame, coders=[gold])
        all_units = queries.units_frame(session, row.id)
        universe = _coder_universes(session, row, frame_row, [gold], all_units)[gold]
    if not universe:
        raise CodeframeError(f"{gold} has not coded frame {frame!r} on any document: nothing to evaluate against")
    loaded = time.perf_counter()
    units, matrix = embed_units(engine, project, embedder=embedder)
    parts = _code_part_embeddings(engine, embedder, code_objects)
    embedded = time.perf_counter()
    keys = [c.id for c in code_objects]
    exclusive = bool(frame_row.mutually_exclusive)
    rows = [i for i, s in enumerate(units["segment_id"]) if int(s) in universe]
    ids = [int(units["segment_id"].iat[i]) for i in rows]
    x = matrix[rows]
    respondents = [str(units["respondent"].iat[i]) for i in rows]
    gold_sets: dict[int, set[str]] = defaultdict(set)
    for segment_id, code in zip(codings["segment_id"], codings["code"]):
        if code in keys:
            gold_sets[int(segment_id)].add(code)
    y = [gold_sets.get(s, set()) for s in ids]
    background = matrix if len(matrix) >= 20 else None
    distinct = len(set(respondents))
    if not 2 <= n_splits <= distinct:
        raise CodeframeError(
            f"cross-validation by respondent needs 2 to {distinct} folds here ({distinct} respondents "
            f"covered in frame {frame!r}), not {n_splits}")

    def predict(model, test_ids, test_x) -> list[set[str]]:
        chosen: dict[int, set[str]] = defaultdict(set)
        for s in model.suggest(test_ids, test_x, top_k=top_k):
            chosen[int(s.segment_id)].add(s.code)
        return [chosen.get(s, set()) for s in test_ids]

    zero = SuggestionModel().fit_codes(keys, parts, exclusive=exclusive, background=background)
    zero_pred = predict(zero, ids, x)
    zero_scores = zero.score(x)

    folds = respondent_folds(respondents, n_splits=n_splits, seed=seed)
    few_pred: list[set[str]] = [set() for _ in ids]
    few_scores = np.zeros_like(zero_scores)
    fold_rows = []
    for fold in folds:
        train, test = fold.train, fold.test
        examples = LabeledExamples(
            segment_ids=[ids[i] for i in train], embeddings=x[train], positive=[y[i] for i in train],
            reviewed=[True] * len(train),
        )
        model = SuggestionModel().fit_codes(keys, parts, exclusive=exclusive, examples=examples,
                                            background=background)
        for i, codes_i in zip(test, predict(model, [ids[i] for i in test], x[test])):
            few_pred[i] = codes_i
        few_scores[test] = model.score(x[test])
        fold_rows.append({
            "fold": fold.number, "train_units": len(train), "test_units": len(test),
            "train_positives": int(sum(len(y[i]) for i in train)), "test_positives": int(sum(len(y[i]) for i in test)),
            "train_respondents": ", ".join(sorted(fold.train_respondents)),
            "test_respondents": ", ".join(sorted(fold.test_respondents)),
        })
    finished = time.perf_counter()

    single = [next(iter(codes)) if len(codes) == 1 else None for codes in y]
    n_single = sum(s is not None for s in single)
    note = "" if exclusive else "segments with exactly one gold code"
    ranking = pd.DataFrame(
        [{"setting": name, "k": k, "accuracy": top_k_accuracy(single, scores, keys, k=k), "segments": n_single,
          "note": note}
         for name, scores in (("zero-shot", zero_scores), ("few-shot (CV)", few_scores)) for k in (1, 3)],
        columns=["setting", "k", "accuracy", "segments", "note"],
    )
    return SuggestionEvaluation(
        frame=frame, gold=gold, model_id=embedder.model_id, exclusive=exclusive, units=len(ids),
        respondents=distinct, gold_codings=int(sum(len(s) for s in y)),
        zero_shot=evaluate(y, zero_pred, keys), few_shot=evaluate(y, few_pred, keys), ranking=ranking,
        folds=pd.DataFrame(fold_rows), fold_respondents=[(f.train_respondents, f.test_respondents) for f in folds],
        seconds={"read": loaded - started, "embed": embedded - loaded, "fit_and_score": finished - embedded},
    )
