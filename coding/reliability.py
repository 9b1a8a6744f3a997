"""Reliability data from codings: who applied which code to which unit.

Codings come as a long table (a pandas DataFrame) with columns ``unit``,
``coder`` and ``code``, one row per applied code; other columns are carried
along and ignored. A unit is whatever was coded: a segment, or a respondent
once :func:`presence_by_respondent` has rolled segments up.

The hard part is telling a *real 0* from a *missing* rating. For code X the
presence matrix (coders x units) holds 1 where the coder applied X to the
unit, 0 where the coder coded the unit but not with X, and NaN where the
coder never saw the unit. Which units a coder saw cannot be read off the
codings (a unit they saw and left uncoded leaves no row), so it is passed as
``units_by_coder: dict[coder, set[unit]]``. Without it (CSV mode) every coder
is taken to have seen every unit that appears in the table; a unit that *no
one* coded is then invisible. The database mode passes every segment of the
documents each coder was assigned.

>>> import pandas as pd
>>> codings = pd.DataFrame({"unit": ["s1", "s1", "s2"], "coder": ["ann", "bob", "ann"],
...                         "code": ["trust", "trust", "trust"]})
>>> presence_matrix(codings, "trust")
      s1   s2
ann  1.0  1.0
bob  1.0  0.0
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from coding import agreement, ratings
from coding.agreement import LEVELS, Statistic
from coding.codings_table import read_csv_table
from coding.errors import CodingsError, Problem
from coding.masi import set_valued_overall
from coding.presence import (
    NONE_CATEGORY,
    REQUIRED,
    FrameMatrix,
    _check_codings,
    _Layout,
    _natural_key,
    category_matrix,
    frame_matrix,
    presence_by_respondent,
    presence_matrices,
    presence_matrix,
    select_coders,
    universes,
)

__all__ = [
    "NOT_APPLIED",
    "NONE_CATEGORY",
    "AgreementReport",
    "FrameMatrix",
    "read_long_codings",
    "universes",
    "select_coders",
    "presence_matrix",
    "presence_matrices",
    "frame_matrix",
    "category_matrix",
    "presence_by_respondent",
    "agreement_table",
    "overall_agreement",
    "disagreements",
    "report_from_codings",
    "join_notes",
]

NOT_APPLIED = "no coder applied this code"
STATISTICS = ("percent_agreement", "cohen_kappa", "fleiss_kappa", "alpha", "alpha_low", "alpha_high", "gwet_ac1")
CHANCE_CORRECTED = ("cohen_kappa", "fleiss_kappa", "alpha", "alpha_low", "alpha_high", "gwet_ac1")
TABLE_COLUMNS = (
    "code", "n_units", "n_coders", "prevalence", *STATISTICS, "interpretation", "reason", "note",
)


# --------------------------------------------------------------------------- reading


def read_long_codings(
    path: str | Path,
    *,
    data: bytes | str | None = None,
    columns: Sequence[str] = REQUIRED,
) -> pd.DataFrame:
    """Read a long codings CSV: one row per (unit, coder, code).

    Parameters
    ----------
    path : str or Path
        The file to read, or only its name (for messages) when ``data`` is given.
    data : bytes or str, optional
        The file's content, e.g. an upload; read from ``path`` when omitted.
    columns : (str, str, str)
        Names of the unit, coder and code columns in the file; they are
        renamed to ``unit``, ``coder``, ``code``.

    Returns
    -------
    DataFrame
        Columns ``unit, coder, code, line`` (``line`` = line number in the
        file) plus any other columns of the file; every value is a stripped
        string, exactly as written (``"01"`` stays ``"01"``).

    Raises
    ------
    CodingsError
        Empty file, missing required columns (listing those found), or rows
        with a blank required value (each named by line).
    """
    if len(columns) != 3:
        raise ValueError(f"columns must name the unit, coder and code columns; got {columns!r}")
    name = str(path)
    if data is None:
        data = Path(path).read_bytes()
    table = read_csv_table(name, data, required=columns)
    rename = dict(zip(columns, REQUIRED))
    names = [rename.get(h, h) for h in table.header]
    positions = {n: i for i, n in enumerate(names)}
    records, problems = [], list(table.problems)
    for line, row in table.rows:
        cells = [cell.strip() for cell in row]
        blank = [columns[i] for i, canonical in enumerate(REQUIRED) if cells[positions[canonical]] == ""]
        if blank:
            problems.append(Problem(f"blank {', '.join(blank)}", file=name, line=line, field=blank[0]))
            continue
        record = {n: cells[i] for n, i in positions.items()}
        record["line"] = line
        records.append(record)
    if problems:
        problems.sort(key=lambda p: p.line)
        raise CodingsError(f"{len(problems)} bad row(s) in the codings file", problems)
    if not records:
        raise CodingsError("the codings file has no codings", [Problem("header only, no rows", file=name, line=1)])
    ordered = ["unit", "coder", "code", "line"] + [n for n in names if n not in ("unit", "coder", "code", "line")]
    return pd.DataFrame.from_records(records, columns=ordered)


# --------------------------------------------------------------------------- statistics


def join_notes(statistics: dict[str, Statistic], attribute: str = "reason") -> str | None:
    """One text from the reasons (of NaN values only) or the notes of several statistics.

    >>> nan = float("nan")
    >>> join_notes({"alpha": Statistic(nan, "only one coder"), "gwet_ac1": Statistic(nan, "only one coder")})
    'only one coder'
    >>> join_notes({"alpha": Statistic(nan, "x"), "gwet_ac1": Statistic(0.5, note="y")}, "note")
    'y'
    """
    texts = {name: getattr(s, attribute) for name, s in statistics.items() if getattr(s, attribute)}
    if attribute == "reason":
        texts = {n: t for n, t in texts.items() if not statistics[n].defined}
    if not texts:
        return None
    distinct = list(dict.fromkeys(texts.values()))
    if len(distinct) == 1:
        return distinct[0]
    return "; ".join(f"{name}: {text}" for name, text in texts.items())


def agreement_table(
    codings: pd.DataFrame,
    *,
    codes: Sequence | None = None,
    units_by_coder: Mapping[Hashable, Iterable] | None = None,
    level: str = "nominal",
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Agreement on the presence of each code, one row per code.

    Parameters
    ----------
    codings : DataFrame
        Columns ``unit, coder, code``.
    codes : sequence, optional
        Codes to report (default: every code in ``codings``). Codes nobody
        applied get NaN chance-corrected statistics with the reason
        ``"no coder applied this code"``.
    units_by_coder : mapping, optional
        Units each coder saw (see :func:`universes`).
    level : {"nominal", "ordinal", "interval", "ratio"}
        Passed to alpha; on 0/1 presence data every level gives the same alpha.
    n_boot, confidence, seed
        Bootstrap of the alpha interval (``n_boot=0`` skips it).

    Returns
    -------
    DataFrame
        Columns ``code, n_units`` (units seen by at least two coders),
        ``n_coders`` (coders who saw any unit), ``prevalence`` (share of 1s
        among all ratings), ``percent_agreement, cohen_kappa, fleiss_kappa,
        alpha, alpha_low, alpha_high, gwet_ac1, interpretation`` (of alpha),
        ``reason`` (why a value is NaN) and ``note`` (caveats).
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    rows = []
    matrices = presence_matrices(codings, codes=codes, units_by_coder=units_by_coder)
    for code, matrix in matrices.items():
        values = matrix.to_numpy(dtype=float)
        rated = ~np.isnan(values)
        if values.size == 0:
            stats = {name: Statistic(float("nan"), ratings.NO_RATINGS) for name in STATISTICS}
        else:
            stats = agreement.summarize(values, level=level, categories=(0.0, 1.0),
                                        n_boot=n_boot, confidence=confidence, seed=seed)
        applied = np.nansum(values) if rated.any() else 0.0
        if rated.any() and applied == 0:
            for name in CHANCE_CORRECTED:
                stats[name] = Statistic(float("nan"), NOT_APPLIED)
        rows.append({
            "code": code,
            "n_units": int((rated.sum(axis=0) >= 2).sum()),
            "n_coders": int(rated.any(axis=1).sum()),
            "prevalence": float(applied / rated.sum()) if rated.any() else float("nan"),
            **{name: stats[name].value for name in STATISTICS},
            "interpretation": agreement.interpret_alpha(stats["alpha"].value),
            "reason": join_notes(stats, "reason"),
            "note": join_notes(stats, "note"),
        })
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    for column in ("code", "interpretation", "reason", "note"):
        table[column] = pd.Series([row[column] for row in rows], index=table.index, dtype=object)
    return table


def _category_values(
    matrix: pd.DataFrame, level: str, value_order: Sequence | None
) -> tuple[np.ndarray, Sequence | None]:
    """Turn code labels into numbers when they all are (or must be) numbers."""
    labels = matrix.to_numpy(dtype=object)
    present = labels[~pd.isna(labels)]
    if value_order is not None:
        return labels, value_order
    numeric = pd.to_numeric(pd.Series(present, dtype=object), errors="coerce")
    if present.size and not numeric.isna().any():
        out = np.full(labels.shape, np.nan)
        out[~pd.isna(labels)] = numeric.to_numpy(dtype=float)
        return out, None
    if level != "nominal":
        bad = [v for v, n in zip(present, numeric) if pd.isna(n)]
        raise CodingsError(
            f"level {level!r} needs numeric codes (or an explicit value order)",
            [Problem(f"code {bad[0]!r} is not a number", field="code")],
        )
    return labels, None


def overall_agreement(
    codings: pd.DataFrame,
    *,
    level: str = "nominal",
    value_order: Sequence | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> dict[str, Statistic]:
    """Agreement over all codes when each coder gives each unit one code.

    This is the classic reliability setting (and the one of the published
    worked examples): the (coders x units) matrix of the code each coder
    gave each unit, with NaN where a coder gave none. Codes that are all
    numbers are used as numbers (needed for ordinal, interval and ratio
    levels); non-numeric codes need ``value_order`` beyond the nominal level, and without it
    every figure is NaN with that reason.

    When some coder gave a unit two different codes the setting does not
    apply: every statistic is NaN, with the reason; :func:`report_from_codings`
    adds the set-valued figures of :func:`coding.masi.set_valued_overall`.

    Returns
    -------
    dict of str to Statistic
        As :func:`coding.agreement.summarize`.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    matrix, n_multi = category_matrix(codings)
    if n_multi:
        reason = (f"{n_multi} unit-coder pair(s) carry several codes: no single category per unit; "
                  "see the per-code table")
        return {name: Statistic(float("nan"), reason) for name in STATISTICS}
    if matrix.size == 0:
        return {name: Statistic(float("nan"), ratings.NO_RATINGS) for name in STATISTICS}
    try:
        values, order = _category_values(matrix, level, value_order)
    except CodingsError as exc:  # e.g. ordinal on code labels: undefined, with the reason, never a crash
        reason = f"{exc.args[0].splitlines()[0]}; the per-code table is unaffected"
        return {name: Statistic(float("nan"), reason) for name in STATISTICS}
    return agreement.summarize(values, level=level, value_order=order,
                               n_boot=n_boot, confidence=confidence, seed=seed)


