"""Transcripts and attributes: parse, import (all or nothing), list, and read a document as a viewer may."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.database import queries
from coding.database.retry import retry_locked
from coding.database.tables import Code, CodeFrame, Coder, Coding, Document, DocumentProgress, Segment, utcnow
from coding.errors import CodeframeError, DuplicateDocumentError, Problem
from coding.segmentation import SegmentSpan
from coding.service.common import DEFAULT_PROJECT, SUPPORTED_LANGUAGES, _source
from coding.service.permissions import _actor, _require_team_admin, _require_team_admin_by_name, _visible_coder_ids
from coding.service.projects import follow_document_languages, get_project
from coding.service.results import CodingView, DocumentInfo, DocumentView, ImportReport, SegmentView
from coding.transcripts import detect_language

_PROGRESS_BATCH = 4  # transcripts per nlp.pipe call when progress is reported


def parse_transcripts(
    files: Sequence, *, language: str = "en", unit: str = "sentence",
    progress: Callable[[int, int], None] | None = None,
) -> list[tuple[Any, list[Any]]]:
    """Read and segment transcripts without touching the database (the import preview).

    ``language="auto"`` picks en, ru or kk per document (:func:`detect_language`).
    ``progress(done, total)`` is called as transcripts are segmented (in batches of a few).

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
    step = len(transcripts) if progress is None else _PROGRESS_BATCH
    done = 0
    if progress is not None:
        progress(0, len(transcripts))
    for nlp_language, all_numbers in by_language.items():
        for first in range(0, len(all_numbers), step):
            numbers = all_numbers[first:first + step]
            batch = segment_transcripts([transcripts[n] for n in numbers], language=nlp_language, unit=unit)
            for number, spans in zip(numbers, batch):
                segments[number] = spans
            done += len(numbers)
            if progress is not None:
                progress(done, len(transcripts))
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


@retry_locked
def _refuse_deceptive_names(files) -> None:
    """File names become document names: nothing invisible, direction-changing or control in them."""
    from coding.markup import name_problem

    problems = []
    for item in files:
        name = item[0] if isinstance(item, tuple) else Path(item).name
        why = name_problem(name, "a file name")
        if why:
            problems.append(Problem(f"{why}: {name!r}", file=repr(name)[1:-1]))
    if problems:
        raise CodeframeError("these files were refused; nothing was imported", problems)


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
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import transcripts (paths or ``(name, bytes)``) and optional attributes, all or nothing.

    ``progress(done, total)`` is told how many transcripts are read and segmented so far.

    In team mode only an admin may import: ``actor`` names them (the app always does; the CLI's ``--as``).

    Every file is parsed and checked first; duplicates of documents already in the project
    (same name, or same content) are refused; then everything is written in one transaction.
    ``allow_same_content`` accepts documents whose text equals another's under a different
    name: short open survey answers ("No.") are often identical across respondents.
    """
    if not files:
        raise CodeframeError("no transcript files given")
    _require_team_admin_by_name(engine, project, actor, "import transcripts")
    info = get_project(engine, project)
    language = language or info.language
    unit = unit or info.segmentation_unit
    if language not in SUPPORTED_LANGUAGES + ("auto",):
        raise CodeframeError(f"language must be auto or one of {', '.join(SUPPORTED_LANGUAGES)}, not {language!r}")
    _refuse_deceptive_names(files)
    parsed = parse_transcripts(files, language=language, unit=unit, progress=progress)
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
                problems.append(Problem(f"a document named {transcript.name!r} is already in the project",
                                        file=transcript.name))
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
        session.flush()
        switched = follow_document_languages(session, row)
        if switched:
            report.notes.append(f"most documents are Russian or Kazakh: suggestions now use {switched} "
                                "(change it with codeframe settings --model)")
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


@retry_locked
def import_attributes(engine: Engine, project: str = DEFAULT_PROJECT, attributes=None, *,
                      actor: str | None = None) -> ImportReport:
    """Set respondent attributes on documents already imported; every row must match one.

    In team mode only an admin (``actor``) may do this."""
    name, rows = _read_attributes(attributes)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
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
                CodingView(coding.id, code.key, code.label, frame.key, coder.name, coding.source, coding.score,
                           coding.memo)
            )
        span_fields = [f.name for f in dataclasses.fields(SegmentSpan)]
        views = [
            SegmentView(**{name: getattr(s, name) for name in span_fields}, id=s.id, codings=by_segment.get(s.id, []))
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
