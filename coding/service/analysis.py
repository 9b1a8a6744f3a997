"""The analysis facade: retrieve, search and code all hits, co-occurrence (one unit of work each).

Like :mod:`coding.service`: each public function opens one ``with Session(engine)``, reads through
:mod:`coding.database.queries`, hands the data to the pure modules (:mod:`coding.retrieve`,
:mod:`coding.search`, :mod:`coding.cooccurrence`) and returns plain data. Who may see what follows
the facade's rules: ``viewer`` None is the command line's "everything"; a coder in blind mode (or
on an unreleased double-coding document) sees only their own codings, a supervisor everyone's.
Memos, key quotes, the findings report and the codebook appendix are in :mod:`coding.service.analysis_report`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.database import queries
from coding.database.retry import retry_locked
from coding.database.tables import Assignment, Coding, Document, Project, Segment
from coding.errors import CodeframeError, NotFound, PermissionDenied
from coding.service.audit import BATCH_PREFIX
from coding.service.codebook import project_codebook
from coding.service.codings import _code, _IdRow, _upsert_coding
from coding.service.common import CONSENSUS, DEFAULT_PROJECT
from coding.service.permissions import _acting, _check_may_edit, _require_viewer, _visible_coder_ids
from coding.service.scope import excluded, in_scope, refuse_excluded
from coding.service.shares import default_share_coder
from coding.service.suggestions import _embed_cached, embed_units, embedder_for

ALL_CODERS = "*"  # retrieve: every coder the viewer may see
SEGMENT_COLUMNS = ["segment_id", "document_id", "document", "respondent", "position", "role", "speaker", "text",
                   "is_unit"]


# --------------------------------------------------------------------------- reads shared by the analyses


def segments_frame(session: Session, project_id: int, document_ids: Iterable[int] | None = None, *,
                   containing: str | None = None, around: Iterable[tuple[int, int]] | None = None,
                   width: int = 1) -> "Any":
    """Every segment (units and interviewer turns) with its document and respondent, in order.

    ``containing``: only segments whose text contains it, ignoring case (a pre-filter for search:
    the database compares case-insensitively for ASCII text on SQLite, any text on PostgreSQL).
    ``around``: (document id, position) pairs; only those segments and ``width`` either side.
    """
    import pandas as pd

    if around is not None:
        keys = sorted({(d, p + k) for d, p in around for k in range(-width, width + 1)})
        parts = [_segments(session, project_id, document_ids, containing=containing, pairs=keys[i:i + 5000])
                 for i in range(0, len(keys), 5000)] if keys else [_segments(session, project_id, [])]
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return _segments(session, project_id, document_ids, containing=containing)


def _segments(session: Session, project_id: int, document_ids, *, containing=None, pairs=None) -> "Any":
    import pandas as pd
    from sqlalchemy import select as core_select
    from sqlalchemy import tuple_

    segment, document = Segment.__table__.c, Document.__table__.c
    stmt = (
        core_select(segment.id, segment.document_id, document.name, document.respondent, segment.position,
                    segment.role, segment.speaker, segment.text, segment.is_unit)
        .join_from(Segment.__table__, Document.__table__, segment.document_id == document.id)
        .where(document.project_id == project_id)
    )
    if document_ids is not None:
        stmt = stmt.where(document.id.in_(list(document_ids)))
    if pairs is not None:
        stmt = stmt.where(tuple_(segment.document_id, segment.position).in_(pairs))
    if containing is not None:
        stmt = stmt.where(segment.text.ilike(f"%{_escape_like(containing)}%", escape="\\"))
    rows = session.connection().execute(stmt.order_by(document.name, segment.position)).all()  # Core: no ORM rows
    columns = list(zip(*rows)) if rows else [()] * len(SEGMENT_COLUMNS)  # by column: much faster than Row objects
    return pd.DataFrame(dict(zip(SEGMENT_COLUMNS, columns)), columns=SEGMENT_COLUMNS)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def respondent_attributes(session: Session, project_id: int) -> dict[str, dict]:
    """Respondent id -> attributes (merged over their documents), without reading the documents' text."""
    import json

    from sqlalchemy import Text, cast
    from sqlalchemy import select as core_select

    document = Document.__table__.c
    rows = session.connection().execute(
        core_select(document.respondent, cast(document.attributes, Text)).where(document.project_id == project_id)
        .order_by(document.name)).all()
    decoded = {text: json.loads(text) if text else {} for text in {t for _, t in rows}}  # few distinct values
    attributes: dict[str, dict] = {}
    for respondent, text in rows:
        attributes.setdefault(respondent, {}).update(decoded[text] or {})
    return attributes


