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

import csv
import functools
import io
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coding import agreement
from coding.agreement import LEVELS, Statistic
from coding.errors import CodingsError, Problem

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

REQUIRED = ("unit", "coder", "code")
NOT_APPLIED = "no coder applied this code"
NONE_CATEGORY = "(none)"
STATISTICS = ("percent_agreement", "cohen_kappa", "fleiss_kappa", "alpha", "alpha_low", "alpha_high", "gwet_ac1")
CHANCE_CORRECTED = ("cohen_kappa", "fleiss_kappa", "alpha", "alpha_low", "alpha_high", "gwet_ac1")
TABLE_COLUMNS = (
    "code", "n_units", "n_coders", "prevalence", *STATISTICS, "interpretation", "reason", "note",
)


# --------------------------------------------------------------------------- reading


def _decode(data: bytes, name: str) -> str:
    """Bytes to text: the project's decoder if present, else UTF-8 (BOM allowed)."""
    try:
        from coding.transcripts import decode_bytes
    except ImportError:
        decode_bytes = None
    if decode_bytes is not None:
        text, _ = decode_bytes(data, file=name, error=CodingsError)
        return text
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CodingsError(
            "the codings file is not UTF-8 text",
            [Problem(f"undecodable byte at offset {exc.start}; save the file as UTF-8", file=name)],
        ) from None


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
    if not data.strip() or (isinstance(data, str) and not data.lstrip("\ufeff").strip()):
        raise CodingsError("the codings file is empty", [Problem("empty file", file=name)])
    text = data.lstrip("\ufeff") if isinstance(data, str) else _decode(data, name)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader)]
    missing = [c for c in columns if c not in header]
    if missing:
        raise CodingsError(
            "the codings file lacks required columns",
            [Problem(f"missing column(s) {', '.join(missing)}; found {', '.join(h for h in header if h) or 'none'}",
                     file=name, line=1)],
        )
    rename = dict(zip(columns, REQUIRED))
    names = [rename.get(h, h) for h in header]
    positions = {n: i for i, n in enumerate(names)}
    records, problems = [], []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            problems.append(Problem("more fields than columns in the header", file=name, line=line))
            continue
        cells = [cell.strip() for cell in row] + [""] * (len(header) - len(row))
        blank = [columns[i] for i, canonical in enumerate(REQUIRED) if cells[positions[canonical]] == ""]
        if blank:
            problems.append(Problem(f"blank {', '.join(blank)}", file=name, line=line, field=blank[0]))
            continue
        record = {n: cells[i] for n, i in positions.items()}
        record["line"] = line
        records.append(record)
    if problems:
        raise CodingsError(f"{len(problems)} bad row(s) in the codings file", problems)
    if not records:
        raise CodingsError("the codings file has no codings", [Problem("header only, no rows", file=name, line=1)])
    ordered = ["unit", "coder", "code", "line"] + [n for n in names if n not in ("unit", "coder", "code", "line")]
    return pd.DataFrame.from_records(records, columns=ordered)


# --------------------------------------------------------------------------- layout


