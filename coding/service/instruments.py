"""The facade of the instruments: surveys, OCAI and sector scores, one unit of work each.

Re-exported by :mod:`coding.service`, like every other facade module.

Each public function opens one ``with Session(engine)`` and commits once, so an import lands
whole or not at all. Scoring is done by the pure modules :mod:`coding.survey`,
:mod:`coding.ocai` and :mod:`coding.scales`; this module only reads and writes the tables
``instrument`` and ``instrument_response`` (and, for a survey's open answers, documents).

A survey's open answers become documents, one unit each (codable and suggestable like
any transcript); their attributes are the respondent's attributes *and* closed answers, so
every share table and crosstab of the interviews works on the survey too.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.database import queries
from coding.database.tables import Document, Instrument, InstrumentResponse, Segment, utcnow
from coding.errors import CodeframeError, NotFound, Problem
from coding.paths import sample_corpus_dir
from coding.service.common import DEFAULT_PROJECT
from coding.service.permissions import _require_team_admin_by_name

KINDS = ("survey", "ocai", "scale")
SAMPLE_DIR = "instruments"


@dataclass
class InstrumentReport:
    name: str
    kind: str
    respondents: int = 0
    documents: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class OcaiReport:
    name: str
    n: int
    mode: str
    profiles: pd.DataFrame  # ocai.profile_table
    per_dimension: pd.DataFrame
    dominant: pd.DataFrame
    dominant_per_dimension: pd.DataFrame
    congruence: pd.DataFrame
    discrepancy: pd.DataFrame
    respondents: pd.DataFrame  # one row per respondent x view
    rescaled: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ScaleReport:
    name: str
    n: int
    table: pd.DataFrame  # scales.sector_table
    statements: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _read(file) -> tuple[str, bytes]:
    if isinstance(file, tuple):
        return str(file[0]), bytes(file[1])
    path = Path(file)
    try:
        return path.name, path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"no file {path}") from None


def _table(name: str, data: bytes) -> pd.DataFrame:
    """A CSV/XLSX file as a DataFrame of strings (header = row 1), for the OCAI and ratings readers."""
    from coding.survey import read_records

    records = read_records(name, data)
    header = [str(h).strip() for h in records[0][1]]
    while header and not header[-1]:
        header.pop()
    rows = [(cells + [""] * len(header))[: len(header)] for _, cells in records[1:]]
    return pd.DataFrame(rows, columns=header)


def _add_instrument(session: Session, project_id: int, name: str, kind: str, source: str | None,
                    spec: dict) -> Instrument:
    name = name.strip()
    if not name:
        raise CodeframeError("an instrument needs a name")
    if session.exec(select(Instrument).where(Instrument.project_id == project_id, Instrument.name == name)).first():
        raise CodeframeError(f"the project already has an instrument named {name!r}; nothing was imported "
                             "(choose another name, or delete it first)")
    row = Instrument(project_id=project_id, name=name, kind=kind, source=source, spec=spec)
    session.add(row)
    session.flush()
    return row


def _insert_responses(session: Session, instrument_id: int, rows: list[dict]) -> None:
    if rows:
        session.connection().execute(insert(InstrumentResponse.__table__),
                                     [{"instrument_id": instrument_id, **r} for r in rows])


def _instrument(session: Session, project: str, name: str | None, kind: str, *,
                responses: bool = True) -> tuple[Instrument, list]:
    """The named instrument of ``kind`` (``name=None``: the project's only one of that kind) and its responses."""
    row = queries.project_by_name(session, project)
    of_kind = session.exec(select(Instrument).where(Instrument.project_id == row.id, Instrument.kind == kind)
                           .order_by(Instrument.id)).all()
    found = next((i for i in of_kind if i.name == name), None) if name else (of_kind[0] if len(of_kind) == 1
                                                                              else None)
    if found is None:
        known = ", ".join(i.name for i in of_kind) or "none"
        what = f"{kind} instrument {name!r}" if name else f"single {kind} instrument (choose one by name)"
        raise NotFound(f"no {what} in project {project!r} (available: {known})")
    if not responses:
        return found, []
    rows = session.exec(  # plain rows (respondent, attributes, answers): no ORM identity map for 11,000
        select(InstrumentResponse.respondent, InstrumentResponse.attributes, InstrumentResponse.answers)
        .where(InstrumentResponse.instrument_id == found.id).order_by(InstrumentResponse.id)).all()
    return found, list(rows)


def list_instruments(engine: Engine, project: str = DEFAULT_PROJECT, *, kind: str | None = None) -> list[dict]:
    """Instruments of the project: name, kind, source file, respondents."""
    from sqlalchemy import func

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        query = (select(Instrument.name, Instrument.kind, Instrument.source, func.count(InstrumentResponse.id))
                 .join(InstrumentResponse, InstrumentResponse.instrument_id == Instrument.id, isouter=True)
                 .where(Instrument.project_id == row.id).group_by(Instrument.id).order_by(Instrument.id))
        if kind:
            query = query.where(Instrument.kind == kind)
        return [{"name": n, "kind": k, "source": s, "respondents": c} for n, k, s, c in session.exec(query).all()]


# --------------------------------------------------------------------------- surveys


def import_survey(engine: Engine, project: str = DEFAULT_PROJECT, file=None, *, name: str | None = None,
                  id_column: str | None = None, closed=(), open=(), documents: bool = True,  # noqa: A002
                  actor: str | None = None) -> InstrumentReport:
    """Import a survey file (CSV/XLSX), all or nothing; in team mode only an admin (``actor``) may.

    Every respondent's attributes and closed answers are stored with the survey; each
    non-blank open answer becomes a document named ``SURVEY/RESPONDENT`` (``/QUESTION`` with
    several open questions), one unit, whose attributes carry the attributes, the closed
    answers, ``survey`` and ``question``. ``documents=False`` keeps open answers as text only.
    """
    from coding.survey import parse_survey

    _require_team_admin_by_name(engine, project, actor, "import a survey")
    from coding.transcripts import content_hash

    if file is None:
        raise CodeframeError("no survey file given")
    filename, data = _read(file)
    survey = parse_survey(filename, data, id_column=id_column, closed=closed, open=open)
    name = (name or Path(filename).stem).strip()
    report = InstrumentReport(name=name, kind="survey", respondents=len(survey.rows))
    with Session(engine) as session:
        project_row = queries.project_by_name(session, project)
        spec = {"id_column": survey.id_column, "attributes": survey.attributes, "closed": survey.closed,
                "open": survey.open, "ranges": survey.ranges, "choices": survey.choices,
                "documents": documents}
        instrument = _add_instrument(session, project_row.id, name, "survey", filename, spec)
        docs = []
        if documents:
            several = len(survey.open) > 1
            existing = set(session.exec(select(Document.name).where(Document.project_id == project_row.id)).all())
            clashes = []
            for r in survey.rows:
                for question, text in r.open.items():
                    if not text:
                        continue
                    doc_name = f"{name}/{r.respondent}" + (f"/{question}" if several else "")
                    if doc_name in existing:
                        clashes.append(Problem(f"a document named {doc_name!r} is already in the project",
                                               file=filename, line=r.row, field=question))
                    docs.append({"project_id": project_row.id, "name": doc_name, "respondent": r.respondent,
                                 "attributes": {**r.attributes, **r.closed, "survey": name, "question": question},
                                 "text": text, "format": "survey", "encoding": "utf-8",
                                 "language": project_row.language, "sha256": content_hash(text),
                                 "imported": utcnow()})
            if clashes:
                raise CodeframeError("survey answers clash with documents already in the project; nothing was "
                                     "imported", clashes[:100])
        _insert_responses(session, instrument.id, [
            {"respondent": r.respondent, "attributes": r.attributes, "answers": {"closed": r.closed, "open": r.open}}
            for r in survey.rows])
        ids = _insert_document_rows(session, docs)
        _insert_unit_segments(session, ids, [d["text"] for d in docs])
        session.commit()
    report.documents = [d["name"] for d in docs]
    blank = sum(1 for r in survey.rows for t in r.open.values() if not t)
    if documents and survey.open:
        report.notes.append(f"{len(docs)} open answer(s) became documents; {blank} blank answer(s) were skipped")
    return report


def _insert_document_rows(session: Session, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    session.flush()
    table = Document.__table__
    connection = session.connection()
    if connection.dialect.insert_executemany_returning_sort_by_parameter_order:
        result = connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        return list(result.scalars())
    return [connection.execute(insert(table), r).inserted_primary_key[0] for r in rows]


def _insert_unit_segments(session: Session, document_ids: list[int], texts: list[str]) -> None:
    """One segment per open answer: the whole text, one unit of coding."""
    rows = [{"document_id": i, "position": 0, "turn_index": 0, "speaker": None, "role": "respondent",
             "is_unit": True, "start": 0, "end": len(t), "text": t, "time_start": None, "time_end": None}
            for i, t in zip(document_ids, texts)]
    for start in range(0, len(rows), 5000):
        session.connection().execute(insert(Segment.__table__), rows[start:start + 5000])


def survey_respondents(engine: Engine, project: str = DEFAULT_PROJECT, *,
                       survey: str | None = None) -> pd.DataFrame:
    """One row per respondent of a survey: id, attributes, closed answers."""
    with Session(engine) as session:
        instrument, responses = _instrument(session, project, survey, "survey")
        spec = dict(instrument.spec)
    columns = ["respondent", *spec["attributes"], *spec["closed"]]
    return pd.DataFrame([[r.respondent, *(r.attributes.get(a, "") for a in spec["attributes"]),
                          *(r.answers["closed"].get(q, "") for q in spec["closed"])] for r in responses],
                        columns=columns)


def survey_spec(engine: Engine, project: str = DEFAULT_PROJECT, *, survey: str | None = None) -> dict:
    with Session(engine) as session:
        instrument, _ = _instrument(session, project, survey, "survey", responses=False)
        return dict(instrument.spec)


def closed_question_table(engine: Engine, project: str = DEFAULT_PROJECT, *, survey: str | None = None,
                          questions=None, by: str | None = None) -> pd.DataFrame:
    """Share of respondents per answer (Wilson CI; every respondent in scope), overall or by ``by``."""
    from coding.survey import closed_shares

    spec = survey_spec(engine, project, survey=survey)
    respondents = survey_respondents(engine, project, survey=survey)
    chosen = list(questions or spec["closed"])
    unknown = [q for q in chosen if q not in spec["closed"]]
    if unknown:
        raise CodeframeError(f"no closed question {', '.join(map(repr, unknown))} in survey {survey!r} "
                             f"(closed questions: {', '.join(spec['closed']) or 'none'})")
    if by is not None and by not in respondents.columns[1:]:
        raise CodeframeError(f"no respondent attribute {by!r} in survey {survey!r} "
                             f"(attributes: {', '.join(respondents.columns[1:])})")
    orders = {q: [str(v) for v in range(lo, hi + 1)] for q, (lo, hi) in spec.get("ranges", {}).items()}
    orders.update(spec.get("choices", {}))
    return closed_shares(respondents, chosen, by=by, orders=orders)


# --------------------------------------------------------------------------- OCAI


def import_ocai(engine: Engine, project: str = DEFAULT_PROJECT, file=None, *, name: str = "ocai",
                mode: str = "reject", actor: str | None = None) -> InstrumentReport:
    """Import OCAI answers (CSV/XLSX, long: respondent, view, dimension, A-D or the type names, plus
    attribute columns), validated with ``mode`` reject | rescale, which is recorded with the rows it changed.
    In team mode only an admin (``actor``) may."""
    from coding import ocai

    _require_team_admin_by_name(engine, project, actor, "import OCAI answers")

    filename, data = _read(file)
    answers, attributes = ocai.read_answers_frame(_table(filename, data))
    scores = ocai.validate(answers, mode=mode, source=filename)
    attrs = {r["respondent"]: {k: v for k, v in r.items() if k != "respondent"}
             for r in attributes.to_dict("records")}
    answers_by: dict[str, dict] = {}
    for r in scores.table.to_dict("records"):
        answers_by.setdefault(r["respondent"], {}).setdefault(r["view"], {})[r["dimension"]] = [
            r[t] for t in ocai.TYPES]
    with Session(engine) as session:
        project_row = queries.project_by_name(session, project)
        instrument = _add_instrument(session, project_row.id, name, "ocai", filename,
                                     {"mode": mode, "rescaled": scores.rescaled})
        _insert_responses(session, instrument.id, [{"respondent": r, "attributes": attrs.get(r, {}), "answers": a}
                                                   for r, a in answers_by.items()])
        session.commit()
    notes = [ocai.validation_note(mode, len(scores.rescaled))]
    return InstrumentReport(name=name, kind="ocai", respondents=len(answers_by), notes=notes)


def ocai_report(engine: Engine, project: str = DEFAULT_PROJECT, *, name: str | None = None,
                by: str | None = None) -> OcaiReport:
    """Profiles (overall or by an attribute), per dimension, dominant type, congruence, discrepancy."""
    from coding import ocai

    with Session(engine) as session:
        instrument, responses = _instrument(session, project, name, "ocai")
        spec, name = dict(instrument.spec), instrument.name
        rows = [{"respondent": r.respondent, "view": view, "dimension": dimension, **dict(zip(ocai.TYPES, values))}
                for r in responses for view, dims in r.answers.items() for dimension, values in dims.items()]
        attributes = pd.DataFrame([{"respondent": r.respondent, **r.attributes} for r in responses])
    scores = ocai.Scores(table=pd.DataFrame(rows), mode=spec.get("mode", "reject"),
                         rescaled=list(spec.get("rescaled", [])))
    profiles = ocai.profile_table(scores, attributes=attributes, by=by)
    per_dimension = ocai.profile_table(scores, attributes=attributes, by=by, per_dimension=True)
    notes = [scores.notes[0], ocai.validation_note(scores.mode, len(scores.rescaled)), ocai.DISCREPANCY_NOTE]
    return OcaiReport(
        name=name, n=len(responses), mode=scores.mode, profiles=profiles, per_dimension=per_dimension,
        dominant=ocai.dominant_table(profiles), dominant_per_dimension=ocai.dominant_table(per_dimension),
        congruence=ocai.congruence_table(scores, attributes=attributes, by=by),
        discrepancy=ocai.discrepancy_table(profiles), respondents=ocai.respondent_profiles(scores),
        rescaled=scores.rescaled, notes=notes)


# --------------------------------------------------------------------------- sector scales


def import_scale(engine: Engine, project: str = DEFAULT_PROJECT, instrument_file=None, ratings_file=None, *,
                 name: str | None = None, actor: str | None = None) -> InstrumentReport:
    """Import a sector instrument (YAML) and its ratings (CSV/XLSX: respondent, statement, rating,
    plus attribute columns), all or nothing; in team mode only an admin (``actor``) may."""
    from coding import scales

    _require_team_admin_by_name(engine, project, actor, "import sector ratings")

    yaml_name, yaml_bytes = _read(instrument_file)
    try:
        text = yaml_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise scales.ScaleError(f"{yaml_name} is not UTF-8", [Problem(f"undecodable byte at offset {exc.start}",
                                                                      file=yaml_name)]) from None
    definition = scales.parse_instrument(text, source=yaml_name)
    ratings_name, data = _read(ratings_file)
    frame = _table(ratings_name, data)
    ratings = scales.validate_ratings(definition, frame, source=ratings_name)
    extra = [c for c in frame.columns if c not in ("respondent", "statement", "rating")]
    attrs = {}
    for r in frame.to_dict("records"):
        attrs.setdefault(str(r["respondent"]).strip(), {k: r[k] for k in extra})
    answers: dict[str, dict] = {}
    for r in ratings.to_dict("records"):
        answers.setdefault(r["respondent"], {})[r["statement"]] = int(r["rating"])
    name = name or definition.id
    with Session(engine) as session:
        project_row = queries.project_by_name(session, project)
        instrument = _add_instrument(session, project_row.id, name, "scale", ratings_name, {"yaml": text})
        _insert_responses(session, instrument.id, [{"respondent": r, "attributes": attrs.get(r, {}), "answers": a}
                                                   for r, a in answers.items()])
        session.commit()
    return InstrumentReport(name=name, kind="scale", respondents=len(answers))


def scale_report(engine: Engine, project: str = DEFAULT_PROJECT, *, name: str | None = None,
                 by: str | None = None) -> ScaleReport:
    """Mean, CI, band and bottleneck flag per sector (and group); mean per statement."""
    from coding import scales

    with Session(engine) as session:
        instrument, responses = _instrument(session, project, name, "scale")
        name = instrument.name
        definition = scales.parse_instrument(instrument.spec["yaml"], source=name)
        rows = [{"respondent": r.respondent, "statement": s, "rating": v} for r in responses
                for s, v in r.answers.items()]
        attributes = pd.DataFrame([{"respondent": r.respondent, **r.attributes} for r in responses])
    ratings = scales.validate_ratings(definition, pd.DataFrame(rows))
    table = scales.sector_table(definition, ratings, attributes=attributes, by=by)
    text = {s.id: s.text for sector in definition.sectors for s in sector.statements}
    statements = ratings.groupby(["sector", "statement"], sort=False)["rating"].agg(["count", "mean"]).reset_index()
    statements.insert(2, "text", statements["statement"].map(text))
    return ScaleReport(name=name, n=len(responses), table=table, statements=statements,
                       notes=list(table.attrs.get("notes", [])))


def instrument_attributes(engine: Engine, project: str = DEFAULT_PROJECT, *, name: str) -> list[str]:
    """The respondent attribute names of an instrument's responses, in first-seen order."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        found = session.exec(select(Instrument).where(Instrument.project_id == row.id,
                                                      Instrument.name == name)).first()
        if found is None:
            raise NotFound(f"no instrument {name!r} in project {project!r}")
        attributes = session.exec(select(InstrumentResponse.attributes)
                                  .where(InstrumentResponse.instrument_id == found.id).limit(200)).all()
    return list(dict.fromkeys(k for a in attributes for k in a))


def survey_columns(file) -> list[str]:
    """The header of a survey file (for choosing the closed and open columns before importing)."""
    from coding.survey import SurveyError, read_records

    name, data = _read(file)
    records = read_records(name, data)
    if not records:
        raise SurveyError(f"{name} has no header row")
    return [c for c in records[0][1] if c]


# --------------------------------------------------------------------------- exports and the sample


def tables_workbook(tables: dict[str, pd.DataFrame]) -> bytes:
    """Several tables as one XLSX (sheet per key), percent columns as Excel percentages."""
    from coding.safe_cells import harden_workbook
    from coding.xlsx import _excel_ready, _style, sanitize_sheet_name

    buffer = io.BytesIO()
    taken: set[str] = set()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for key, table in tables.items():
            sheet = sanitize_sheet_name(key, taken)
            _excel_ready(table).to_excel(writer, sheet_name=sheet, index=False)
            _style(writer.sheets[sheet], table)
            for offset, note in enumerate(table.attrs.get("notes", []), start=3):
                writer.sheets[sheet].cell(row=len(table) + offset, column=1, value=f"note: {note}")
        harden_workbook(writer.book)
    return buffer.getvalue()


def instruments_sample_dir() -> Path:
    return sample_corpus_dir() / SAMPLE_DIR


def load_instruments_sample(engine: Engine, project: str = DEFAULT_PROJECT) -> list[InstrumentReport]:
    """The synthetic instruments of ``corpus/instruments``: OCAI, sector ratings, the 11,000-row survey.

    The survey's open answers are kept as text, not made documents: the sample project's
    documents stay the 24 interviews, so Figure 1 keeps its denominator of 24. Import
    ``corpus/instruments/survey.csv`` into a project of its own to code them.
    """
    folder = instruments_sample_dir()
    if not (folder / "ocai.csv").exists():
        return []
    return [
        import_ocai(engine, project, folder / "ocai.csv", name="ocai", mode="reject"),
        import_scale(engine, project, folder / "sectors.yaml", folder / "sector_ratings.csv", name="sectors"),
        import_survey(engine, project, folder / "survey.csv", name="survey", documents=False,
                      closed=SAMPLE_CLOSED, open=SAMPLE_OPEN),
    ]


SAMPLE_CLOSED = ("mission_satisfaction=satisfied|more satisfied than dissatisfied|more dissatisfied than satisfied|"
                 "dissatisfied|hard to say", "integrity=high|medium|low", "initiative=high|medium|low")
SAMPLE_OPEN = ("open_change",)


def instrument_summary(engine: Engine, project: str = DEFAULT_PROJECT) -> dict[str, Any]:
    """Names of the project's instruments per kind (for the app's pickers)."""
    out: dict[str, Any] = {k: [] for k in KINDS}
    for row in list_instruments(engine, project):
        out.setdefault(row["kind"], []).append(row["name"])
    return out
