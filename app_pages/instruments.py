"""Instruments beside the interviews: OCAI culture profiles, sector scores, closed survey questions.

Thin: every number comes from :mod:`coding.service` (its module `coding/service/instruments.py`), every chart from
:mod:`coding.instrument_charts`. The last tab imports a survey, OCAI answers or a sector
instrument (all or nothing, errors with file, row and column).
"""

from __future__ import annotations

import streamlit as st

from app_pages import _common as common
from coding import instrument_charts, roles, safe_cells, service
from coding.charts import chart_to_png, chart_to_svg
from coding.errors import CodeframeError

engine, project = common.engine(), common.project_name()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

st.title("Instruments")
st.caption("OCAI culture profiles, sector scores and closed survey questions of the same project as the codings.")

names = service.instrument_summary(engine, project)


# column -> the heading a reader sees (the downloads keep the column names, for scripts)
HEADINGS = {"n": "n", "sd": "SD", "ci_low": "95% CI low", "ci_high": "95% CI high", "group_n": "n in group",
            "percent": "%", "display": "share", "flag": "≥ 10 points", "statements": "statements"}


def heading(column: str) -> str:
    if column in HEADINGS:
        return HEADINGS[column]
    for prefix in ("dominant_", "spread_"):
        if column.startswith(prefix):
            return f"{prefix[:-1]}: {column.removeprefix(prefix).replace('_', ' ')}"
    return column.replace("_", " ").capitalize()


def show_table(table, key: str) -> None:
    """A table with readable headings and numbers to one decimal; columns with no value at all are left out."""
    if "dimension" in table.columns:  # OCAI dimension ids read as words
        table = table.assign(dimension=table["dimension"].astype(str).str.replace("_", " "))
    config = {}
    for column in table.columns:
        if table[column].dtype.kind == "f":
            config[column] = st.column_config.NumberColumn(heading(column), format="%.1f")
        else:
            config[column] = st.column_config.Column(heading(column))
    shown = [c for c in table.columns if not table[c].isna().all()]
    st.dataframe(table, hide_index=True, key=key, column_config=config, column_order=shown)


def downloads(chart, stem: str, tables: dict, key: str) -> None:
    cols = st.columns(4)
    cols[0].download_button("Chart (PNG)", lambda: chart_to_png(chart), file_name=f"{stem}.png", mime="image/png",
                            icon=":material/image:", width="stretch", key=f"_dl_{key}_png", on_click="ignore")
    cols[1].download_button("Chart (SVG)", lambda: chart_to_svg(chart), file_name=f"{stem}.svg",
                            mime="image/svg+xml", icon=":material/polyline:", width="stretch",
                            key=f"_dl_{key}_svg", on_click="ignore")
    first = next(iter(tables.values()))
    cols[2].download_button("Table (CSV)", lambda: safe_cells.csv_text(first), file_name=f"{stem}.csv",
                            mime="text/csv", icon=":material/table:", width="stretch", key=f"_dl_{key}_csv",
                            on_click="ignore")
    cols[3].download_button("Workbook (XLSX)", lambda: service.tables_workbook(tables), file_name=f"{stem}.xlsx",
                            mime=XLSX, icon=":material/download:", width="stretch", key=f"_dl_{key}_xlsx",
                            on_click="ignore")


def group_controls(key: str, attributes: list[str]) -> tuple[str | None, str | None]:
    cols = st.columns(2)
    by = cols[0].selectbox("By attribute", attributes, index=None, key=f"{key}_by",
                           placeholder="All respondents together")
    return by, cols[1]


def ocai_tab() -> None:
    if not names["ocai"]:
        st.info("No OCAI answers yet: import them in the **Import** tab.", icon=":material/radar:")
        return
    name = st.selectbox("OCAI instrument", names["ocai"], key="ocai_name") if len(names["ocai"]) > 1 \
        else names["ocai"][0]
    by, slot = group_controls("ocai", service.instrument_attributes(engine, project, name=name))
    report = service.ocai_report(engine, project, name=name, by=by)
    groups = list(dict.fromkeys(report.profiles["group"]))
    group = slot.selectbox("Group to draw", groups, key="ocai_group") if by else None
    st.caption(f"n = **{report.n}** respondents")
    for note in report.notes:  # how the answers were validated is a plain fact, not an alert
        if note.startswith("Validation:"):
            st.caption(common.md(note))
        else:
            st.info(common.md(note), icon=":material/info:")
    dimension = st.radio("Kite", ["Six-dimension profile", "Per dimension"], horizontal=True, key="ocai_kite")
    if dimension == "Per dimension":
        chart = instrument_charts.kite_grid(report.per_dimension, group=group)
    else:
        chart = instrument_charts.kite_chart(report.profiles, group=group)
    st.altair_chart(chart, width="content")
    downloads(chart, f"ocai_kite{'_' + by if by else ''}", {
        "Profiles": report.profiles, "Dimensions": report.per_dimension, "Dominant": report.dominant,
        "Dominant per dimension": report.dominant_per_dimension, "Congruence": report.congruence,
        "Discrepancy": report.discrepancy, "Respondents": report.respondents}, "ocai")
    st.subheader("Dominant type and strength")
    show_table(report.dominant, "ocai_dominant")
    show_table(report.dominant_per_dimension, "ocai_dominant_dims")
    st.subheader("Discrepancy (preferred − now)")
    show_table(report.discrepancy, "ocai_discrepancy")
    st.subheader("Congruence")
    show_table(report.congruence, "ocai_congruence")
    st.subheader("Profiles (mean points with 95% CI)")
    show_table(report.profiles, "ocai_profiles")


