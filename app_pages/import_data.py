"""Import transcripts and respondent attributes, with a preview of turns and segments first."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _common as common
from app_pages import _exchange as exchange
from coding import roles, service
from coding.errors import CodeframeError
from coding.uploads import MAX_UPLOAD_MB

engine, project = common.engine(), common.project_name()

st.title("Import transcripts")
if not common.allowed(engine, project, roles.may_admin, "importing in team mode", team_only=True):
    st.stop()
actor = common.current_coder()
info = service.get_project(engine, project)
st.caption(
    "Upload interview transcripts (plain text, Markdown, Word, WebVTT or SRT captions) and, optionally, a CSV of "
    "respondent attributes whose first column names the document or respondent. Nothing is saved until you press "
    "**Import**; an import lands whole or not at all."
)

round_key = "_import_round"  # a new round gives fresh, empty uploaders after an import
upload_round = st.session_state.get(round_key, 0)

settings = st.columns(2)
AUTO = "auto"
language = settings[0].selectbox(
    "Language of the transcripts", (AUTO, *service.SUPPORTED_LANGUAGES), index=0, key="_imp_language",
    format_func=lambda code: "Detect per file" if code == AUTO else service.LANGUAGE_NAMES[code],
    help="Detected per file from its script (Cyrillic with Kazakh letters: Kazakh; Cyrillic: Russian; else "
         "English), as the command line does. Choose a language only to override the detection.",
)
unit = settings[1].selectbox(
    "Unit of coding", service.SEGMENTATION_UNITS, index=service.SEGMENTATION_UNITS.index(info.segmentation_unit),
    format_func=service.UNIT_NAMES.get,
)
uploads = st.file_uploader(
    "Transcripts", type=["txt", "md", "docx", "vtt", "srt"], accept_multiple_files=True,
    key=f"_transcripts_{upload_round}", max_upload_size=MAX_UPLOAD_MB,
    help="Speaker labels such as 'Interviewer:' / 'R01:' at the start of a line mark the turns.",
)
attributes_upload = st.file_uploader(
    "Respondent attributes (CSV, optional)", type=["csv"], key=f"_attributes_{upload_round}",
    max_upload_size=MAX_UPLOAD_MB,
    help="First column: document name or respondent id; other columns: attributes such as sector or gender.",
)

with st.expander("REFI-QDA project or codebook (.qdpx, .qdc)", expanded=False):
    exchange.panel(engine, project, "_imp")

report = st.session_state.pop("_import_report", None)
if report:
    st.success(common.md(report))

attributes = (attributes_upload.name, attributes_upload.getvalue()) if attributes_upload else None

if not uploads:
    if attributes is None:
        st.info("No files chosen yet — drop transcripts above to see how they will be split into turns and segments.",
                icon=":material/description:")
        st.stop()
    st.subheader("Attributes for documents already in the project")
    try:
        st.dataframe(service.preview_attributes_upload(attributes), hide_index=True, width="stretch")
    except CodeframeError as exc:
        common.show_error(exc)
        st.stop()
    if st.button("Apply attributes", type="primary"):
        try:
            result = service.import_attributes_upload(engine, project, attributes, actor=actor)
        except CodeframeError as exc:
            common.show_error(exc)
        else:
            st.session_state["_import_report"] = f"Attributes applied to {result.attributes_applied} document(s)."
            st.session_state[round_key] = upload_round + 1
            st.rerun()
    st.stop()

files = [(f.name, f.getvalue()) for f in uploads]



@st.cache_data(max_entries=8, show_spinner=False)
def _parse(files: list[tuple[str, bytes]], language: str, unit: str):
    """The preview, cached per upload so that further clicks on this page do not segment again."""
    return service.preview_transcript_uploads(files, language=language, unit=unit)


st.subheader("Preview")
try:
    with st.spinner("Reading and segmenting the transcripts…"):
        parsed = _parse(files, language, unit)
except CodeframeError as exc:
    common.show_error(exc)
    st.stop()

detected = {t.name: service.detect_language(t.text) for t, _ in parsed}
summary = pd.DataFrame(
    [
        {"document": t.name, "detected language": service.LANGUAGE_NAMES[detected[t.name]],
         "stored as": service.LANGUAGE_NAMES[detected[t.name] if language == AUTO else language],
         "format": t.format, "encoding": t.encoding, "turns": len(t.turns),
         "segments": len(spans), "units": sum(1 for s in spans if s.is_unit),
         "speakers": ", ".join(sorted({turn.speaker for turn in t.turns if turn.speaker}))}
        for t, spans in parsed
    ]
)
st.dataframe(summary, hide_index=True, width="stretch")
for transcript, spans in parsed:
    with st.expander(f"{common.md(transcript.name)}: {len(spans)} segments"):
        st.dataframe(
            pd.DataFrame(
                [{"#": s.position + 1, "speaker": s.speaker, "role": s.role, "unit": s.is_unit, "text": s.text}
                 for s in spans]
            ),
            hide_index=True,
            width="stretch",
            column_config={"unit": st.column_config.CheckboxColumn("unit", help="A unit of coding (respondent)")},
        )

attributes_ok = True
if attributes is not None:
    st.markdown("**Respondent attributes**")
    try:
        st.dataframe(service.preview_attributes_upload(attributes), hide_index=True, width="stretch")
    except CodeframeError as exc:
        attributes_ok = False
        common.show_error(exc)

# a chosen language that contradicts the detection is stored only once the user confirms it
contradicted = [name for name, found in detected.items() if language != AUTO and found != language]
language_ok = True
if contradicted:
    chosen = service.LANGUAGE_NAMES[language]
    looks = ", ".join(sorted({service.LANGUAGE_NAMES[detected[name]] for name in contradicted}))
    st.warning(f"{len(contradicted)} file(s) look {looks}, not {chosen}: {', '.join(contradicted)}. "
               "Sentence splitting and suggestions follow the stored "
               "language. Choose **Detect per file** above, or confirm.", icon=":material/translate:")
    language_ok = st.checkbox(f"Yes, store them as {chosen}", value=False, key="_imp_language_confirm")

allow_same_content = st.checkbox(
    "Allow files with identical text", value=False,
    help="For open survey answers, where different respondents can give the same answer. "
         "Otherwise a file whose text equals another's is refused as a duplicate.")
if st.button(f"Import {len(parsed)} transcript{'s' * (len(parsed) != 1)}", type="primary",
             disabled=not (attributes_ok and language_ok)):
    try:
        result = service.import_transcript_uploads(engine, project, files, attributes=attributes,
                                                   language=language, unit=unit,
                                                   allow_same_content=allow_same_content, actor=actor)
    except CodeframeError as exc:
        common.show_error(exc)
    else:
        st.session_state["_import_report"] = (
            f"Imported {len(result.documents)} document(s): {result.segments} segments, {result.units} units of "
            f"coding" + (f", attributes for {result.attributes_applied}" if result.attributes_applied else "")
            + ". Open them on **Code a transcript**."
        )
        st.session_state[round_key] = upload_round + 1
        service.start_warm_up(engine, project, force=True)  # embed the new units in the background
        st.rerun()
