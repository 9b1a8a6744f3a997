"""Agreement & adjudication: the supervisor's page.

Four tabs over one code frame, one helper module each: the agreement dashboard
(``_agreement_dashboard.py``: per-code table with intervals and Krippendorff's reading, overall figures,
segment and respondent level side by side), the disagreements with one-click adjudication
(``_adjudication.py``), each coder's drift against the consensus (``_drift.py``) and the blind
double-coding assignments (``_double_coding.py``). Every read and write is one :mod:`coding.service` call;
the library enforces who may do what (a coder gets its PermissionDenied message).
"""

from __future__ import annotations

import streamlit as st

from app_pages import _adjudication, _agreement_dashboard, _double_coding, _drift
from app_pages import _common as common
from coding import service
from coding.errors import CodeframeError
from coding.roles import may_adjudicate

engine, project = common.engine(), common.project_name()
common.inject_css()

MESSAGE = "_ag_message"  # (where, kind, text) of the last write, shown once
REVISION = "_ag_revision"  # bumped after every write, so the adjudication widgets start empty again
TABS = ("Agreement", "Disagreements", "Coder drift", "Double coding")
st.html(
    "<style>"
    ".cf-legend span{display:inline-block;padding:1px 9px;border-radius:10px;margin-right:6px;font-size:0.78rem}"
    ".cf-dis-head{font-size:0.8rem;color:#5b6570;font-weight:600;letter-spacing:0.02em}"
    ".cf-coder{font-weight:600;font-size:0.85rem;margin-bottom:2px}"
    ".cf-none{color:#8a8f98;font-style:italic;font-size:0.85rem}"
    ".cf-memo{color:#5b6570;font-size:0.8rem;margin:1px 0 4px 2px}"
    ".cf-consensus{background:#f6f7f9;border-radius:6px;padding:4px 8px}"
    ".cf-dcode{font-size:0.9rem;line-height:1.35;margin:2px 0}"
    ".cf-dswatch{display:inline-block;width:0.75rem;height:0.75rem;border-radius:50%;border:1px solid;"
    "margin-right:0.4rem;vertical-align:-1px}"
    ".cf-dcode code{font-size:0.72rem;color:#5b6570;background:#f1f3f5;padding:0 4px;border-radius:4px}"
    "</style>"
)

st.title("Agreement & adjudication")

codebook = service.project_codebook(engine, project)
if not codebook.frames:
    st.info("The project has no codebook yet — apply one on the **Codebook** page.", icon=":material/menu_book:")
    st.stop()
frame_labels = {f.id: f.label for f in codebook.frames}
coder = common.current_coder()
roles = {c["name"]: c["role"] for c in service.list_coders(engine, project)}
role = roles.get(coder)

top = st.columns([3, 2], vertical_alignment="bottom")
frame_id = top[0].selectbox(
    "Code frame", list(frame_labels), format_func=lambda f: f"{frame_labels[f]} ({f})", key="frame",
    bind="query-params", help="Agreement, disagreements and drift are computed within one frame of codes.",
)
frame = codebook.frame(frame_id)
code_labels = {c.id: c.label for c in frame.codes}
if coder is None:
    top[1].caption("Choose who you are in the sidebar to adjudicate or assign double coding.")
elif may_adjudicate(role):
    top[1].caption(f"You are **{common.md(coder)}** ({role}): you may assign double coding and adjudicate.")
else:
    top[1].caption(f"You are **{common.md(coder)}** (coder). Assigning double coding and adjudicating "
                   "need a supervisor; the agreement figures are open to everyone.")


def _message(where: str) -> None:
    """Show (once) the outcome of the last write made in ``where``."""
    stored = st.session_state.get(MESSAGE)
    if stored and stored[0] == where:
        st.session_state.pop(MESSAGE)
        {"success": st.success, "error": st.error, "info": st.info}[stored[1]](stored[2])


def _fail(where: str, exc: CodeframeError) -> None:
    head = common.first_line(exc)
    details = "".join(f"\n- {p}" for p in exc.problems)
    st.session_state[MESSAGE] = (where, "error", head + details)


def _changed() -> None:
    st.session_state[REVISION] = st.session_state.get(REVISION, 0) + 1


tabs = st.tabs(TABS, key="tab", on_change="rerun", bind="query-params")


blind_coder = common.visible_coders(engine, project) is not None  # blind mode hides others' codings from coders
BLIND_NOTE = ("Blind mode: agreement figures and drift compare your codings with other coders', so they are "
              "shown to supervisors only until blind mode is turned off.")

with tabs[0]:
    if tabs[0].open and blind_coder:
        st.info(BLIND_NOTE, icon=":material/visibility_off:")
    elif tabs[0].open:
        _agreement_dashboard.render(engine=engine, project=project, frame_id=frame_id, frame_labels=frame_labels,
                                    code_labels=code_labels, roles=roles)

with tabs[1]:
    if tabs[1].open:
        _adjudication.render(engine=engine, project=project, frame=frame, code_labels=code_labels, coder=coder,
                             roles=roles, message=_message, fail=_fail, changed=_changed, message_key=MESSAGE,
                             revision_key=REVISION)

with tabs[2]:
    if tabs[2].open and blind_coder:
        st.info(BLIND_NOTE, icon=":material/visibility_off:")
    elif tabs[2].open:
        _drift.render(engine=engine, project=project, frame_id=frame_id)

with tabs[3]:
    if (tabs[3].open and common.require_coder() is not None
            and common.allowed(engine, project, may_adjudicate, "assigning and releasing double coding")):
        _double_coding.render(engine=engine, project=project, coder=coder, roles=roles, message=_message,
                              fail=_fail, changed=_changed, message_key=MESSAGE)
