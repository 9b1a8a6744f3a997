"""The Codebook page's editing section: add, edit, move, merge, split, retire, proposals, history and undo.

Every form calls one function of :mod:`coding.service` in an ``on_click`` callback (so the page
drawn afterwards already shows the change) and leaves its message in the session state. Who may
change the codebook is decided by the library; a refusal is shown as it comes.
"""

from __future__ import annotations

import streamlit as st

from app_pages import _common as common
from coding import service
from coding.errors import CodeframeError

MESSAGE = "_cbe_message"
EDITORS = {"admins": "admins", "supervisors": "supervisors and admins",
           "propose": "supervisors and admins; coders may propose codes, which a supervisor accepts"}


def _lines(key: str) -> list[str]:
    return [line.strip() for line in (st.session_state.get(key) or "").splitlines() if line.strip()]


def _run(what, *args, **kwargs) -> None:
    """Call a service function; keep its outcome (summary and warnings, or the error) for the next draw."""
    try:
        change = what(*args, **kwargs)
    except CodeframeError as exc:
        st.session_state[MESSAGE] = ("error", common.first_line(exc), list(map(str, exc.problems)))
        return
    note = f"Codebook version {change.version}: {change.summary}."
    if change.proposed:
        note += " It is a proposal until a supervisor accepts it."
    st.session_state[MESSAGE] = ("warning" if change.warnings else "success", note, change.warnings)


def _show_message() -> None:
    message = st.session_state.pop(MESSAGE, None)
    if message:
        kind, text, details = message
        body = text + ("\n\n" + "\n".join(f"- {common.md(d)}" for d in details) if details else "")
        getattr(st, kind)(body)


def _code_choice(label: str, key: str, codes: dict[str, str], *, exclude: str | None = None) -> str | None:
    options = [k for k in codes if k != exclude]
    return st.selectbox(label, options, index=None, key=key, placeholder="Choose a code",
                        format_func=lambda k: f"{codes[k]} ({k})")


def render(engine, project: str, codebook, actor: str | None) -> None:
    """The whole section, below the codebook."""
    st.subheader("Change the codebook")
    editors = EDITORS[service.codebook_editors(engine, project)]
    st.caption("Every change makes a new codebook version with its changelog line (what, who, when, why) and can "
               "be undone. " + (f"Acting as **{common.md(actor)}**." if actor else "No one chosen in the sidebar.")
               + f" Who may change it (once the project has an admin): {editors}.")
    _show_message()
    codes = {c.id: c.label for c in codebook.codes()}
    frames = {f.id: f.label for f in codebook.frames}
    # the open tab is kept across the reruns of each form (and in the address: ?cbtab=Merge)
    tabs = st.tabs(["Add", "Edit", "Move", "Merge", "Split", "Retire", "Proposals", "History"], key="cbtab",
                   on_change="rerun", bind="query-params")
    with tabs[0]:
        _add_form(engine, project, frames, codes, actor)
    with tabs[1]:
        _edit_form(engine, project, codebook, codes, actor)
    with tabs[2]:
        _move_form(engine, project, frames, codes, actor)
    with tabs[3]:
        _merge_form(engine, project, codes, actor)
    with tabs[4]:
        _split_form(engine, project, codes, actor)
    with tabs[5]:
        _retire_form(engine, project, codes, actor)
    with tabs[6]:
        _proposals(engine, project, actor)
    with tabs[7]:
        _history(engine, project, actor)


