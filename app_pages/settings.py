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
st.caption(f"Project **{common.md(info.name)}**. Changes are saved when you press **Save settings**.")

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
column = st.columns([3, 2])[0]  # under its heading (the settings form's column is above it)
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
        service.update_settings(engine, project, embedding_model=choice, actor=common.current_coder())
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
# kind -> (label, names, multiselect key, placeholder): the excluded documents and coders
EXCLUDABLE = {
    "document": ("Excluded documents", documents, "_ex_documents", "None: every document is analysed"),
    "coder": ("Excluded coders (e.g. pilot or training coders)", coder_names, "_ex_coders",
              "None: every coder is analysed"),
}


def _show_message(key: str) -> None:
    message = st.session_state.pop(key, None)
    if message:
        (st.success if message[0] == "success" else st.error)(common.md(message[1]))


def _save_exclusions() -> None:
    changes = []
    try:
        for kind, (_, _, key, _) in EXCLUDABLE.items():
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
        st.session_state["_ex_message"] = ("error", common.first_line(exc))
        return
    text = "; ".join(changes)
    st.session_state["_ex_message"] = ("success", text[:1].upper() + text[1:] + "." if changes else "Nothing changed.")


with left:
    for kind, (label, names, key, placeholder) in EXCLUDABLE.items():
        st.multiselect(label, names, default=current[kind], key=key, placeholder=placeholder)
    st.text_input("Reason", key="_ex_reason", placeholder="e.g. pilot import, training coder")
    st.button("Save exclusions", key="_ex_save", on_click=_save_exclusions, icon=":material/filter_alt:")
    _show_message("_ex_message")


def _remove(prefix: str, chosen_key: str, name: str, remove, done) -> None:
    """Remove ``name`` (if confirmed) and leave the outcome for the next run."""
    try:
        gone = remove(name, bool(st.session_state.get(f"{prefix}_confirm")))
    except CodeframeError as exc:
        st.session_state[f"{prefix}_message"] = ("error", common.first_line(exc))
        return
    st.session_state[f"{prefix}_message"] = ("success", done(name, gone))
    st.session_state[f"{prefix}_confirm"] = False
    st.session_state.pop(chosen_key, None)


def _removal(*, prefix: str, chosen_key: str, label: str, names: list[str], placeholder: str, preview, remove,
             done, what: str, icon: str, button: dict) -> None:
    """Choose one document or coder, see what removing it takes, confirm and remove it."""
    chosen = st.selectbox(label, names, index=None, key=chosen_key, placeholder=placeholder)
    if chosen is not None:
        message = preview(chosen)["message"]
        st.warning(common.md(message[:1].upper() + message[1:]) + ".", icon=icon)
        st.checkbox(f"Yes, remove {common.md(chosen)} and everything listed above", key=f"{prefix}_confirm")
        st.button(f"Remove {what}", key=f"{prefix}_remove", on_click=_remove,
                  args=(prefix, chosen_key, chosen, remove, done), **button)
    _show_message(f"{prefix}_message")


with right:
    _removal(prefix="_rm", chosen_key="_rm_document", label="Remove a document", names=documents,
             placeholder="Choose a document to remove",
             preview=lambda name: service.removal_preview(engine, project, document=name),
             remove=lambda name, confirm: service.remove_document(engine, project, document=name, actor=actor,
                                                                  confirm=confirm),
             done=lambda name, gone: (f"Removed {name}: {gone['segments']} segments and "
                                      f"{gone['codings']} codings are gone."),
             what="document", icon=":material/delete:",
             button={"type": "primary", "icon": ":material/delete_forever:"})
    _removal(prefix="_rmc", chosen_key="_rmc_coder", label="Remove a coder", names=coder_names,
             placeholder="Choose a coder to remove (e.g. a test account)",
             preview=lambda name: service.coder_removal_preview(engine, project, coder=name),
             remove=lambda name, confirm: service.remove_coder(engine, project, coder=name, actor=actor,
                                                               confirm=confirm),
             done=lambda name, gone: f"Removed coder {name}: {gone['codings']} codings are gone.",
             what="coder", icon=":material/person_remove:", button={"icon": ":material/person_remove:"})

changes = service.project_history(engine, project)
if not changes.empty:
    st.markdown("**Project history**")
    st.dataframe(changes.drop(columns="detail"), hide_index=True, width="stretch", key="_ex_history")
