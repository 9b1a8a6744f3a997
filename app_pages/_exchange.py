"""REFI-QDA import and export (.qdpx projects, .qdc codebooks), shared by the Import and Settings pages."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app_pages import _common as common
from coding import service
from coding.errors import CodeframeError
from coding.uploads import MAX_UPLOAD_MB

QDPX_MIME = "application/zip"
QDC_MIME = "application/xml"


def _has_documents(engine, project: str) -> bool:
    return service.project_exists(engine, project) and bool(service.list_documents(engine, project))


def panel(engine, project: str, prefix: str) -> None:
    """Upload a .qdpx or .qdc and import it; prepare and download the project as .qdpx and .qdc."""
    st.subheader("REFI-QDA: ATLAS.ti, MAXQDA, NVivo, QualCoder")
    st.caption("A **.qdpx** project comes in with its texts, codes, coders, cases and every coding on its exact "
               "span, into a project without documents. A **.qdc** codebook replaces this project's codebook "
               "and keeps every coding.")
    round_key = f"{prefix}_refi_round"
    upload_round = st.session_state.get(round_key, 0)
    message = st.session_state.pop(f"{prefix}_refi_message", None)
    if message:
        st.success(common.md(message[0]))
        if message[1]:
            st.code(message[1], language=None)

    upload = st.file_uploader("REFI-QDA file (.qdpx or .qdc)", type=["qdpx", "qdc"],
                              key=f"{prefix}_refi_upload_{upload_round}", max_upload_size=MAX_UPLOAD_MB)
    if upload is not None:
        data, name = upload.getvalue(), upload.name
        if name.lower().endswith(".qdc"):
            if st.button("Apply this codebook", key=f"{prefix}_refi_apply_qdc", type="primary"):
                try:
                    result = service.import_qdc_upload(engine, project, name, data, actor=common.current_coder())
                except CodeframeError as exc:
                    common.show_error(exc)
                else:
                    st.session_state[f"{prefix}_refi_message"] = (
                        f"Codebook {name} applied to project {project!r}.", "\n".join(result.lines()))
                    st.session_state[round_key] = upload_round + 1
                    st.rerun()
        else:
            default = project if not _has_documents(engine, project) else Path(name).stem
            target = st.text_input("Import into project", value=default, key=f"{prefix}_refi_target",
                                   help="A new project, or one without documents.").strip()
            if st.button(f"Import {common.md(name)}", key=f"{prefix}_refi_import_qdpx", type="primary",
                         disabled=not target):
                try:
                    with st.spinner("Importing and segmenting…"):
                        report = service.import_qdpx_upload(engine, target, name, data, actor=common.current_coder())
                except CodeframeError as exc:
                    common.show_error(exc)
                else:
                    where = "" if target == project else " Open it from **Project** in the sidebar."
                    st.session_state[f"{prefix}_refi_message"] = (
                        f"Imported {name} into project {target!r}.{where}", report.summary())
                    st.session_state[round_key] = upload_round + 1
                    st.rerun()

    columns = st.columns(2)
    if columns[0].button("Prepare project export (.qdpx)", key=f"{prefix}_refi_prepare_qdpx"):
        try:
            st.session_state[f"{prefix}_refi_qdpx"] = service.export_qdpx_file(engine, project)
        except CodeframeError as exc:
            common.show_error(exc)
    if columns[1].button("Prepare codebook export (.qdc)", key=f"{prefix}_refi_prepare_qdc"):
        try:
            st.session_state[f"{prefix}_refi_qdc"] = service.export_qdc_file(engine, project)
        except CodeframeError as exc:
            common.show_error(exc)
    if st.session_state.get(f"{prefix}_refi_qdpx"):
        columns[0].download_button("Download project.qdpx", st.session_state[f"{prefix}_refi_qdpx"],
                                   file_name=f"{project}.qdpx", mime=QDPX_MIME, key=f"{prefix}_refi_download_qdpx")
    if st.session_state.get(f"{prefix}_refi_qdc"):
        columns[1].download_button("Download codebook.qdc", st.session_state[f"{prefix}_refi_qdc"],
                                   file_name=f"{project}.qdc", mime=QDC_MIME, key=f"{prefix}_refi_download_qdc")
