"""Agreement & adjudication: the supervisor's page.

Four tabs over one code frame: the agreement dashboard (per-code table with intervals and
Krippendorff's reading, overall figures, segment and respondent level side by side), the
disagreements with one-click adjudication (app_pages/_adjudication.py), each coder's drift against the consensus, and
the blind double-coding assignments. Every read and write is one :mod:`coding.service` call;
the library enforces who may do what (a coder gets its PermissionDenied message).
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from app_pages import _adjudication
from app_pages import _common as common
from coding import charts, service
from coding.agreement import interpret_alpha
from coding.errors import CodeframeError
from coding.roles import may_adjudicate

engine, project = common.engine(), common.project_name()
common.inject_css()

MESSAGE = "_ag_message"  # (where, kind, text) of the last write, shown once
REVISION = "_ag_revision"  # bumped after every write, so the adjudication widgets start empty again
TABS = ("Agreement", "Disagreements", "Coder drift", "Double coding")
UNITS = {"segment": "Segment", "respondent": "Respondent"}
LEVELS = ("nominal", "ordinal", "interval", "ratio")
STATISTIC_NAMES = {
    "alpha": "Krippendorff's α",
    "percent_agreement": "% agreement",
    "cohen_kappa": "Cohen's κ",
    "fleiss_kappa": "Fleiss' κ",
    "gwet_ac1": "Gwet's AC1",
}
# Krippendorff's reading (coding.agreement.interpret_alpha) -> (background, text colour, metric colour)
BANDS = {
    "reliable": ("#dff3e4", "#1b6b34", "green"),
    "tentative": ("#fff0d1", "#8a5a00", "orange"),
    "unreliable": ("#fde1df", "#a3231f", "red"),
    "undefined": ("#eef0f3", "#5b6570", "gray"),
}

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
    top[1].caption(f"You are **{html.escape(coder)}** ({role}): you may assign double coding and adjudicate.")
else:
    top[1].caption(f"You are **{html.escape(coder)}** (coder). Assigning double coding and adjudicating "
                   "need a supervisor; the agreement figures are open to everyone.")


def _message(where: str) -> None:
    """Show (once) the outcome of the last write made in ``where``."""
    stored = st.session_state.get(MESSAGE)
    if stored and stored[0] == where:
        st.session_state.pop(MESSAGE)
        {"success": st.success, "error": st.error, "info": st.info}[stored[1]](stored[2])


def _fail(where: str, exc: CodeframeError) -> None:
    head = str(exc).split("\n", 1)[0]
    details = "".join(f"\n- {p}" for p in exc.problems)
    st.session_state[MESSAGE] = (where, "error", head + details)


def _changed() -> None:
    st.session_state[REVISION] = st.session_state.get(REVISION, 0) + 1


tabs = st.tabs(TABS, key="tab", on_change="rerun", bind="query-params")


# --------------------------------------------------------------------------- agreement dashboard


def _band(value: float) -> str:
    return interpret_alpha(value)


def _alpha_cell(value) -> str:
    background, text, _ = BANDS[_band(value)]
    return f"background-color:{background};color:{text};font-weight:600"


def _bound_cell(value) -> str:
    return f"color:{BANDS[_band(value)][1]}"


def _reading_cell(value: str) -> str:
    background, text, _ = BANDS[value.split(" ", 1)[0] if value.split(" ", 1)[0] in BANDS else "undefined"]
    return f"background-color:{background};color:{text}"


def _code_table(report) -> pd.DataFrame:
    """The report's per-code table with labels and a reading that names the reason of a NaN."""
    table = report.table.copy()
    table.insert(1, "label", table["code"].map(code_labels).fillna(table["code"]))
    table["reading"] = [
        i if i != "undefined" else f"undefined — {r or 'no value'}"
        for i, r in zip(table["interpretation"], table["reason"])
    ]
    return table


