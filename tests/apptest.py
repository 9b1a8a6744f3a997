"""Helpers for driving the Streamlit app with AppTest (shared by the tests of each page)."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parent.parent / "app.py"


def ok(at: AppTest) -> AppTest:
    """The app ran without an uncaught exception."""
    assert not at.exception, at.exception
    return at


def shown(markdown: str) -> str:
    """Markdown source as the reader sees its characters: the backslash escapes of user text removed."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", str(markdown))


def texts(at: AppTest) -> str:
    """Everything the page shows as text (markdown, captions, html blocks, alerts; escapes resolved)."""
    parts = [shown(e.value) for e in (*at.markdown, *at.caption, *at.info, *at.error, *at.success, *at.warning)]
    parts += [e.proto.body for e in at.html]
    return "\n".join(str(p) for p in parts)


def by_prefix(elements, prefix: str):
    """The one widget whose key starts with ``prefix`` (keys carry a revision or the selected unit)."""
    found = [w for w in elements if (w.key or "").startswith(prefix)]
    assert len(found) == 1, [w.key for w in elements]
    return found[0]
