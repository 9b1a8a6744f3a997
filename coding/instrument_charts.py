"""Charts of the instruments, in the style of :mod:`coding.charts` (altair; pure: data in, chart out).

* :func:`kite_chart`: the OCAI kite (radar) of now vs preferred, the four types on the
  diagonals of the Competing Values quadrants (clan top left, adhocracy top right, market
  bottom right, hierarchy bottom left), overall or for one dimension; :func:`kite_grid`
  draws the six dimensions side by side;
* :func:`sector_chart`: sector means with their intervals, bottlenecks (mean below 4) in red;
* :func:`closed_question_chart`: the share bars of :func:`coding.charts.share_bar_chart` for
  one closed question.

Render with :func:`coding.charts.chart_to_png` / :func:`coding.charts.chart_to_svg`.
"""

from __future__ import annotations

import math

import pandas as pd

from coding.charts import AUTOSIZE, BAR_COLOR, share_bar_chart

ANGLES = {"clan": 135.0, "adhocracy": 45.0, "market": -45.0, "hierarchy": -135.0}
VIEW_COLORS = {"now": BAR_COLOR, "preferred": "#E45756"}
BOTTLENECK_COLOR = "#D62728"


def _xy(value: float, angle: float) -> tuple[float, float]:
    radians = math.radians(angle)
    return value * math.cos(radians), value * math.sin(radians)


def _kite_layers(data: pd.DataFrame, *, limit: float, size: int):
    import altair as alt

    types = list(ANGLES)
    rings = []
    for ring in range(10, int(limit) + 1, 10):
        for order, t in enumerate([*types, types[0]]):
            x, y = _xy(ring, ANGLES[t])
            rings.append({"ring": ring, "order": order, "x": x, "y": y})
    spokes = []
    for t in types:
        x, y = _xy(limit, ANGLES[t])
        spokes += [{"type": t, "order": 0, "x": 0.0, "y": 0.0}, {"type": t, "order": 1, "x": x, "y": y}]
    labels = []
    for t in types:
        x, y = _xy(limit * 1.08, ANGLES[t])
        labels.append({"text": t.capitalize(), "x": x, "y": y, "align": "left" if x > 0 else "right"})
    points = []
    for view, part in data.groupby("view", sort=False):
        means = dict(zip(part["type"], part["mean"]))
        for order, t in enumerate([*types, types[0]]):
            x, y = _xy(float(means[t]), ANGLES[t])
            points.append({"view": view, "order": order, "type": t, "mean": round(float(means[t]), 1),
                           "x": x, "y": y})
    # the corners lie on the diagonals (at 0.71 of the radius): a domain of 0.95 leaves room for the type names only
    scale = alt.Scale(domain=[-limit * 0.95, limit * 0.95])
    x = alt.X("x:Q", scale=scale, axis=None)
    y = alt.Y("y:Q", scale=scale, axis=None)
    views = list(dict.fromkeys(data["view"]))
    grid = alt.Chart(pd.DataFrame(rings)).mark_line(color="#DDDDDD", strokeWidth=1).encode(
        x=x, y=y, detail="ring:N", order="order:Q")
    axes = alt.Chart(pd.DataFrame(spokes)).mark_line(color="#BBBBBB").encode(x=x, y=y, detail="type:N",
                                                                             order="order:Q")
    names = alt.Chart(pd.DataFrame(labels)).mark_text(fontSize=13, fontWeight="bold").encode(
        x=x, y=y, text="text:N")
    ticks = alt.Chart(pd.DataFrame({"x": [0.0] * len(range(10, int(limit) + 1, 10)),
                                    "y": [float(r) * math.sin(math.radians(45)) for r in range(10, int(limit) + 1, 10)],
                                    "text": [str(r) for r in range(10, int(limit) + 1, 10)]})
                      ).mark_text(fontSize=9, color="#999999", dy=-4).encode(x=x, y=y, text="text:N")
    color = alt.Color("view:N", sort=views, title=None,
                      scale=alt.Scale(domain=views, range=[VIEW_COLORS.get(v, "#777777") for v in views]))
    frame = pd.DataFrame(points)
    lines = alt.Chart(frame).mark_line(strokeWidth=2.5).encode(x=x, y=y, color=color, order="order:Q")
    dots = alt.Chart(frame[frame["order"] < len(types)]).mark_point(filled=True, size=50).encode(
        x=x, y=y, color=color, tooltip=[alt.Tooltip("view:N"), alt.Tooltip("type:N"),
                                        alt.Tooltip("mean:Q", title="points")])
    return alt.layer(grid, axes, names, ticks, lines, dots).properties(width=size, height=size)


def _limit(values) -> float:
    return max(50.0, 10 * math.ceil(max(values) / 10)) if len(values) else 50.0


KITE_SIZE = 480  # px: a kite must be read at a glance on the page and in a paper
KITE_CELL_SIZE = 280  # px: one kite of the per-dimension grid (three in a row)


