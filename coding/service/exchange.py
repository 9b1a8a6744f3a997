"""Whole-project exchange: a project to and from a :class:`~coding.bundle.Bundle` (REFI-QDA), keeping every
original span.

An imported coding is a span of a document's text. Coding, agreement and shares work on
segments, so the span is coded on the segments it overlaps (its *units* of coding, or, for a
coded interviewer question, the segments it covers), and the span itself is kept as a
``selection`` row. An export writes the selection's exact span while every segment coding it
maps to still exists; codings made or changed in Codeframe since are written on their segment.

The ``*_file`` functions are what the CLI and the app call: bytes of a .qdpx or .qdc in or out.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.alignment import offset_map
from coding.database import queries
from coding.database.retry import retry_locked
from coding.database.tables import (
    Code,
    CodeFrame,
    Coder,
    Coding,
    CodingEvent,
    Document,
    ItemSet,
    Segment,
    Selection,
    SuggestionFeedback,
    utcnow,
)
from coding.errors import CodeframeError
from coding.service.codebook import _apply_codebook, import_codebook_object, project_codebook
from coding.service.codings import _upsert_coding
from coding.service.common import CONSENSUS, DEFAULT_PROJECT, SOURCES, SUPPORTED_LANGUAGES
from coding.service.documents import _insert_segments
from coding.service.projects import create_project, get_project, project_exists
from coding.service.results import ImportReport
from coding.transcripts import detect_language

IMPORT_REASON = "imported project"


@dataclass(frozen=True)
class _Seg:
    id: int
    start: int
    end: int
    is_unit: bool


class SegmentIndex:
    """The segments of one document, for mapping a span to the segments it is coded on."""

    def __init__(self, segments: list[_Seg]):
        self.all = sorted(segments, key=lambda s: s.start)
        self.units = [s for s in self.all if s.is_unit]
        self._bounds = {id(pool): ([s.start for s in pool], [s.end for s in pool])
                        for pool in (self.all, self.units)}

    def _overlap(self, pool: list[_Seg], start: int, end: int) -> list[_Seg]:
        starts, ends = self._bounds[id(pool)]
        return pool[bisect_right(ends, start):bisect_left(starts, end)]

    def hits(self, start: int, end: int) -> tuple[list[_Seg], bool]:
        """The segments a span is coded on, and whether it covers exactly whole segments of that pool."""
        pool = self.units
        hits = self._overlap(pool, start, end) if end > start else []
        if not hits:  # e.g. a coded interviewer question: keep it on the segments it covers
            pool = self.all
            hits = self._overlap(pool, start, end) if end > start else []
        aligned = bool(hits) and hits[0].start >= start and hits[-1].end <= end
        return hits, aligned


def _segment_index(session: Session, document_ids: list[int]) -> dict[int, SegmentIndex]:
    rows: dict[int, list[_Seg]] = {d: [] for d in document_ids}
    if document_ids:
        for seg_id, doc_id, start, end, is_unit in session.exec(
                select(Segment.id, Segment.document_id, Segment.start, Segment.end, Segment.is_unit)
                .where(Segment.document_id.in_(document_ids))):
            rows[doc_id].append(_Seg(seg_id, start, end, bool(is_unit)))
    return {doc_id: SegmentIndex(segs) for doc_id, segs in rows.items()}


@dataclass(frozen=True)
class _IdOnly:
    id: int


def combined_memo(memos) -> str | None:
    """The memo of a segment coding made from several spans: their distinct memos, in order."""
    return "\n\n".join(dict.fromkeys(m for m in memos if m)) or None


def _missing(value) -> bool:
    return value is None or value != value  # None, NaN or NaT from a DataFrame


def _jsonable(attributes: dict[str, Any]) -> dict[str, Any]:
    """Attributes as the JSON column holds them: dates and times as ISO text (the export types them again)."""
    return {k: v.isoformat() if isinstance(v, (date, datetime)) else v for k, v in attributes.items()}


def _normalised(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --------------------------------------------------------------------------- import


def _drop_unused_inactive(session: Session, project_id: int) -> None:
    """Delete the codes and frames the imported codebook replaced, if nothing refers to them.

    The project is empty (checked before), so this is the codebook it was created with: left
    inactive, it would be exported with the project's own codes.
    """
    used = [select(t.code_id) for t in (Coding, CodingEvent, SuggestionFeedback, Selection)]
    session.execute(delete(Code).where(Code.project_id == project_id, Code.active.is_(False),
                                       *[Code.id.not_in(q) for q in used]))
    session.execute(delete(CodeFrame).where(CodeFrame.project_id == project_id, CodeFrame.active.is_(False),
                                            CodeFrame.id.not_in(select(Code.frame_id))))


@retry_locked
def import_bundle(engine: Engine, project: str, bundle, report: ImportReport | None = None) -> ImportReport:
    """Import a whole project (e.g. from REFI-QDA) into an empty project, in one transaction.

    The bundle's codebook replaces the project's, with its colours and non-codable categories;
    documents are segmented with the project's unit; each coding is coded on the segments its
    span overlaps and its exact span is kept (``selection``); sets become ``item_set`` rows. The
    report says how many spans were kept exactly and how many did not align with segments.
    """
    from coding.segmentation import segment_transcript
    from coding.transcripts import read_transcript

    counted = report is not None  # a reader's report counts the mapping; a fresh one gets a note instead
    report = report if counted else ImportReport()
    notes = report.notes
    if bundle.codebook is None:
        raise CodeframeError("the file holds no codebook")
    if not project_exists(engine, project):
        create_project(engine, project)
    info = get_project(engine, project)
    parsed = []
    for document in bundle.documents:
        transcript = read_transcript(f"{document.name}.txt", name=document.name, data=document.text.encode("utf-8"))
        language = (document.language if document.language in SUPPORTED_LANGUAGES
                    else detect_language(transcript.text))
        spans = segment_transcript(transcript, language=language, unit=info.segmentation_unit)
        parsed.append((document, transcript, language, spans))
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        if queries.documents(session, row.id):
            raise CodeframeError(f"project {project!r} already has documents; import a project into an empty one")
        _apply_codebook(session, row, bundle.codebook, source_text=None, renames={})
        _drop_unused_inactive(session, row.id)
        codes = queries.codes_by_key(session, row.id)
        non_codable = set(getattr(bundle, "non_codable", ()))
        colors = getattr(bundle, "colors", {}) or {}
        for key, code in codes.items():
            code.color, code.codable = colors.get(key), key not in non_codable
            session.add(code)
        coders = queries.coders_by_name(session, row.id)
        for name in sorted(set(bundle.coders) | {c.coder for c in bundle.codings}):
            if name not in coders:
                coders[name] = Coder(project_id=row.id, name=name, is_consensus=name == CONSENSUS,
                                     role="supervisor" if name == CONSENSUS else "coder")
                session.add(coders[name])
        session.flush()
        documents: dict[str, tuple[int, str, str, list[int] | None]] = {}
        for document, transcript, language, spans in parsed:
            doc = Document(project_id=row.id, name=document.name, respondent=document.respondent or document.name,
                           attributes=_jsonable(document.attributes), text=transcript.text, format=document.format,
                           encoding="utf-8", language=language, sha256=transcript.sha256)
            session.add(doc)
            session.flush()
            _insert_segments(session, doc.id, spans)
            same = transcript.text == document.text
            documents[document.name] = (doc.id, document.text, transcript.text,
                                        None if same else offset_map(document.text, transcript.text))
        index = _segment_index(session, [d[0] for d in documents.values()])
        unaligned = unmatched = exact = 0
        selections: list[dict[str, Any]] = []
        on_segment: dict[tuple[int, str, str], list] = {}
        for coding in bundle.codings:
            if coding.document not in documents or coding.code not in codes:
                unmatched += 1
                continue
            doc_id, original, stored, omap = documents[coding.document]
            start, end = min(max(coding.start, 0), len(original)), min(max(coding.end, 0), len(original))
            if omap is not None:
                start, end = omap[start], omap[end]
            if end <= start:
                unmatched += 1
                continue
            if stored[start:end] != _normalised(original[coding.start:coding.end]):
                notes.append(f"{coding.document}: the span {coding.start}-{coding.end} changed its text when the "
                             "line breaks were normalised")
            hits, aligned = index[doc_id].hits(start, end)
            if not hits:
                unmatched += 1
                continue
            unaligned += not aligned
            code, coder = codes[coding.code], coders[coding.coder]
            for segment in hits:
                on_segment.setdefault((segment.id, code.key, coder.name), []).append((start, end, coding))
            exact += 1
            selections.append({"document_id": doc_id, "code_id": code.id, "coder_id": coder.id, "start": start,
                               "end": end, "memo": coding.memo, "created": coding.created})
        # one segment coding per (segment, code, coder); spans on it in text order, so its memo (the
        # distinct memos of those spans) does not depend on the order of the file
        exclusive = {f.id: f.mutually_exclusive
                     for f in session.exec(select(CodeFrame).where(CodeFrame.project_id == row.id))}
        now = utcnow()
        rows, events = [], []
        for (segment_id, code_key, coder_name), spans in on_segment.items():
            spans.sort(key=lambda item: (item[0], item[1]))
            first_coding = spans[0][2]
            code, coder = codes[code_key], coders[coder_name]
            # the consensus is written only by adjudication: imported adjudications are logged as an import
            source = first_coding.source if first_coding.source in SOURCES and not coder.is_consensus else "import"
            memo = combined_memo([c.memo for _, _, c in spans])
            if exclusive[code.frame_id]:  # one code per segment: the upsert replaces the others, with history
                _upsert_coding(session, row, _IdOnly(segment_id), code, coder, coder, source=source,
                               score=first_coding.score, model_id=None, memo=memo, reason=IMPORT_REASON,
                               mutually_exclusive=True)
                continue
            # the project had no documents, so no coding exists yet: write them (and their history) at once
            rows.append({"segment_id": segment_id, "code_id": code.id, "coder_id": coder.id, "source": source,
                         "score": first_coding.score, "model_id": None, "memo": memo, "created": now,
                         "updated": now})
            events.append({"project_id": row.id, "segment_id": segment_id, "code_id": code.id,
                           "coder_id": coder.id, "actor_id": coder.id, "action": "add", "source": source,
                           "before": None, "after": {"source": source, "score": first_coding.score,
                                                     "model_id": None, "memo": memo},
                           "reason": IMPORT_REASON, "at": now})
        if rows:
            session.execute(insert(Coding.__table__), rows)
            session.execute(insert(CodingEvent.__table__), events)
        segment_codings = len(on_segment)
        if selections:
            session.execute(insert(Selection.__table__), selections)
        for item in getattr(bundle, "sets", ()):
            session.add(ItemSet(project_id=row.id, name=item.name, description=item.description,
                                codes=[c for c in item.codes if c in codes],
                                documents=[d for d in item.documents if d in documents]))
        if counted:
            report.map("spans kept exactly (original span stored beside its segment codings)", exact)
            report.map("segment codings made from those spans", segment_codings)
            report.map("spans not on segment boundaries, coded on the segments they overlap", unaligned)
        elif unaligned:
            notes.append(f"{unaligned} coding(s) did not align with segment boundaries; their exact spans are kept "
                         "and they were coded on the segments they overlap")
        if unmatched:
            notes.append(f"{unmatched} coding(s) matched no document, code or text and were skipped")
        session.commit()
    return report


# --------------------------------------------------------------------------- export


def export_bundle(engine: Engine, project: str = DEFAULT_PROJECT):
    """The project as a :class:`~coding.bundle.Bundle`: codebook (inactive codes too, so no coding is
    orphaned) with colours and non-codable categories, documents with attributes, coders, sets, and
    every coding as a character span: the original span of an imported selection while all of its
    segment codings exist, the segment's span otherwise."""
    from coding.bundle import Bundle, BundleCoding, BundleDocument, BundleSet

    codebook = project_codebook(engine, project, include_inactive=True, include_proposed=True)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        docs = queries.documents(session, row.id)
        documents = [BundleDocument(name=d.name, text=d.text, respondent=d.respondent,
                                    attributes=dict(d.attributes), language=d.language, format=d.format)
                     for d in docs]
        coders = [c.name for c in queries.coders_in_order(session, row.id)]
        code_rows = list(session.exec(select(Code).where(Code.project_id == row.id)))
        df = queries.codings_frame(session, row.id)
        selections = session.exec(
            select(Selection.document_id, Selection.start, Selection.end, Selection.memo, Selection.created,
                   Code.key, Coder.name)
            .join(Code, Selection.code_id == Code.id).join(Coder, Selection.coder_id == Coder.id)
            .join(Document, Selection.document_id == Document.id)
            .where(Document.project_id == row.id).order_by(Selection.id)).all()
        index = _segment_index(session, [d.id for d in docs]) if selections else {}
        sets = [BundleSet(name=s.name, description=s.description, codes=list(s.codes), documents=list(s.documents))
                for s in session.exec(select(ItemSet).where(ItemSet.project_id == row.id).order_by(ItemSet.id))]
    doc_names = {d.id: d.name for d in docs}
    existing: dict[tuple[int, str, str], Any] = {}
    for r in df.itertuples(index=False):
        existing[(int(r.segment_id), r.code, r.coder)] = None if _missing(r.memo) else r.memo
    covered: set[tuple[int, str, str]] = set()
    intact = []
    spans_on: dict[tuple[int, str, str], list] = {}
    for doc_id, start, end, memo, created, code, coder in selections:
        hits, _ = index[doc_id].hits(start, end)
        keys = [(s.id, code, coder) for s in hits]
        for k in keys:
            spans_on.setdefault(k, []).append((start, end, memo))
        if keys and all(k in existing for k in keys):
            intact.append((doc_id, start, end, memo, created, code, coder, keys))
    imported_memo = {k: combined_memo([m for *_, m in sorted(v, key=lambda item: item[:2])])
                     for k, v in spans_on.items()}
    codings = []
    for doc_id, start, end, memo, created, code, coder, keys in intact:
        edited = {existing[k] for k in keys if existing[k] != imported_memo[k]}
        if len(edited) == 1 and all(existing[k] != imported_memo[k] for k in keys):
            memo = next(iter(edited))  # the memo was changed in Codeframe since the import: that one wins
        covered.update(keys)
        codings.append(BundleCoding(document=doc_names[doc_id], start=start, end=end, code=code, coder=coder,
                                    source="import", memo=memo, created=created))
    for r in df.itertuples(index=False):
        if (int(r.segment_id), r.code, r.coder) in covered:
            continue
        codings.append(BundleCoding(document=r.document, start=int(r.start), end=int(r.end), code=r.code,
                                    coder=r.coder, source=r.source, memo=None if _missing(r.memo) else r.memo,
                                    score=None if _missing(r.score) else float(r.score),
                                    created=None if _missing(r.created) else r.created))
    return Bundle(codebook=codebook, documents=documents, codings=codings, coders=coders, name=project,
                  colors={c.key: c.color for c in code_rows if c.color},
                  non_codable=[c.key for c in code_rows if not c.codable], sets=sets)


