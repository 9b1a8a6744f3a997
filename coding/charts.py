"""Charts of share tables, in the style of the article's Figure 1 (altair; pure: data in, chart out).

Altair is imported inside the functions so ``import coding.charts`` stays instant.
Rendering to PNG/SVG uses vl-convert, which bundles Vega and runs offline.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

BAR_COLOR = "#4C78A8"
# "pad" keeps the declared plot size and adds room for titles and labels, so the bars are never
# squeezed to fit the title into the height (the default "fit"-like behaviour of some renderers)
AUTOSIZE = {"type": "pad"}


def _subtitle(n_values) -> str:
    values = sorted({int(v) for v in n_values})
    if len(values) == 1:
        return f"n = {values[0]} respondents"
    return "n = " + ", ".join(str(v) for v in values) + " respondents"


def share_bar_chart(share_df: pd.DataFrame, *, title: str | None = None, by: str | None = None):
    """Horizontal bars of respondent shares, code labels on the y axis in the given order.

    Parameters
    ----------
    share_df
        Output of :func:`coding.shares.share_table` (columns label, percent,
        ci_low, ci_high, display, n), or of :func:`coding.shares.crosstab` when
        ``by`` is given (adds group, group_n).
    title
        Chart title; the subtitle always states the denominator ("n = 24 respondents"), and the
        coverage of the coder counted when the table has a ``coverage`` column.
    by
        Name of the attribute the crosstab was made by; bars are then grouped
        by ``group`` (one colour per group, side by side within each code).

    Each bar carries its percentage (rounded half up, as in the article) and a
    whisker for the Wilson interval.
    """
    import altair as alt

    required = {"label", "percent", "ci_low", "ci_high"} | ({"group", "group_n"} if by else {"n"})
    missing = sorted(required - set(share_df.columns))
    if missing:
        kind = "crosstab" if by else "share table"
        raise ValueError(f"share_bar_chart needs a {kind} with columns {sorted(required)}; missing {missing}")
    from coding.shares import round_half_up

    data = share_df.copy()
    # whose codings, over how many respondents ("consensus coded this frame for 10 of 24 respondents")
    coverage = [str(data["coverage"].iloc[0])] if "coverage" in data and len(data) else []
    data["label"] = data["label"].astype(str)
    data["bar_text"] = [("" if pd.isna(p) else f"{round_half_up(p):.1f}%") for p in data["percent"]]
    # the figure sits right of the whisker, so the two never overlap
    data["text_x"] = [p if pd.isna(h) else max(p, h) for p, h in zip(data["percent"], data["ci_high"])]
    order = list(dict.fromkeys(data["label"]))
    if by:
        group_sizes = data.drop_duplicates("group")[["group", "group_n"]]
        subtitle = f"n = {int(group_sizes['group_n'].sum())} respondents; by {by}: " + ", ".join(
            f"{g} (n = {int(n)})" for g, n in group_sizes.itertuples(index=False))
    else:
        subtitle = _subtitle(data["n"])
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    x = alt.X("percent:Q", title="% of respondents", scale=alt.Scale(domain=[0, 100]))
    tooltip = [alt.Tooltip("label:N", title="code"), alt.Tooltip("display:N", title="share")] \
        if "display" in data.columns else [alt.Tooltip("label:N", title="code")]
    base = alt.Chart(data)
    if by:
        groups = list(dict.fromkeys(data["group"].astype(str)))
        encode_extra: dict[str, Any] = {
            "yOffset": alt.YOffset("group:N", sort=groups),
            "color": alt.Color("group:N", sort=groups, title=by),
        }
        tooltip = tooltip + [alt.Tooltip("group:N", title=by)]
    else:
        encode_extra = {}
    bars = base.mark_bar(**({} if by else {"color": BAR_COLOR})).encode(y=y, x=x, tooltip=tooltip, **encode_extra)
    whiskers = base.mark_rule(color="#333333").encode(
        y=y, x="ci_low:Q", x2="ci_high:Q", **({"yOffset": encode_extra["yOffset"]} if by else {}))
    labels = base.mark_text(align="left", dx=4, fontSize=11).encode(
        y=y, x="text_x:Q", text="bar_text:N", **({"yOffset": encode_extra["yOffset"]} if by else {}))
    height = max(120, 28 * len(order) * (len(set(data["group"])) if by else 1))
    chart = (bars + whiskers + labels).properties(
        title=alt.TitleParams(title or "Share of respondents per code",
                              subtitle=[subtitle, *coverage, "lines: Wilson 95% confidence interval"], anchor="start"),
        width=420,
        height=height,
        autosize=AUTOSIZE,
    )
    return chart


def code_respondent_heatmap(matrix_df: pd.DataFrame, *, title: str | None = None):
    """A respondent x code grid from :func:`coding.shares.case_code_matrix`: filled where coded.

    Rows are respondents (in matrix order, including those with no code), columns codes.
    """
    import altair as alt

    if matrix_df.empty and not len(matrix_df.index):
        raise ValueError("the case x code matrix has no respondents")
    index_name = matrix_df.index.name or "respondent"
    tidy = matrix_df.rename_axis(index_name).reset_index().melt(
        id_vars=index_name, var_name="code", value_name="coded")
    tidy = tidy.rename(columns={index_name: "respondent"})
    tidy["respondent"] = tidy["respondent"].astype(str)
    tidy["code"] = tidy["code"].astype(str)
    tidy["coded_label"] = tidy["coded"].map({1: "coded", 0: "not coded"}).fillna("not coded")
    respondents = [str(r) for r in matrix_df.index]
    codes = [str(c) for c in matrix_df.columns]
    chart = alt.Chart(tidy).mark_rect(stroke="white").encode(  # every label shown: no overlap thinning
        x=alt.X("code:N", sort=codes, title=None, axis=alt.Axis(labelAngle=-40, labelOverlap=False)),
        y=alt.Y("respondent:N", sort=respondents, title=None, axis=alt.Axis(labelOverlap=False)),
        color=alt.Color("coded_label:N", title=None,
                        scale=alt.Scale(domain=["coded", "not coded"], range=[BAR_COLOR, "#EEEEEE"])),
        tooltip=["respondent:N", "code:N", "coded_label:N"],
    ).properties(
        title=alt.TitleParams(title or "Codes per respondent",
                              subtitle=[f"n = {len(respondents)} respondents"], anchor="start"),
        width=max(160, 24 * len(codes)),
        height=max(120, 16 * len(respondents)),
        autosize=AUTOSIZE,
    )
    return chart


def chart_to_png(chart, *, scale: float = 2.0) -> bytes:
    """Render an altair chart to PNG bytes offline (vl-convert)."""
    import vl_convert as vlc

    return vlc.vegalite_to_png(chart.to_json(), scale=scale)


def chart_to_svg(chart) -> str:
    """Render an altair chart to an SVG document offline (vl-convert)."""
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_json())
