"""Sector scores: statements rated 1-10, grouped into sectors, read through bands. Pure.

The instrument is a small YAML file, validated like the codebook (every problem reported
at once, each with its line)::

    id: focus_group_sectors
    label: Focus-group sector statements
    scale: {min: 1, max: 10}
    sectors:
      - id: management
        label: Management
        statements:
          - id: m1
            text: My manager tells me clearly what is expected of me.

Ratings are a tidy DataFrame ``respondent, statement, rating``. A respondent's sector
score is the mean of their ratings of the sector's statements; a sector's mean (per group
or overall) is the mean of those respondent scores, with a t-based 95% interval over
respondents. With complete answers that equals the arithmetic mean of all ratings.

Bands (for the 1-10 scale):

========================  ===========================
mean                      band
========================  ===========================
9 <= mean <= 10           excellent condition
6 <= mean < 9             positive state
4 <= mean < 6             noticeable despondency
1 <= mean < 4             decadent state
========================  ===========================

The published bands are integer ranges (10-9, 8-6, 5-4, 3-1) and leave the gaps 8-9, 5-6
and 3-4 open for a mean. **A band starts at its lowest integer and runs up to (not including)
the next band's lowest integer**: a mean is read by its whole part, never rounded, so 5.99
is still despondency and 8.7 still positive. This is the reading that agrees with the
source's rule that a sector mean *below 4* is unfavourable (a bottleneck): rounding would
turn 3.6 into a "4" while it is below 4. ``bottleneck`` is ``mean < 4``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from coding.errors import CodeframeError, Problem
from coding.ocai import OcaiError, mean_interval, respondent_groups

BANDS = ((9.0, "excellent condition"), (6.0, "positive state"), (4.0, "noticeable despondency"),
         (1.0, "decadent state"))
BOTTLENECK_BELOW = 4.0
BAND_NOTE = ("Bands read a mean by its whole part (9-10 excellent, 6-8.99 positive, 4-5.99 noticeable despondency, "
             "1-3.99 decadent); a sector mean below 4 is a bottleneck.")
OVERALL = "(all)"


class ScaleError(CodeframeError):
    """The sector instrument or its ratings are invalid."""


@dataclass
class Statement:
    id: str
    text: str
    sector: str
    line: int | None = None


@dataclass
class Sector:
    id: str
    label: str
    statements: list[Statement] = field(default_factory=list)
    line: int | None = None


@dataclass
class Instrument:
    id: str
    label: str
    minimum: int = 1
    maximum: int = 10
    sectors: list[Sector] = field(default_factory=list)

    def statement_sector(self) -> dict[str, str]:
        return {s.id: sector.id for sector in self.sectors for s in sector.statements}


def band(mean: float) -> str:
    """The band label of a 1-10 sector mean (see the module docstring; NaN -> "")."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return ""
    for lowest, label in BANDS:
        if mean >= lowest:
            return label
    return BANDS[-1][1]  # below 1 cannot come from valid ratings; read it as the lowest band


# --------------------------------------------------------------------------- the YAML instrument


class _Problems:
    def __init__(self, source: str):
        self.source = source
        self.items: list[Problem] = []

    def add(self, message: str, node: Node | None = None, key: str | None = None) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        self.items.append(Problem(message, file=self.source, line=line, field=key))


def _mapping(node: Node, what: str, report: _Problems, allowed: set[str], required: set[str]) -> dict[str, Node]:
    if not isinstance(node, MappingNode):
        report.add(f"{what} must be a mapping (key: value)", node)
        return {}
    out: dict[str, Node] = {}
    for key_node, value in node.value:
        key = str(key_node.value)
        if key in out:
            report.add(f"{what}: duplicate key {key!r}", key_node, key)
        elif key not in allowed:
            report.add(f"{what}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})", key_node, key)
        out[key] = value
    for key in sorted(required - set(out)):
        report.add(f"{what}: missing {key!r}", node, key)
    return out


def _text(node: Node | None, what: str, report: _Problems, key: str) -> str:
    if node is None:
        return ""
    if not isinstance(node, ScalarNode) or not str(node.value).strip():
        report.add(f"{what}: {key} must be non-empty text", node, key)
        return ""
    return str(node.value).strip()