def restricted(session: Session, row: Project, viewer: str | None) -> bool:
    """True when ``viewer`` may see only their own codings somewhere in the project."""
    if viewer is None:
        return False
    actor = queries.coder_by_name(session, row.id, viewer)
    if actor.role in ("supervisor", "admin"):
        return False
    if row.blind_mode:
        return True
    return any(not a.released for a in session.exec(select(Assignment)).all())


def chosen_coder(session: Session, row: Project, viewer: str | None, coder: str | None) -> str | None:
    """The coder whose codings an aggregate (co-occurrence, report) uses; a restricted viewer gets their own."""
    if restricted(session, row, viewer):
        if coder not in (None, viewer):
            raise PermissionDenied(f"{viewer} sees only their own codings here (blind coding): "
                                   f"ask a supervisor for {coder}'s")
        return viewer
    return coder


def visible_codings(session: Session, row: Project, codings: "Any", viewer: str | None) -> "Any":
    """The codings ``viewer`` may see, by the per-document rule of :func:`coding._visible_coder_ids`."""
    if viewer is None or codings.empty:
        return codings
    actor = queries.coder_by_name(session, row.id, viewer)
    names = {c.id: c.name for c in queries.coders_by_name(session, row.id).values()}
    allowed = {}
    for document_id in set(codings["document_id"]):
        ids = _visible_coder_ids(session, row, actor, int(document_id))
        allowed[int(document_id)] = None if ids is None else {names[i] for i in ids}
    keep = [allowed[int(d)] is None or c in allowed[int(d)] for d, c in zip(codings["document_id"], codings["coder"])]
    return codings[keep]


def _hierarchy(engine: Engine, project: str, codes: Sequence[str]):
    codebook = project_codebook(engine, project)
    unknown = [c for c in codes if c not in codebook]
    if unknown:
        raise NotFound(f"no code {unknown[0]!r} in this project's codebook")
    return codebook, {c: codebook.descendants(c) for c in codebook.code_ids}


def _exclusion_notes(skip_documents: set[int], skip_coders: set[str]) -> list[str]:
    """What an analysis left out, as lines for its filters or caption."""
    notes = [f"{len(skip_documents)} document(s) excluded from analysis"] if skip_documents else []
    return notes + ([f"excluded coders not counted: {', '.join(sorted(skip_coders))}"] if skip_coders else [])


# --------------------------------------------------------------------------- retrieve


def retrieve(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    codes: Sequence[str],
    mode: str = "any",
    where: Sequence[str] = (),
    coder: str | None = None,
    documents: Iterable[str] | None = None,
    context: int = 1,
    rollup: bool = True,
    viewer: str | None = None,
    base_url: str = "",
) -> "Any":
    """Segments carrying ``codes`` (any/all/none; sub-codes rolled up unless ``rollup`` is False),
    of respondents matching ``where`` (``ATTR=V``, ``ATTR=V1,V2``, ``ATTR!=V``), by ``coder``
    (default: the consensus, or the viewer's own codings in blind mode; :data:`ALL_CODERS`: every
    coder the viewer may see), with ``context`` units around.

    Returns the rows of :func:`coding.retrieve.retrieve` plus ``code_labels`` and ``link`` (the unit on
    the coding page, under ``base_url``); ``attrs`` holds the filters as text and the attribute names.
    """
    from coding import retrieve as rt

    conditions = rt.parse_where(where)
    codebook, hierarchy = _hierarchy(engine, project, codes)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        _require_viewer(row, viewer)
        skip_documents, skip_coders = excluded(session, row.id)
        if coder != ALL_CODERS:
            coder = chosen_coder(session, row, viewer, coder) or CONSENSUS
            queries.coder_by_name(session, row.id, coder)
            refuse_excluded([coder], skip_coders)
        counted = set().union(*rt.expand(codes, hierarchy, rollup).values())  # other codes never change the answer
        codings = queries.codings_frame(session, row.id, coders=None if coder == ALL_CODERS else [coder],
                                        codes=sorted(counted))
        codings = visible_codings(session, row, codings, viewer)
        codings = in_scope(codings, skip_documents)
        if coder == ALL_CODERS:
            codings = codings[~codings["coder"].isin(skip_coders)]
        coders = [coder] if coder != ALL_CODERS else sorted(set(codings["coder"]))
        attributes = respondent_attributes(session, row.id)
        rt.check_attributes(conditions, attributes)
        codings = codings[codings["respondent"].isin(rt.respondents_matching(attributes, conditions))]
        # "none" needs every unit; otherwise only the documents with a matching coding are read
        scope = None if mode == "none" else sorted({int(d) for d in codings["document_id"]})
        segments = in_scope(segments_frame(session, row.id, document_ids=scope), skip_documents)
    rows = rt.retrieve(codings, segments, attributes, codes, mode=mode, hierarchy=hierarchy, rollup=rollup,
                       where=conditions, documents=documents, width=context, coders=coders)
    labels = {c.id: c.label for c in codebook.codes()}
    rows["code_labels"] = ["; ".join(labels.get(c.strip(), c.strip()) for c in s.split(",") if c.strip())
                           for s in rows["codes"].fillna("")]
    rows["link"] = [rt.coding_page_link(d, s, base_url) for d, s in zip(rows["document_id"], rows["segment_id"])]
    rows.attrs["filters"] = [f"codes: {mode + ' of ' + ', '.join(codes) if len(codes) > 1 else codes[0]}"
                             + (" (without sub-codes)" if not rollup else ""),
                             f"coder: {'all visible' if coder == ALL_CODERS else coder}",
                             *[c.describe() for c in conditions], *_exclusion_notes(skip_documents, skip_coders)]
    rows.attrs["attributes"] = sorted({k for a in attributes.values() for k in a})
    return rows


