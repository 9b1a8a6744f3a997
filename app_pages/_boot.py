"""The app's first paint: show something at once while the server imports the heavy modules.

The first run of a server process imports :mod:`coding.service` (SQLAlchemy, pandas, every service
module), opens the database and migrates it: seconds on a small machine, during which the browser
would show a white page. :func:`first_paint` therefore starts that work in a thread and shows a
message at once; the page polls and runs again when it is done. This module itself imports only
Streamlit and :mod:`coding.paths` (no SQLAlchemy), so it costs nothing.

On a first start (the embedded SQLite file does not exist yet) the message is already the sample
load's: "Loading the sample corpus: 0 of 24 transcripts…"; the thread starts the load, and the
pages then show its progress (:func:`app_pages._common.ensure_project`).
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Callable

import streamlit as st

from coding.paths import default_url, sample_corpus_dir

PROJECT_ENV = "CODEFRAME_PROJECT"

_LOCK = threading.Lock()
_STATE: dict[str, object] = {"status": "idle"}  # idle | running | ready | failed (+ "error")


def _prepare(url: str, project: str) -> None:
    """Import the service layer, migrate the database and, on a first start, start the sample load."""
    try:
        from app_pages import _common  # noqa: F401 - imported here so the page's own import is instant
        from coding import service
        from coding.database.engine import make_engine

        engine = make_engine(url)
        service.start_sample_load(engine, project)
        with _LOCK:
            _STATE["status"] = "ready"
    except Exception as exc:  # noqa: BLE001 - the page runs again and shows the real error
        with _LOCK:
            _STATE.update(status="failed", error=f"{type(exc).__name__}: {exc}")


def _first_start(url: str) -> bool:
    """Cheap guess, before any import: the embedded SQLite file does not exist yet."""
    if not url.startswith("sqlite:///"):
        return False
    path = url.removeprefix("sqlite:///")
    return path not in ("", ":memory:") and not Path(path).exists()


def first_paint(register_pages: Callable[[], object] | None = None) -> None:
    """Once per server process: start the heavy imports in a thread, show a message, poll, stop the run.

    ``register_pages`` (``st.navigation`` of the app's pages, hidden) runs before the message so that the
    page the URL asked for stays selected for the run that follows."""
    if _STATE["status"] == "idle" and "streamlit.testing.v1.app_test" in sys.modules:
        # AppTest (no browser, no fragment timer): prepare in this run, as before
        _STATE["status"] = "running"
        _prepare(default_url(), os.environ.get(PROJECT_ENV) or "default")
    with _LOCK:
        status = _STATE["status"]
        if status == "idle":
            _STATE["status"] = "running"
            url = default_url()
            _STATE["first_start"] = _first_start(url)
            threading.Thread(target=_prepare, args=(url, os.environ.get(PROJECT_ENV) or "default"),
                             name="codeframe-boot", daemon=True).start()
            status = "running"
    if status != "running":  # ready, or failed: the page's own imports raise the real error
        return
    if register_pages is not None:
        register_pages()
    if _STATE.get("first_start"):
        st.title("Welcome to Codeframe")
    _boot_fragment()
    st.stop()


@st.fragment(run_every=0.3)
def _boot_fragment() -> None:
    if _STATE["status"] != "running":
        st.rerun()
    if _STATE.get("first_start"):
        total = len(list((sample_corpus_dir() / "transcripts").glob("*.txt")))
        st.progress(0.0, text=f"Loading the sample corpus: 0 of {total} transcripts…")
    else:
        st.caption("Starting Codeframe…")
