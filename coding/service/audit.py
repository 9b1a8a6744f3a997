"""The append-only history of coding changes: read, export, undo."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.database import queries
from coding.database.retry import retry_locked
from coding.database.tables import Code, Coder, Coding, CodingEvent, Project, utcnow
from coding.errors import CodeframeError, PermissionDenied, Problem
from coding.roles import may_see_others
from coding.service.codings import _insert_coding_or_skip, snapshot
from coding.service.common import DEFAULT_PROJECT
from coding.service.permissions import _acting, _check_may_edit, _require_viewer


def history(engine: Engine, project: str = DEFAULT_PROJECT, *, coder: str | None = None,
            viewer: str | None = None) -> "Any":
    """The append-only history of coding changes as a DataFrame (oldest first).

    In team mode ``viewer`` must be named: a coder reads the history of their own codings only.
    """
    import pandas as pd

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        coder = _history_coder(session, row, viewer, coder)
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
            columns=["id", "at", "segment_id", "code", "coder", "actor", "action", "source", "before", "after",
                     "reason"],
        )


def _history_coder(session: Session, row, viewer: str | None, coder: str | None) -> str | None:
    """Whose history ``viewer`` may read: in team mode a coder reads only their own."""
    _require_viewer(row, viewer)
    if not row.team_mode or may_see_others(queries.coder_by_name(session, row.id, viewer).role):
        return coder
    if coder not in (None, viewer):
        raise PermissionDenied(f"{viewer} reads only the history of their own codings; ask a supervisor")
    return viewer


UNDOABLE_ACTIONS = ("add", "remove", "memo")
_UNDO_REASON = "undo of event #{}"
BATCH_PREFIX = "batch "  # reason of every event of one batch ("code all hits"): undone as one step


def _undone_event_ids(events: Iterable[CodingEvent]) -> set[int]:
    import re

    pattern = re.compile(r"^undo of event #(\d+)")
    return {int(m.group(1)) for e in events if e.action == "undo" and (m := pattern.match(e.reason or ""))}


def _absent_coding_locked(session: Session, event: CodingEvent) -> Coding | None:
    """On PostgreSQL, make "there is no such coding" hold until this transaction ends.

    ``SELECT ... FOR UPDATE`` locks nothing when the row does not exist, so a concurrent add could
    commit between the read and the undo event, which would then record a state that never was.
    Inserting the key and deleting it again holds its unique-index entry instead: a concurrent add
    waits for us. If the insert finds a coding, that coding is returned, locked; if that coding was
    replaced meanwhile (deleted and inserted again by one transaction, which this statement's
    snapshot cannot see yet), try again until one of the two holds.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return None  # SQLite transactions start with BEGIN IMMEDIATE: writers are already serialised
    for _ in range(_HOLD_ATTEMPTS):
        now = utcnow()
        placeholder = connection.execute(_insert_coding_or_skip("postgresql"), {
            "segment_id": event.segment_id, "code_id": event.code_id, "coder_id": event.coder_id,
            "source": event.source or "hand", "score": None, "model_id": None, "memo": None,
            "created": now, "updated": now,
        }).scalar()
        if placeholder is not None:
            connection.execute(delete(Coding.__table__).where(Coding.__table__.c.id == placeholder))
            return None
        found = queries.coding_for_update(session, event.segment_id, event.code_id, event.coder_id)
        if found is not None:
            return found
    raise CodeframeError(f"the coding of segment {event.segment_id} kept changing while it was being undone; "
                         "nothing was changed, try the undo again")


_HOLD_ATTEMPTS = 50


def _revert_event(session: Session, project: Project, event: CodingEvent, acting: Coder) -> None:
    """Apply the inverse of one add/remove/memo event and log it as an 'undo' event."""
    current = queries.coding_for_update(session, event.segment_id, event.code_id, event.coder_id)
    if current is None:
        current = _absent_coding_locked(session, event)
    before = snapshot(current) if current is not None else None
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
    after = snapshot(current) if current is not None else None
    session.add(CodingEvent(
        project_id=project.id, segment_id=event.segment_id, code_id=event.code_id, coder_id=event.coder_id,
        actor_id=acting.id, action="undo", source=(after or before or {}).get("source") or event.source,
        before=before, after=after, reason=_UNDO_REASON.format(event.id),
    ))


@retry_locked
def undo(engine: Engine, project: str = DEFAULT_PROJECT, *, coder: str, actor: str | None = None,
         steps: int = 1) -> int:
    """Revert ``coder``'s last ``steps`` coding changes; returns how many were reverted.

    Each revert applies the inverse change and appends an 'undo' event: history is never
    deleted. Changes already undone are skipped, so repeated calls walk further back. An
    add that replaced a code in a mutually exclusive frame is undone together with that
    replacement, and a batch (every event whose reason starts with :data:`BATCH_PREFIX`, as
    "code all hits" writes them) is one step. ``actor`` (default: the coder) needs the usual permission on the codings.
    """
    if not isinstance(steps, int) or steps < 1:
        raise CodeframeError(f"steps must be a whole number of at least 1, not {steps!r}",
                             [Problem(str(steps), field="steps")])
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        acting = _acting(session, row, actor, target)
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
            batch = group[0].reason if (group[0].reason or "").startswith(BATCH_PREFIX) else None
            while batch and stack and (stack[-1].reason == batch or (
                    stack[-1].action == "remove" and (stack[-1].reason or "").startswith("replaced by "))):
                group.append(stack.pop())  # the rest of the batch, with its mutually exclusive replacements
            for event in group:
                _check_may_edit(acting, target, event.source, adjudicated=True)
                _revert_event(session, row, event, acting)
            reverted += 1
        session.commit()
        return reverted


def export_history(engine: Engine, project: str = DEFAULT_PROJECT, path: str | Path = "history.csv", *,
                   fmt: str = "csv", coder: str | None = None, viewer: str | None = None) -> int:
    """Write the audit trail (every coding change, oldest first) as CSV or JSON Lines; returns the row count."""

    if fmt not in ("csv", "jsonl"):
        raise CodeframeError(f"history format must be 'csv' or 'jsonl', not {fmt!r}", [Problem(fmt, field="format")])
    df = history(engine, project, coder=coder, viewer=viewer)
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
            from coding.safe_cells import neutral

            writer = csv.DictWriter(out, fieldnames=list(df.columns))
            writer.writeheader()
            for rec in records:
                writer.writerow({k: neutral(json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v)
                                 for k, v in rec.items()})
    os.replace(partial, path)
    return len(records)


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)
