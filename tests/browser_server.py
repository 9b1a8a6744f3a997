"""The app served for the browser tests (as tests/apptest.py is for AppTest): one launch, one chromium check.

The launch itself lives in ``benchmarks/browser.py``, shared with the browser benchmark stage.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.browser import CHROMIUM, CHROMIUM_ARGS, chromium_missing, serve, stop  # noqa: E402

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "app_server", "require_chromium"]


def require_chromium() -> None:
    """Fail (never skip, never download) when Debian's chromium is missing."""
    missing = chromium_missing()
    if missing:
        pytest.fail(missing, pytrace=False)


@contextmanager
def app_server(db_url: str, log_path: Path, *, timeout: float = 60) -> Iterator[str]:
    """``streamlit run app.py`` over ``db_url``; yields the base address and stops the server afterwards."""
    env = {**os.environ, "CODEFRAME_DB": db_url, "HF_HUB_OFFLINE": "1"}
    env.pop("CODEFRAME_PROJECT", None)
    try:
        proc, base = serve(ROOT / "app.py", env, log_path, timeout=timeout)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield base
    finally:
        stop(proc)


SETTLED = """() => {
  const state = document.querySelector('[data-test-script-state]');
  const idle = !state || state.getAttribute('data-test-script-state') !== 'running';
  return idle && [...document.images].every(image => image.complete);
}"""


def settled(page) -> None:
    """Wait (for a condition, never a fixed time) until the app's script has stopped and every image on
    the page has loaded or failed, then for two animation frames, so that whatever those images' load or
    error handlers would do has been done and drawn."""
    page.wait_for_function(SETTLED)
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
