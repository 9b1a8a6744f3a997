"""OCAI scoring (Cameron & Quinn's Organizational Culture Assessment Instrument). Pure.

Each respondent splits 100 points over four alternatives in each of six dimensions, once
for the culture **now** and once for the culture **preferred**:

* A clan (collaborate), B adhocracy (create), C market (compete), D hierarchy (control);
* dimensions: dominant characteristics, organizational leadership, management of
  employees, organization glue, strategic emphases, criteria of success.

Input is a tidy DataFrame, one row per respondent x view x dimension, with the columns
``respondent, view, dimension, clan, adhocracy, market, hierarchy`` (``A``..``D`` are
accepted for the four types). Everything here takes and returns DataFrames.

Scoring, as in the instrument's manual:

* a respondent's **profile** for a view is the mean of each type over the six dimensions;
* a group's (or everyone's) profile is the mean of its respondents' profiles, with a
  t-based 95% confidence interval over respondents (NaN for a single respondent; not
  clipped to 0-100, so a small group's interval may reach below 0 points);
* the **dominant type** is the type with the highest mean; its **strength** is that mean
  in points (ties are reported as ``"clan+market"``);
* **congruence**: the same type dominates all six dimension profiles; the **spread** of a
  type is the range (max - min) of its six dimension means;
* **discrepancy** = preferred - now per type, flagged where its size reaches 10 points.
  The 10-point threshold is a rule of thumb from the OCAI literature, not a test.

OCAI scores are ipsative: each row sums to 100, so one type can only rise if another falls.
Correlations between the four types are therefore not meaningful (see :data:`IPSATIVE_NOTE`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from coding.errors import CodeframeError, Problem

TYPES = ("clan", "adhocracy", "market", "hierarchy")
LETTERS = dict(zip("ABCD", TYPES))
TYPE_LABELS = {
    "clan": "Clan (collaborate)",
    "adhocracy": "Adhocracy (create)",
    "market": "Market (compete)",
    "hierarchy": "Hierarchy (control)",
}
DIMENSIONS = (
    "dominant_characteristics",
    "organizational_leadership",
    "management_of_employees",
    "organization_glue",
    "strategic_emphases",
    "criteria_of_success",
)
DIMENSION_LABELS = {d: d.replace("_", " ").capitalize() for d in DIMENSIONS}
VIEWS = ("now", "preferred")
MODES = ("reject", "rescale")
DISCREPANCY_THRESHOLD = 10.0
TOLERANCE = 1e-6
OVERALL = "(all)"

IPSATIVE_NOTE = ("OCAI scores are ipsative: each respondent's four numbers per dimension sum to 100, so a type can "
                 "only gain what another loses. Correlations between the four types are not meaningful.")
DISCREPANCY_NOTE = (f"A discrepancy of {DISCREPANCY_THRESHOLD:.0f} points or more (preferred - now) is flagged: "
                    "a common rule of thumb in the OCAI literature, not a statistical test.")


def validation_note(mode: str, rescaled: int = 0) -> str:
    """How the answers were validated at import, as a sentence a reader understands."""
    if mode == "rescale":
        return (f"Validation: rescale. {rescaled} dimension(s) that did not sum to 100 were scaled to 100 at import; "
                "every other answer is scored as given.")
    return ("Validation: reject. Every dimension of every respondent sums to 100; an answer that did not would have "
            "refused the whole import, so every answer is scored as given.")


class OcaiError(CodeframeError):
    """OCAI answers are invalid (a dimension not summing to 100, a missing or negative number...)."""


@dataclass
class Scores:
    """Validated scores: ``table`` (respondent, view, dimension, four types), how failures were handled."""

    table: pd.DataFrame
    mode: str
    rescaled: list[dict] = field(default_factory=list)  # respondent, view, dimension, sum

    @property
    def notes(self) -> list[str]:
        notes = [IPSATIVE_NOTE]
        if self.rescaled:
            notes.append(f"{len(self.rescaled)} dimension(s) did not sum to 100 and were rescaled to 100 "
                         "(validation: rescale)")
        return notes


def _problem(message: str, row: int | None, respondent, view=None, dimension=None, column=None) -> Problem:
    where = f"respondent {respondent}" + (f", {view}" if view else "") + (f", {dimension}" if dimension else "")
    return Problem(f"{where}: {message}", line=row, field=column)


def validate(answers: pd.DataFrame, *, mode: str = "reject", source: str | None = None) -> Scores:
    """Check every dimension sums to 100; ``mode`` says what to do with those that don't.

    ``reject`` raises :class:`OcaiError` naming respondent, view, dimension and sum of each
    failure; ``rescale`` multiplies the four numbers by 100 / sum and records each row it
    changed. Missing, non-numeric or negative numbers, unknown views or dimensions,
    duplicated rows, incomplete respondents and an all-zero dimension are errors in both modes.
    ``line`` in the problems is the 1-based data row (+1 for a header when read from a file).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    data = answers.rename(columns={k: v for k, v in LETTERS.items() if k in answers.columns})
    missing = [c for c in ("respondent", "view", "dimension", *TYPES) if c not in data.columns]
    if missing:
        raise OcaiError("OCAI answers lack columns", [Problem(f"missing column {c!r}", file=source, field=c)
                                                      for c in missing])
    problems: list[Problem] = []
    respondent = data["respondent"].astype(str).str.strip()
    view = data["view"].astype(str).str.strip().str.casefold()
    dimension = data["dimension"].astype(str).str.strip().str.casefold().str.replace(" ", "_")
    numbers = pd.DataFrame({t: pd.to_numeric(data[t], errors="coerce").astype(float) for t in TYPES},
                           index=data.index)
    no_id = respondent.isin(["", "nan", "None"])
    bad_number = numbers.isna() | (numbers < 0)
    bad = (no_id | ~view.isin(VIEWS) | ~dimension.isin(DIMENSIONS) | bad_number.any(axis=1)).to_numpy()
    row_number = np.arange(2, len(data) + 2)  # the file's row, after a header
    raw = data.to_numpy(dtype=object) if bad.any() else None
    columns = {c: i for i, c in enumerate(data.columns)}
    for i in np.flatnonzero(bad):  # messages only for the rows at fault (vectorised checks above)
        who, number = respondent.iat[i], int(row_number[i])
        if no_id.iat[i]:
            problems.append(Problem("empty respondent id", line=number, field="respondent"))
            continue
        if view.iat[i] not in VIEWS:
            problems.append(_problem(f"view must be now or preferred, not {raw[i, columns['view']]!r}", number, who,
                                     column="view"))
        if dimension.iat[i] not in DIMENSIONS:
            problems.append(_problem(f"unknown dimension {raw[i, columns['dimension']]!r} (one of "
                                     f"{', '.join(DIMENSIONS)})", number, who, column="dimension"))
        for t in TYPES:
            if bad_number[t].iat[i]:
                problems.append(_problem(f"{t} must be a number of points >= 0, not {raw[i, columns[t]]!r}", number,
                                         who, view.iat[i], dimension.iat[i], t))
    keys = pd.DataFrame({"respondent": respondent, "view": view, "dimension": dimension})
    good = ~bad
    duplicate = np.zeros(len(data), dtype=bool)
    duplicate[good] = keys[good].duplicated(keep="first").to_numpy()
    if duplicate.any():
        first = {tuple(k): int(n) for k, n in zip(keys[good & ~duplicate].to_numpy(), row_number[good & ~duplicate])}
        for i in np.flatnonzero(duplicate):
            key = tuple(keys.iloc[i])
            problems.append(_problem(f"given twice (first on row {first[key]})", int(row_number[i]), *key))
    given = good & ~duplicate
    total = numbers.sum(axis=1).to_numpy()
    off = given & (np.abs(total - 100) > TOLERANCE)
    refused = off & ((mode == "reject") | (total <= 0))
    for i in np.flatnonzero(refused):
        why = "" if mode == "reject" else " and cannot be rescaled"
        problems.append(_problem(f"the four numbers sum to {total[i]:g}, not 100{why}", int(row_number[i]),
                                 *keys.iloc[i]))
    change = off & ~refused
    rescaled = [{"respondent": r, "view": v, "dimension": d, "sum": float(t)}
                for (r, v, d), t in zip(keys[change].to_numpy(), total[change])]
    numbers.loc[change, list(TYPES)] = numbers.loc[change, list(TYPES)].mul(100 / total[change], axis=0)
    keep = given & ~refused
    table = pd.concat([keys[keep], numbers[keep]], axis=1).reset_index(drop=True)
    present = keys[given].groupby(["respondent", "view"], sort=False)["dimension"].nunique()
    for respondent_id, view_name in present[present < len(DIMENSIONS)].index:  # rows with a wrong sum count as given
        dims = set(keys.loc[given & (keys["respondent"] == respondent_id).to_numpy()
                            & (keys["view"] == view_name).to_numpy(), "dimension"])
        absent = [d for d in DIMENSIONS if d not in dims]
        problems.append(_problem(f"missing dimension(s) {', '.join(absent)}", None, respondent_id, view_name))
    if problems:
        raise OcaiError(f"{len(problems)} problem(s) in the OCAI answers; nothing was scored"
                        + ("" if mode == "rescale" else " (validation: reject)"),
                        [Problem(p.message, file=source, line=p.line, field=p.field) for p in problems])
    if table.empty:
        raise OcaiError("no OCAI answers", [Problem("the table has no rows", file=source)])
    return Scores(table=table, mode=mode, rescaled=rescaled)


