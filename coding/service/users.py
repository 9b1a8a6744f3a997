"""Coders and users: roles, passwords, sign-in, team mode."""

from __future__ import annotations

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.database import queries
from coding.database.retry import retry_locked
from coding.database.tables import AuthEvent, Coder, UserSession, utcnow
from coding.errors import CodeframeError, PermissionDenied, Problem
from coding.roles import ELEVATED, may_admin
from coding.service.common import CONSENSUS, DEFAULT_PROJECT, ROLES
from coding.service.permissions import _check_role, _require_user_admin
from coding.service.projects import _info
from coding.service.results import ProjectInfo


@retry_locked
def _refuse_name(name: str) -> None:
    """A coder's or user's name is shown everywhere: nothing invisible, direction-changing or control in it."""
    from coding.markup import name_problem

    why = name_problem(name, "a name")
    if why:
        raise CodeframeError(f"the name {name!r} was refused", [Problem(why, field="name")])


def ensure_coder(engine: Engine, project: str = DEFAULT_PROJECT, name: str = "", *, role: str = "coder",
                 actor: str | None = None) -> str:
    """Create the coder if missing; return its name. The name 'consensus' is the adjudicated coder.

    Once the project has an admin, only an admin ``actor`` creates a supervisor or an admin,
    and in team mode only an admin creates anyone (users are managed, not picked).
    """
    name = name.strip()
    if not name:
        raise CodeframeError("a coder needs a name")
    _refuse_name(name)
    if role not in ROLES:
        raise CodeframeError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        existing = queries.find_coder(session, row.id, name)
        if existing is None:
            if (role in ELEVATED and name != CONSENSUS) or row.team_mode:
                _require_user_admin(session, row, actor, f"add a {role}" if role in ELEVATED else "add coders")
            session.add(Coder(project_id=row.id, name=name, role=role, is_consensus=name == CONSENSUS))
            session.commit()
        return name


def list_coders(engine: Engine, project: str = DEFAULT_PROJECT) -> list[dict]:
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        coders = queries.coders_in_order(session, row.id)
        return [{"name": c.name, "role": c.role, "is_consensus": c.is_consensus} for c in coders]


MIN_PASSWORD_LENGTH = 8
_DUMMY_HASH: list[str] = []  # verified against for unknown users, so a miss costs as long as a hit


