"""Code x code co-occurrence: how often two codes meet in the same unit or in the same respondent.

Pure. ``codings`` has columns ``segment_id, respondent, code`` (one coder's codings, or the
consensus). At the segment level two codes co-occur when one unit carries both; at the
respondent level when one respondent carries both anywhere in their interview(s). Each cell
gives the count and the Jaccard index |A ∩ B| / |A ∪ B|; the diagonal is the code's own count.

>>> import pandas as pd
>>> codings = pd.DataFrame({"segment_id": [1, 1, 2, 3], "respondent": ["r1", "r1", "r1", "r2"],
...                         "code": ["a", "b", "b", "a"]})
>>> m = cooccurrence(codings, ["a", "b"], unit="segment")
>>> m[(m.code_a == "a") & (m.code_b == "b")][["count", "jaccard"]].values.tolist()
[[1.0, 0.3333333333333333]]
>>> members(codings, "a", "b", unit="respondent")
['r1']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from coding.errors import CodeframeError

UNITS = ("segment", "respondent")
COLUMNS = ["code_a", "code_b", "label_a", "label_b", "count", "jaccard", "n_a", "n_b"]


def _key(unit: str) -> str:
    if unit not in UNITS:
        raise CodeframeError(f"unit must be 'segment' or 'respondent', not {unit!r}")
    return "segment_id" if unit == "segment" else "respondent"


def carriers(codings: pd.DataFrame, codes: Iterable[str], *, unit: str = "segment",
             hierarchy: Mapping[str, Iterable[str]] | None = None) -> dict[str, set]:
    """Per code, the units (or respondents) carrying it or, rolled up, one of its sub-codes."""
    key = _key(unit)
    by_code = codings.groupby("code")[key].apply(set).to_dict() if len(codings) else {}
    hierarchy = hierarchy or {}
    return {c: set().union(by_code.get(c, set()), *(by_code.get(d, set()) for d in hierarchy.get(c, ())))
            for c in codes}


def cooccurrence(
    codings: pd.DataFrame,
    rows: Sequence[str],
    columns: Sequence[str] | None = None,
    *,
    unit: str = "segment",
    labels: Mapping[str, str] | None = None,
    hierarchy: Mapping[str, Iterable[str]] | None = None,
) -> pd.DataFrame:
    """Tidy matrix: one row per (row code, column code) with count, Jaccard and each code's own count.

    ``columns`` defaults to ``rows`` (one frame against itself); give the codes of a second frame
    to cross two frames. Jaccard is NaN when neither code occurs.
    """
    columns = list(rows) if columns is None else list(columns)
    sets = carriers(codings, dict.fromkeys([*rows, *columns]), unit=unit, hierarchy=hierarchy)
    labels = labels or {}
    out = []
    for a in rows:
        for b in columns:
            both, either = len(sets[a] & sets[b]), len(sets[a] | sets[b])
            out.append((a, b, labels.get(a, a), labels.get(b, b), float(both),
                        both / either if either else float("nan"), len(sets[a]), len(sets[b])))
    table = pd.DataFrame(out, columns=COLUMNS)
    table.attrs["unit"] = unit
    return table


def members(codings: pd.DataFrame, a: str, b: str, *, unit: str = "segment",
            hierarchy: Mapping[str, Iterable[str]] | None = None) -> list:
    """The units (segment ids) or respondents behind one cell, sorted."""
    sets = carriers(codings, [a, b], unit=unit, hierarchy=hierarchy)
    return sorted(sets[a] & sets[b])


def wide(table: pd.DataFrame, value: str = "count") -> pd.DataFrame:
    """The tidy matrix as a code x code grid of ``value`` (count or jaccard), labels as headers."""
    rows = list(dict.fromkeys(table["label_a"]))
    cols = list(dict.fromkeys(table["label_b"]))
    grid = table.pivot(index="label_a", columns="label_b", values=value).reindex(index=rows, columns=cols)
    return grid.rename_axis(index="code", columns=None)


def heatmap(table: pd.DataFrame, *, value: str = "count", title: str | None = None):
    """An altair heatmap of the matrix (cells coloured by ``value``, count and Jaccard in the tooltip),
    with a point selection named ``cell`` so a page can show the units behind the clicked cell."""
    import altair as alt

    data = table.assign(jaccard_text=[("" if j != j else f"{j:.2f}") for j in table["jaccard"]])
    data.attrs = {}  # the caller's attrs (e.g. the codings behind the matrix) are not chart data
    rows = list(dict.fromkeys(data["label_a"]))
    cols = list(dict.fromkeys(data["label_b"]))
    pick = alt.selection_point(name="cell", fields=["code_a", "code_b"], on="click")
    base = alt.Chart(data)
    tooltip = [alt.Tooltip("label_a:N", title="code"), alt.Tooltip("label_b:N", title="with"),
               alt.Tooltip("count:Q", title="count"), alt.Tooltip("jaccard_text:N", title="Jaccard")]
    cells = base.mark_rect().encode(
        x=alt.X("label_b:N", sort=cols, title=None, axis=alt.Axis(labelAngle=-40, labelLimit=220)),
        y=alt.Y("label_a:N", sort=rows, title=None, axis=alt.Axis(labelLimit=260)),
        color=alt.Color(f"{value}:Q", scale=alt.Scale(scheme="blues"), title=value),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.55)),
        tooltip=tooltip,
    ).add_params(pick)
    text = base.mark_text(fontSize=11).encode(
        x=alt.X("label_b:N", sort=cols), y=alt.Y("label_a:N", sort=rows), text=alt.Text("count:Q", format=".0f"))
    return (cells + text).properties(width=min(60 * len(cols), 600), height=min(30 * len(rows), 600),
                                     title=title or f"Co-occurrence ({table.attrs.get('unit', 'segment')} level)")
