"""Who may see and change what.

Coder rows are the users. Roles: a coder edits and (in blind mode) sees only their own
codings; a supervisor sees everyone's and adjudicates (writes to the consensus coder);
an admin also manages users, the codebook and team mode. Until a project has an admin,
it runs in local single-user mode and nothing here asks who you are."""

from __future__ import annotations

from sqlmodel import Session, select

from coding.database import queries
from coding.database.tables import Assignment, Coder, Project
from coding.errors import CodeframeError, PermissionDenied, Problem
from coding.roles import may_adjudicate, may_admin, may_see_others
from coding.service.common import ROLES


def _actor(session: Session, project: Project, name: str) -> Coder:
    return queries.coder_by_name(session, project.id, name)


def _visible_coder_ids(session: Session, project: Project, actor: Coder, document_id: int) -> set[int] | None:
    """Whose codings ``actor`` may see on a document; None means everyone's.

    Supervisors and admins see all. A coder sees only their own codings on a document in
    the blind double-coding sample until it is released, and everywhere while the project
    is in blind mode (released sample documents excepted).
    """
    if may_see_others(actor.role):
        return None
    assignments = session.exec(select(Assignment).where(Assignment.document_id == document_id)).all()
    if assignments and not all(a.released for a in assignments):
        return {actor.id}
    if assignments:
        return None
    return {actor.id} if project.blind_mode else None


CONSENSUS_REFUSED = ("the consensus is written only by adjudication (a supervisor, with a reason: Agreement & "
                     "adjudication page); it is not a coder one codes as")


def _check_may_edit(actor: Coder, coder: Coder, source: str, *, adjudicated: bool = False) -> None:
    """A coder edits only their own codings; adjudication is for supervisors and admins.

    Nobody writes the consensus coder through the coding functions: only adjudication,
    imports by a supervisor (``adjudicated``) and the undo of those changes do.
    """
    if coder.is_consensus and not adjudicated:
        raise PermissionDenied(CONSENSUS_REFUSED)
    if source == "adjudication" or coder.is_consensus:
        if not may_adjudicate(actor.role):
            raise PermissionDenied(f"{actor.name} is a {actor.role}: only supervisors adjudicate")
    elif actor.id != coder.id and not may_adjudicate(actor.role):
        raise PermissionDenied(f"{actor.name} may not change codings of {coder.name}")


def _require_supervisor(session: Session, project: Project, actor: str) -> Coder:
    acting = queries.coder_by_name(session, project.id, actor)
    if not may_adjudicate(acting.role):
        raise PermissionDenied(f"{actor} is a {acting.role}: only supervisors and admins may do this")
    return acting


def _has_admin(session: Session, project: Project) -> bool:
    return session.exec(
        select(Coder.id).where(Coder.project_id == project.id, Coder.role == "admin")
    ).first() is not None


def _require_user_admin(session: Session, project: Project, actor: str | None, what: str) -> Coder | None:
    """Once the project has an admin, only an admin may manage users; before that, anyone may."""
    acting = queries.coder_by_name(session, project.id, actor) if actor else None
    if not _has_admin(session, project):
        return acting
    if acting is None:
        raise PermissionDenied(f"only an admin may {what}; say which admin you are")
    if not may_admin(acting.role):
        raise PermissionDenied(f"{acting.name} is a {acting.role}: only an admin may {what}")
    return acting


def _require_team_admin(session: Session, project: Project, actor: str | None, what: str) -> Coder | None:
    """In team mode, ``actor`` must be an admin to ``what``; outside it anyone (or no one named) may."""
    if actor is None:
        if project.team_mode:
            raise PermissionDenied(f"in team mode only an admin may {what}; say which admin you are")
        return None
    acting = queries.coder_by_name(session, project.id, actor)
    if project.team_mode and not may_admin(acting.role):
        raise PermissionDenied(f"{acting.name} is a {acting.role}: in team mode only an admin may {what}")
    return acting


