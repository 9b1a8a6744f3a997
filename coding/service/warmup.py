"""Background preparation of suggestions: load the model, embed the units, fit the models.

The app starts this when it starts and after each import, so that turning suggestions on does not
wait for the model load and the embedding of the whole corpus. One job runs per (database, project)
at a time; its state (what it is doing, how far it got) is readable at any time for a progress bar.
Set ``CODEFRAME_WARM_UP=0`` to turn it off (the test suite does, so AppTests stay light).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field, replace

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.database import queries
from coding.database.tables import CodeFrame, Coder
from coding.service.common import DEFAULT_PROJECT
from coding.service.suggestions import (
    _engine_key,
    _project_unit_vectors,
    _units_version,
    embedder_for,
    fitted_suggester,
)

WARM_UP_ENV = "CODEFRAME_WARM_UP"
_LOCK = threading.Lock()
_STATES: dict[tuple, WarmUpState] = {}


@dataclass(frozen=True)
class WarmUpState:
    """Where the background preparation of one project stands."""

    status: str = "idle"  # idle | running | done | failed | off
    step: str = ""
    done: int = 0
    total: int = 0
    units: int = 0
    seconds: float = 0.0
    error: str = ""
    version: tuple = field(default=(), compare=False)

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


def warm_up_enabled() -> bool:
    return os.environ.get(WARM_UP_ENV, "1").strip().lower() not in ("0", "off", "false", "no")


def _set(key: tuple, **changes) -> WarmUpState:
    with _LOCK:
        state = replace(_STATES.get(key, WarmUpState()), **changes)
        _STATES[key] = state
        return state


def warm_up(engine: Engine, project: str = DEFAULT_PROJECT) -> WarmUpState:
    """Prepare suggestions now (in this thread): model, unit embeddings, and a fitted model per frame
    for every coder of the project. Returns the final state."""
    key = (_engine_key(engine), project)
    started = time.perf_counter()
    try:
        _set(key, status="running", step="loading the embedding model", done=0, total=1, error="")
        with Session(engine) as session:
            row = queries.project_by_name(session, project)
            version = _units_version(session, row.id)
            frames = session.exec(select(CodeFrame.key).where(CodeFrame.project_id == row.id)).all()
            coders = session.exec(select(Coder.name).where(Coder.project_id == row.id)).all()
        embedder = embedder_for(engine, project)
        total = 1 + len(frames) * max(len(coders), 1)
        _set(key, step=f"embedding {version[0]} units", done=1, total=total + 1, units=int(version[0] or 0),
             version=version)
        _project_unit_vectors(engine, project, row.id, version, embedder)
        done = 2
        for coder in coders:
            for frame in frames:
                _set(key, step=f"fitting {frame} for {coder}", done=done)
                fitted_suggester(engine, project, frame=frame, coder=coder, embedder=embedder)
                done += 1
        return _set(key, status="done", step="ready", done=done, total=done,
                    seconds=time.perf_counter() - started)
    except Exception as exc:  # noqa: BLE001 - the app shows it; suggestions then load on demand
        return _set(key, status="failed", step="", error=f"{type(exc).__name__}: {exc}",
                    seconds=time.perf_counter() - started)


def _warm_up_after(delay: float, engine: Engine, project: str) -> None:
    if delay > 0:
        time.sleep(delay)
    warm_up(engine, project)


def start_warm_up(engine: Engine, project: str = DEFAULT_PROJECT, *, force: bool = False,
                  delay: float = 0.0) -> WarmUpState:
    """Start :func:`warm_up` in a daemon thread unless it is running, or done for the current units
    (``force``: after an import). Returns the state right after starting (or the current one).

    ``delay``: the thread waits that many seconds first (right after the first start's sample load,
    so the model load does not slow the first render of the overview)."""
    key = (_engine_key(engine), project)
    if not warm_up_enabled():
        return _set(key, status="off")
    with _LOCK:
        state = _STATES.get(key, WarmUpState())
        if state.status == "running" or (state.status == "done" and not force):
            return state
        _STATES[key] = replace(state, status="running", step="starting", done=0, total=1)
    threading.Thread(target=_warm_up_after, args=(delay, engine, project), name=f"codeframe-warm-up-{project}",
                     daemon=True).start()
    return warm_up_state(engine, project)


def warm_up_state(engine: Engine, project: str = DEFAULT_PROJECT) -> WarmUpState:
    """The state of the background preparation of ``project``."""
    with _LOCK:
        return _STATES.get((_engine_key(engine), project), WarmUpState())