def _show_code_table(report, *, key: str, compact: bool = False) -> None:
    table = _code_table(report)
    if compact:
        columns = ["label", "alpha", "alpha_low", "alpha_high"]
    else:
        columns = ["label", "n_units", "prevalence", "percent_agreement", "cohen_kappa", "gwet_ac1", "alpha",
                   "alpha_low", "alpha_high", "reading"]
        if len(report.coders) > 2:
            columns.insert(5, "fleiss_kappa")
        if table["note"].notna().any():
            columns.append("note")
    styled = (
        table.style
        .map(_alpha_cell, subset=["alpha"])
        .map(_bound_cell, subset=["alpha_low", "alpha_high"])
        .map(_reading_cell, subset=["reading"])
        .format("{:.3f}", subset=["percent_agreement", "cohen_kappa", "fleiss_kappa", "gwet_ac1", "alpha",
                                  "alpha_low", "alpha_high"], na_rep="—")
        .format("{:.1%}", subset=["prevalence"], na_rep="—")
    )
    unit_word = "segments" if report.unit == "segment" else "respondents"
    number = 66 if compact else 60  # px: "0.995" and "-0.001" fit

    def text(title: str, help: str | None = None, width: int = number):
        return st.column_config.TextColumn(title, help=help, width=width)

    st.dataframe(
        styled,
        hide_index=True,
        width="stretch",
        key=key,
        column_order=columns,
        column_config={
            "label": text("Code", None, 250 if compact else 290),
            "n_units": st.column_config.NumberColumn(
                "Units", help=f"{unit_word.capitalize()} seen by at least two coders", width=number),
            "prevalence": text("Applied", "Share of all ratings that apply the code"),
            "percent_agreement": text("% agr.", "Raw agreement on the presence of the code"),
            "cohen_kappa": text("Cohen κ"),
            "fleiss_kappa": text("Fleiss κ"),
            "gwet_ac1": text("AC1", "Gwet's AC1"),
            "alpha": text("α", "Krippendorff's alpha on the presence of the code"),
            "alpha_low": text("CI low", "95% bootstrap interval of α, lower bound"),
            "alpha_high": text("CI high", "95% bootstrap interval of α, upper bound"),
            "reading": text("Reading", "Krippendorff (2004): reliable from 0.800, tentative from 0.667; "
                                       "an undefined α names its reason", 150),
            "note": text("Note", None, 150),
        },
    )


def _overall(report) -> None:
    """The overall figures as metrics; an undefined figure shows its reason."""
    overall = report.overall
    alpha = overall["alpha"]
    band = _band(alpha.value)
    cells = st.columns([2] + [1] * (len(STATISTIC_NAMES) - 1))
    for cell, (name, title) in zip(cells, STATISTIC_NAMES.items()):
        statistic = overall[name]
        if name == "alpha":
            low, high = overall["alpha_low"], overall["alpha_high"]
            interval = (f"95% CI {low.value:.3f}–{high.value:.3f}" if low.defined and high.defined
                        else f"no interval: {low.reason or high.reason}")
            cell.metric(title, f"{alpha.value:.3f}" if alpha.defined else "—",
                        delta=f"{band} · {interval}" if alpha.defined else "undefined", delta_color=BANDS[band][2],
                        delta_arrow="off", help="Overall Krippendorff's alpha with its bootstrap interval",
                        border=True, height="stretch")
        else:
            cell.metric(title, f"{statistic.value:.3f}" if statistic.defined else "—",
                        help=statistic.note, border=True, height="stretch")
    reasons = list(dict.fromkeys(s.reason for s in overall.values() if not s.defined and s.reason))
    for reason in reasons:
        st.caption(f"Undefined overall figures: {reason}")


def _report(unit: str, level: str, n_boot: int, coders: list[str]):
    try:
        return service.agreement_report(engine, project, frame=frame_id, unit=unit, level=level, n_boot=n_boot,
                                        coders=coders or None)
    except CodeframeError as exc:
        common.show_error(exc)
        return None


def _coverage(report) -> None:
    """Each compared coder's coverage, next to every agreement table."""
    if report.coverage is None:
        return
    excluded = service.exclusions(engine, project)["coder"]
    st.dataframe(
        report.coverage, hide_index=True, key=f"_ag_coverage_{report.unit}",
        column_config={"coder": "Coder", "units": st.column_config.NumberColumn("Units covered"),
                       "respondents": st.column_config.NumberColumn("Respondents covered"),
                       "codings": st.column_config.NumberColumn("Codings made")},
    )
    st.caption("Coverage: the units and respondents of the documents each coder coded, finished or was assigned "
               "in this frame, and the codings they made there."
               + (f" Excluded from reliability (Settings): {', '.join(excluded)}." if excluded else ""))


blind_coder = common.visible_coders(engine, project) is not None  # blind mode hides others' codings from coders
BLIND_NOTE = ("Blind mode: agreement figures and drift compare your codings with other coders', so they are "
              "shown to supervisors only until blind mode is turned off.")