def disagreements(
    codings: pd.DataFrame,
    *,
    codes: Sequence | None = None,
    units_by_coder: Mapping[Hashable, Iterable] | None = None,
) -> pd.DataFrame:
    """Units where coders who saw them differ on a code.

    Returns
    -------
    DataFrame
        Columns ``unit, code, applied_by, not_applied_by`` (coder names,
        comma-joined); only coders who saw the unit are listed.

    >>> import pandas as pd
    >>> codings = pd.DataFrame({"unit": ["s1", "s1", "s2"], "coder": ["ann", "bob", "ann"],
    ...                         "code": ["trust", "trust", "trust"]})
    >>> disagreements(codings).to_dict("records")
    [{'unit': 's2', 'code': 'trust', 'applied_by': 'ann', 'not_applied_by': 'bob'}]
    """
    rows = []
    for code, matrix in presence_matrices(codings, codes=codes, units_by_coder=units_by_coder).items():
        values = matrix.to_numpy(dtype=float)
        ones = (values == 1.0).sum(axis=0)
        zeros = (values == 0.0).sum(axis=0)
        coders = np.asarray(matrix.index, dtype=object)
        for j in np.nonzero((ones > 0) & (zeros > 0))[0]:
            rows.append({
                "unit": matrix.columns[j],
                "code": code,
                "applied_by": ", ".join(map(str, coders[values[:, j] == 1.0])),
                "not_applied_by": ", ".join(map(str, coders[values[:, j] == 0.0])),
            })
    frame = pd.DataFrame(rows, columns=["unit", "code", "applied_by", "not_applied_by"])
    if rows:
        frame = frame.sort_values(["code", "unit"], key=lambda s: s.map(_natural_key)).reset_index(drop=True)
    return frame