def _integer(node: Node | None, what: str, report: _Problems, key: str, default: int) -> int:
    if node is None:
        return default
    try:
        return int(str(node.value)) if isinstance(node, ScalarNode) else int("x")
    except ValueError:
        report.add(f"{what}: {key} must be a whole number", node, key)
        return default


def parse_instrument(text: str, *, source: str = "<string>") -> Instrument:
    """Parse and validate the YAML instrument; :class:`ScaleError` lists every problem with its line."""
    from coding import limits
    from coding.codebook_yaml import compose_untrusted

    report = _Problems(source)
    if len(text) > limits.YAML_MAX_BYTES:
        raise ScaleError(f"{source} is too large to read", [Problem(
            f"{len(text)} characters; a YAML file may have at most {limits.YAML_MAX_BYTES:,} "
            "(CODEFRAME_LIMIT_YAML_MAX_BYTES)", file=source)])
    root, problems = compose_untrusted(text, source, what="instrument")
    if problems:
        raise ScaleError(f"{source} is not a valid YAML instrument (aliases and anchors are refused)", problems)
    if root is None:
        raise ScaleError(f"{source} is empty", [Problem("no instrument in the file", file=source, line=1)])
    top = _mapping(root, "instrument", report, {"id", "label", "scale", "sectors"}, {"id", "sectors"})
    instrument = Instrument(id=_text(top.get("id"), "instrument", report, "id"),
                            label=_text(top.get("label"), "instrument", report, "label") if "label" in top else "")
    if "scale" in top:
        scale = _mapping(top["scale"], "scale", report, {"min", "max"}, {"min", "max"})
        instrument.minimum = _integer(scale.get("min"), "scale", report, "min", 1)
        instrument.maximum = _integer(scale.get("max"), "scale", report, "max", 10)
        if instrument.minimum >= instrument.maximum:
            report.add(f"scale: min ({instrument.minimum}) must be below max ({instrument.maximum})", top["scale"])
        elif (instrument.minimum, instrument.maximum) != (1, 10):
            report.add("scale: the bands are defined for a 1-10 scale only; use min: 1, max: 10", top["scale"])
    sectors = top.get("sectors")
    if sectors is not None and (not isinstance(sectors, SequenceNode) or not sectors.value):
        report.add("sectors must be a non-empty list", sectors, "sectors")
    seen_sector: dict[str, int] = {}
    seen_statement: dict[str, int] = {}
    for node in (sectors.value if isinstance(sectors, SequenceNode) else []):
        entry = _mapping(node, "sector", report, {"id", "label", "statements"}, {"id", "statements"})
        sector = Sector(id=_text(entry.get("id"), "sector", report, "id"), label="", line=node.start_mark.line + 1)
        sector.label = _text(entry.get("label"), f"sector {sector.id!r}", report, "label") if "label" in entry \
            else sector.id.replace("_", " ").capitalize()
        if sector.id in seen_sector:
            report.add(f"duplicate sector id {sector.id!r} (first on line {seen_sector[sector.id]})", node, "id")
        seen_sector.setdefault(sector.id, sector.line)
        statements = entry.get("statements")
        if statements is not None and (not isinstance(statements, SequenceNode) or not statements.value):
            report.add(f"sector {sector.id!r}: statements must be a non-empty list", statements, "statements")
        for item in (statements.value if isinstance(statements, SequenceNode) else []):
            fields = _mapping(item, f"statement of sector {sector.id!r}", report, {"id", "text"}, {"id", "text"})
            statement = Statement(id=_text(fields.get("id"), "statement", report, "id"),
                                  text=_text(fields.get("text"), "statement", report, "text"),
                                  sector=sector.id, line=item.start_mark.line + 1)
            if statement.id in seen_statement:
                report.add(f"duplicate statement id {statement.id!r} (first on line "
                           f"{seen_statement[statement.id]}); statement ids are unique across sectors", item, "id")
            seen_statement.setdefault(statement.id, statement.line)
            sector.statements.append(statement)
        instrument.sectors.append(sector)
    if report.items:
        report.items.sort(key=lambda p: p.line or 0)
        raise ScaleError(f"{source}: {len(report.items)} problem(s) in the sector instrument", report.items)
    return instrument


