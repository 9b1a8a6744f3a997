"""Whole-project exchange: export to and import from a :class:`coding.bundle.Bundle` (REFI-QDA)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.database import queries
from coding.database.retry import retry_locked
from coding.database.tables import Coder, Document, Segment
from coding.errors import CodeframeError
from coding.service.codebook import _apply_codebook, project_codebook
from coding.service.codings import _upsert_coding
from coding.service.common import CONSENSUS, DEFAULT_PROJECT, SOURCES, SUPPORTED_LANGUAGES
from coding.service.documents import _insert_segments, detect_language
from coding.service.projects import create_project, get_project, project_exists
from coding.service.results import ImportReport


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
                     source=r.source, memo=r.memo,
                     score=None if r.score is None or r.score != r.score else float(r.score),
                     created=r.created)
        for r in df.itertuples(index=False)
    ]
    return Bundle(codebook=codebook, documents=documents, codings=codings, coders=coders, name=project)


def _offset_map(original: str, stored: str) -> list[int]:
    """For each offset of ``original``, the offset in ``stored`` (which dropped \\r, a BOM, ...)."""
    mapping, j = [], 0
    for ch in original:
        mapping.append(j)
        if j < len(stored) and (stored[j] == ch or (ch == "\r" and stored[j] == "\n")):
            j += 1
    mapping.append(j)
    return mapping


@retry_locked
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
