"""Agreement & adjudication: the supervisor's page.

Four tabs over one code frame: the agreement dashboard (per-code table with intervals and
Krippendorff's reading, overall figures, segment and respondent level side by side), the
disagreements with one-click adjudication, each coder's drift against the consensus, and
the blind double-coding assignments. Every read and write is one :mod:`coding.service` call;
the library enforces who may do what (a coder gets its PermissionDenied message).
"""

from __future__ import annotations

import html

import streamlit as st

from app_pages import _agreement_dashboard as dashboard
from app_pages import _agreement_disagreements as disagreements
from app_pages import _agreement_double as double
from app_pages import _agreement_drift as drift
from app_pages import _common as common
from app_pages._agreement import AgreementContext
from coding import service

engine, project = common.engine(), common.project_name()
common.inject_css()

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
elif role in ("supervisor", "admin"):
    top[1].caption(f"You are **{html.escape(coder)}** ({role}): you may assign double coding and adjudicate.")
else:
    top[1].caption(f"You are **{html.escape(coder)}** (coder). Assigning double coding and adjudicating "
                   "need a supervisor; the agreement figures are open to everyone.")


ctx = AgreementContext(engine, project, frame_id, frame, frame_labels, code_labels, coder, role, roles)
tabs = st.tabs(TABS, key="tab", on_change="rerun", bind="query-params")
with tabs[0]:
    if tabs[0].open:
        dashboard.render(ctx)
with tabs[1]:
    if tabs[1].open:
        disagreements.render(ctx)
with tabs[2]:
    if tabs[2].open:
        drift.render(ctx)
with tabs[3]:
    if tabs[3].open and common.require_coder() is not None:
        double.render(ctx)
