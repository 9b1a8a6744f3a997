"""The Double coding tab of the Agreement & adjudication page: assign a blind double-coding sample and
release it. Every write is one :mod:`coding.service` call; the library enforces who may assign."""

from __future__ import annotations

import streamlit as st

from coding import service
from coding.errors import CodeframeError


def render(*, engine, project: str, coder: str | None, roles: dict[str, str], message, fail, changed,
           message_key: str) -> None:
    """The tab's body (for a supervisor). ``message``, ``fail`` and ``changed`` are the page's one-shot
    message helpers."""
    MESSAGE, _message, _fail, _changed = message_key, message, fail, changed

    def _assign(coders_key: str, mode_key: str, fraction_key: str, documents_key: str, seed_key: str) -> None:
        by_fraction = st.session_state.get(mode_key) == "fraction"
        try:
            names = service.assign_double_coding(
                engine, project, coders=list(st.session_state.get(coders_key) or []), actor=coder,
                fraction=float(st.session_state.get(fraction_key, 0.25)) if by_fraction else None,
                documents=None if by_fraction else list(st.session_state.get(documents_key) or []),
                seed=int(st.session_state.get(seed_key) or 0),
            )
        except CodeframeError as exc:
            _fail("assign", exc)
            return
        st.session_state[MESSAGE] = ("assign", "success",
                                     f"{len(names)} document(s) put under blind double coding: {', '.join(names)}.")
        _changed()

    def _release(documents_key: str) -> None:
        chosen = list(st.session_state.get(documents_key) or [])
        try:
            released = service.release_double_coding(engine, project, actor=coder, documents=chosen or None)
        except CodeframeError as exc:
            _fail("release", exc)
            return
        st.session_state[MESSAGE] = ("release", "success" if released else "info",
                                     f"Released {released} assignment(s): coders now see each other's codings there."
                                     if released else "Nothing to release.")
        _changed()

    left, right = st.columns([2, 3], gap="large")
    with left:
        st.subheader("Assign double coding")
        st.caption("The chosen coders code the sample blind: each sees only their own codings on these "
                   "documents until you release them.")
        coder_names = [n for n in roles if n != service.CONSENSUS]
        st.multiselect("Coders", coder_names, key="_as_coders", placeholder="Two or more coders")
        mode = st.radio("Sample", ("fraction", "documents"), horizontal=True, key="_as_mode",
                        format_func={"fraction": "Random share of respondents",
                                     "documents": "Chosen documents"}.get)
        if mode == "fraction":
            cols = st.columns([3, 1])
            cols[0].slider("Share of respondents", min_value=0.05, max_value=1.0, value=0.25, step=0.05,
                           key="_as_fraction", format="%.2f",
                           help="Drawn at random (seeded); every document of a drawn respondent is included")
            cols[1].number_input("Seed", min_value=0, value=0, step=1, key="_as_seed",
                                 help="The same seed draws the same respondents")
        else:
            st.multiselect("Documents", [d.name for d in service.list_documents(engine, project)],
                           key="_as_documents", placeholder="Choose documents")
        st.button("Assign for double coding", type="primary", key="_as_assign", icon=":material/group_add:",
                  on_click=_assign, args=("_as_coders", "_as_mode", "_as_fraction", "_as_documents", "_as_seed"))
        _message("assign")
    with right:
        st.subheader("Current assignments")
        assignments = service.list_assignments(engine, project)
        if assignments.empty:
            st.info("No documents are under blind double coding.", icon=":material/assignment:")
        else:
            st.dataframe(
                assignments, hide_index=True, width="stretch", key="_as_table",
                height=min(38 + 35 * len(assignments), 360),
                column_config={
                    "document": "Document", "coder": "Coder",
                    "released": st.column_config.CheckboxColumn("Released",
                                                                help="Released: coders see each other's codings"),
                },
            )
            cols = st.columns([3, 1], vertical_alignment="bottom")
            cols[0].multiselect("Release", sorted(set(assignments["document"])), key="_as_release_docs",
                                placeholder="All assigned documents")
            cols[1].button("Release", key="_as_release", icon=":material/lock_open:", width="stretch",
                           on_click=_release, args=("_as_release_docs",))
        _message("release")
