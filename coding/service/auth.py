"""The facade of sign-in: throttled password checks, server-side sessions, account management.

The app keeps only an opaque random session id in the browser's session; the database keeps
its SHA-256 with the user, so nothing a client sends can name a user or a role. Every
attempt, sign-out, expiry and user-management change is appended to ``auth_event`` (never a
password or a session id). Failed sign-ins are counted per user name and per client since
their last success, in the database, so a restart of the app does not reset the back-off.
"""

from __future__ import annotations

import hashlib
import math
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.database import queries
from coding.database.tables import AuthEvent, Coder, UserSession, utcnow
from coding.errors import CodeframeError, PermissionDenied, Problem
from coding.service.common import DEFAULT_PROJECT
from coding.service.permissions import _require_team_admin
from coding.service.users import authenticate, create_user, set_password, set_role

IDLE_HOURS_ENV = "CODEFRAME_SESSION_IDLE_HOURS"
DEFAULT_IDLE_HOURS = 8.0
THROTTLE_AFTER = 5  # failures before the back-off starts
BACKOFF_SECONDS = 30  # wait after the 5th failure; doubles with each further failure
MAX_BACKOFF_SECONDS = 3600
_TOUCH_EVERY = timedelta(seconds=60)  # last_seen is written at most once a minute per session
_MAX_NAME = 200  # a typed name is stored truncated (an attacker's megabyte name is not kept whole)


