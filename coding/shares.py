"""Share tables: how many respondents named each code, out of everyone asked.

The article's Figure 1 reports "29.2% of respondents" = 7 of 24 experts. The
denominator is *every respondent in scope*, including those whose transcripts
carry no coding at all, so it comes only from the ``respondents`` table, never
from the codings table (that would silently drop the silent respondents and
inflate every share).

Inputs are pandas DataFrames:

``respondents``
    one row per respondent in scope; the id is the ``respondent`` column if there
    is one, else the index; the other columns are attributes (region, role, ...).
``codings``
    columns ``respondent, coder, code`` (``coder`` optional), one row per applied
    code; a respondent with several segments carrying a code appears several times
    and still counts once.

Parent codes roll up: with ``hierarchy={parent: {descendants}}`` a respondent
counts for a parent if any of their codings is the parent or a descendant, once.

Percentages are on a 0-100 scale everywhere in this module (``percent``,
``ci_low``, ``ci_high``, ``coder_min``, ``coder_max``, ``row_percent``).

>>> import pandas as pd
>>> people = pd.DataFrame({"respondent": ["r1", "r2", "r3", "r4"]})
>>> codings = pd.DataFrame({"respondent": ["r1", "r1", "r2"], "coder": "ann", "code": "a"})
>>> share_table(people, codings).loc[0, "display"]
'2/4 = 50.0%'
"""

from __future__ import annotations

import functools
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from coding.errors import AttributesError, CodeframeError, CodingsError, Problem

MISSING_GROUP = "(missing)"
"""Group label for respondents whose attribute value is empty in a crosstab."""

SHARE_COLUMNS = [
    "code", "label", "count", "n", "percent", "display",
    "ci_low", "ci_high", "coder_min", "coder_max",
]


# --------------------------------------------------------------------------- helpers


def round_half_up(value: float | Fraction, digits: int = 1) -> float:
    """Round like a person does (and like the article): 29.1666 -> 29.2, 8.25 -> 8.3.

    Python's ``round`` rounds half to even on the binary float, which turns
    8.25 into 8.2; this works on the exact fraction instead.

    >>> round_half_up(Fraction(700, 24)), round_half_up(Fraction(100, 24)), round_half_up(8.25)
    (29.2, 4.2, 8.3)
    """
    exact = value if isinstance(value, Fraction) else Fraction(str(value))
    scale = 10**digits
    scaled = exact * scale
    rounded = math.floor(scaled + Fraction(1, 2)) if scaled >= 0 else -math.floor(-scaled + Fraction(1, 2))
    return rounded / scale


def format_share(count: int, n: int) -> str:
    """The article's notation: ``"7/24 = 29.2%"``; an empty denominator says so.

    >>> format_share(7, 24), format_share(1, 24), format_share(0, 0)
    ('7/24 = 29.2%', '1/24 = 4.2%', '0/0 = n/a (no respondents)')
    """
    if n <= 0:
        return f"{count}/{n} = n/a (no respondents)"
    return f"{count}/{n} = {round_half_up(Fraction(100 * count, n)):.1f}%"