def sectors_tab() -> None:
    if not names["scale"]:
        st.info("No sector ratings yet: import an instrument and its ratings in the **Import** tab.")
        return
    name = st.selectbox("Sector instrument", names["scale"], key="scale_name") if len(names["scale"]) > 1 \
        else names["scale"][0]
    by, slot = group_controls("scale", service.instrument_attributes(engine, project, name=name))
    report = service.scale_report(engine, project, name=name, by=by)
    groups = list(dict.fromkeys(report.table["group"]))
    group = slot.selectbox("Group to draw", groups, key="scale_group") if by else None
    bottlenecks = report.table.loc[report.table["bottleneck"], "label"].unique().tolist()
    st.caption(f"n = **{report.n}** respondents · bottleneck (mean below 4): "
               f"**{common.md(', '.join(bottlenecks)) or 'none'}**")
    for note in report.notes:
        st.info(common.md(note), icon=":material/info:")
    chart = instrument_charts.sector_chart(report.table, group=group)
    st.altair_chart(chart, width="content")
    downloads(chart, "sectors", {"Sectors": report.table, "Statements": report.statements}, "scale")
    show_table(report.table, "scale_table")
    show_table(report.statements, "scale_statements")


def survey_tab() -> None:
    if not names["survey"]:
        st.info("No survey yet: import one in the **Import** tab.")
        return
    name = st.selectbox("Survey", names["survey"], key="survey_name") if len(names["survey"]) > 1 \
        else names["survey"][0]
    spec = service.survey_spec(engine, project, survey=name)
    cols = st.columns(2)
    question = cols[0].selectbox("Closed question", spec["closed"], key="survey_question")
    by = cols[1].selectbox("By attribute", spec["attributes"] + [q for q in spec["closed"] if q != question],
                           index=None, key="survey_by", placeholder="All respondents together")
    table = service.closed_question_table(engine, project, survey=name, questions=[question], by=by)
    n = int(table["n"].iloc[0]) if by is None else int(table.attrs["n"])
    st.caption(f"n = **{n}** respondents: every "
               "respondent of the survey, blanks counted as '(no answer)'; Wilson 95% intervals.")
    chart = instrument_charts.closed_question_chart(table, question=question, by=by)
    st.altair_chart(chart, width="content")
    downloads(chart, f"closed_{question}" + (f"_by_{by}" if by else ""), {"Closed question": table}, "survey")
    show_table(table, "survey_table")


def _run_import(action) -> None:
    try:
        report = action()
    except CodeframeError as exc:
        common.show_error(exc)
        return
    documents = f", {len(report.documents)} open answer document(s)" if report.documents else ""
    st.session_state["_instrument_message"] = (f"Imported {report.kind} {report.name!r}: {report.respondents} "
                                               f"respondent(s){documents}.")
    st.rerun()


def import_tab() -> None:
    if not common.allowed(engine, project, roles.may_admin, "importing in team mode", team_only=True):
        return
    message = st.session_state.pop("_instrument_message", None)
    if message:
        st.success(common.md(message))
    kind = st.radio("What to import", ["Survey", "OCAI answers", "Sector instrument and ratings"], horizontal=True,
                    key="import_kind")
    if kind == "Survey":
        upload = st.file_uploader("Survey (CSV or XLSX, one row per respondent)", type=["csv", "xlsx"],
                                  key="survey_file")
        if upload is None:
            return
        try:
            columns = service.survey_columns((upload.name, upload.getvalue()))
        except CodeframeError as exc:
            common.show_error(exc)
            return
        closed = st.multiselect("Closed questions", columns, key="survey_closed")
        open_ = st.multiselect("Open answers (each becomes a document, one unit)",
                               [c for c in columns if c not in closed], key="survey_open")
        name = st.text_input("Survey name", value=upload.name.rsplit(".", 1)[0], key="survey_import_name")
        if st.button("Import survey", type="primary", key="survey_import"):
            _run_import(lambda: service.import_survey(engine, project, (upload.name, upload.getvalue()), name=name,
                                                 closed=closed, open=open_, actor=common.current_coder()))
    elif kind == "OCAI answers":
        upload = st.file_uploader("OCAI answers (respondent, view, dimension, A, B, C, D, attributes)",
                                  type=["csv", "xlsx"], key="ocai_file")
        mode = st.radio("A dimension that does not sum to 100", ["reject", "rescale"], horizontal=True,
                        key="ocai_mode", help="reject: nothing is imported; rescale: the four numbers are scaled "
                                              "to 100 and every rescaled row is recorded")
        name = st.text_input("Name", value="ocai", key="ocai_import_name")
        if upload is not None and st.button("Import OCAI answers", type="primary", key="ocai_import"):
            _run_import(lambda: service.import_ocai(engine, project, (upload.name, upload.getvalue()), name=name,
                                               mode=mode, actor=common.current_coder()))
    else:
        yaml_file = st.file_uploader("Sector instrument (YAML)", type=["yaml", "yml"], key="scale_yaml")
        ratings = st.file_uploader("Ratings (respondent, statement, rating, attributes)", type=["csv", "xlsx"],
                                   key="scale_ratings")
        if yaml_file is not None and ratings is not None and st.button("Import ratings", type="primary",
                                                                       key="scale_import"):
            _run_import(lambda: service.import_scale(engine, project, (yaml_file.name, yaml_file.getvalue()),
                                                (ratings.name, ratings.getvalue()),
                                                actor=common.current_coder()))


ocai, sectors, survey, importing = st.tabs(["OCAI", "Sector scores", "Closed questions", "Import"])
with ocai:
    ocai_tab()
with sectors:
    sectors_tab()
with survey:
    survey_tab()
with importing:
    import_tab()