@functools.lru_cache(maxsize=1 << 16)
def _natural_key(value: Any) -> tuple:
    """Sort 's2' before 's10' and numbers numerically."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return (0, float(value), ())
    parts = re.split(r"(\d+)", str(value))
    return (1, 0.0, tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts))


def _check_codings(codings: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in REQUIRED if c not in codings.columns]
    if missing:
        raise CodingsError(
            "the codings table lacks required columns",
            [Problem(f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, codings.columns))}")],
        )
    blank = codings[list(REQUIRED)].isna().any(axis=1)
    if blank.any():
        raise CodingsError(
            "the codings table has blank values",
            [Problem(f"blank unit, coder or code in {int(blank.sum())} row(s)")],
        )
    return codings


def universes(
    codings: pd.DataFrame, units_by_coder: Mapping[Hashable, Iterable] | None = None
) -> dict[Hashable, set]:
    """The units each coder saw.

    Without ``units_by_coder`` (CSV mode) every coder who appears in
    ``codings`` saw every unit that appears in it. With it, each coder's
    given units, plus any unit the coder actually coded; coders listed there
    who coded nothing still count (they saw their units and applied nothing).
    """
    _check_codings(codings)
    if units_by_coder is None:
        all_units = set(codings["unit"].unique().tolist())
        return {coder: set(all_units) for coder in pd.unique(codings["coder"])}
    seen = {coder: set(units) for coder, units in units_by_coder.items()}
    for coder, units in codings.groupby("coder", sort=False)["unit"]:
        seen.setdefault(coder, set()).update(units.unique().tolist())
    return seen


def select_coders(
    codings: pd.DataFrame,
    coders: Sequence[Hashable] | None,
    units_by_coder: Mapping[Hashable, Iterable] | None = None,
) -> tuple[pd.DataFrame, dict[Hashable, set]]:
    """Keep only ``coders`` (None keeps everyone); returns codings and universes.

    Raises
    ------
    CodingsError
        When a requested coder coded nothing and has no universe either.
    """
    seen = universes(codings, units_by_coder)
    if coders is None:
        return codings, seen
    unknown = [c for c in coders if c not in seen]
    if unknown:
        known = ", ".join(sorted(map(str, seen), key=_natural_key)) or "none"
        raise CodingsError(
            "unknown coder(s)",
            [Problem(f"no coder {c!r}; coders are: {known}", field="coders") for c in unknown],
        )
    keep = list(dict.fromkeys(coders))
    return codings[codings["coder"].isin(keep)], {c: seen[c] for c in keep}


@dataclass(frozen=True)
class _Layout:
    coders: list
    units: list
    seen: np.ndarray  # (n_coders, n_units) bool

    @classmethod
    def build(cls, codings: pd.DataFrame, units_by_coder) -> "_Layout":
        seen_sets = universes(codings, units_by_coder)
        coders = sorted(seen_sets, key=_natural_key)
        units = sorted(set().union(*seen_sets.values()) if seen_sets else set(), key=_natural_key)
        unit_index = {u: i for i, u in enumerate(units)}
        seen = np.zeros((len(coders), len(units)), dtype=bool)
        for row, coder in enumerate(coders):
            seen[row, [unit_index[u] for u in seen_sets[coder]]] = True
        return cls(coders, units, seen)

    def positions(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        coder_index, unit_index = self.indexes()
        coder_pos = coder_index.get_indexer(rows["coder"])
        unit_pos = unit_index.get_indexer(rows["unit"])
        if (coder_pos < 0).any() or (unit_pos < 0).any():
            raise ValueError("codings name a coder or unit outside the layout")
        return coder_pos.astype(int), unit_pos.astype(int)

    def indexes(self) -> tuple[pd.Index, pd.Index]:
        """Row (coders) and column (units) labels of the matrices (built once, shared)."""
        return self._indexes

    @functools.cached_property
    def _indexes(self) -> tuple[pd.Index, pd.Index]:
        return pd.Index(self.coders, name=None), pd.Index(self.units, name=None)

    def frame(self, values: np.ndarray) -> pd.DataFrame:
        coder_index, unit_index = self.indexes()
        return pd.DataFrame(values, index=coder_index, columns=unit_index)


def _codes_of(codings: pd.DataFrame, codes: Sequence | None) -> list:
    if codes is not None:
        return list(dict.fromkeys(codes))
    return sorted(pd.unique(codings["code"]), key=_natural_key)


def presence_matrices(
    codings: pd.DataFrame,
    *,
    codes: Sequence | None = None,
    units_by_coder: Mapping[Hashable, Iterable] | None = None,
) -> dict[Hashable, pd.DataFrame]:
    """Binary presence matrix (coders x units) of every code.

    Parameters
    ----------
    codings : DataFrame
        Columns ``unit, coder, code``.
    codes : sequence, optional
        Codes to build (default: every code in ``codings``); a code nobody
        applied gets an all-0 matrix.
    units_by_coder : mapping, optional
        Units each coder saw (see :func:`universes`).

    Returns
    -------
    dict of code to DataFrame
        Index = coders, columns = units; 1.0 applied, 0.0 seen but not
        applied, NaN not seen.
    """
    _check_codings(codings)
    layout = _Layout.build(codings, units_by_coder)
    wanted = _codes_of(codings, codes)
    # all codes at once: a (codes x coders x units) block, 0 where seen, NaN where not, 1 where applied
    values = np.broadcast_to(np.where(layout.seen, 0.0, np.nan), (len(wanted), *layout.seen.shape)).copy()
    rows = codings[codings["code"].isin(wanted)]
    if len(rows):
        code_pos = pd.Index(wanted, dtype=object).get_indexer(rows["code"])
        coder_pos, unit_pos = layout.positions(rows)
        values[code_pos, coder_pos, unit_pos] = 1.0
    coder_index, unit_index = layout.indexes()
    return {code: pd.DataFrame(values[i], index=coder_index, columns=unit_index, copy=False)
            for i, code in enumerate(wanted)}


def presence_matrix(
    codings: pd.DataFrame, code: Hashable, *, units_by_coder: Mapping[Hashable, Iterable] | None = None
) -> pd.DataFrame:
    """Binary presence matrix (coders x units) of one code; see :func:`presence_matrices`."""
    return presence_matrices(codings, codes=[code], units_by_coder=units_by_coder)[code]


@dataclass(frozen=True)
class FrameMatrix:
    """Categorical reliability matrix of a mutually exclusive frame.

    Attributes
    ----------
    matrix : DataFrame
        Coders x units; the code applied, :data:`NONE_CATEGORY` when the
        coder saw the unit and applied none of the frame's codes, NaN when
        not seen. Units with a conflict are left out.
    conflicts : DataFrame
        Columns ``unit, coder, codes``: a coder applied two or more codes of
        the exclusive frame to one unit (``codes`` comma-joined).
    """

    matrix: pd.DataFrame
    conflicts: pd.DataFrame

    @property
    def n_conflicts(self) -> int:
        return len(self.conflicts)


def frame_matrix(
    codings: pd.DataFrame,
    frame_codes: Sequence[Hashable],
    *,
    units_by_coder: Mapping[Hashable, Iterable] | None = None,
    none_label: str = NONE_CATEGORY,
) -> FrameMatrix:
    """Categorical matrix of a mutually exclusive frame, and its conflicts.

    A unit where any coder applied two codes of the frame breaks exclusivity;
    it is reported in ``conflicts`` and left out of the matrix (for every
    coder), so the statistics count only well-formed units.

    >>> import pandas as pd
    >>> codings = pd.DataFrame({"unit": ["s1", "s1", "s2", "s2", "s2"],
    ...                         "coder": ["ann", "bob", "ann", "ann", "bob"],
    ...                         "code": ["yes", "no", "yes", "no", "no"]})
    >>> result = frame_matrix(codings, ["yes", "no"])
    >>> result.matrix
          s1
    ann  yes
    bob   no
    >>> result.conflicts.to_dict("records")
    [{'unit': 's2', 'coder': 'ann', 'codes': 'no, yes'}]
    """
    _check_codings(codings)
    frame_codes = list(dict.fromkeys(frame_codes))
    if not frame_codes:
        raise ValueError("frame_codes is empty")
    if none_label in frame_codes:
        raise ValueError(f"none_label {none_label!r} is also a code of the frame; pick another none_label")
    layout = _Layout.build(codings, units_by_coder)
    values = np.full(layout.seen.shape, np.nan, dtype=object)
    values[layout.seen] = none_label
    rows = codings[codings["code"].isin(frame_codes)].drop_duplicates(["unit", "coder", "code"])
    applied = rows.groupby(["unit", "coder"], sort=False)["code"].agg(list)
    conflicts = [
        {"unit": unit, "coder": coder, "codes": ", ".join(sorted(map(str, codes), key=_natural_key))}
        for (unit, coder), codes in applied.items() if len(codes) > 1
    ]
    conflict_frame = pd.DataFrame(conflicts, columns=["unit", "coder", "codes"])
    if conflicts:
        conflict_frame = conflict_frame.sort_values(
            ["unit", "coder"], key=lambda s: s.map(_natural_key)).reset_index(drop=True)
    single = rows[~rows.set_index(["unit", "coder"]).index.isin(
        [(c["unit"], c["coder"]) for c in conflicts])]
    coder_pos, unit_pos = layout.positions(single)
    values[coder_pos, unit_pos] = single["code"].to_numpy(dtype=object)
    matrix = layout.frame(values)
    bad_units = set(conflict_frame["unit"])
    matrix = matrix[[u for u in layout.units if u not in bad_units]]
    return FrameMatrix(matrix, conflict_frame)


def category_matrix(codings: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Coders x units matrix of the single code each coder gave each unit.

    The classic one-category-per-unit setting: a coder who has no row for a
    unit did not rate it (NaN). Returns the matrix and the number of
    (unit, coder) pairs carrying two or more different codes; when that is
    not zero the setting does not apply and the matrix keeps NaN there.
    """
    _check_codings(codings)
    rows = codings.drop_duplicates(["unit", "coder", "code"])
    coders = sorted(pd.unique(rows["coder"]), key=_natural_key)
    units = sorted(pd.unique(rows["unit"]), key=_natural_key)
    per_pair = rows.groupby(["coder", "unit"], sort=False)["code"].transform("size").to_numpy()
    n_multi = int(rows.loc[per_pair > 1].drop_duplicates(["unit", "coder"]).shape[0])
    single = rows[per_pair == 1]
    coder_pos = single["coder"].map({c: i for i, c in enumerate(coders)}).to_numpy(dtype=int)
    unit_pos = single["unit"].map({u: i for i, u in enumerate(units)}).to_numpy(dtype=int)
    values = np.full((len(coders), len(units)), np.nan, dtype=object)
    values[coder_pos, unit_pos] = single["code"].to_numpy(dtype=object)
    return pd.DataFrame(values, index=coders, columns=units, dtype=object), n_multi