class Throttled(PermissionDenied):
    """Too many failed sign-ins for this user or from this client: wait ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignedIn:
    """A live session: the opaque id the app keeps, and whom it belongs to (read fresh each time)."""

    session_id: str
    name: str
    role: str


def idle_timeout() -> timedelta:
    """How long an unused session lives: ``$CODEFRAME_SESSION_IDLE_HOURS`` (default 8)."""
    raw = os.environ.get(IDLE_HOURS_ENV)
    try:
        hours = float(raw) if raw else DEFAULT_IDLE_HOURS
    except ValueError:
        raise CodeframeError(f"${IDLE_HOURS_ENV} must be a number of hours, not {raw!r}",
                             [Problem(raw, field=IDLE_HOURS_ENV)]) from None
    if not hours > 0:
        raise CodeframeError(f"${IDLE_HOURS_ENV} must be more than 0", [Problem(raw, field=IDLE_HOURS_ENV)])
    return timedelta(hours=hours)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _clip(value: str | None) -> str | None:
    if value is None:
        return None
    value = str(value)
    return value if len(value) <= _MAX_NAME else value[:_MAX_NAME] + "…"


def _event(session: Session, project_id: int, action: str, name: str, *, coder_id=None, actor_id=None,
           client=None, detail=None, at: datetime | None = None) -> None:
    session.add(AuthEvent(project_id=project_id, name=_clip(name) or "", coder_id=coder_id, actor_id=actor_id,
                          client=_clip(client), action=action, detail=detail, at=at or utcnow()))


def _failures_since_success(session: Session, project_id: int, column, value) -> tuple[int, datetime | None]:
    """Failed sign-ins for one name or client since its last success, and when the last one was."""
    last_ok = session.exec(
        select(func.max(AuthEvent.id)).where(AuthEvent.project_id == project_id, column == value,
                                              AuthEvent.action == "sign_in")
    ).one()
    stmt = select(func.count(AuthEvent.id), func.max(AuthEvent.at)).where(
        AuthEvent.project_id == project_id, column == value, AuthEvent.action == "sign_in_failed")
    if last_ok is not None:
        stmt = stmt.where(AuthEvent.id > last_ok)
    count, last = session.exec(stmt).one()
    return int(count or 0), last


def backoff(failures: int) -> int:
    """Seconds to wait after ``failures`` failures in a row: none for the first four, then 30, 60, 120, ...

    >>> [backoff(n) for n in (4, 5, 6, 7)], backoff(40)
    ([0, 30, 60, 120], 3600)
    """
    if failures < THROTTLE_AFTER:
        return 0
    return min(MAX_BACKOFF_SECONDS, BACKOFF_SECONDS * 2 ** min(failures - THROTTLE_AFTER, 20))


def _wait_left(session: Session, project_id: int, name: str, client: str | None, now: datetime) -> int:
    waits = []
    keys = [(AuthEvent.name, _clip(name))] + ([(AuthEvent.client, _clip(client))] if client else [])
    for column, value in keys:
        failures, last = _failures_since_success(session, project_id, column, value)
        if failures >= THROTTLE_AFTER and last is not None:
            until = last + timedelta(seconds=backoff(failures))
            waits.append(math.ceil((until - now).total_seconds()))
    return max([0, *waits])


def check_password(engine: Engine, project: str, name: str, password: str, *, client: str | None = None,
                   now: datetime | None = None, detail: str | None = None) -> str:
    """Sign-in check with back-off and audit: the user name, or PermissionDenied (Throttled when waiting).

    While a name or a client is throttled, the password is not even checked. The attempt is
    logged as ``sign_in``, ``sign_in_failed`` or ``sign_in_throttled``, with name and client.
    """
    now = now or utcnow()
    name = (name or "").strip()
    project_id, attempt_id = _reserve_attempt(engine, project, name, client, now)
    user = authenticate(engine, project, name, password)  # refused: the reserved attempt stays sign_in_failed
    with Session(engine) as session:  # a success ends the back-off of this name and this client
        coder = queries.coder_by_name(session, project_id, user)
        attempt = session.get(AuthEvent, attempt_id)
        attempt.action, attempt.coder_id, attempt.detail = "sign_in", coder.id, detail
        session.add(attempt)
        session.commit()
    return user


def _reserve_attempt(engine: Engine, project: str, name: str, client: str | None, now: datetime) -> tuple[int, int]:
    """Count an attempt as failed BEFORE its password is verified, atomically per name and per client.

    One transaction takes the lock of this name and this client (PostgreSQL: transaction-scoped advisory
    locks; SQLite: the database write lock every transaction takes at BEGIN IMMEDIATE), reads the back-off
    and either logs ``sign_in_throttled`` and refuses, or logs the attempt as ``sign_in_failed``. So however
    many attempts arrive at once, at most :data:`THROTTLE_AFTER` passwords are verified before the back-off.
    Returns (project id, the attempt's event id); a success replaces that event with ``sign_in``.
    """
    from coding.database.engine import is_sqlite

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        if not is_sqlite(engine):
            for key in sorted({f"name:{_clip(name)}", *([f"client:{_clip(client)}"] if client else [])}):
                session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                                {"key": f"codeframe-sign-in:{row.id}:{key}"})
        wait = _wait_left(session, row.id, name, client, now)
        if wait > 0:
            _event(session, row.id, "sign_in_throttled", name, client=client, at=now)
            session.commit()
            minutes = f"{wait // 60} min {wait % 60} s" if wait >= 60 else f"{wait} s"
            raise Throttled(f"too many failed sign-ins for this name or from this computer; try again in {minutes}",
                            wait)
        attempt = AuthEvent(project_id=row.id, name=_clip(name) or "", client=_clip(client),
                            action="sign_in_failed", at=now)
        session.add(attempt)
        session.commit()
        return row.id, attempt.id


def sign_in(engine: Engine, project: str, name: str, password: str, *, client: str | None = None,
            now: datetime | None = None) -> SignedIn:
    """Check the password (throttled) and open a server-side session; returns it with its opaque id."""
    now = now or utcnow()
    user = check_password(engine, project, name, password, client=client, now=now, detail="app session")
    session_id = secrets.token_urlsafe(32)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        coder = queries.coder_by_name(session, row.id, user)
        session.add(UserSession(token_hash=_hash(session_id), project_id=row.id, coder_id=coder.id,
                                client=_clip(client), created=now, last_seen=now))
        session.commit()
        return SignedIn(session_id, coder.name, coder.role)


def session_user(engine: Engine, project: str, session_id: str | None, *,
                 now: datetime | None = None) -> SignedIn | None:
    """Who a session id belongs to now (role read fresh), or None: unknown, ended, or idle too long.

    An idle session is ended here (``session_expired`` in the history); a live one is touched.
    """
    if not session_id or not isinstance(session_id, str):
        return None
    now = now or utcnow()
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        found = session.exec(
            select(UserSession, Coder).join(Coder, UserSession.coder_id == Coder.id)
            .where(UserSession.token_hash == _hash(session_id), UserSession.project_id == row.id)
        ).first()
        if found is None:
            return None
        record, coder = found
        if record.ended is not None:
            return None
        if now - record.last_seen > idle_timeout():
            record.ended, record.end_reason = now, "expired"
            session.add(record)
            _event(session, row.id, "session_expired", coder.name, coder_id=coder.id, client=record.client, at=now)
            session.commit()
            return None
        if now - record.last_seen >= _TOUCH_EVERY:
            record.last_seen = now
            session.add(record)
            session.commit()
        return SignedIn(session_id, coder.name, coder.role)


def sign_out(engine: Engine, project: str, session_id: str | None, *, now: datetime | None = None) -> bool:
    """End a session (it never resolves again); True when there was a live one."""
    if not session_id:
        return False
    now = now or utcnow()
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        record = session.exec(select(UserSession).where(UserSession.token_hash == _hash(session_id),
                                                        UserSession.project_id == row.id)).first()
        if record is None or record.ended is not None:
            return False
        record.ended, record.end_reason = now, "signed_out"
        session.add(record)
        coder = session.get(Coder, record.coder_id)
        _event(session, row.id, "sign_out", coder.name, coder_id=coder.id, client=record.client, at=now)
        session.commit()
        return True


def _signed_in_user(engine: Engine, project: str, session_id: str) -> SignedIn:
    user = session_user(engine, project, session_id)
    if user is None:
        raise PermissionDenied("your session has ended; sign in again")
    return user


def change_own_password(engine: Engine, project: str, session_id: str, old_password: str, new_password: str, *,
                        client: str | None = None) -> None:
    """The signed-in user changes their password (the old one is checked, throttled); their other
    sessions end, this one stays."""
    user = _signed_in_user(engine, project, session_id)
    try:
        check_password(engine, project, user.name, old_password, client=client)
    except Throttled:
        raise
    except PermissionDenied:
        raise PermissionDenied("the current password is wrong; your password was not changed") from None
    set_password(engine, project, user.name, new_password, actor=user.name, keep_session=session_id, client=client)


def _admin_event(engine: Engine, project: str, action: str, name: str, actor: str, detail: str | None = None) -> None:
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        coder = queries.coder_by_name(session, row.id, name)
        acting = queries.coder_by_name(session, row.id, actor) if actor else None
        _event(session, row.id, action, name, coder_id=coder.id, actor_id=acting.id if acting else None,
               detail=detail)
        session.commit()


def add_user(engine: Engine, project: str, name: str, *, role: str, password: str | None, actor: str) -> str:
    """An admin adds a user (see :func:`coding.service.create_user`); logged as ``user_added``."""
    name = create_user(engine, project, name, role=role, password=password, actor=actor)
    _admin_event(engine, project, "user_added", name, actor, f"role {role}")
    return name


def change_role(engine: Engine, project: str, name: str, role: str, *, actor: str) -> None:
    """An admin changes a role; takes effect on the user's next click (roles are read per request)."""
    set_role(engine, project, name, role, actor=actor)
    _admin_event(engine, project, "role_changed", name, actor, f"role {role}")


def reset_password(engine: Engine, project: str, name: str, password: str, *, actor: str) -> None:
    """An admin sets another user's password; that user's open sessions end."""
    if name == actor:
        raise CodeframeError("change your own password under 'Your account', with your current password")
    set_password(engine, project, name, password, actor=actor)  # ends their sessions, logs password_reset


def auth_history(engine: Engine, project: str = DEFAULT_PROJECT, *, limit: int | None = 200,
                 actor: str | None = None) -> list[dict]:
    """The sign-in and user-management history, newest first: when, action, name, by whom, client, detail.

    In team mode only an admin ``actor`` reads it.
    """
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        _require_team_admin(session, row, actor, "read the sign-in history")
        names = dict(session.exec(select(Coder.id, Coder.name).where(Coder.project_id == row.id)).all())
        stmt = select(AuthEvent).where(AuthEvent.project_id == row.id).order_by(AuthEvent.id.desc())
        if limit is not None:
            stmt = stmt.limit(limit)
        return [{"at": e.at, "action": e.action, "name": e.name, "by": names.get(e.actor_id), "client": e.client,
                 "detail": e.detail} for e in session.exec(stmt)]