with tabs[0]:
    if tabs[0].open and blind_coder:
        st.info(BLIND_NOTE, icon=":material/visibility_off:")
    elif tabs[0].open:
        controls = st.columns([2, 2, 1, 3], vertical_alignment="bottom")
        unit = controls[0].radio("Unit", tuple(UNITS), format_func=UNITS.get, horizontal=True, key="_ag_unit",
                                 help="Segment: each coded sentence or turn. Respondent: a respondent carries a "
                                      "code if any of their segments does (the unit of Figure 1).")
        level = controls[1].selectbox("Level of measurement", LEVELS, key="_ag_level",
                                      help="For the overall α. Presence of a code (the per-code table) is "
                                           "binary, so every level gives the same per-code α.")
        n_boot = controls[2].number_input("Bootstrap", min_value=0, max_value=10000, value=1000, step=500,
                                          key="_ag_boot", help="Resamples for the 95% interval of α (0: none)")
        individual = [n for n, r in roles.items() if n != service.CONSENSUS]
        chosen = controls[3].multiselect("Coders", individual, key="_ag_coders",
                                         placeholder="The coders who double-coded the most",
                                         help="Two or more. Each is compared over the units they covered "
                                              "(documents they coded, finished or were assigned).")
        report = _report(unit, level, int(n_boot), chosen)
        if report is not None:
            st.caption(
                f"**{frame_labels[frame_id]}** · coders compared: {', '.join(report.coders)} · "
                f"{report.n_units} {unit}s seen by two or more coders · overall α at the {report.level} level"
            )
            _overall(report)
            for note in report.notes:
                st.warning(note, icon=":material/info:")
            st.subheader(f"Per code, {unit} level")
            st.html(
                '<div class="cf-legend">'
                + "".join(f'<span style="background:{BANDS[b][0]};color:{BANDS[b][1]}">{html.escape(t)}</span>'
                          for b, t in (("reliable", "α ≥ 0.800 reliable"), ("tentative", "α ≥ 0.667 tentative"),
                                       ("unreliable", "α < 0.667 unreliable"), ("undefined", "undefined: reason")))
                + "</div>"
            )
            _show_code_table(report, key="_ag_table")
            _coverage(report)

            st.subheader("Segment and respondent level side by side")
            st.caption("The same codings compared per segment and per respondent: a code can be applied to "
                       "different sentences yet agree on who mentioned it.")
            sides = st.columns(2, gap="medium")
            for side, side_unit in zip(sides, UNITS):
                with side:
                    st.markdown(f"**{UNITS[side_unit]} level**")
                    other = report if side_unit == unit else _report(side_unit, level, int(n_boot), chosen)
                    if other is not None:
                        _show_code_table(other, key=f"_ag_side_{side_unit}", compact=True)
                        if other is not report:
                            _coverage(other)


# --------------------------------------------------------------------------- disagreements & adjudication

with tabs[1]:
    if tabs[1].open:
        _adjudication.render(engine=engine, project=project, frame=frame, code_labels=code_labels, coder=coder,
                             roles=roles, message=_message, fail=_fail, changed=_changed, message_key=MESSAGE,
                             revision_key=REVISION)


# --------------------------------------------------------------------------- coder drift

PERIODS = {"D": "day", "W": "week", "M": "month"}
DRIFT_METRICS = {"percent_agreement": "% agreement with the consensus", "cohen_kappa": "Cohen's κ with the consensus"}

with tabs[2]:
    if tabs[2].open and blind_coder:
        st.info(BLIND_NOTE, icon=":material/visibility_off:")
    elif tabs[2].open:
        controls = st.columns([1, 2, 3], vertical_alignment="bottom")
        period = controls[0].selectbox("Period", tuple(PERIODS), index=1, format_func=PERIODS.get,
                                       key="_drift_period")
        metric = controls[1].radio("Measure", tuple(DRIFT_METRICS), format_func=DRIFT_METRICS.get, horizontal=True,
                                   key="_drift_metric")
        drift = service.coder_drift(engine, project, frame=frame_id, period=period)
        if drift.empty:
            st.info("No drift to show yet: it compares each coder with the consensus decisions of this frame, "
                    "and there are none.", icon=":material/timeline:")
        else:
            st.caption("Each coder's agreement with the consensus on the documents they started in each period "
                       "(presence of each code on each decided segment).")
            st.altair_chart(charts.coder_drift_chart(drift, metric=metric, period_title=PERIODS[period],
                                                     metric_title=DRIFT_METRICS[metric]), width="stretch")
            if drift["period"].nunique() == 1:
                st.caption(f"All codings so far fall in one {PERIODS[period]}: the lines appear once they span "
                           "several (or choose a shorter period).")
            st.dataframe(
                drift, hide_index=True, width="stretch", key="_drift_table",
                column_config={
                    "coder": "Coder", "period": PERIODS[period].capitalize(),
                    "units": st.column_config.NumberColumn("Segments", help="Decided segments compared"),
                    "percent_agreement": st.column_config.NumberColumn("% agreement", format="%.3f"),
                    "cohen_kappa": st.column_config.NumberColumn("Cohen's κ", format="%.3f"),
                },
            )


# --------------------------------------------------------------------------- double coding (assignments)


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


with tabs[3]:
    if (tabs[3].open and common.require_coder() is not None
            and common.allowed(engine, project, may_adjudicate, "assigning and releasing double coding")):
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
