"""Inter-coder agreement from the database, and each coder's drift against the consensus."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding import review
from coding.database import queries
from coding.database.tables import (
    Adjudication,
    Assignment,
    Code,
    CodeFrame,
    Coder,
    Coding,
    FrameCoverage,
    Project,
    Segment,
    UnitMark,
)
from coding.errors import CodeframeError, NotFound
from coding.service.common import CONSENSUS, DEFAULT_PROJECT
from coding.service.scope import counted_coders, excluded, in_scope


def _frame_codes(session: Session, project: Project, frame: str) -> tuple[CodeFrame, list[Code]]:
    row = session.exec(select(CodeFrame).where(CodeFrame.project_id == project.id, CodeFrame.key == frame)).first()
    if row is None:
        raise NotFound(f"no code frame {frame!r} in this project")
    codes = session.exec(select(Code).where(Code.frame_id == row.id).order_by(Code.position)).all()
    return row, list(codes)


def _coder_universes(session: Session, project: Project, frame_row: CodeFrame, coders: Iterable[str],
                     units: "Any") -> dict[str, set[int]]:
    """The units each coder saw in a frame: every unit of each document they coded in the frame,
    finished the frame on (:func:`mark_done` with ``frames``), marked a unit 'nothing applies'
    in the frame, or were assigned for double coding. A unit such a coder left uncoded is a real
    'not applied'."""
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
    marked = select(UnitMark.coder_id, Segment.document_id).join(Segment, Segment.id == UnitMark.segment_id).where(
        UnitMark.frame_key == frame_row.key)  # read a unit and found nothing of the frame applies
    if CONSENSUS in worked:  # adjudicated units, 'nothing applies' included, are covered by the consensus
        worked[CONSENSUS] |= set(session.exec(select(Segment.document_id).join(
            Adjudication, Adjudication.segment_id == Segment.id).where(Adjudication.frame_id == frame_row.id)).all())
    for stmt in (finished, assigned, marked):
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

    Compares every coder but the consensus unless ``coders`` names them; ``model:<model id>`` among
    them is the suggestion model as a coder (:func:`model_codings`, over every unit a human coder
    saw; at the respondent level of an exclusive frame it is compared on each code's presence).
    Each coder's units are those of the documents they worked on in the frame (see
    :func:`_coder_universes`), so a
    segment a coder left uncoded counts as 'not applied', not as missing. At the respondent level,
    a respondent carries a code for a coder if any of their segments does (Figure 1's unit).
    Returns a :class:`coding.reliability.AgreementReport`.
    """
    from coding import reliability

    if unit not in ("segment", "respondent"):
        raise CodeframeError(f"unit must be 'segment' or 'respondent', not {unit!r}")
    import pandas as pd

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        frame_row, codes = _frame_codes(session, row, frame)
        skip_docs, skip_coders = excluded(session, row.id)
        df = in_scope(queries.codings_frame(session, row.id, frame=frame), skip_docs)
        units = in_scope(queries.units_frame(session, row.id), skip_docs)
        chosen = counted_coders(session, row, coders, skip_coders=skip_coders, passthrough=MODEL_CODER,
                                allow_consensus=True)
        humans = [c for c in chosen if not c.startswith(MODEL_CODER)]
        universes = _coder_universes(session, row, frame_row, humans, units)
    if not coders:  # the coders who double-coded the most; a pilot on two units does not join by default
        chosen = review.default_coders({c: u for c, u in universes.items() if u})
        universes = {c: universes[c] for c in chosen}
        humans = list(chosen)
    coverage = review.coverage_table(universes, dict(zip(units["segment_id"], units["respondent"])),
                                     df.rename(columns={"segment_id": "unit"}), humans)
    if len(chosen) < 2:
        raise CodeframeError(
            f"agreement needs at least two coders in frame {frame!r}; found {', '.join(chosen) or 'none'}"
        )
    long = df[df["coder"].isin(humans)].rename(columns={"segment_id": "unit"})[["unit", "coder", "code"]]
    seen = set().union(*universes.values()) if universes else set()
    for name in chosen:
        if name.startswith(MODEL_CODER):  # the suggestion model as a coder: what it would show, never stored
            found = model_codings(engine, project, frame=frame, model_id=name[len(MODEL_CODER):], segment_ids=seen)
            long = pd.concat([long, found.assign(coder=name)[["unit", "coder", "code"]]], ignore_index=True)
            universes[name] = set(seen)
    keys = [c.key for c in codes if c.active]
    # a model's forced choice gives most respondents several codes of an exclusive frame: compare presence
    by_presence = unit == "respondent" and len(humans) < len(chosen)
    if unit == "respondent":
        mapping = dict(zip(units["segment_id"], units["respondent"]))
        long, universes = reliability.presence_by_respondent(long, mapping, units_by_coder=universes)
    report = reliability.report_from_codings(
        long, codes=keys, units_by_coder=universes, coders=chosen,
        exclusive_frame=keys if frame_row.mutually_exclusive and not by_presence else None, unit=unit, level=level,
        n_boot=n_boot, seed=seed,
    )
    report.coverage = coverage
    from coding.service.codebook_versions import codebook_restructure_note

    note = codebook_restructure_note(engine, project, codes=keys)
    if note:  # codes merged or split during coding: earlier codings were re-pointed (issue 30)
        report.notes.append(note)
    return report


