"""Shares of respondents per code — the article's Figure 1, with intervals, crosstabs and downloads.

One :func:`coding.service.share_report` call gives everything on the page: the share table
(denominator = every respondent in scope, including those with no coding), the crosstab by a
respondent attribute, the respondent x code matrix and the coded quotes. Charts and files come
from the pure modules :mod:`coding.charts` and :mod:`coding.xlsx`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _common as common
from coding import charts, roles, service, shares
from coding.errors import CodeframeError

engine, project = common.engine(), common.project_name()

st.title("Shares of respondents")
if (common.team_mode(engine, project) and service.get_project(engine, project).blind_mode
        and not common.allowed(engine, project, roles.may_see_others,
                               "seeing the share tables while blind mode is on")):
    st.stop()

codebook = service.project_codebook(engine, project)
documents = service.list_documents(engine, project)
if not codebook.frames or not documents:
    st.info("Shares need a codebook and transcripts — see the **Import** and **Codebook** pages.",
            icon=":material/bar_chart:")
    st.stop()
frame_labels = {f.id: f.label for f in codebook.frames}
attributes = list(dict.fromkeys(k for d in documents for k in d.attributes))
viewer = common.current_coder()
visible = common.visible_coders(engine, project)  # blind mode: a coder's own codings only
coders = common.counted_coders(engine, project, [c["name"] for c in service.list_coders(engine, project)]
                               if visible is None else visible, key="coder_shares")

controls = st.columns([3, 2, 2], vertical_alignment="bottom")
frame_id = controls[0].selectbox(
    "Code frame", list(frame_labels), format_func=lambda f: f"{frame_labels[f]} ({f})", key="frame",
    bind="query-params",
)
by = controls[1].selectbox(
    "By attribute", attributes, index=None, key="by", bind="query-params", placeholder="All respondents together",
    help="Split the shares by a respondent attribute (from the attributes file)",
)
coder = controls[2].selectbox(
    "Coder", coders, index=None, key="coder_shares",
    placeholder="Consensus (default)" if visible is None else f"{visible[0]} (blind mode: your codings only)",
    help="Whose codings to count. By default the consensus when it has coded the frame, else the only coder who has.",
)
DENOMINATORS = {"all": "Every respondent in scope (as the article counts)", "covered": "Respondents the coder covered"}
denominator = st.session_state.get("_sh_denominator", "all")

try:
    report = service.share_report(engine, project, frame=frame_id, by=by, coder=coder, viewer=viewer,
                                  denominator=denominator)
except CodeframeError as exc:
    common.show_error(exc)
    st.stop()

table = report.table
title = frame_labels[frame_id]
if report.partial or denominator == "covered":
    st.warning(f"Partial coverage: {common.md(report.coverage)}. With every respondent in scope as the denominator, a "
               "respondent the coder never read counts as not mentioning the code.", icon=":material/warning:")
    st.radio("Denominator", tuple(DENOMINATORS), format_func=DENOMINATORS.get, horizontal=True,
             key="_sh_denominator")
scope = ("every respondent in scope, including those with no coding in this frame" if report.denominator == "all"
         else f"the respondents {common.md(report.coder)} covered in this frame")
st.caption(
    f"n = **{report.n}** respondents: {scope}. **{common.md(report.coverage)}**. "
    f"Counted from **{common.md(report.coder)}**'s codings; a respondent counts once however often a code is "
    "applied, and a parent code counts respondents with any of its sub-codes."
)
for note in [*report.notes, *table.attrs.get("notes", [])]:
    st.warning(common.md(note), icon=":material/info:")

chart = charts.share_bar_chart(report.crosstab if by else table, title=title, by=by)
stem = f"shares_{frame_id}" + (f"_by_{by}" if by else "")
downloads = st.columns(4)
downloads[0].download_button("Chart (PNG)", lambda: charts.chart_to_png(chart), file_name=f"{stem}.png",
                             mime="image/png", icon=":material/image:", width="stretch", key="_dl_png",
                             on_click="ignore")
downloads[1].download_button("Chart (SVG)", lambda: charts.chart_to_svg(chart), file_name=f"{stem}.svg",
                             mime="image/svg+xml", icon=":material/polyline:", width="stretch", key="_dl_svg",
                             on_click="ignore")
downloads[2].download_button("Crosstab (CSV)" if by else "Table (CSV)",
                             lambda: service.share_csv(report), file_name=f"{stem}.csv",
                             mime="text/csv", icon=":material/table:", width="stretch", key="_dl_csv",
                             on_click="ignore")
downloads[3].download_button(
    "Workbook (XLSX)",
    lambda: service.share_xlsx(report, by=by),
    file_name=f"{stem}.xlsx", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    icon=":material/download:", width="stretch", key="_dl_xlsx", on_click="ignore",
    help=f"Sheets: shares, the crosstab, the case x code matrix and {common.md(report.coder)}'s coded quotes",
)
st.altair_chart(chart, width="content", key="_share_chart")

st.subheader("Share table")
pooled = table["coder_min"].notna().any() if "coder_min" in table else False
shown = table
if "agreement" in table:  # an undefined α is "—" with its reason beside it, never "None"
    shown = table.assign(agreement=[f"{a:.3f}" if pd.notna(a) else "—" for a in table["agreement"]])
if "agreement_reason" in table:
    shown = shown.assign(agreement_reason=table["agreement_reason"].fillna(""))
st.dataframe(
    shown,
    hide_index=True,
    width="stretch",
    key="_share_table",
    column_order=["label", "code", "display", "ci_low", "ci_high", "coder_min", "coder_max", "agreement",
                  "agreement_reason"],
    column_config={
        "label": st.column_config.TextColumn("Code", width=330),
        "code": st.column_config.TextColumn("Id", width=170),
        "display": st.column_config.TextColumn("Share", help="Respondents naming the code / all respondents",
                                               width=110),
        "ci_low": st.column_config.NumberColumn("CI low", format="%.1f%%", help="95% Wilson interval, lower bound"),
        "ci_high": st.column_config.NumberColumn("CI high", format="%.1f%%", help="95% Wilson interval, upper bound"),
        "coder_min": st.column_config.NumberColumn("Coders min", format="%.1f%%",
                                                   help="Lowest share among the individual coders"),
        "coder_max": st.column_config.NumberColumn("Coders max", format="%.1f%%",
                                                   help="Highest share among the individual coders"),
        "agreement": st.column_config.TextColumn(
            "α", help="Krippendorff's alpha of the code at the respondent level "
                      "(reliable ≥ 0.800, tentative ≥ 0.667); — when undefined, with the reason beside it"),
        "agreement_reason": st.column_config.TextColumn("α undefined because", width=260),
    },
)
if pooled:
    st.caption(f"Coders min/max: the share each of {common.md(', '.join(report.spread_coders))} would give on "
               "their own "
               "(the individual coders who covered every respondent in scope) — the spread behind the figure.")

if by:
    st.subheader(f"By {common.md(by)}")
    wide, small = shares.wide_crosstab(report.crosstab)
    headings = [c for c in wide.columns if c != "Code"]
    styled = wide.style.apply(lambda _: small.map(lambda s: "color:#a3231f;font-style:italic;background-color:"
                                                          "#fdf0ef" if s else ""), axis=None)
    st.dataframe(styled, width="stretch", hide_index=True, key="_share_cross",
                 column_config={"Code": st.column_config.TextColumn("Code", width=330),
                                **{h: st.column_config.TextColumn(h, width=150) for h in headings}})
    st.caption("† small group (fewer than 5 respondents): its percentage moves by 20 points or more per respondent "
               "and should not be read on its own. Column percent: share of the group that named the code.")

st.subheader("Codes per respondent")
st.caption("Every respondent in scope is a row, including those with no code of this frame. "
           f"{common.md(report.coverage)}.")
heatmap = charts.code_respondent_heatmap(report.matrix, title=title)
st.altair_chart(heatmap, width="content", key="_share_heatmap")
