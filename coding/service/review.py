"""The supervisor's review: disagreements over chosen coders, coverage, exclusions, removal, history.

One ``with Session(engine)`` per unit of work; the rules themselves are the pure functions of
:mod:`coding.review`, what is in scope comes from :mod:`coding.service.scope`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Sequence

from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding import review
from coding.database import queries
from coding.database.tables import (
    Adjudication,
    Assignment,
    AuthEvent,
    Coder,
    Coding,
    CodingEvent,
    Document,
    DocumentProgress,
    Exclusion,
    FrameCoverage,
    Memo,
    ProjectEvent,
    Segment,
    Selection,
    SuggestionFeedback,
    UnitMark,
    UserSession,
)
from coding.errors import CodeframeError, NotFound, PermissionDenied
from coding.service.agreement import _coder_universes, _frame_codes
from coding.service.common import CONSENSUS
from coding.service.permissions import _require_supervisor, _require_viewer
from coding.service.scope import counted_coders, excluded, in_scope

DISAGREEMENT_VIEWS = ("all", "undecided", "decided")
KINDS = ("document", "coder")


# --------------------------------------------------------------------------- scope of analysis


def visible_coders(engine: Engine, project: str, viewer: str | None) -> list[str] | None:
    """Whose codings ``viewer`` may see in counts, quotes, shares and exports: None means everyone's.

    In blind mode a coder sees only their own; supervisors and admins see all. Without a
    viewer (local single-user mode) everything is visible; in team mode a viewer must be named.
    """
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        _require_viewer(row, viewer)
        if viewer is None:
            return None
        actor = queries.coder_by_name(session, row.id, viewer)
        if actor.role in ("supervisor", "admin") or not row.blind_mode:
            return None
        return [actor.name]


def unit_numbers(units) -> dict[int, int]:
    """segment id -> its 1-based number among the units of its document (the coding page's 'Unit N')."""
    ordered = units.sort_values(["document_id", "position"])
    return dict(zip(ordered["segment_id"], ordered.groupby("document_id").cumcount() + 1))


# --------------------------------------------------------------------------- disagreements


@dataclass
class DisagreementReport:
    frame: str
    coders: list[str]
    compared: int  # units covered by at least two of the coders
    covered: dict[str, int]  # coder -> units covered
    items: list[dict] = field(default_factory=list)
    total: int = 0  # disagreements before the decided/undecided filter
    decided: int = 0

    def summary(self) -> str:
        who = ", ".join(f"{c} ({self.covered.get(c, 0)} units)" for c in self.coders)
        return (f"{self.total} disagreement(s) in {self.compared} units compared (covered by at least two of "
                f"{who}); {self.decided} decided, {self.total - self.decided} undecided")


def disagreement_report(
    engine: Engine, project: str, *, frame: str, coders: Sequence[str] | None = None, actor: str | None = None,
    show: str = "all",
) -> DisagreementReport:
    """Every unit at least two of the chosen coders covered and on which they differ, side by side.

    ``coders``: two or more; default: the coders who double-coded the most
    (:func:`coding.review.default_coders`), excluded coders left out. ``show``: all, undecided
    or decided (a 'nothing applies' adjudication is a decision). Supervisors only with ``actor``.
    """
    if show not in DISAGREEMENT_VIEWS:
        raise CodeframeError(f"show must be one of {', '.join(DISAGREEMENT_VIEWS)}, not {show!r}")
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        if actor is not None:
            _require_supervisor(session, row, actor)
        frame_row, _ = _frame_codes(session, row, frame)
        skip_docs, skip_coders = excluded(session, row.id)
        df = in_scope(queries.codings_frame(session, row.id, frame=frame), skip_docs)
        units = in_scope(queries.units_frame(session, row.id), skip_docs)
        candidates = counted_coders(session, row, coders, skip_coders=skip_coders)
        chosen = candidates if coders else None
        universes = _coder_universes(session, row, frame_row, candidates, units)
        decided_ids = set(session.exec(
            select(Adjudication.segment_id).where(Adjudication.frame_id == frame_row.id)).all())
        reasons = dict(session.exec(select(Adjudication.segment_id, Adjudication.reason)
                                    .where(Adjudication.frame_id == frame_row.id)).all())
    if chosen is None:
        chosen = review.default_coders({c: u for c, u in universes.items() if u})
    if len(chosen) < 2:
        raise CodeframeError(f"disagreements need two or more coders in frame {frame!r}; "
                             f"found {', '.join(chosen) or 'none'}")
    text = dict(zip(units["segment_id"], units["text"]))
    where = {s: (d, p) for s, d, p in zip(units["segment_id"], units["document"], units["position"])}
    numbers = unit_numbers(units)
    decisions: dict[int, dict[str, dict[str, str | None]]] = defaultdict(lambda: defaultdict(dict))
    for r in df.itertuples(index=False):
        decisions[r.segment_id][r.coder][r.code] = r.memo
    compared, differing = review.unit_disagreements(decisions, universes, chosen, order=where)
    report = DisagreementReport(frame=frame, coders=list(chosen), compared=len(compared),
                                covered={c: len(universes.get(c, ())) for c in chosen})
    for segment_id, who in differing:
        consensus = dict(decisions[segment_id].get(CONSENSUS, {}))
        decided = bool(consensus) or segment_id in decided_ids
        report.total += 1
        report.decided += decided
        if (show == "decided" and not decided) or (show == "undecided" and decided):
            continue
        document, position = where[segment_id]
        report.items.append({
            "segment_id": int(segment_id), "document": document, "position": int(position),
            "unit": int(numbers[segment_id]), "text": text[segment_id],
            "coders": {c: dict(decisions[segment_id].get(c, {})) for c in who},
            "consensus": consensus, "decided": decided, "reason": reasons.get(segment_id),
        })
    return report


def coder_coverage(engine: Engine, project: str, *, frame: str, coders: Sequence[str]):
    """Each coder's coverage in a frame: units and respondents covered, codings made (a DataFrame)."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        frame_row, _ = _frame_codes(session, row, frame)
        skip_docs, skip_coders = excluded(session, row.id)
        coders = counted_coders(session, row, coders, skip_coders=skip_coders)
        df = in_scope(queries.codings_frame(session, row.id, frame=frame), skip_docs)
        units = in_scope(queries.units_frame(session, row.id), skip_docs)
        universes = _coder_universes(session, row, frame_row, coders, units)
    respondent_of = dict(zip(units["segment_id"], units["respondent"]))
    return review.coverage_table(universes, respondent_of, df.rename(columns={"segment_id": "unit"}), coders)


# --------------------------------------------------------------------------- exclusions, removal, history


def _require_manager(session: Session, row, actor: str | None) -> Coder | None:
    """Admins only in team mode; otherwise a named actor must be a supervisor or an admin."""
    if row.team_mode:
        if actor is None:
            raise PermissionDenied("team mode is on: sign in as an admin (--as NAME) to change what is analysed")
        acting = queries.coder_by_name(session, row.id, actor)
        if acting.role != "admin":
            raise PermissionDenied(f"{actor} is a {acting.role}: in team mode only admins change what is analysed")
        return acting
    if actor is None:
        return None
    acting = queries.coder_by_name(session, row.id, actor)
    if acting.role not in ("supervisor", "admin"):
        raise PermissionDenied(f"{actor} is a {acting.role}: only supervisors and admins change what is analysed")
    return acting


def _target(session: Session, row, kind: str, name: str) -> int:
    if kind not in KINDS:
        raise CodeframeError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if kind == "document":
        found = session.exec(select(Document.id).where(Document.project_id == row.id, Document.name == name)).first()
        if found is None:
            raise NotFound(f"no document named {name!r} in this project")
        return found
    coder = queries.coder_by_name(session, row.id, name)
    if coder.is_consensus:
        raise CodeframeError("the consensus cannot be excluded; exclude the documents or coders behind it")
    return coder.id


def set_excluded(engine: Engine, project: str, *, kind: str, name: str, excluded: bool = True,
                 actor: str | None = None, reason: str | None = None) -> bool:
    """Exclude a document or coder from analysis (or bring it back); True when something changed.

    Nothing is deleted: shares, agreement and disagreements leave it out until it is included
    again. Every change is appended to the project history.
    """
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        acting = _require_manager(session, row, actor)
        target_id = _target(session, row, kind, name)
        existing = session.exec(select(Exclusion).where(
            Exclusion.project_id == row.id, Exclusion.kind == kind, Exclusion.target_id == target_id)).first()
        if excluded == (existing is not None):
            return False
        if excluded:
            session.add(Exclusion(project_id=row.id, kind=kind, target_id=target_id, reason=reason,
                                  actor_id=acting.id if acting else None))
        else:
            session.delete(existing)
        session.add(ProjectEvent(project_id=row.id, actor_id=acting.id if acting else None,
                                 action="exclude" if excluded else "include", kind=kind, target=name, reason=reason))
        session.commit()
        return True


def exclusions(engine: Engine, project: str) -> dict[str, list[str]]:
    """Names of the excluded documents and coders."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        doc_ids, coder_names = excluded(session, row.id)
        docs = sorted(session.exec(select(Document.name).where(Document.id.in_(doc_ids))).all()) if doc_ids else []
    return {"document": docs, "coder": sorted(coder_names)}


def removal_preview(engine: Engine, project: str, *, document: str) -> dict[str, Any]:
    """What removing a document takes with it: its units, every coder's codings on it, their history."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        doc_id = _target(session, row, "document", document)
        return _preview(session, row.id, doc_id, document)


def _preview(session: Session, project_id: int, doc_id: int, name: str) -> dict[str, Any]:
    seg_ids = select(Segment.id).where(Segment.document_id == doc_id)
    by_coder = queries.codings_per_coder(session, project_id, segment_ids=seg_ids)
    events = session.exec(select(func.count(CodingEvent.id)).where(CodingEvent.segment_id.in_(seg_ids))).one()
    segments = session.exec(select(func.count(Segment.id)).where(Segment.document_id == doc_id)).one()
    codings = sum(by_coder.values())
    who = ", ".join(f"{c} {n}" for c, n in sorted(by_coder.items())) or "none"
    return {
        "document": name, "segments": int(segments), "codings": int(codings), "codings_by_coder": by_coder,
        "history_events": int(events),
        "message": (f"removing {name} deletes its {segments} segments, {codings} codings ({who}) and their "
                    f"{events} history events; excluding it instead keeps everything"),
    }


def remove_document(engine: Engine, project: str, *, document: str, actor: str | None = None,
                    confirm: bool = False) -> dict[str, Any]:
    """Delete a document with everything attached to it; refused unless ``confirm`` (the refusal says
    what would go). The removal, with those counts, is appended to the project history."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        acting = _require_manager(session, row, actor)
        doc_id = _target(session, row, "document", document)
        preview = _preview(session, row.id, doc_id, document)
        if not confirm:
            raise CodeframeError(f"not removed: {preview['message']}. Confirm to remove it.")
        seg_ids = select(Segment.id).where(Segment.document_id == doc_id)
        for stmt in (
            delete(Adjudication).where(Adjudication.segment_id.in_(seg_ids)),
            delete(SuggestionFeedback).where(SuggestionFeedback.segment_id.in_(seg_ids)),
            delete(CodingEvent).where(CodingEvent.segment_id.in_(seg_ids)),
            delete(Coding).where(Coding.segment_id.in_(seg_ids)),
            delete(Selection).where(Selection.document_id == doc_id),
            delete(UnitMark).where(UnitMark.segment_id.in_(seg_ids)),
            delete(Memo).where(Memo.target_kind == "segment", Memo.target_id.in_(seg_ids)),
            delete(Memo).where(Memo.target_kind == "document", Memo.target_id == doc_id),
            delete(FrameCoverage).where(FrameCoverage.document_id == doc_id),
            delete(Assignment).where(Assignment.document_id == doc_id),
            delete(DocumentProgress).where(DocumentProgress.document_id == doc_id),
            delete(Exclusion).where(Exclusion.kind == "document", Exclusion.target_id == doc_id),
            delete(Segment).where(Segment.document_id == doc_id),
            delete(Document).where(Document.id == doc_id),
        ):
            session.execute(stmt)
        detail = {k: preview[k] for k in ("segments", "codings", "codings_by_coder", "history_events")}
        session.add(ProjectEvent(project_id=row.id, actor_id=acting.id if acting else None, action="remove",
                                 kind="document", target=document, detail=detail))
        session.commit()
        return preview


def _coder_preview(session: Session, coder: Coder) -> dict[str, Any]:
    codings = session.exec(select(func.count(Coding.id)).where(Coding.coder_id == coder.id)).one()
    events = session.exec(select(func.count(CodingEvent.id)).where(CodingEvent.coder_id == coder.id)).one()
    docs = session.exec(select(func.count(func.distinct(Segment.document_id))).join(
        Coding, Coding.segment_id == Segment.id).where(Coding.coder_id == coder.id)).one()
    return {
        "coder": coder.name, "codings": int(codings), "documents": int(docs), "history_events": int(events),
        "message": (f"removing coder {coder.name} deletes their {codings} codings on {docs} documents and their "
                    f"{events} history events; excluding them instead keeps everything"),
    }


def coder_removal_preview(engine: Engine, project: str, *, coder: str) -> dict[str, Any]:
    """What removing a coder takes with it: their codings and the history of those codings."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = session.get(Coder, _target(session, row, "coder", coder))
        return _coder_preview(session, target)


def remove_coder(engine: Engine, project: str, *, coder: str, actor: str | None = None,
                 confirm: bool = False) -> dict[str, Any]:
    """Delete a coder (a pilot or test account) with their codings and their history; refused unless
    ``confirm``. Changes they made to others' codings stay in the history without their name."""
    from sqlalchemy import update

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        acting = _require_manager(session, row, actor)
        target = session.get(Coder, _target(session, row, "coder", coder))
        if acting is not None and acting.id == target.id:
            raise CodeframeError("you cannot remove yourself")
        if target.role == "admin":
            raise CodeframeError(f"{coder} is an admin: change their role first (codeframe user role)")
        preview = _coder_preview(session, target)
        if not confirm:
            raise CodeframeError(f"not removed: {preview['message']}. Confirm to remove them.")
        for stmt in (
            delete(CodingEvent).where(CodingEvent.coder_id == target.id),
            delete(Coding).where(Coding.coder_id == target.id),
            delete(Selection).where(Selection.coder_id == target.id),
            delete(UnitMark).where(UnitMark.coder_id == target.id),
            delete(Memo).where(Memo.coder_id == target.id),
            delete(SuggestionFeedback).where(SuggestionFeedback.coder_id == target.id),
            delete(FrameCoverage).where(FrameCoverage.coder_id == target.id),
            delete(Assignment).where(Assignment.coder_id == target.id),
            delete(DocumentProgress).where(DocumentProgress.coder_id == target.id),
            delete(Exclusion).where(Exclusion.kind == "coder", Exclusion.target_id == target.id),
            update(CodingEvent).where(CodingEvent.actor_id == target.id).values(actor_id=None),
            update(Adjudication).where(Adjudication.actor_id == target.id).values(actor_id=None),
            update(Exclusion).where(Exclusion.actor_id == target.id).values(actor_id=None),
            update(ProjectEvent).where(ProjectEvent.actor_id == target.id).values(actor_id=None),
            delete(UserSession).where(UserSession.coder_id == target.id),  # their sessions end with them
            update(AuthEvent).where(AuthEvent.coder_id == target.id).values(coder_id=None),  # the name stays
            update(AuthEvent).where(AuthEvent.actor_id == target.id).values(actor_id=None),
            delete(Coder).where(Coder.id == target.id),
        ):
            session.execute(stmt)
        detail = {k: preview[k] for k in ("codings", "documents", "history_events")}
        session.add(ProjectEvent(project_id=row.id, actor_id=acting.id if acting else None, action="remove",
                                 kind="coder", target=coder, detail=detail))
        session.commit()
        return preview


def project_history(engine: Engine, project: str):
    """The project history of exclusions, inclusions and removals (a DataFrame, oldest first)."""
    import pandas as pd

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        names = {c.id: c.name for c in session.exec(select(Coder).where(Coder.project_id == row.id))}
        events = session.exec(select(ProjectEvent).where(ProjectEvent.project_id == row.id)
                              .order_by(ProjectEvent.at, ProjectEvent.id)).all()
        rows = [{"at": e.at, "actor": names.get(e.actor_id), "action": e.action, "kind": e.kind, "target": e.target,
                 "reason": e.reason, "detail": e.detail} for e in events]
    return pd.DataFrame(rows, columns=["at", "actor", "action", "kind", "target", "reason", "detail"])


# --------------------------------------------------------------------------- share downloads


def share_csv(report) -> str:
    """The CSV the Shares page offers: the crosstab with its group sizes when the report has one, else the
    share table; both carry the coverage of the coder counted."""
    from coding.safe_cells import csv_text

    return csv_text(report.crosstab if report.crosstab is not None else report.table)


def share_xlsx(report, *, by: str | None = None) -> bytes:
    """The workbook: shares, the crosstab, the case x code matrix and the counted coder's quotes only."""
    from coding import xlsx

    crosstabs = {f"By {by}": report.crosstab} if by and report.crosstab is not None else {}
    quotes = report.quotes[report.quotes["coder"] == report.coder]
    return xlsx.share_workbook(shares=report.table, crosstabs=crosstabs, matrix=report.matrix, quotes=quotes)
