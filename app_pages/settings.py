"""Project settings: language, unit of coding, blind mode; REFI-QDA import and export."""

from __future__ import annotations

import streamlit as st

from app_pages import _common as common
from app_pages import _exchange as exchange
from coding import roles, service
from coding.errors import CodeframeError

engine, project = common.engine(), common.project_name()

st.title("Settings")
if not common.allowed(engine, project, roles.may_admin, "changing the settings in team mode", team_only=True):
    st.stop()
info = service.get_project(engine, project)
st.caption(f"Project **{info.name}**. Changes are saved when you press **Save settings**.")

LANGUAGES = {"en": "English", "ru": "Russian", "kk": "Kazakh"}
UNITS = {"sentence": "Sentence of a respondent", "turn": "Whole respondent turn"}

column = st.columns([3, 2])[0]
with column, st.form("settings"):
    language = st.selectbox(
        "Project language", service.SUPPORTED_LANGUAGES, index=service.SUPPORTED_LANGUAGES.index(info.language),
        format_func=LANGUAGES.get, key="_set_language",
        help="Default language of imported transcripts (sentence splitting, suggestions).",
    )
    unit = st.radio(
        "Unit of coding", tuple(UNITS), index=tuple(UNITS).index(info.segmentation_unit), format_func=UNITS.get,
        horizontal=True, key="_set_unit",
        help="How respondent talk is cut into units. Applies to transcripts imported from now on; "
             "documents already imported keep their segments (and codings).",
    )
    st.caption("New imports are cut into this unit; transcripts already imported keep theirs.")
    blind = st.toggle(
        "Blind mode", value=info.blind_mode, key="_set_blind",
        help="When on, a coder sees only their own codings. Supervisors always see everyone's.",
    )
    st.caption("Blind mode hides other coders' codings from coders, so double coding stays independent.")
    submitted = st.form_submit_button("Save settings", type="primary")

if submitted:
    with column:
        try:
            service.update_settings(engine, project, language=language, segmentation_unit=unit, blind_mode=blind,
                                    actor=common.current_coder())
        except CodeframeError as exc:
            common.show_error(exc)
        else:
            st.success("Settings saved.")

st.subheader("Embedding model")
st.markdown(f"Suggestions use **{info.embedding_model}**.")
try:
    precision = service.embedding_precision(engine, project)
except (ValueError, CodeframeError) as exc:
    precision = f"unknown ({exc})"
st.caption(f"Precision on this machine: {precision}. Set `CODEFRAME_PRECISION=auto|fp32|bf16` to choose; "
           "bf16 and fp32 embeddings are cached separately.")

st.divider()
exchange.panel(engine, project, "_set")
