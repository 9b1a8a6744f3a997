"""The coding view's "New code" control (issue 30): create a code and apply it to the selected unit in one step.

A small form beside the view, inside its fragment: a frame, a label (or the selected words, for an
in-vivo code whose label is those words) and a button. The button calls
:func:`coding.service.create_and_apply_code` for the unit the coder has selected in the view; who may
add codes (or only propose them) is decided there, by the project's ``codebook_editors`` setting.
The view's next render lists the new code and shows it applied to that unit.
"""

from __future__ import annotations

import streamlit as st

from app_pages import _common as common
from coding import service
from coding.errors import CodeframeError

FRAME = "_nc_frame"
LABEL = "_nc_label"
WORDS = "_nc_words"
MESSAGE = "_nc_message"  # (kind, text) shown once under the form
plain = common.md  # user text as text in Markdown (coding.markup)


def selected_unit(unit_ids: list[int], reported: int | None) -> int | None:
    """The unit the coder has selected in the view now (its latest report, else the one the page knows)."""
    for unit in (reported, st.session_state.get(common.SEG_ID)):
        if unit in unit_ids:
            return unit
    return None


def _create(engine, project: str, coder: str, unit_ids: list[int], reported) -> None:
    label = (st.session_state.get(LABEL) or "").strip() or None
    words = (st.session_state.get(WORDS) or "").strip() or None
    unit = selected_unit(unit_ids, reported())
    if unit is None:
        st.session_state[MESSAGE] = ("error", "Select a unit in the transcript first.")
        return
    try:
        change = service.create_and_apply_code(engine, project, frame=st.session_state.get(FRAME), segment_id=unit,
                                               coder=coder, label=label, words=words, actor=coder)
    except CodeframeError as exc:
        st.session_state[MESSAGE] = ("error", plain(common.first_line(exc)))
        return
    number = unit_ids.index(unit) + 1
    text = (f"New code **{plain(label or words or change.code)}** ({plain(change.code)}) applied to unit {number}"
            + (" as your proposal: a supervisor accepts it into the codebook" if change.proposed else "")
            + f" · codebook version {change.version}.")
    text += "".join(f"\n\n{plain(w)}" for w in change.warnings)
    st.session_state[MESSAGE] = ("success", text)
    st.session_state[LABEL] = st.session_state[WORDS] = ""


def control(engine, project: str, coder: str, *, frames: dict[str, str], preferred: list[str],
            unit_ids: list[int], reported) -> None:
    """The form: frame, label or in-vivo words, and "New code" (applied to the selected unit, which
    ``reported()`` gives as the view last reported it)."""
    if not frames:
        return
    names = list(frames)
    if st.session_state.get(FRAME) not in names:
        st.session_state[FRAME] = next((f for f in preferred if f in frames), names[0])
    unit = selected_unit(unit_ids, reported())
    with st.form("_new_code_form", border=False, enter_to_submit=True):
        st.caption(f"New code for unit {unit_ids.index(unit) + 1} (the one selected in the view)" if unit is not None
                   else "Select a unit in the view to give it a new code.")
        cols = st.columns([3, 4, 4, 2], vertical_alignment="bottom")
        cols[0].selectbox("Frame of the new code", names, key=FRAME, format_func=frames.get)
        cols[1].text_input("New code label", key=LABEL, max_chars=200,
                           placeholder="A label, or leave empty and give the words")
        cols[2].text_input("In-vivo words", key=WORDS, max_chars=200, placeholder="Words of the unit",
                           help="An in-vivo code: the respondent's own words become its label and first example.")
        cols[3].form_submit_button("New code", icon=":material/add:", on_click=_create,
                                   args=(engine, project, coder, unit_ids, reported),
                                   help="Create the code and apply it to the unit selected in the view.")
    message = st.session_state.pop(MESSAGE, None)
    if message:
        (st.success if message[0] == "success" else st.error)(message[1])