# --------------------------------------------------------------------------- search


def search(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    pattern: str,
    mode: str = "plain",
    case_sensitive: bool = False,
    include_interviewer: bool = False,
    context: int = 1,
    documents: Iterable[str] | None = None,
) -> "Any":
    """Text search over every transcript (respondent turns only unless ``include_interviewer``)."""
    from coding import search as sr

    regex = sr.compile_pattern(pattern, mode=mode, case_sensitive=case_sensitive)  # refuse a bad pattern first
    # the database pre-filters plain and whole-word searches; SQLite folds case for ASCII only
    literal = pattern.strip() if mode != "regex" and (pattern.isascii() or engine.dialect.name != "sqlite") else None
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        if literal is None:
            segments = around = segments_frame(session, row.id)
            skip_documents, _ = excluded(session, row.id)
        else:
            segments = segments_frame(session, row.id, containing=literal)
            found = [(int(d), int(p)) for d, p, t in zip(segments["document_id"], segments["position"],
                                                            segments["text"]) if regex.search(t)]
            around = segments_frame(session, row.id, around=found, width=context) if context else segments
        skip_documents, _ = excluded(session, row.id)
    segments = in_scope(segments, skip_documents)
    if documents is not None:
        segments = segments[segments["document"].isin(set(documents))]
    return sr.search(segments, pattern, mode=mode, case_sensitive=case_sensitive,
                     include_interviewer=include_interviewer, width=context, context_from=around)


def similar_units(engine: Engine, project: str = DEFAULT_PROJECT, *, text: str, k: int = 20,
                  embedder=None) -> "Any":
    """Units like ``text``: nearest by embedding, from the cached unit embeddings (best first)."""
    from coding import search as sr

    if not text or not text.strip():
        raise CodeframeError("give a sentence to search for")
    embedder = embedder or embedder_for(engine, project)
    units, matrix = embed_units(engine, project, embedder=embedder)
    query = _embed_cached(engine, embedder, [text.strip()])[0]
    index, similarity = sr.nearest(matrix, query, k=k)
    out = units.iloc[index].reset_index(drop=True)
    out.insert(0, "similarity", similarity)
    return out


# --------------------------------------------------------------------------- code all hits


@dataclass
class BatchPreview:
    code: str
    coder: str
    apply: list[int] = field(default_factory=list)  # unit ids that will get the code
    already: list[int] = field(default_factory=list)  # units that carry it already
    not_units: list[int] = field(default_factory=list)  # interviewer turns etc.: not codable


@dataclass
class BatchResult:
    batch: str  # the reason every event of the batch carries in the history
    applied: int
    already: int
    not_units: int


