"""The Coder drift tab of the Agreement & adjudication page: each coder's agreement with the consensus
per period, as a chart and a table (one :mod:`coding.service` call)."""

from __future__ import annotations

import streamlit as st

from coding import charts, service

PERIODS = {"D": "day", "W": "week", "M": "month"}
DRIFT_METRICS = {"percent_agreement": "% agreement with the consensus", "cohen_kappa": "Cohen's κ with the consensus"}


def render(*, engine, project: str, frame_id: str) -> None:
    """The tab's body."""
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