def wilson_interval(count: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``count/n`` in percent; NaN when ``n`` is 0.

    >>> low, high = wilson_interval(7, 24)
    >>> round(low, 2), round(high, 2)
    (14.91, 49.17)
    >>> wilson_interval(0, 3)[0], wilson_interval(3, 3)[1]  # exact bounds at 0 and n, no rounding residue
    (0.0, 100.0)
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    if n <= 0:
        return (math.nan, math.nan)
    from statsmodels.stats.proportion import proportion_confint  # lazy: statsmodels is slow to import

    low, high = proportion_confint(count, n, alpha=1 - confidence, method="wilson")
    low = 0.0 if count == 0 else float(low) * 100  # the Wilson bound is exactly 0 (or 100) there
    high = 100.0 if count == n else float(high) * 100
    return (low, high)


def _wilson_intervals(counts: list[int], ns: list[int], *, confidence: float = 0.95) -> list[tuple[float, float]]:
    """:func:`wilson_interval` of many cells with one statsmodels call (same floats, cell by cell)."""
    if not counts:
        return []
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    count_a, n_a = np.asarray(counts, dtype=np.int64), np.asarray(ns, dtype=np.int64)
    positive = n_a > 0
    lows = np.full(count_a.shape, math.nan)
    highs = np.full(count_a.shape, math.nan)
    if positive.any():
        from statsmodels.stats.proportion import proportion_confint  # lazy: statsmodels is slow to import

        low, high = proportion_confint(count_a[positive], n_a[positive], alpha=1 - confidence, method="wilson")
        lows[positive] = np.where(count_a[positive] == 0, 0.0, low * 100)
        highs[positive] = np.where(count_a[positive] == n_a[positive], 100.0, high * 100)
    return list(zip(lows.tolist(), highs.tolist()))


def respondent_ids(respondents: pd.DataFrame) -> list[str]:
    """The respondent ids of a respondents table, as strings, in table order.

    Raises AttributesError for an empty or duplicated id.
    """
    if not isinstance(respondents, pd.DataFrame):
        raise TypeError(f"respondents must be a pandas DataFrame, got {type(respondents).__name__}")
    raw = respondents["respondent"] if "respondent" in respondents.columns else respondents.index.to_series()
    ids = _clean_ids(raw)
    problems = []
    seen: set[str] = set()
    for row, rid in enumerate(ids, start=1):
        if rid == "":
            problems.append(Problem("empty respondent id", line=row, field="respondent"))
        elif rid in seen:
            problems.append(Problem(f"respondent {rid!r} appears twice", line=row, field="respondent"))
        seen.add(rid)
    if problems:
        raise AttributesError("The respondents table has invalid ids", problems)
    return ids


def _clean_id(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _clean_ids(values: pd.Series) -> list[str]:
    """``[_clean_id(v) for v in values]``, cleaning each distinct value once.

    Ids repeat (a respondent has many codings), so the column is factorized
    and only its distinct values go through :func:`_clean_id`; missing values
    are cleaned one by one, since ``None``, ``NaN`` and ``pd.NA`` differ.
    Columns whose equal values could clean differently (mixed objects such as
    ``1`` and ``True``, categoricals, dates) take the per-cell path.
    """
    if len(values) == 0 or not _factorizable(values):
        return [_clean_id(v) for v in values]
    positions, uniques = pd.factorize(values)
    distinct = uniques.tolist()  # the same Python scalars iterating the column gives
    if isinstance(values.dtype, pd.StringDtype):  # all str: _clean_id is str.strip
        cleaned = np.array([v.strip() for v in distinct] + [""], dtype=object)
    else:
        cleaned = np.array([_clean_id(v) for v in distinct] + [""], dtype=object)
    result = cleaned[positions]  # position -1 (missing) picks the placeholder, replaced below
    missing = positions < 0
    if missing.any():
        result[missing] = [_clean_id(v) for v in values.iloc[np.flatnonzero(missing)]]
    return result.tolist()


def _factorizable(values: pd.Series) -> bool:
    """True when equal values (as pandas hashes them) always clean to the same id."""
    dtype = values.dtype
    if isinstance(dtype, pd.StringDtype):
        return True
    if isinstance(dtype, np.dtype):
        if dtype.kind in "biuf":
            return True
        if dtype.kind == "O":
            return pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")
    return False


def _attributes(respondents: pd.DataFrame) -> pd.DataFrame:
    """Respondents indexed by string id, attributes as columns."""
    ids = respondent_ids(respondents)
    table = respondents.drop(columns=["respondent"]) if "respondent" in respondents.columns else respondents.copy()
    table = table.copy()
    table.index = pd.Index(ids, name="respondent")
    return table


def _closure(hierarchy: Mapping[str, Iterable[str]] | None) -> dict[str, set[str]]:
    """Transitive descendants per parent, so grandchildren roll up too."""
    if not hierarchy:
        return {}
    direct = {str(p): {str(c) for c in kids} for p, kids in hierarchy.items()}
    closed: dict[str, set[str]] = {}
    for parent in direct:
        seen: set[str] = set()
        stack = list(direct[parent])
        while stack:
            child = stack.pop()
            if child in seen or child == parent:
                continue
            seen.add(child)
            stack.extend(direct.get(child, ()))
        closed[parent] = seen
    return closed


class _Scoped:
    """Codings restricted to the respondents in scope, with roll-up applied."""

    def __init__(self, respondents, codings, *, coder, hierarchy, strict):
        self.attributes = _attributes(respondents)
        self.ids = self.attributes.index.tolist()
        self.notes: list[str] = []
        frame = _check_codings(codings)
        if coder is not None:
            if "coder" not in frame.columns:
                raise CodingsError("Cannot select a coder: the codings table has no 'coder' column",
                                   [Problem("missing column", field="coder")])
            present = sorted(frame["coder"].unique())
            if str(coder) not in present:
                raise CodingsError(f"Coder {coder!r} has no codings in this table",
                                   [Problem(f"coders present: {', '.join(present) or 'none'}", field="coder")])
            frame = frame[frame["coder"] == str(coder)]
        # ids are unique (respondent_ids checks): a hash lookup, not Series.isin's per-value Arrow scalars
        in_scope = pd.Series(pd.Index(self.ids, dtype=object).get_indexer(frame["respondent"]) >= 0,
                             index=frame.index)
        outside = frame.loc[~in_scope, "respondent"]
        if len(outside):
            names = sorted(outside.unique())
            message = (f"{len(outside)} coding(s) of {len(names)} respondent(s) not in the respondents table "
                       f"were ignored: {', '.join(names[:10])}{' ...' if len(names) > 10 else ''}")
            if strict:
                raise CodingsError("Codings name respondents that are not in scope",
                                   [Problem(f"respondent {r!r} is not in the respondents table", field="respondent")
                                    for r in names])
            self.notes.append(message)
        self.out_of_scope = int(len(outside))
        frame = frame[in_scope]
        descendants = _closure(hierarchy)
        self.hierarchy = descendants
        ancestors: dict[str, list[str]] = {}
        for parent, kids in descendants.items():
            for kid in kids:
                ancestors.setdefault(kid, []).append(parent)
        if ancestors:
            extra = []
            base = frame
            for kid, parents in ancestors.items():
                rows = base[base["code"] == kid]
                if len(rows):
                    extra.extend(rows.assign(code=parent) for parent in parents)
            if extra:
                frame = pd.concat([base, *extra], ignore_index=True)
        self.codings = frame.drop_duplicates(subset=[c for c in ("respondent", "coder", "code") if c in frame.columns])
        self.coders = sorted(self.codings["coder"].unique()) if "coder" in self.codings.columns else []

    def codes(self, codes, labels) -> list[str]:
        if codes is not None:
            return [str(c) for c in codes]
        ordered: list[str] = list(labels) if labels else []
        known = set(ordered)
        extra = sorted(set(self.codings["code"]) - known)
        return ordered + extra

    def mentioners(self, code: str, coder: str | None = None) -> set[str]:
        """Respondents given ``code`` (by ``coder`` only, when named); do not mutate the set."""
        if coder is None:
            return self._by_code.get(code, _NOBODY)
        return self._by_coder_code.get((coder, code), _NOBODY)

    @functools.cached_property
    def _by_code(self) -> dict[str, set[str]]:
        return _respondent_sets(self.codings, "code")

    @functools.cached_property
    def _by_coder_code(self) -> dict[tuple[str, str], set[str]]:
        return _respondent_sets(self.codings, ["coder", "code"])


_NOBODY: frozenset = frozenset()


def _respondent_sets(codings: pd.DataFrame, keys: str | list[str]) -> dict:
    """Distinct respondents per value of ``keys``, in one groupby (not one mask per code)."""
    if codings.empty:
        return {}
    return {key: set(group.tolist()) for key, group in codings.groupby(keys, sort=False)["respondent"]}


def _check_codings(codings: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(codings, pd.DataFrame):
        raise TypeError(f"codings must be a pandas DataFrame, got {type(codings).__name__}")
    missing = [c for c in ("respondent", "code") if c not in codings.columns]
    if missing:
        raise CodingsError("The codings table lacks required columns",
                           [Problem(f"missing column {c!r} (need respondent, coder, code)", field=c) for c in missing])
    columns = [c for c in ("respondent", "coder", "code") if c in codings.columns]
    frame = codings[columns].copy()
    for column in columns:
        frame[column] = _clean_ids(frame[column])
    empty = frame["code"] == ""
    if empty.any():
        rows = (np.flatnonzero(empty.to_numpy()) + 1).tolist()
        raise CodingsError("Some codings have no code",
                           [Problem("empty code", line=r, field="code") for r in rows[:20]])
    return frame


# --------------------------------------------------------------------------- tables


def share_table(
    respondents: pd.DataFrame,
    codings: pd.DataFrame,
    *,
    codes: Iterable[str] | None = None,
    coder: str | None = None,
    hierarchy: Mapping[str, Iterable[str]] | None = None,
    labels: Mapping[str, str] | None = None,
    agreement: Mapping[str, float] | None = None,
    confidence: float = 0.95,
    strict: bool = False,
) -> pd.DataFrame:
    """One row per code: how many respondents named it, of all respondents in scope.

    Parameters
    ----------
    respondents, codings
        See the module docstring. The denominator ``n`` is ``len(respondents)``.
    codes
        Codes to report, in this order; default: the ``labels`` order, then any
        other coded code alphabetically.
    coder
        Count only this coder's codings. With ``None`` a respondent counts if
        *any* coder applied the code, and ``coder_min``/``coder_max`` give the
        lowest and highest per-coder percent when several coders are present.
    hierarchy
        ``{parent: {descendant codes}}`` for roll-up (transitive closure is taken).
    labels
        ``{code: label}``; a missing label falls back to the code id.
    agreement
        Optional ``{code: statistic}`` (e.g. Krippendorff's alpha), added as column ``agreement``.
    confidence
        Level of the Wilson interval (``ci_low``/``ci_high``, percent).
    strict
        Raise CodingsError for codings of respondents not in ``respondents``
        instead of ignoring them (they are always counted in ``attrs["notes"]``).

    Returns
    -------
    DataFrame with columns code, label, count, n, percent, display, ci_low,
    ci_high, coder_min, coder_max (+ agreement). ``attrs`` holds ``notes`` (list
    of str), ``out_of_scope`` (ignored codings) and ``coders``.
    """
    scoped = _Scoped(respondents, codings, coder=coder, hierarchy=hierarchy, strict=strict)
    labels = dict(labels or {})
    n = len(scoped.ids)
    per_coder = scoped.coders if coder is None and len(scoped.coders) > 1 else []
    rows = []
    for code in scoped.codes(codes, labels):
        count = len(scoped.mentioners(code))
        low, high = wilson_interval(count, n, confidence=confidence)
        spread = [100 * len(scoped.mentioners(code, name)) / n for name in per_coder] if n else []
        rows.append({
            "code": code,
            "label": labels.get(code, code),
            "count": count,
            "n": n,
            "percent": 100 * count / n if n else math.nan,
            "display": format_share(count, n),
            "ci_low": low,
            "ci_high": high,
            "coder_min": min(spread) if spread else math.nan,
            "coder_max": max(spread) if spread else math.nan,
        })
    table = pd.DataFrame(rows, columns=SHARE_COLUMNS)
    table["count"] = table["count"].astype("int64")
    table["n"] = table["n"].astype("int64")
    if agreement is not None:
        table["agreement"] = [float(agreement[c]) if c in agreement else math.nan for c in table["code"]]
    notes = list(scoped.notes)
    if n == 0:
        notes.append("no respondents in scope: percentages are undefined (NaN)")
    table.attrs.update({"notes": notes, "out_of_scope": scoped.out_of_scope, "coders": scoped.coders})
    return table


def crosstab(
    respondents: pd.DataFrame,
    codings: pd.DataFrame,
    *,
    by: str,
    codes: Iterable[str] | None = None,
    coder: str | None = None,
    hierarchy: Mapping[str, Iterable[str]] | None = None,
    labels: Mapping[str, str] | None = None,
    min_cell: int = 5,
    min_expected: float = 5.0,
    confidence: float = 0.95,
    strict: bool = False,
) -> pd.DataFrame:
    """Shares of each code within each group of respondents (tidy: one row per code x group).

    Columns: ``code, label, attribute, group, count, group_n, percent`` (column
    percent: share of the group that named the code), ``ci_low, ci_high``
    (Wilson, within the group), ``row_percent`` (share of the code's mentioners
    who are in this group), ``expected`` (count expected if the code were spread
    evenly over the groups: ``group_n * mentioners / n``), ``small`` and
    ``low_expected``.

    Flag rule (cells too small to interpret are flagged):

    * ``small`` -- the group has fewer than ``min_cell`` respondents, so its
      percentage moves by more than 20 points per respondent and should not be read;
    * ``low_expected`` -- the expected count is below ``min_expected`` (5), the
      classic limit under which a chi-square comparison of groups is unreliable.

    Respondents with an empty value for ``by`` form the group ``"(missing)"``.
    Groups appear in order of first appearance in ``respondents``.
    """
    if min_cell < 1:
        raise ValueError(f"min_cell must be at least 1, got {min_cell}")
    scoped = _Scoped(respondents, codings, coder=coder, hierarchy=hierarchy, strict=strict)
    if by not in scoped.attributes.columns:
        raise AttributesError(f"No respondent attribute named {by!r}",
                              [Problem("attributes available: "
                                       f"{', '.join(map(str, scoped.attributes.columns)) or 'none'}", field=by)])
    labels = dict(labels or {})
    column = scoped.attributes[by]
    groups_of = {rid: text if text else MISSING_GROUP  # = _group_value, one distinct value at a time
                 for rid, text in zip(column.index.tolist(), _clean_ids(column))}
    groups: list[str] = list(dict.fromkeys(groups_of.values()))
    sizes = Counter(groups_of.values())
    group_n = {g: sizes[g] for g in groups}
    n = len(scoped.ids)
    rows = []
    for code in scoped.codes(codes, labels):
        mentioners = scoped.mentioners(code)
        total = len(mentioners)
        per_group = Counter(groups_of[rid] for rid in mentioners)
        for group in groups:
            size = group_n[group]
            count = per_group[group]
            expected = size * total / n if n else math.nan
            rows.append({
                "code": code,
                "label": labels.get(code, code),
                "attribute": by,
                "group": group,
                "count": count,
                "group_n": size,
                "percent": 100 * count / size if size else math.nan,
                "display": format_share(count, size),
                "ci_low": math.nan,  # filled below, all cells in one go
                "ci_high": math.nan,
                "row_percent": 100 * count / total if total else math.nan,
                "expected": expected,
                "small": size < min_cell,
                "low_expected": bool(expected < min_expected) if not math.isnan(expected) else True,
            })
    intervals = _wilson_intervals([r["count"] for r in rows], [r["group_n"] for r in rows], confidence=confidence)
    for row, (low, high) in zip(rows, intervals):
        row["ci_low"], row["ci_high"] = low, high
    table = pd.DataFrame(rows, columns=["code", "label", "attribute", "group", "count", "group_n", "percent",
                                        "display", "ci_low", "ci_high", "row_percent", "expected", "small",
                                        "low_expected"])
    table.attrs.update({"notes": list(scoped.notes), "out_of_scope": scoped.out_of_scope, "n": n,
                        "group_n": group_n})
    return table


def _group_value(value: Any) -> str:
    text = _clean_id(value)
    return text if text else MISSING_GROUP


def case_code_matrix(
    respondents: pd.DataFrame,
    codings: pd.DataFrame,
    *,
    codes: Iterable[str] | None = None,
    coder: str | None = None,
    hierarchy: Mapping[str, Iterable[str]] | None = None,
    strict: bool = False,
) -> pd.DataFrame:
    """0/1 matrix: one row per respondent in scope (all of them), one column per code.

    >>> import pandas as pd
    >>> m = case_code_matrix(pd.DataFrame(index=["r1", "r2"]),
    ...                      pd.DataFrame({"respondent": ["r1"], "code": ["a"]}))
    >>> m.to_dict()
    {'a': {'r1': 1, 'r2': 0}}
    """
    scoped = _Scoped(respondents, codings, coder=coder, hierarchy=hierarchy, strict=strict)
    columns = scoped.codes(codes, None)
    matrix = pd.DataFrame(0, index=pd.Index(scoped.ids, name="respondent"), columns=columns, dtype="int64")
    for code in columns:
        hit = scoped.mentioners(code)
        if hit:
            matrix.loc[[rid for rid in scoped.ids if rid in hit], code] = 1
    matrix.attrs.update({"notes": list(scoped.notes), "out_of_scope": scoped.out_of_scope})
    return matrix


# --------------------------------------------------------------------------- text output


def format_share_table(df: pd.DataFrame, fmt: str = "table") -> str:
    """Render a share table (or crosstab) as an aligned text table, CSV or JSON.

    The text table shows the article's notation, the 95% interval and, when
    several coders were pooled, their spread; notes follow the table.
    """
    if fmt == "csv":
        from coding.safe_cells import csv_text

        return csv_text(df)
    if fmt == "json":
        records = json.loads(df.to_json(orient="records", double_precision=6))
        return json.dumps({"rows": records, "notes": list(df.attrs.get("notes", []))}, indent=2, ensure_ascii=False)
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}; use table, csv or json")
    is_crosstab = "group" in df.columns
    headers = ["Code", "Label"] + (["Group"] if is_crosstab else []) + ["Share", "95% CI"]
    spread = "coder_min" in df.columns and df["coder_min"].notna().any()
    if spread:
        headers.append("Coders")
    if is_crosstab:
        headers.append("Flag")
    if "agreement" in df.columns:
        headers.append("Agreement")
    body = []
    for row in df.to_dict("records"):
        cells = [str(row["code"]), str(row["label"])]
        if is_crosstab:
            cells.append(str(row["group"]))
        cells.append(str(row["display"]))
        cells.append(_interval(row["ci_low"], row["ci_high"]))
        if spread:
            cells.append(_interval(row["coder_min"], row["coder_max"]))
        if is_crosstab:
            flags = [name for name, on in (("small group", row["small"]), ("low expected", row["low_expected"])) if on]
            cells.append(", ".join(flags))
        if "agreement" in df.columns:
            value = row["agreement"]
            undefined = value is None or math.isnan(value)  # '—' with the reason beside it, never None
            cells.append(f"— ({row.get('agreement_reason') or 'undefined'})" if undefined else f"{value:.2f}")
        body.append(cells)
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip() for cells in body]
    if not body:
        lines.append("(no codes)")
    lines += [f"note: {note}" for note in df.attrs.get("notes", [])]
    return "\n".join(lines) + "\n"


def _interval(low: float, high: float) -> str:
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return "n/a"
    return f"{round_half_up(low):.1f}-{round_half_up(high):.1f}%"


def default_share_coder(codings, frame: str, *, consensus: str = "consensus") -> str:
    """Consensus when it has coded the frame, else the only coder who has; otherwise ask."""
    coders = set(codings["coder"])
    if consensus in coders or not coders:  # nobody coded the frame yet: every share is 0/n
        return consensus
    if len(coders) == 1:
        return next(iter(coders))
    raise CodeframeError(
        f"frame {frame!r} has no consensus coding yet; choose a coder with --coder ({', '.join(sorted(coders))})"
    )


def wide_crosstab(cross: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A long :func:`crosstab` as two wide tables, codes down and groups across: the cell text
    (``display``, with "†" on small groups) and whether each cell is a small group. Columns are
    headed "group (n = N)"; the first column is ``Code``."""
    groups = cross.drop_duplicates("group")[["group", "group_n"]]
    heading = {g: f"{g} (n = {int(n)})" for g, n in groups.itertuples(index=False)}
    cells = cross.assign(cell=[f"{d} †" if s else d for d, s in zip(cross["display"], cross["small"])])
    order = list(dict.fromkeys(cross["label"]))
    wide = cells.pivot(index="label", columns="group", values="cell").reindex(index=order, columns=list(heading))
    small = cells.pivot(index="label", columns="group", values="small").reindex(index=order, columns=list(heading))
    wide = wide.rename(columns=heading).rename_axis(index="Code").reset_index()
    small = small.rename(columns=heading).rename_axis(index="Code").reset_index().assign(Code=False)
    return wide, small
