"""The Agreement tab of the Agreement & adjudication page: the per-code table with intervals and
Krippendorff's reading, the overall figures, and segment and respondent level side by side.

Every read is one :mod:`coding.service` call.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _common as common
from coding import service
from coding.agreement import LEVELS, interpret_alpha
from coding.errors import CodeframeError

UNITS = {"segment": "Segment", "respondent": "Respondent"}
STATISTIC_NAMES = {
    "alpha": "Krippendorff's α",
    "percent_agreement": "% agreement",
    "cohen_kappa": "Cohen's κ",
    "fleiss_kappa": "Fleiss' κ",
    "gwet_ac1": "Gwet's AC1",
}
SET_VALUED_NAMES = {  # defined even when a unit carries several codes of a non-exclusive frame
    "alpha_pooled": ("α, per-code presence pooled", "Krippendorff's alpha over every (unit, code) pair as one "
                                                    "present/absent decision"),
    "alpha_masi": ("α with the MASI distance (set-valued)", "Krippendorff's alpha over each unit's set of codes "
                   "per coder, with the MASI distance 1 − J·M (Passonneau 2006): partial credit for overlapping "
                   "sets"),
}
# Krippendorff's reading (coding.agreement.interpret_alpha) -> (background, text colour, metric colour)
BANDS = {
    "reliable": ("#dff3e4", "#1b6b34", "green"),
    "tentative": ("#fff0d1", "#8a5a00", "orange"),
    "unreliable": ("#fde1df", "#a3231f", "red"),
    "undefined": ("#eef0f3", "#5b6570", "gray"),
}


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


def render(*, engine, project: str, frame_id: str, frame_labels: dict[str, str], code_labels: dict[str, str],
           roles: dict[str, str]) -> None:
    """The tab's body."""
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
            columns = ["label", "alpha", "alpha_low", "alpha_high", "reading"]
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
            st.caption(f"Undefined overall figures: {common.md(reason)}")
        if "alpha_masi" in overall:  # a non-exclusive frame: each unit's set of codes per coder
            cells = st.columns(len(SET_VALUED_NAMES))
            for cell, (name, (title, help_text)) in zip(cells, SET_VALUED_NAMES.items()):
                statistic = overall[name]
                cell.metric(title, f"{statistic.value:.3f}" if statistic.defined else "—",
                            delta=_band(statistic.value) if statistic.defined else f"undefined: {statistic.reason}",
                            delta_color=BANDS[_band(statistic.value)][2], delta_arrow="off", help=help_text,
                            border=True, height="stretch")

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

    controls = st.columns([2, 2, 1, 3], vertical_alignment="bottom")
    unit = controls[0].radio("Unit", tuple(UNITS), format_func=UNITS.get, horizontal=True, key="_ag_unit",
                             help="Segment: each coded sentence or turn. Respondent: a respondent carries a "
                                  "code if any of their segments does (the unit of Figure 1).")
    level = controls[1].selectbox("Level of measurement", LEVELS, key="_ag_level",
                                  help="For the overall α. Presence of a code (the per-code table) is "
                                       "binary, so every level gives the same per-code α.")
    n_boot = controls[2].number_input("Bootstrap", min_value=0, max_value=10000, value=1000, step=500,
                                      key="_ag_boot", help="Resamples for the 95% interval of α (0: none)")
    individual = common.counted_coders(engine, project, [n for n in roles if n != service.CONSENSUS],
                                       key="_ag_coders")
    chosen = controls[3].multiselect("Coders", individual, key="_ag_coders",
                                     placeholder="The coders who double-coded the most",
                                     help="Two or more. Each is compared over the units they covered "
                                          "(documents they coded, finished or were assigned). Coders excluded "
                                          "from analysis (Settings) are not offered.")
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
            + "".join(f'<span style="background:{BANDS[b][0]};color:{BANDS[b][1]}">{common.html_text(t)}</span>'
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