MODEL_CODER = "model:"  # a coder named "model:<model id>" is the suggestion model, zero-shot


def model_codings(engine: Engine, project: str, *, frame: str, model_id: str,
                  segment_ids: Iterable[int] | None = None) -> "Any":
    """What the suggestion model ``model_id`` would show on ``segment_ids`` (default: every unit) in
    ``frame``, as codings (columns ``unit``, ``code``): zero-shot from the codebook alone, so it learns
    nothing from the coders it is compared with. Forced choice in an exclusive frame, the codes at
    or above threshold (at most 3) otherwise. Nothing is written to the database."""
    import pandas as pd

    from coding.embeddings import load_embedder
    from coding.service.suggestions import (
        _code_objects,
        _code_part_embeddings,
        embed_units,
        frame_background_rows,
        frame_documents,
    )
    from coding.suggestions import SuggestionModel

    if not model_id:
        raise CodeframeError(f"name the model after {MODEL_CODER!r}, e.g. {MODEL_CODER}all-MiniLM-L6-v2")
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        frame_row, code_rows = _frame_codes(session, row, frame)
        in_frame = frame_documents(session, row, frame_row)
    embedder = load_embedder(model_id)
    units, matrix = embed_units(engine, project, embedder=embedder)
    background, _ = frame_background_rows(in_frame, units, frame)
    objects = _code_objects(code_rows)
    parts = _code_part_embeddings(engine, embedder, objects)
    model = SuggestionModel().fit_codes([c.id for c in objects], parts,
                                        exclusive=bool(frame_row.mutually_exclusive), background=matrix[background],
                                        expected_shares={c.id: c.expected_share for c in objects})
    wanted = None if segment_ids is None else {int(s) for s in segment_ids}
    rows = [i for i, s in enumerate(units["segment_id"]) if wanted is None or int(s) in wanted]
    ids = [int(units["segment_id"].iat[i]) for i in rows]
    found = model.suggest(ids, matrix[rows], top_k=3) if rows else []
    return pd.DataFrame({"unit": [s.segment_id for s in found], "code": [s.code for s in found]},
                        columns=["unit", "code"])


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
        skip_docs, skip_coders = excluded(session, row.id)
        df = in_scope(queries.codings_frame(session, row.id, frame=frame), skip_docs)
        df = df[~df["coder"].isin(skip_coders)]
        units = in_scope(queries.units_frame(session, row.id), skip_docs)
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
