"""Project settings: language, unit of coding, blind mode; REFI-QDA files; documents and coders in analysis."""

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

LANGUAGES = service.LANGUAGE_NAMES
UNITS = service.UNIT_NAMES

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
models = {m["id"]: m for m in service.model_choices()}
if info.embedding_model not in models:
    models[info.embedding_model] = {"id": info.embedding_model, "backend": "folder", "languages": []}
choice = column.selectbox(
    "Model for suggestions", list(models), index=list(models).index(info.embedding_model), key="_set_model",
    format_func=lambda m: f"{m} ({', '.join(models[m]['languages']) or 'languages not listed'})",
    help="Russian and Kazakh projects use multilingual-e5-small-q4 by default. Embeddings are cached per "
         "model, so switching back costs nothing.",
)
if choice != info.embedding_model and column.button("Use this model", key="_set_model_save"):
    try:
        service.update_settings(engine, project, embedding_model=choice)
    except CodeframeError as exc:
        common.show_error(exc)
    else:
        st.rerun()
try:
    precision = service.embedding_precision(engine, project)
except (ValueError, CodeframeError) as exc:
    precision = f"unknown ({exc})"
column.caption(f"Precision on this machine: {precision}. Set `CODEFRAME_PRECISION=auto|fp32|bf16` to choose; "
           "bf16 and fp32 embeddings are cached separately.")

st.divider()
exchange.panel(engine, project, "_set")

# --------------------------------------------------------------------------- what is analysed

st.subheader("Documents and coders in analysis")
st.caption("Exclude pilot documents or a training coder from shares, agreement and disagreements without deleting "
           "anything, or remove a document for good. Supervisors and admins (only admins in team mode); every change "
           "is in the project history below.")
actor = common.current_coder()
documents = [d.name for d in service.list_documents(engine, project)]
coder_names = [c["name"] for c in service.list_coders(engine, project) if not c["is_consensus"]]
current = service.exclusions(engine, project)
left, right = st.columns(2, gap="large")


def _save_exclusions() -> None:
    changes = []
    try:
        for kind, key in (("document", "_ex_documents"), ("coder", "_ex_coders")):
            wanted = set(st.session_state.get(key) or [])
            now = set(service.exclusions(engine, project)[kind])
            for name in sorted(wanted - now):
                service.set_excluded(engine, project, kind=kind, name=name, actor=actor,
                                            reason=st.session_state.get("_ex_reason") or None)
                changes.append(f"excluded {kind} {name}")
            for name in sorted(now - wanted):
                service.set_excluded(engine, project, kind=kind, name=name, excluded=False, actor=actor,
                                            reason=st.session_state.get("_ex_reason") or None)
                changes.append(f"included {kind} {name}")
    except CodeframeError as exc:
        st.session_state["_ex_message"] = ("error", str(exc).split("\n", 1)[0])
        return
    text = "; ".join(changes)
    st.session_state["_ex_message"] = ("success", text[:1].upper() + text[1:] + "." if changes else "Nothing changed.")


with left:
    st.multiselect("Excluded documents", documents, default=current["document"], key="_ex_documents",
                   placeholder="None: every document is analysed")
    st.multiselect("Excluded coders (e.g. pilot or training coders)", coder_names, default=current["coder"],
                   key="_ex_coders", placeholder="None: every coder is analysed")
    st.text_input("Reason", key="_ex_reason", placeholder="e.g. pilot import, training coder")
    st.button("Save exclusions", key="_ex_save", on_click=_save_exclusions, icon=":material/filter_alt:")
    message = st.session_state.pop("_ex_message", None)
    if message:
        (st.success if message[0] == "success" else st.error)(message[1])


def _remove(name: str) -> None:
    try:
        gone = service.remove_document(engine, project, document=name, actor=actor,
                                              confirm=bool(st.session_state.get("_rm_confirm")))
    except CodeframeError as exc:
        st.session_state["_rm_message"] = ("error", str(exc).split("\n", 1)[0])
        return
    st.session_state["_rm_message"] = ("success", f"Removed {name}: {gone['segments']} segments and "
                                                  f"{gone['codings']} codings are gone.")
    st.session_state["_rm_confirm"] = False
    st.session_state.pop("_rm_document", None)


with right:
    doomed = st.selectbox("Remove a document", documents, index=None, key="_rm_document",
                          placeholder="Choose a document to remove")
    if doomed is not None:
        preview = service.removal_preview(engine, project, document=doomed)
        st.warning(preview["message"][:1].upper() + preview["message"][1:] + ".", icon=":material/delete:")
        st.checkbox(f"Yes, remove {doomed} and everything listed above", key="_rm_confirm")
        st.button("Remove document", key="_rm_remove", type="primary", on_click=_remove, args=(doomed,),
                  icon=":material/delete_forever:")
    message = st.session_state.pop("_rm_message", None)
    if message:
        (st.success if message[0] == "success" else st.error)(message[1])

def _remove_coder(name: str) -> None:
    try:
        gone = service.remove_coder(engine, project, coder=name, actor=actor,
                                           confirm=bool(st.session_state.get("_rmc_confirm")))
    except CodeframeError as exc:
        st.session_state["_rmc_message"] = ("error", str(exc).split("\n", 1)[0])
        return
    st.session_state["_rmc_message"] = ("success", f"Removed coder {name}: {gone['codings']} codings are gone.")
    st.session_state["_rmc_confirm"] = False
    st.session_state.pop("_rmc_coder", None)


with right:
    leaving = st.selectbox("Remove a coder", coder_names, index=None, key="_rmc_coder",
                           placeholder="Choose a coder to remove (e.g. a test account)")
    if leaving is not None:
        preview = service.coder_removal_preview(engine, project, coder=leaving)
        st.warning(preview["message"][:1].upper() + preview["message"][1:] + ".", icon=":material/person_remove:")
        st.checkbox(f"Yes, remove {leaving} and everything listed above", key="_rmc_confirm")
        st.button("Remove coder", key="_rmc_remove", on_click=_remove_coder, args=(leaving,),
                  icon=":material/person_remove:")
    message = st.session_state.pop("_rmc_message", None)
    if message:
        (st.success if message[0] == "success" else st.error)(message[1])

changes = service.project_history(engine, project)
if not changes.empty:
    st.markdown("**Project history**")
    st.dataframe(changes.drop(columns="detail"), hide_index=True, width="stretch", key="_ex_history")