# --------------------------------------------------------------------------- report


@dataclass
class AgreementReport:
    """Everything the CLI and the supervisor page show about agreement.

    Attributes
    ----------
    level : str
        Level of measurement of the overall alpha.
    unit : str
        What a unit is: ``"segment"`` or ``"respondent"``.
    coders : list
        Coders compared.
    n_units : int
        Units seen by at least two coders.
    overall : dict of str to Statistic
        Overall figures (see :func:`overall_agreement`).
    table : DataFrame
        Per-code table (see :func:`agreement_table`).
    disagreements : DataFrame
        Drill-down (see :func:`disagreements`).
    conflicts : DataFrame or None
        Exclusive-frame conflicts when a frame matrix was used.
    notes : list of str
        Caveats to print with the report.
    coverage : DataFrame or None
        Each coder's coverage (``coder, units, respondents, codings``) when the database gave it.
    """

    level: str
    unit: str
    coders: list
    n_units: int
    overall: dict[str, Statistic]
    table: pd.DataFrame
    disagreements: pd.DataFrame
    conflicts: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    coverage: pd.DataFrame | None = None


def report_from_codings(
    codings: pd.DataFrame,
    *,
    codes: Sequence | None = None,
    units_by_coder: Mapping[Hashable, Iterable] | None = None,
    coders: Sequence | None = None,
    exclusive_frame: Sequence | None = None,
    unit: str = "segment",
    level: str = "nominal",
    value_order: Sequence | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> AgreementReport:
    """Overall figures, per-code table and disagreements in one go.

    Parameters
    ----------
    codings : DataFrame
        Columns ``unit, coder, code`` at the level named by ``unit``.
    codes : sequence, optional
        Codes of the per-code table (default: all codes in ``codings``).
    units_by_coder : mapping, optional
        Units each coder saw (see :func:`universes`).
    coders : sequence, optional
        Compare only these coders.
    exclusive_frame : sequence, optional
        Codes of a mutually exclusive frame: the overall figures are then
        computed on its categorical matrix (:func:`frame_matrix`) and
        conflicts are reported. Otherwise :func:`overall_agreement`, plus
        ``alpha_pooled`` and ``alpha_masi`` (:func:`coding.masi.set_valued_overall`).
    unit : {"segment", "respondent"}
        Recorded in the report, for display.
    level, value_order, n_boot, confidence, seed
        As in :func:`overall_agreement`.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    _check_codings(codings)
    codings, seen = select_coders(codings, coders, units_by_coder)
    if exclusive_frame is not None:
        codes = list(exclusive_frame) if codes is None else codes
        codings = codings[codings["code"].isin(list(exclusive_frame))]
    notes: list[str] = []
    conflicts = None
    if exclusive_frame is not None:
        framed = frame_matrix(codings, exclusive_frame, units_by_coder=seen)
        conflicts = framed.conflicts
        if framed.n_conflicts:
            notes.append(f"{framed.n_conflicts} unit-coder pair(s) applied several codes of the exclusive "
                         f"frame; {conflicts['unit'].nunique()} unit(s) left out of the overall figures")
        overall = agreement.summarize(framed.matrix.to_numpy(dtype=object), level="nominal",
                                      n_boot=n_boot, confidence=confidence, seed=seed)
        if level != "nominal":
            notes.append("an exclusive frame is nominal: overall alpha computed at the nominal level")
    else:
        rated = codings if codes is None else codings[codings["code"].isin(list(codes))]
        overall = overall_agreement(rated, level=level,
                                    value_order=value_order, n_boot=n_boot, confidence=confidence, seed=seed)
        # a non-exclusive frame is set-valued: these two stay defined when a unit carries several codes
        overall.update(set_valued_overall(rated, list(codes) if codes is not None else
                                          sorted(pd.unique(rated["code"]), key=_natural_key), seen))
    if units_by_coder is None:
        notes.append("units no coder coded are invisible in a codings file: every coder is taken to have "
                     "seen every unit that appears in it")
    layout = _Layout.build(codings, seen)
    return AgreementReport(
        level=level if exclusive_frame is None else "nominal",
        unit=unit,
        coders=list(layout.coders),
        n_units=int((layout.seen.sum(axis=0) >= 2).sum()),
        overall=overall,
        table=agreement_table(codings, codes=codes, units_by_coder=seen, level=level,
                              n_boot=n_boot, confidence=confidence, seed=seed),
        disagreements=disagreements(codings, codes=codes, units_by_coder=seen),
        conflicts=conflicts,
        notes=notes,
    )