def _password_hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def _hash_password(password: str) -> str:
    """An argon2id hash of ``password``; the plain text is never stored."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise CodeframeError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters",
                             [Problem("password too short", field="password")])
    return _password_hasher().hash(password)


@retry_locked
def create_user(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    name: str = "",
    *,
    role: str,
    password: str | None = None,
    actor: str | None = None,
) -> str:
    """Create a user (a coder row) with a role and an optional password; returns the name.

    Once the project has an admin, only an admin ``actor`` may do this; the first admin
    needs no actor (that is how a project gets one, e.g. from the command line).
    """
    name = (name or "").strip()
    if not name:
        raise CodeframeError("a user needs a name", [Problem("blank name", field="name")])
    _refuse_name(name)
    if name == CONSENSUS:
        raise CodeframeError(f"{CONSENSUS!r} is the adjudicated coder, not a person; pick another name")
    _check_role(role)
    password_hash = _hash_password(password) if password is not None else None
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        _require_user_admin(session, row, actor, "add users")
        if queries.find_coder(session, row.id, name) is not None:
            raise CodeframeError(
                f"a user or coder named {name!r} already exists; change it with set_role / set_password")
        session.add(Coder(project_id=row.id, name=name, role=role, password_hash=password_hash))
        session.commit()
        return name


@retry_locked
def set_role(engine: Engine, project: str = DEFAULT_PROJECT, name: str = "", role: str = "coder", *,
             actor: str | None = None) -> None:
    """Change a user's role (admin only, once the project has an admin).

    The last admin of a project in team mode cannot be demoted: nobody could manage it.
    """
    _check_role(role)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        _require_user_admin(session, row, actor, "change roles")
        user = queries.coder_by_name(session, row.id, name)
        if user.is_consensus:
            raise CodeframeError(f"{CONSENSUS!r} is the adjudicated coder, not a person; it has no role to change")
        if may_admin(user.role) and not may_admin(role) and row.team_mode:
            admins = session.exec(
                select(func.count(Coder.id)).where(Coder.project_id == row.id, Coder.role == "admin")
            ).one()
            if admins <= 1:
                raise PermissionDenied(f"{name} is the last admin of a project in team mode; make another admin first")
        user.role = role
        session.add(user)
        session.commit()


@retry_locked
def set_password(engine: Engine, project: str = DEFAULT_PROJECT, name: str = "", password: str = "", *,
                 actor: str | None = None, keep_session: str | None = None, client: str | None = None) -> None:
    """Set a user's password: the user themself, or an admin (anyone before there is an admin).

    Whatever the door (app, command line, Python), every open session of that user ends in the
    same transaction (``keep_session``, the changer's own, excepted), and the change is logged:
    ``password_changed`` by the user themself, ``password_reset`` by anyone else.
    """
    password_hash = _hash_password(password)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        user = queries.coder_by_name(session, row.id, name)
        if user.is_consensus:
            raise CodeframeError(f"{CONSENSUS!r} is the adjudicated coder; it cannot sign in")
        if actor != name:
            _require_user_admin(session, row, actor, "set other users' passwords")
        acting = queries.coder_by_name(session, row.id, actor) if actor else None
        user.password_hash = password_hash
        session.add(user)
        own = actor == name
        _end_user_sessions(session, row.id, user.id, "password_changed" if own else "password_reset", keep_session)
        session.add(AuthEvent(project_id=row.id, name=user.name, coder_id=user.id,
                              actor_id=acting.id if acting else None,
                              client=None if client is None else str(client)[:200],
                              action="password_changed" if own else "password_reset", at=utcnow()))
        session.commit()


def _end_user_sessions(session: Session, project_id: int, coder_id: int, reason: str, keep: str | None) -> int:
    """End every open session of a user (all but ``keep``, a session id): their next request asks to sign in."""
    import hashlib

    stmt = update(UserSession).where(UserSession.project_id == project_id, UserSession.coder_id == coder_id,
                                     UserSession.ended.is_(None))
    if keep is not None:
        stmt = stmt.where(UserSession.token_hash != hashlib.sha256(keep.encode("utf-8")).hexdigest())
    return session.execute(stmt.values(ended=utcnow(), end_reason=reason)).rowcount


def list_users(engine: Engine, project: str = DEFAULT_PROJECT) -> list[dict]:
    """Users with role and whether they can sign in (never the hash)."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        users = queries.coders_in_order(session, row.id)
        return [{"name": u.name, "role": u.role, "is_consensus": u.is_consensus,
                 "can_sign_in": u.password_hash is not None} for u in users]


def authenticate(engine: Engine, project: str, name: str, password: str) -> str:
    """Check a sign-in; returns the user name or raises PermissionDenied with a generic message.

    The message never says whether the name or the password was wrong.
    """
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _password_hasher()
    with Session(engine) as session:  # closed before the slow verification: no connection or lock held
        row = queries.project_by_name(session, project)
        user = queries.find_coder(session, row.id, (name or "").strip())
        stored = user.password_hash if user is not None and not user.is_consensus else None
        user_id, user_name = (user.id, user.name) if user is not None else (None, None)
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hasher.hash("codeframe-no-such-user"))
    ok = False
    if isinstance(password, str) and password:
        try:
            ok = hasher.verify(stored or _DUMMY_HASH[0], password) and stored is not None
        except (VerificationError, InvalidHashError):
            ok = False
    if not ok:
        raise PermissionDenied("sign-in failed: unknown user or wrong password")
    if hasher.check_needs_rehash(stored):
        with Session(engine) as session:
            user = session.get(Coder, user_id)
            user.password_hash = hasher.hash(password)
            session.add(user)
            session.commit()
    return user_name


@retry_locked
def set_team_mode(engine: Engine, project: str = DEFAULT_PROJECT, on: bool = True, *, actor: str) -> ProjectInfo:
    """Switch team mode (the CLI checks the acting user's password; admin-only codebook changes); admins only.

    Turning it on needs an admin who can sign in, or nobody could manage the project.
    """
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        acting = queries.coder_by_name(session, row.id, actor)
        if not may_admin(acting.role):
            raise PermissionDenied(f"{acting.name} is a {acting.role}: only an admin may switch team mode")
        if on and acting.password_hash is None:
            raise CodeframeError(f"set a password for {acting.name} first: in team mode everyone signs in")
        row.team_mode = bool(on)
        session.add(row)
        session.commit()
        return _info(row)