def _require_team_admin_by_name(engine, project: str, actor: str | None, what: str) -> None:
    """:func:`_require_team_admin` in a session of its own, before a unit of work that opens several."""
    with Session(engine) as session:
        _require_team_admin(session, queries.project_by_name(session, project), actor, what)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise CodeframeError(f"role must be one of {', '.join(ROLES)}, not {role!r}", [Problem(role, field="role")])


def projects_to_offer(engine, *, current: str, user: str | None = None) -> list[dict]:
    """The projects of the database someone may switch to from ``current``: ``[{"name", "team_mode"}]``.

    Nobody signed in (solo mode): every project; a team-mode one then asks its own sign-in. Signed in to a
    team-mode ``current`` as ``user``: ``current``, every solo-mode project, and the team-mode projects where
    ``user`` has an account (they sign in there too); the others are not offered."""
    with Session(engine) as session:
        projects = session.exec(select(Project).order_by(Project.name)).all()
        offered = []
        for project in projects:
            if user is not None and project.team_mode and project.name != current \
                    and queries.find_coder(session, project.id, user) is None:
                continue
            offered.append({"name": project.name, "team_mode": project.team_mode})
        return offered


# --------------------------------------------------------------------------- one rule for every door

NEEDS = ("read", "code", "supervise", "admin")
NAME_THE_ACTOR = "team mode is on: name the acting user (who signs in with their password)"


def _acting(session: Session, project: Project, actor: str | None, target: Coder) -> Coder:
    """Who acts on ``target``'s codings: ``actor``; unnamed, the target themself, but never in team mode."""
    if actor:
        return queries.coder_by_name(session, project.id, actor)
    if project.team_mode:
        raise PermissionDenied(NAME_THE_ACTOR)
    return target


def _require_viewer(project: Project, viewer: str | None) -> None:
    """In team mode every read names who reads: their role and blind mode decide what they see."""
    if viewer is None and project.team_mode:
        raise PermissionDenied(NAME_THE_ACTOR)


def _require_rights(session: Session, project: Project, actor: str | None, need: str, what: str) -> Coder | None:
    """In team mode ``actor`` must be named and hold ``need`` (read, code, supervise, admin) to ``what``.

    Outside team mode nothing is asked (local single-user mode); the named actor is returned if any.
    """
    if need not in NEEDS:
        raise ValueError(f"need must be one of {NEEDS}, not {need!r}")
    if not project.team_mode:
        return queries.coder_by_name(session, project.id, actor) if actor else None
    if not actor:
        raise PermissionDenied(f"{NAME_THE_ACTOR} to {what}")
    acting = queries.coder_by_name(session, project.id, actor)
    if acting.is_consensus:
        raise PermissionDenied(f"{acting.name!r} is the adjudicated coder, not a person; it cannot act")
    if need == "supervise" and not may_adjudicate(acting.role):
        raise PermissionDenied(f"{acting.name} is a {acting.role}: in team mode only supervisors and admins may {what}")
    if need == "admin" and not may_admin(acting.role):
        raise PermissionDenied(f"{acting.name} is a {acting.role}: in team mode only an admin may {what}")
    return acting


def authorize(engine, project: str, actor: str | None, need: str, what: str) -> None:
    """Refuse (PermissionDenied) unless ``actor`` may ``what`` with rights ``need``; a no-op outside team mode.

    The door every front end passes first (the CLI before each command); the service functions
    check the finer rules (whose codings, blind mode) themselves.
    """
    with Session(engine) as session:
        _require_rights(session, queries.project_by_name(session, project), actor, need, what)


def team_mode_on(engine, project: str) -> bool:
    """Whether ``project`` exists and is in team mode (no error for a missing project)."""
    with Session(engine) as session:
        row = session.exec(select(Project).where(Project.name == project)).first()
        return bool(row is not None and row.team_mode)