def preview_code_hits(engine: Engine, project: str = DEFAULT_PROJECT, *, segment_ids: Iterable[int], code: str,
                      coder: str, actor: str | None = None) -> BatchPreview:
    """What :func:`code_hits` would do: which hit units get the code, which already carry it.

    Only who may code as ``coder`` sees this (``actor``, named in team mode: it tells ``coder``'s codings).
    """
    wanted = list(dict.fromkeys(int(s) for s in segment_ids))
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        _check_may_edit(_acting(session, row, actor, target), target, "hand")
        code_row = _code(session, row, code)
        units = set(session.exec(select(Segment.id).join(Document, Segment.document_id == Document.id).where(
            Document.project_id == row.id, Segment.id.in_(wanted), Segment.is_unit == True)).all())  # noqa: E712
        missing = set(wanted) - set(session.exec(select(Segment.id).join(
            Document, Segment.document_id == Document.id).where(
            Document.project_id == row.id, Segment.id.in_(wanted))).all())
        if missing:
            raise NotFound(f"no segment with id {min(missing)} in this project")
        coded = set(session.exec(select(Coding.segment_id).where(
            Coding.code_id == code_row.id, Coding.coder_id == target.id, Coding.segment_id.in_(wanted))).all())
    preview = BatchPreview(code=code, coder=coder)
    for s in wanted:
        (preview.not_units if s not in units else preview.already if s in coded else preview.apply).append(s)
    return preview


@retry_locked
def code_hits(engine: Engine, project: str = DEFAULT_PROJECT, *, segment_ids: Iterable[int], code: str,
              coder: str, actor: str | None = None, label: str = "") -> BatchResult:
    """Apply ``code`` to every hit unit in ONE transaction, logged as one batch in the history.

    Every history event of the batch carries the reason ``batch <id>: <label>``, and
    ``codeframe undo`` (:func:`coding.service.audit.undo`) reverts the whole batch as one step.
    """
    preview = preview_code_hits(engine, project, segment_ids=segment_ids, code=code, coder=coder, actor=actor)
    batch = f"{BATCH_PREFIX}{secrets.token_hex(4)}: {label or 'code all hits'} ({len(preview.apply)} units)"
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        acting = _acting(session, row, actor, target)
        _check_may_edit(acting, target, "hand")
        code_row = _code(session, row, code)
        for segment_id in preview.apply:
            _upsert_coding(session, row, _IdRow(segment_id), code_row, target, acting, source="hand",
                                   score=None, model_id=None, memo=None, reason=batch)
        session.commit()
    return BatchResult(batch=batch, applied=len(preview.apply), already=len(preview.already),
                       not_units=len(preview.not_units))


# --------------------------------------------------------------------------- co-occurrence


def cooccurrence(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    frames: Sequence[str],
    unit: str = "segment",
    coder: str | None = None,
    viewer: str | None = None,
) -> "Any":
    """Code x code matrix of one frame (or the first frame's codes against the second's), counts and Jaccard.

    ``coder`` defaults to the consensus when it has coded, else the only coder (as shares do).
    ``attrs``: unit, coder, and ``codings`` (the long table behind it, for :func:`cooccurrence_members`).
    """
    from coding import cooccurrence as co

    if not frames or len(frames) > 2:
        raise CodeframeError("give one or two frames")
    codebook = project_codebook(engine, project)
    keys = []
    for frame in frames:
        try:
            keys.append([c.id for c in codebook.frame(frame).codes])
        except Exception:
            raise NotFound(f"no code frame {frame!r} in this project") from None
    hierarchy = {c: codebook.descendants(c) for c in codebook.code_ids}
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        coder = chosen_coder(session, row, viewer, coder)
        codings = queries.codings_frame(session, row.id)
        codings = codings[codings["frame"].isin(set(frames))]
        skip_documents, skip_coders = excluded(session, row.id)
        codings = in_scope(codings, skip_documents)
    refuse_excluded([coder] if coder else [], skip_coders)
    chosen = coder or default_share_coder(codings[~codings["coder"].isin(skip_coders)], frames[0])
    mine = codings[codings["coder"] == chosen][["segment_id", "respondent", "code", "document", "text"]]
    labels = {c.id: c.label for c in codebook.codes()}
    table = co.cooccurrence(mine, keys[0], keys[1] if len(keys) == 2 else None, unit=unit, labels=labels,
                            hierarchy=hierarchy)
    table.attrs.update({"unit": unit, "coder": chosen, "codings": mine, "hierarchy": hierarchy,
                        "excluded": _exclusion_notes(skip_documents, skip_coders)})
    return table


def cooccurrence_members(table: "Any", code_a: str, code_b: str) -> "Any":
    """The units (document, respondent, text) or respondents behind one cell of :func:`cooccurrence`."""
    import pandas as pd

    from coding import cooccurrence as co

    codings, unit = table.attrs["codings"], table.attrs["unit"]
    found = co.members(codings, code_a, code_b, unit=unit, hierarchy=table.attrs["hierarchy"])
    if unit == "respondent":
        return pd.DataFrame({"respondent": found})
    units = codings.drop_duplicates("segment_id").set_index("segment_id")
    return units.loc[found, ["document", "respondent", "text"]].reset_index()