# --------------------------------------------------------------------------- files, for the app and the CLI


def export_qdpx_file(engine: Engine, project: str) -> bytes:
    """The project as .qdpx bytes."""
    from coding.refiqda import export_qdpx

    return export_qdpx(export_bundle(engine, project))


def export_qdc_file(engine: Engine, project: str) -> bytes:
    """The project's codebook as .qdc bytes, with the codes' colours and non-codable categories."""
    from coding.refiqda import export_qdc

    bundle = export_bundle(engine, project)
    return export_qdc(bundle.codebook, colors=bundle.colors, non_codable=bundle.non_codable)


def import_qdpx_file(engine: Engine, project: str, data: bytes, *, name: str = "project.qdpx"):
    """Import a .qdpx into ``project`` (created if missing; it must have no documents). Returns the report."""
    from coding.refiqda import import_qdpx

    bundle, report = import_qdpx(data, name=name)
    import_bundle(engine, project, bundle, report)
    return report


def import_qdc_file(engine: Engine, project: str, data: bytes, *, name: str = "codebook.qdc", actor: str | None = None):
    """Apply a .qdc codebook to ``project``, keeping every coding. Returns the codebook report."""
    from coding.refiqda import import_qdc

    title = project_codebook(engine, project).title if project_exists(engine, project) else None
    return import_codebook_object(engine, project, import_qdc(data, title=title, name=name), actor=actor)