# --------------------------------------------------------------------------- profiles


def mean_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """mean, sd, low, high of ``values`` (t interval over the n values; NaN bounds for n < 2)."""
    n = len(values)
    if n == 0:
        return (math.nan,) * 4
    mean = float(np.mean(values))
    if n < 2:
        return mean, math.nan, math.nan, math.nan
    from scipy.stats import t as student_t

    sd = float(np.std(values, ddof=1))
    half = float(student_t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return mean, sd, mean - half, mean + half


def respondent_profiles(scores: Scores | pd.DataFrame) -> pd.DataFrame:
    """One row per respondent x view: the mean of each type over the six dimensions."""
    table = scores.table if isinstance(scores, Scores) else scores
    out = table.groupby(["respondent", "view"], sort=False)[list(TYPES)].mean().reset_index()
    return out


def respondent_groups(respondent_ids, attributes: pd.DataFrame | None, by: str | None) -> dict[str, str]:
    if by is None:
        return {r: OVERALL for r in respondent_ids}
    if attributes is None or by not in attributes.columns:
        known = ", ".join(c for c in (attributes.columns if attributes is not None else []) if c != "respondent")
        raise OcaiError(f"no respondent attribute {by!r} (attributes: {known or 'none'})")
    lookup = dict(zip(attributes["respondent"].astype(str), attributes[by].fillna("").astype(str)))
    return {r: (lookup.get(r) or "(missing)") for r in respondent_ids}


def profile_table(scores: Scores, *, attributes: pd.DataFrame | None = None, by: str | None = None,
                  per_dimension: bool = False, confidence: float = 0.95) -> pd.DataFrame:
    """Mean per culture type with its CI: one row per group x view (x dimension) x type.

    Columns: group, view, [dimension], type, label, n, mean, sd, ci_low, ci_high. ``by``
    names a respondent attribute (``attributes`` has a ``respondent`` column); without it the
    single group is ``"(all)"``. Per dimension, the mean is over respondents' points in that
    dimension; otherwise over respondents' six-dimension profiles.
    """
    table = scores.table
    base = table if per_dimension else respondent_profiles(table)
    groups = respondent_groups(base["respondent"].unique(), attributes, by)
    base = base.assign(group=base["respondent"].map(groups))
    keys = ["group", "view"] + (["dimension"] if per_dimension else [])
    rows = []
    for key, part in base.groupby(keys, sort=False):
        for t in TYPES:
            mean, sd, low, high = mean_interval(part[t].to_numpy(dtype=float), confidence)
            rows.append({**dict(zip(keys, key)), "type": t, "label": TYPE_LABELS[t], "n": len(part),
                         "mean": mean, "sd": sd, "ci_low": low, "ci_high": high})
    out = pd.DataFrame(rows, columns=[*keys, "type", "label", "n", "mean", "sd", "ci_low", "ci_high"])
    order = {v: i for i, v in enumerate(VIEWS)}
    dims = {d: i for i, d in enumerate(DIMENSIONS)}
    out = out.sort_values(keys, key=lambda s: s.map(order) if s.name == "view" else
                          s.map(dims) if s.name == "dimension" else s, kind="stable").reset_index(drop=True)
    out.attrs["notes"] = scores.notes
    return out


def _dominant(means: Mapping[str, float]) -> tuple[str, float, float]:
    """(dominant type(s) joined by '+', strength in points, margin over the runner-up)."""
    best = max(means.values())
    winners = [t for t in TYPES if abs(means[t] - best) <= TOLERANCE]
    others = sorted((v for t, v in means.items() if t not in winners), reverse=True)
    margin = best - others[0] if others else 0.0
    return "+".join(winners), best, (0.0 if len(winners) > 1 else margin)


def dominant_table(profiles: pd.DataFrame) -> pd.DataFrame:
    """Dominant type, strength (its mean points) and margin over the second type, per group x view (x dimension)."""
    keys = [c for c in ("group", "view", "dimension") if c in profiles.columns]
    rows = []
    for key, part in profiles.groupby(keys, sort=False):
        dominant, strength, margin = _dominant(dict(zip(part["type"], part["mean"])))
        rows.append({**dict(zip(keys, key)), "dominant": dominant, "strength": strength, "margin": margin})
    out = pd.DataFrame(rows, columns=[*keys, "dominant", "strength", "margin"])
    out.attrs["notes"] = profiles.attrs.get("notes", [IPSATIVE_NOTE])
    return out


def congruence_table(scores: Scores, *, attributes: pd.DataFrame | None = None, by: str | None = None
                     ) -> pd.DataFrame:
    """Per group x view: the dominant type of each dimension, whether one type dominates all six
    (``congruent``), and per type the spread (max - min of its six dimension means)."""
    per_dim = profile_table(scores, attributes=attributes, by=by, per_dimension=True)
    dominants = dominant_table(per_dim)
    rows = []
    for (group, view), part in per_dim.groupby(["group", "view"], sort=False):
        dims = dominants[(dominants["group"] == group) & (dominants["view"] == view)]
        by_dim = dict(zip(dims["dimension"], dims["dominant"]))
        row = {"group": group, "view": view, "congruent": len(set(by_dim.values())) == 1
               and "+" not in next(iter(by_dim.values()))}
        row.update({f"dominant_{d}": by_dim.get(d, "") for d in DIMENSIONS})
        for t in TYPES:
            values = part.loc[part["type"] == t, "mean"]
            row[f"spread_{t}"] = float(values.max() - values.min())
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["notes"] = scores.notes
    return out


def discrepancy_table(profiles: pd.DataFrame, *, threshold: float = DISCREPANCY_THRESHOLD) -> pd.DataFrame:
    """preferred - now per group (x dimension) x type, ``flag`` where ``|difference| >= threshold``."""
    keys = [c for c in ("group", "dimension") if c in profiles.columns]
    wide = profiles.pivot_table(index=[*keys, "type"], columns="view", values="mean", sort=False).reset_index()
    for view in VIEWS:
        if view not in wide.columns:
            wide[view] = math.nan
    wide["difference"] = wide["preferred"] - wide["now"]
    wide["flag"] = wide["difference"].abs() >= threshold - TOLERANCE
    wide["direction"] = np.where(wide["difference"] > 0, "increase", np.where(wide["difference"] < 0, "decrease",
                                                                              "none"))
    wide["label"] = wide["type"].map(TYPE_LABELS)
    out = wide[[*keys, "type", "label", "now", "preferred", "difference", "direction", "flag"]]
    out = out.rename_axis(None, axis=1).reset_index(drop=True)
    out.attrs["notes"] = [*profiles.attrs.get("notes", [IPSATIVE_NOTE]), DISCREPANCY_NOTE.replace(
        f"{DISCREPANCY_THRESHOLD:.0f} points", f"{threshold:g} points")]
    return out


def read_answers_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a file's table into (answers, attributes): extra columns are respondent attributes,
    which must be the same on every row of a respondent."""
    frame = frame.rename(columns={c: str(c).strip() for c in frame.columns})
    frame = frame.rename(columns={k: v for k, v in LETTERS.items() if k in frame.columns})
    core = ["respondent", "view", "dimension", *TYPES]
    extra = [c for c in frame.columns if c not in core]
    attributes = pd.DataFrame(columns=["respondent", *extra])
    if "respondent" in frame.columns:
        problems = []
        attributes = frame[["respondent", *extra]].astype(str).replace("nan", "")
        attributes["respondent"] = attributes["respondent"].str.strip()
        for column in extra:
            varying = attributes.groupby("respondent")[column].nunique()
            for respondent in varying[varying > 1].index:
                problems.append(Problem(f"respondent {respondent}: attribute {column!r} differs between rows",
                                        field=column))
        if problems:
            raise OcaiError("inconsistent respondent attributes in the OCAI answers", problems)
        attributes = attributes.drop_duplicates("respondent").reset_index(drop=True)
    return frame[[c for c in core if c in frame.columns]], attributes
