"""What the tabs of the Agreement & adjudication page share: the chosen frame and who is acting,
the colours of Krippendorff's bands, and the one-time message of the last write."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from sqlalchemy.engine import Engine

from app_pages import _common as common
from coding.errors import CodeframeError

MESSAGE = "_ag_message"  # (where, kind, text) of the last write, shown once
REVISION = "_ag_revision"  # bumped after every write, so the adjudication widgets start empty again
# Krippendorff's reading (coding.agreement.interpret_alpha) -> (background, text colour, metric colour)
BANDS = {
    "reliable": ("#dff3e4", "#1b6b34", "green"),
    "tentative": ("#fff0d1", "#8a5a00", "orange"),
    "unreliable": ("#fde1df", "#a3231f", "red"),
    "undefined": ("#eef0f3", "#5b6570", "gray"),
}


@dataclass(frozen=True)
class AgreementContext:
    """The page's state that every tab reads."""

    engine: Engine
    project: str
    frame_id: str
    frame: object  # coding.codebook.Frame
    frame_labels: dict
    code_labels: dict
    coder: str | None
    role: str | None
    roles: dict


def message(where: str) -> None:
    """Show (once) the outcome of the last write made in ``where``."""
    stored = st.session_state.get(MESSAGE)
    if stored and stored[0] == where:
        st.session_state.pop(MESSAGE)
        {"success": st.success, "error": st.error, "info": st.info}[stored[1]](stored[2])


def fail(where: str, exc: CodeframeError) -> None:
    head = common.first_line(exc)
    details = "".join(f"\n- {p}" for p in exc.problems)
    st.session_state[MESSAGE] = (where, "error", head + details)


def changed() -> None:
    st.session_state[REVISION] = st.session_state.get(REVISION, 0) + 1
