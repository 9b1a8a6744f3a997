"""The long codings table: read it (every bad row reported), import it, export it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from coding.codings_table import read_csv_table
from coding.database import queries
from coding.database.retry import retry_locked
from coding.database.tables import Code, Coder, Segment
from coding.errors import CodingsError, PermissionDenied, Problem
from coding.service.codings import _upsert_coding
from coding.service.common import CONSENSUS, DEFAULT_PROJECT, SOURCES, _source
from coding.service.permissions import NAME_THE_ACTOR, _check_may_edit
from coding.service.results import ImportReport

CODINGS_CSV_REQUIRED = ("document", "coder", "code")
CODINGS_CSV_LOCATORS = ("segment", "start", "end", "quote")


@dataclass
class CodingRow:
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


def read_codings_csv(name: str, data: bytes) -> list[CodingRow]:
    """Parse the long codings table; report every bad row by line."""
    table = read_csv_table(name, data, required=CODINGS_CSV_REQUIRED)
    header = table.header
    if not ("segment" in header or "quote" in header or ("start" in header and "end" in header)):
        raise CodingsError(
            "the codings file does not say where each code applies",
            [Problem("need a 'segment' column, a 'quote' column, or 'start' and 'end' columns", file=name, line=1)],
        )
    rows, problems = [], list(table.problems)
    for line, raw in table.records():
        values = {k: v.strip() for k, v in raw.items()}
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
            problems.append(Problem(f"unknown source {source!r} (use {', '.join(SOURCES)})", file=name, line=line,
                                    field="source"))
            continue
        rows.append(CodingRow(line, values["document"], values["coder"], values["code"], segment, start, end, quote,
                               source, values.get("memo") or None))
    if problems:
        problems.sort(key=lambda p: p.line)
        raise CodingsError(f"{len(problems)} bad row(s) in the codings file; nothing was imported", problems)
    return rows


@retry_locked
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
    rows = read_codings_csv(name, data)
    report = ImportReport()
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        docs = {d.name: d for d in queries.documents(session, row.id)}
        codes = queries.codes_by_key(session, row.id)
        coders = queries.coders_by_name(session, row.id)
        acting = queries.coder_by_name(session, row.id, actor) if actor else None
        if row.team_mode and acting is None:  # nobody imports as the coders named in the file
            raise PermissionDenied(f"{NAME_THE_ACTOR} to import codings")
        problems: list[Problem] = []
        if create_coders:
            for new in sorted({r.coder for r in rows} - set(coders)):
                coder = Coder(project_id=row.id, name=new, is_consensus=new == CONSENSUS,
                              role="supervisor" if new == CONSENSUS else "coder")
                session.add(coder)
                coders[new] = coder
            session.flush()
        segments_cache: dict[int, list[Segment]] = {}
        resolved: list[tuple[CodingRow, Segment, Code, Coder]] = []
        multi = 0
        for r in rows:
            doc = docs.get(r.document)
            if doc is None:
                problems.append(Problem(f"unknown document {r.document!r}", file=name, line=r.line, field="document"))
            code = codes.get(r.code)
            if code is None:
                problems.append(Problem(f"unknown code {r.code!r}", file=name, line=r.line, field="code"))
            elif not code.active:
                problems.append(Problem(f"code {r.code!r} is no longer in the codebook", file=name, line=r.line,
                                        field="code"))
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
            source = r.source
            if coder.is_consensus:  # adjudicated codings from another tool: supervisors and admins, logged as import
                if row.team_mode and acting is None:
                    raise PermissionDenied("team mode is on: import consensus codings as a supervisor or admin")
                source = "import"
            _check_may_edit(target_actor, coder, source, adjudicated=coder.is_consensus)
            _upsert_coding(session, row, seg, code, coder, target_actor, source=source, score=None, model_id=None,
                           memo=r.memo, reason=f"imported from {name}")
            report.codings += 1
        if multi:
            report.notes.append(f"{multi} row(s) spanned several segments and were applied to each")
        session.commit()
    return report


def export_codings_frame(engine: Engine, project: str = DEFAULT_PROJECT, *, coder: str | None = None,
                         frame: str | None = None, viewer: str | None = None) -> "Any":
    """Codings in the long format that ``agreement``, ``shares`` and ``import codings`` read.

    Columns: document, respondent, unit (``document#segment``), segment (1-based unit number, as
    ``import codings`` expects), start, end, coder, code, frame, source, memo, text. In blind mode
    a coder ``viewer`` exports only their own codings.
    """
    import pandas as pd

    from coding.service.review import visible_coders

    visible = visible_coders(engine, project, viewer)
    if visible is not None:
        if coder is not None and coder not in visible:
            raise PermissionDenied(f"blind mode: {viewer} sees only their own codings")
        coder = visible[0]

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
