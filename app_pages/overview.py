"""Project overview: documents and respondents, each coder's progress, codes in use."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _common as common
from coding import service

engine, project = common.engine(), common.project_name()

st.title("Project overview")
status = service.status(engine, project)
st.caption(
    f"Project **{status.project.name}** · language {status.project.language} · "
    f"segmented by {status.project.segmentation_unit} · blind mode {'on' if status.project.blind_mode else 'off'}"
)

cols = st.columns(4)
cols[0].metric("Documents", status.documents)
cols[1].metric("Respondents", status.respondents)
cols[2].metric("Units of coding", status.units, help="Respondent segments a coder can code.")
visible = common.visible_coders(engine, project)  # blind mode: a coder's own codings only
if visible is None:
    cols[3].metric("Codings", sum(status.codings_by_coder.values()), help="Codes applied, all coders together.")
else:
    cols[3].metric("Your codings", sum(status.codings_by_coder.get(c, 0) for c in visible),
                   help="Blind mode: only your own codings are counted here.")

# ---- documents
st.subheader("Documents")
documents = service.list_documents(engine, project)
if not documents:
    st.info("No documents yet — import transcripts on the **Import** page.", icon=":material/upload_file:")
else:
    table = pd.DataFrame(
        [
            {"document": d.name, "respondent": d.respondent, **d.attributes, "language": d.language,
             "format": d.format, "units": d.units, "_id": d.id}
            for d in documents
        ]
    )
    st.caption("Select a row to open the transcript for coding.")
    picked = st.dataframe(
        table.drop(columns="_id"),
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(table), 420),
        on_select="rerun",
        selection_mode="single-row",
        key="_overview_docs",
    )
    rows = picked.selection.rows if picked else []
    if rows:
        st.session_state[common.DOC_ID] = int(table.iloc[rows[0]]["_id"])
        st.session_state.pop(common.SEG_ID, None)
        st.switch_page("app_pages/code.py")

# ---- progress
st.subheader("Progress by coder")
progress = service.reading_progress(engine, project)
if visible is not None:  # blind mode: a coder's own progress only
    progress = progress[progress["coder"].isin(visible)]
if progress.empty:
    st.info("No coders yet — add one in the sidebar (**Add a coder**).", icon=":material/person:")
else:
    st.dataframe(
        progress.assign(share=progress["units_read"] / progress["units_total"].clip(lower=1)),
        hide_index=True,
        width="stretch",
        column_order=["coder", "share", "units_coded", "documents_done"],
        column_config={
            "coder": "Coder",
            "share": st.column_config.ProgressColumn(
                "Units read", format="percent", min_value=0, max_value=1,
                help="Units with your codes, marked “nothing applies”, or in a transcript you finished"),
            "units_coded": st.column_config.NumberColumn(
                "Coded", help=f"Units with at least one code, of {status.units}"
            ),
            "documents_done": st.column_config.NumberColumn(
                "Done", help=f"Transcripts marked done or with a frame finished, of {status.documents}"
            ),
        },
    )

# ---- code usage (the whole width: the code labels are long, and every count must be readable)
st.subheader("Codes in use")
usage = service.code_usage(engine, project, coders=visible)
st.caption(f"Counted from {common.md(visible[0])}'s own codings (blind mode)." if visible is not None else
           "Counted from every coder's codings together, the consensus included.")
if usage.empty:
    st.info("No codes applied yet — open a transcript on **Code a transcript** and start coding.",
            icon=":material/edit_note:")
else:
    codebook = service.project_codebook(engine, project, include_inactive=True)
    labels = {c.id: c.label for c in codebook.codes()}
    frames = {f.id: f.label for f in codebook.frames}
    shown = usage.assign(
        label=usage["code"].map(labels).fillna(usage["code"]),
        frame=usage["frame"].map(frames).fillna(usage["frame"]),
        of_respondents=usage["respondents"].map(lambda n: f"{n} of {status.respondents}"),
    ).sort_values(["respondents", "segments"], ascending=False)
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(shown), 420),
        column_order=["label", "of_respondents", "segments", "codings", "frame"],  # the numbers before the long frame
        column_config={
            "label": st.column_config.TextColumn("Code", width="large", help="Definitions are on the Codebook page"),
            "of_respondents": st.column_config.TextColumn(
                "Respondents", width="small",
                help="Respondents with at least one segment carrying the code (the coders counted above), of every "
                     "respondent in the project."),
            "segments": st.column_config.NumberColumn("Segments", width="small", help="Segments carrying the code"),
            "codings": st.column_config.NumberColumn("Codings", width="small",
                                                     help="Codings of the coders counted above"),
            "frame": st.column_config.TextColumn("Frame", width="medium"),
        },
        key="_overview_codes",
    )
