"""Codings laid out as reliability matrices (coders x units): presence of a code, the
categories of a mutually exclusive frame, and presence rolled up to respondents.

A cell is 1 where the coder applied the code, 0 where they saw the unit and did not, NaN
where they never saw it (see :mod:`coding.reliability` for how the units a coder saw are known).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from coding.errors import CodingsError, Problem

REQUIRED = ("unit", "coder", "code")
NONE_CATEGORY = "(none)"


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
