"""Retrying a unit of work when the database reports a transient lock or a unique-insert race."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError

T = TypeVar("T")


def retry_locked(fn: Callable[..., T]) -> Callable[..., T]:
    """Retry a unit of work when SQLite reports 'database is locked' (the user never sees it)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        delay = 0.05
        races = 0
        for attempt in range(8):
            try:
                return fn(*args, **kwargs)
            except OperationalError as exc:
                if not is_transient(exc) or attempt == 7:
                    raise
            except IntegrityError as exc:
                # Two writers inserted the same unique row at once (PostgreSQL): the
                # retry sees the other's committed row and treats it as existing.
                races += 1
                if not is_unique_violation(exc) or races > 2:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    return wrapper


def is_transient(exc: OperationalError) -> bool:
    """Lock waits, deadlocks and serialization failures: worth running the unit of work again."""
    message = str(exc).lower()
    return any(s in message for s in ("database is locked", "database table is locked", "deadlock detected",
                                      "could not serialize", "lock timeout"))


def is_unique_violation(exc: IntegrityError) -> bool:
    message = str(exc).lower()
    return "unique" in message or "duplicate key" in message