def kite_chart(profiles: pd.DataFrame, *, dimension: str | None = None, group: str | None = None,
               title: str | None = None):
    """The kite of now vs preferred from :func:`coding.ocai.profile_table` (overall, or one ``dimension``
    of a per-dimension table; one ``group`` if the table has several)."""
    if dimension is None and "dimension" in profiles.columns:
        raise ValueError("a per-dimension profile table needs dimension= (or use kite_grid for all six)")
    data = _select(profiles, dimension, group)
    n = int(data["n"].max())
    what = (dimension or "").replace("_", " ") or "six-dimension profile"
    chart = _kite_layers(data, limit=_limit(data["mean"]), size=KITE_SIZE).properties(
        title=alt_title(title or f"OCAI culture profile: {what}",
                        [f"n = {n} respondents; mean points per culture type, now vs preferred",
                         "ipsative scores: the four types of a row sum to 100"]),
        autosize=AUTOSIZE)
    return chart


def kite_grid(per_dimension: pd.DataFrame, *, group: str | None = None, title: str | None = None):
    """The six dimension kites in two rows of three."""
    import altair as alt

    from coding.ocai import DIMENSIONS

    limit = _limit(_select(per_dimension, None, group)["mean"])
    cells = []
    for dimension in DIMENSIONS:
        data = _select(per_dimension, dimension, group)
        cells.append(_kite_layers(data, limit=limit, size=KITE_CELL_SIZE).properties(
            title=dimension.replace("_", " ").capitalize()))
    n = int(per_dimension["n"].max())
    return alt.vconcat(alt.hconcat(*cells[:3]), alt.hconcat(*cells[3:])).properties(
        title=alt_title(title or "OCAI culture profile per dimension",
                        [f"n = {n} respondents; now vs preferred"]), autosize=AUTOSIZE)


def _select(profiles: pd.DataFrame, dimension: str | None, group: str | None) -> pd.DataFrame:
    """The rows of one dimension (all six when ``dimension`` is None) and one group."""
    data = profiles
    if dimension is not None:
        if "dimension" not in data.columns:
            raise ValueError("dimension= needs a per-dimension profile table (profile_table(per_dimension=True))")
        data = data[data["dimension"] == dimension]
    if group is not None:
        data = data[data["group"] == group]
    elif "group" in data.columns and data["group"].nunique() > 1:
        raise ValueError("the profile table has several groups; choose one with group=")
    if data.empty:
        raise ValueError(f"no profile rows for dimension={dimension!r}, group={group!r}")
    return data


def alt_title(title: str, subtitle: list[str]):
    import altair as alt

    return alt.TitleParams(title, subtitle=subtitle, anchor="start")


def sector_chart(sectors: pd.DataFrame, *, group: str | None = None, title: str | None = None):
    """Bars of sector means (1-10) with t intervals; a sector below 4 (the bottleneck) is red."""
    import altair as alt

    from coding.scales import BOTTLENECK_BELOW

    data = sectors if group is None else sectors[sectors["group"] == group]
    if group is None and data["group"].nunique() > 1:
        raise ValueError("the sector table has several groups; choose one with group=")
    data = data.assign(state=["bottleneck (below 4)" if b else "not a bottleneck" for b in data["bottleneck"]],
                       mean_text=[f"{m:.2f} {b}" for m, b in zip(data["mean"], data["band"])],
                       text_x=[max(m, h) if not pd.isna(h) else m for m, h in zip(data["mean"], data["ci_high"])])
    order = list(data["label"])
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    x = alt.X("mean:Q", title="mean rating (1-10)", scale=alt.Scale(domain=[0, 10]))
    base = alt.Chart(data)
    bars = base.mark_bar().encode(
        y=y, x=x, color=alt.Color("state:N", title=None, scale=alt.Scale(
            domain=["bottleneck (below 4)", "not a bottleneck"], range=[BOTTLENECK_COLOR, BAR_COLOR])),
        tooltip=["label:N", alt.Tooltip("mean:Q", format=".2f"), "band:N", "n:Q"])
    whiskers = base.mark_rule(color="#333333").encode(y=y, x="ci_low:Q", x2="ci_high:Q")
    labels = base.mark_text(align="left", dx=4, fontSize=11).encode(y=y, x="text_x:Q", text="mean_text:N")
    rule = alt.Chart(pd.DataFrame({"x": [BOTTLENECK_BELOW]})).mark_rule(strokeDash=[4, 3], color="#555555").encode(
        x="x:Q")
    n = int(data["n"].max()) if len(data) else 0
    return (bars + whiskers + labels + rule).properties(
        title=alt_title(title or "Sector scores", [f"n = {n} respondents; lines: t 95% confidence interval",
                                                   "dashed: below 4 is a bottleneck"]),
        width=420, height=max(120, 32 * len(order)), autosize=AUTOSIZE)


def closed_question_chart(closed: pd.DataFrame, *, question: str, by: str | None = None, title: str | None = None):
    """Share bars for one closed question (from :func:`coding.survey.closed_shares`)."""
    data = closed[closed["question"] == question]
    if data.empty:
        raise ValueError(f"no rows for closed question {question!r}")
    return share_bar_chart(data, title=title or f"{question}: share of respondents per answer", by=by)