def _add_form(engine, project, frames, codes, actor) -> None:
    def submit():
        s = st.session_state
        _run(service.add_code, engine, project, frame=s["_cbe_add_frame"], label=s.get("_cbe_add_label") or "",
             parent=s.get("_cbe_add_parent"), definition=s.get("_cbe_add_def") or "",
             include=_lines("_cbe_add_inc"), exclude=_lines("_cbe_add_exc"), examples=_lines("_cbe_add_ex"),
             actor=actor, reason=s.get("_cbe_add_reason"))

    with st.form("cbe_add", border=False):
        st.selectbox("Frame", list(frames), key="_cbe_add_frame", format_func=lambda k: frames[k])
        st.text_input("Label", key="_cbe_add_label")
        st.selectbox("Parent (optional, same frame)", list(codes), index=None, key="_cbe_add_parent",
                     format_func=lambda k: f"{codes[k]} ({k})", placeholder="Top level")
        st.text_area("Definition", key="_cbe_add_def")
        st.text_area("Include (one criterion a line)", key="_cbe_add_inc")
        st.text_area("Exclude (one criterion a line)", key="_cbe_add_exc")
        st.text_area("Examples (one a line, at most 3)", key="_cbe_add_ex")
        st.text_input("Why (for the changelog)", key="_cbe_add_reason")
        st.form_submit_button("Add code", on_click=submit)


def _edit_form(engine, project, codebook, codes, actor) -> None:
    key = _code_choice("Code to edit", "_cbe_edit_code", codes)
    if key is None:
        return
    code = codebook.code(key)

    def submit():
        s = st.session_state
        _run(service.edit_code, engine, project, code=key, label=s[f"_cbe_edit_label_{key}"],
             definition=s[f"_cbe_edit_def_{key}"], include=_lines(f"_cbe_edit_inc_{key}"),
             exclude=_lines(f"_cbe_edit_exc_{key}"), examples=_lines(f"_cbe_edit_ex_{key}"), actor=actor,
             reason=s.get(f"_cbe_edit_reason_{key}"))

    with st.form(f"cbe_edit_{key}", border=False):
        st.text_input("Label", value=code.label, key=f"_cbe_edit_label_{key}")
        st.text_area("Definition", value=code.definition, key=f"_cbe_edit_def_{key}")
        st.text_area("Include (one criterion a line)", value="\n".join(code.include), key=f"_cbe_edit_inc_{key}")
        st.text_area("Exclude (one criterion a line)", value="\n".join(code.exclude), key=f"_cbe_edit_exc_{key}")
        st.text_area("Examples (one a line, at most 3)", value="\n".join(code.examples), key=f"_cbe_edit_ex_{key}")
        st.text_input("Why (for the changelog)", key=f"_cbe_edit_reason_{key}")
        st.caption("Changing the definition or criteria after others applied the code warns that their "
                   "earlier codings may need review.")
        st.form_submit_button("Save changes", on_click=submit)


def _move_form(engine, project, frames, codes, actor) -> None:
    def submit():
        s = st.session_state
        _run(service.move_code, engine, project, code=s.get("_cbe_move_code"), frame=s.get("_cbe_move_frame"),
             parent=s.get("_cbe_move_parent"), actor=actor, reason=s.get("_cbe_move_reason"))

    with st.form("cbe_move", border=False):
        _code_choice("Code to move", "_cbe_move_code", codes)
        st.selectbox("To frame", list(frames), index=None, key="_cbe_move_frame", format_func=lambda k: frames[k],
                     placeholder="Its own frame")
        st.selectbox("Under parent", list(codes), index=None, key="_cbe_move_parent",
                     format_func=lambda k: f"{codes[k]} ({k})", placeholder="Top level")
        st.text_input("Why (for the changelog)", key="_cbe_move_reason")
        st.form_submit_button("Move code", on_click=submit)


def _merge_form(engine, project, codes, actor) -> None:
    def submit():
        s = st.session_state
        _run(service.merge_codes, engine, project, source=s.get("_cbe_merge_source"), into=s.get("_cbe_merge_into"),
             actor=actor, reason=s.get("_cbe_merge_reason"))

    with st.form("cbe_merge", border=False):
        _code_choice("Merge this code", "_cbe_merge_source", codes)
        _code_choice("into this code", "_cbe_merge_into", codes)
        st.caption("Its codings move to the second code (a unit that carried both keeps one coding); the first "
                   "is retired. Examples are pooled. Undo puts everything back.")
        st.text_input("Why (for the changelog)", key="_cbe_merge_reason")
        st.form_submit_button("Merge codes", on_click=submit)


