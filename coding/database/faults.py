"""Database faults a user can meet, as one-line messages instead of tracebacks.

A read-only file, a full disk, a connection the server dropped, text the server refuses: each
unit of work runs in one transaction, so a failed one saved nothing and what was saved before is
intact. :func:`database_fault` says so in one line; the CLI prints it, the app shows it.
"""

from __future__ import annotations

from coding.errors import CodeframeError, Problem

NOTHING_LOST = "nothing was saved from this action, and everything saved before is intact"


class DatabaseFault(CodeframeError):
    """The database refused or lost one unit of work (rolled back whole)."""


def _says(text: str, *needles: str) -> bool:
    return any(n in text for n in needles)


def database_fault(exc: BaseException) -> DatabaseFault | None:
    """A one-line :class:`DatabaseFault` for a database error, or None when ``exc`` is not one."""
    from sqlalchemy import exc as sa

    if not isinstance(exc, sa.SQLAlchemyError):
        return None
    text = str(getattr(exc, "orig", None) or exc).lower()
    if _says(text, "readonly database", "read-only", "read only"):
        what = "the database is read-only (check the file's permissions or the server's mode)"
    elif _says(text, "database or disk is full", "no space left", "could not extend file", "disk full"):
        what = "the disk is full (free some space and try again)"
    elif isinstance(exc, sa.DBAPIError) and exc.connection_invalidated or _says(
            text, "terminating connection", "server closed the connection", "connection refused",
            "could not connect", "connection is closed", "the database system is", "consuming input failed",
            "connection timeout", "unable to open database"):
        what = "the database cannot be reached right now (try again when it is back)"
    elif _says(text, "0x00", "nul character", "null character"):
        what = "the text holds a NUL character, which the database does not store (remove it)"
    elif isinstance(exc, sa.IntegrityError):
        what = "the database refused the change: other rows still refer to it"
    elif isinstance(exc, sa.TimeoutError):
        what = "the database is busy: no connection was free in time (try again)"
    else:
        what = f"the database refused the operation ({type(exc).__name__})"
    first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return DatabaseFault(f"{what}; {NOTHING_LOST}", [Problem(first[0][:200] if first else type(exc).__name__)])