def presence_by_respondent(
    codings: pd.DataFrame,
    unit_to_respondent: Mapping[Hashable, Hashable] | pd.Series,
    *,
    units_by_coder: Mapping[Hashable, Iterable] | None = None,
) -> tuple[pd.DataFrame, dict[Hashable, set]]:
    """Roll segment codings up to respondents.

    A respondent carries code X for a coder if any of their segments does,
    for that coder; a coder saw a respondent if they saw any of the
    respondent's segments.

    Parameters
    ----------
    codings : DataFrame
        Segment-level codings (``unit`` = segment).
    unit_to_respondent : mapping or Series
        The respondent of each segment.
    units_by_coder : mapping, optional
        Segments each coder saw (see :func:`universes`).

    Returns
    -------
    (DataFrame, dict)
        Respondent-level codings (``unit`` = respondent, one row per
        respondent, coder and code) and the respondents each coder saw.

    Raises
    ------
    CodingsError
        When a unit has no respondent.

    >>> import pandas as pd
    >>> codings = pd.DataFrame({"unit": ["s1", "s2", "s3"], "coder": ["ann", "ann", "bob"],
    ...                         "code": ["trust"] * 3})
    >>> rolled, seen = presence_by_respondent(codings, {"s1": "r1", "s2": "r1", "s3": "r1"})
    >>> rolled[["unit", "coder", "code"]].to_dict("records")
    [{'unit': 'r1', 'coder': 'ann', 'code': 'trust'}, {'unit': 'r1', 'coder': 'bob', 'code': 'trust'}]
    """
    _check_codings(codings)
    mapping = dict(unit_to_respondent.items()) if isinstance(unit_to_respondent, pd.Series) \
        else dict(unit_to_respondent)
    seen = universes(codings, units_by_coder)
    all_units = set(codings["unit"]).union(*seen.values()) if seen else set(codings["unit"])
    unmapped = sorted((u for u in all_units if u not in mapping or pd.isna(mapping[u])), key=_natural_key)
    if unmapped:
        shown = ", ".join(map(str, unmapped[:10])) + (" ..." if len(unmapped) > 10 else "")
        raise CodingsError(
            "some units have no respondent",
            [Problem(f"{len(unmapped)} unit(s) without a respondent: {shown}", field="respondent")],
        )
    rolled = codings[list(REQUIRED)].assign(unit=codings["unit"].map(mapping))
    rolled = rolled.drop_duplicates(list(REQUIRED)).reset_index(drop=True)
    return rolled, {coder: {mapping[u] for u in units} for coder, units in seen.items()}


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
            stats = {name: Statistic(float("nan"), agreement.NO_RATINGS) for name in STATISTICS}
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
    apply: every statistic is NaN, with the reason, and the per-code table
    of :func:`agreement_table` is the one to read.

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
        return {name: Statistic(float("nan"), agreement.NO_RATINGS) for name in STATISTICS}
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
        conflicts are reported. Otherwise :func:`overall_agreement`.
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

