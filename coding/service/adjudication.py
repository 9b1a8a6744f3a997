"""Blind double coding (assign, release) and adjudication of disagreements into the consensus."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.database import queries
from coding.database.retry import retry_locked
from coding.database.tables import Adjudication, Assignment, Coder, Coding, Document, utcnow
from coding.errors import CodeframeError, NotFound
from coding.service.agreement import _frame_codes
from coding.service.codings import _log, _upsert_coding, snapshot
from coding.service.common import CONSENSUS, DEFAULT_PROJECT
from coding.service.permissions import _require_supervisor
from coding.service.review import disagreement_report


@retry_locked
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


@retry_locked
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
    actor: str | None = None, show: str = "all",
) -> list[dict]:
    """The disagreements of :func:`coding.service.review.disagreement_report` (its ``items``): every unit
    at least two of the chosen coders covered and on which they differ, with the consensus so far."""
    return disagreement_report(engine, project, frame=frame, coders=coders, actor=actor, show=show).items


@retry_locked
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
                _log(session, row.id, coding, "remove", before=snapshot(coding), after=None, actor_id=acting.id,
                     reason=reason, source="adjudication")
                session.delete(coding)
        have = {key_of[c.code_id] for c in current}
        for key in sorted(wanted - have):
            _upsert_coding(session, row, segment, by_key[key], consensus, acting, source="adjudication",
                           score=None, model_id=None, memo=None, reason=reason)
        decision = session.exec(select(Adjudication).where(
            Adjudication.segment_id == segment.id, Adjudication.frame_id == frame_row.id)).first()
        if decision is None:  # also 'no code of this frame': a decision, shown and counted as decided
            decision = Adjudication(segment_id=segment.id, frame_id=frame_row.id)
        decision.actor_id, decision.reason, decision.at = acting.id, reason, utcnow()
        session.add(decision)
        session.commit()
        return sorted(wanted)