def load_instrument(path) -> Instrument:
    from pathlib import Path

    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScaleError(f"{path.name} is not UTF-8", [Problem(f"undecodable byte at offset {exc.start}",
                                                               file=path.name)]) from None
    return parse_instrument(text, source=path.name)


# --------------------------------------------------------------------------- ratings and scores


def validate_ratings(instrument: Instrument, ratings: pd.DataFrame, *, source: str | None = None) -> pd.DataFrame:
    """Check ``respondent, statement, rating`` rows: known statement, whole number in the scale, no duplicate.

    ``line`` in a problem is the file row (header = row 1). Returns the clean table (rating as int).
    """
    missing = [c for c in ("respondent", "statement", "rating") if c not in ratings.columns]
    if missing:
        raise ScaleError("the ratings lack columns", [Problem(f"missing column {c!r}", file=source, field=c)
                                                      for c in missing])
    sector_of = instrument.statement_sector()
    problems, rows, seen = [], [], {}
    for number, record in enumerate(ratings.to_dict("records"), start=2):
        respondent, statement = str(record["respondent"]).strip(), str(record["statement"]).strip()
        raw = record["rating"]
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = math.nan
        if not respondent or respondent == "nan":
            problems.append(Problem("empty respondent id", file=source, line=number, field="respondent"))
        elif statement not in sector_of:
            problems.append(Problem(f"respondent {respondent}: unknown statement {statement!r}", file=source,
                                    line=number, field="statement"))
        elif math.isnan(value) or value != int(value) or not instrument.minimum <= value <= instrument.maximum:
            problems.append(Problem(f"respondent {respondent}, statement {statement}: rating must be a whole number "
                                    f"from {instrument.minimum} to {instrument.maximum}, not {raw!r}", file=source,
                                    line=number, field="rating"))
        elif (respondent, statement) in seen:
            problems.append(Problem(f"respondent {respondent} rated statement {statement} twice (first on row "
                                    f"{seen[respondent, statement]})", file=source, line=number, field="statement"))
        else:
            seen[respondent, statement] = number
            rows.append({"respondent": respondent, "statement": statement, "sector": sector_of[statement],
                         "rating": int(value)})
    if problems:
        raise ScaleError(f"{len(problems)} problem(s) in the ratings; nothing was scored", problems[:200])
    if not rows:
        raise ScaleError("no ratings", [Problem("the table has no rows", file=source)])
    return pd.DataFrame(rows, columns=["respondent", "statement", "sector", "rating"])


def sector_table(instrument: Instrument, ratings: pd.DataFrame, *, attributes: pd.DataFrame | None = None,
                 by: str | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """Per group x sector: n respondents, mean, sd, t interval, band and bottleneck flag.

    ``ratings`` is the output of :func:`validate_ratings`. Groups as in :mod:`coding.ocai`.
    """
    per_respondent = ratings.groupby(["respondent", "sector"], sort=False)["rating"].mean().reset_index()
    try:
        groups = respondent_groups(per_respondent["respondent"].unique(), attributes, by)
    except OcaiError as exc:
        raise ScaleError(str(exc).split("\n", 1)[0]) from None
    per_respondent["group"] = per_respondent["respondent"].map(groups)
    labels = {s.id: s.label for s in instrument.sectors}
    rows = []
    for group in dict.fromkeys(per_respondent["group"]):
        part = per_respondent[per_respondent["group"] == group]
        for sector in instrument.sectors:
            values = part.loc[part["sector"] == sector.id, "rating"].to_numpy(dtype=float)
            mean, sd, low, high = mean_interval(values, confidence)
            rows.append({"group": group, "sector": sector.id, "label": labels[sector.id], "n": len(values),
                         "statements": len(sector.statements), "mean": mean, "sd": sd, "ci_low": low,
                         "ci_high": high, "band": band(mean),
                         "bottleneck": bool(not math.isnan(mean) and mean < BOTTLENECK_BELOW)})
    out = pd.DataFrame(rows, columns=["group", "sector", "label", "n", "statements", "mean", "sd", "ci_low",
                                      "ci_high", "band", "bottleneck"])
    out.attrs["notes"] = [BAND_NOTE]
    return out