def _split_form(engine, project, codes, actor) -> None:
    key = _code_choice("Code to split", "_cbe_split_code", codes)
    if key is None:
        return
    units = service.coded_units(engine, project, code=key, viewer=actor)
    if units.empty:
        st.caption("No unit carries this code yet: there is nothing to split.")
        return

    def submit():
        s = st.session_state
        chosen = [int(u) for u in units["segment_id"] if s.get(f"_cbe_split_{key}_{int(u)}")]
        _run(service.split_code, engine, project, code=key, label=s.get(f"_cbe_split_label_{key}") or "",
             segment_ids=chosen, definition=s.get(f"_cbe_split_def_{key}") or "", actor=actor,
             reason=s.get(f"_cbe_split_reason_{key}"))

    with st.form(f"cbe_split_{key}", border=False):
        st.text_input("New code's label", key=f"_cbe_split_label_{key}")
        st.text_area("New code's definition", key=f"_cbe_split_def_{key}")
        st.markdown("**Units whose codings move to the new code**")
        for unit in units.itertuples():
            text = unit.text if len(unit.text) <= 160 else unit.text[:159] + "…"
            st.checkbox(f"{unit.document} · {text} (coded by {unit.coders})", key=f"_cbe_split_{key}_{unit.segment_id}")
        st.text_input("Why (for the changelog)", key=f"_cbe_split_reason_{key}")
        st.form_submit_button("Split code", on_click=submit)


def _retire_form(engine, project, codes, actor) -> None:
    def submit():
        s = st.session_state
        _run(service.retire_code, engine, project, code=s.get("_cbe_retire_code"), actor=actor,
             reason=s.get("_cbe_retire_reason"))

    with st.form("cbe_retire", border=False):
        _code_choice("Code to retire", "_cbe_retire_code", codes)
        st.caption("A retired code keeps its codings but is offered no more.")
        st.text_input("Why (for the changelog)", key="_cbe_retire_reason")
        st.form_submit_button("Retire code", on_click=submit)


def _proposals(engine, project, actor) -> None:
    proposals = service.proposed_codes(engine, project, viewer=actor)
    if not proposals:
        st.caption("No proposed codes waiting. When the project lets coders propose codes, a supervisor accepts "
                   "them here; in blind mode other coders see a proposal only once it is accepted.")
    for p in proposals:
        cols = st.columns([4, 1])
        cols[0].markdown(f"**{common.md(p['label'])}** `{p['key']}` in {p['frame']}, proposed by "
                         f"{common.md(p['proposed_by'])}")
        cols[1].button("Accept", key=f"_cbe_accept_{p['key']}", on_click=_run,
                       args=(service.accept_code, engine, project), kwargs={"code": p["key"], "actor": actor})


def _history(engine, project, actor) -> None:
    history = service.codebook_history(engine, project, viewer=actor)
    if history.empty:
        st.caption("The codebook has not been changed here yet: it is as loaded.")
        return
    st.dataframe(history.drop(columns=["code"]), hide_index=True, use_container_width=True)
    open_versions = [int(v) for v, a, u in zip(history["version"], history["action"], history["undone_by"])
                     if a not in ("undo", "apply") and (u is None or u != u)]
    if open_versions:
        version = st.selectbox("Undo version", open_versions[::-1], key="_cbe_undo_version")
        st.button(f"Undo version {version}", key="_cbe_undo", on_click=_run,
                  args=(service.undo_codebook_change, engine, project), kwargs={"version": version, "actor": actor})
    chosen = st.selectbox("Download version", [int(v) for v in history["version"]][::-1], key="_cbe_dl_version")
    cols = st.columns(2)
    try:
        cols[0].download_button("codebook.yaml", service.export_codebook_version(engine, project, version=chosen),
                                file_name=f"codebook_v{chosen}.yaml", key="_cbe_dl_yaml")
        cols[1].download_button("REFI-QDA .qdc", service.export_codebook_version(engine, project, version=chosen,
                                                                                 fmt="qdc"),
                                file_name=f"codebook_v{chosen}.qdc", key="_cbe_dl_qdc")
    except CodeframeError as exc:
        common.show_error(exc)
