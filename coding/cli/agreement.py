"""``codeframe agreement``: inter-coder agreement, from a codings CSV or the project database.

CSV mode reads a long table (``unit,coder,code`` and optionally ``respondent``
and ``frame`` columns), prints the overall figures (meaningful when each coder
gave each unit one code: the classic reliability setting) and a per-code table
of agreement on each code's presence. Database mode (no CSV, ``--frame``) asks
:func:`coding.service.agreement_report` for the same report.
"""

from __future__ import annotations

import argparse
import math
import sys

from coding.cli.common import LEVELS, whole_number

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: ``codeframe --help`` stays fast
if TYPE_CHECKING:  # imported in the handlers, so that ``codeframe --help`` stays fast
    from typing import Any

    import pandas as pd

    from coding.agreement import Statistic

FORMATS = ("table", "json", "csv")
UNITS = ("segment", "respondent")
OVERALL_LABELS = (
    ("percent_agreement", "Percent agreement"),
    ("cohen_kappa", "Cohen's kappa (Light's for 3+ coders)"),
    ("fleiss_kappa", "Fleiss' kappa"),
    ("alpha", "Krippendorff's alpha"),
    ("gwet_ac1", "Gwet's AC1"),
)
SET_VALUED_LABELS = (  # a non-exclusive frame: defined even when a unit carries several codes
    ("alpha_pooled", "alpha, per-code presence pooled"),
    ("alpha_masi", "alpha, MASI distance (set-valued)"),
)
SET_VALUED_ROWS = {"alpha_pooled": "(overall: pooled presence alpha)", "alpha_masi": "(overall: MASI alpha)"}
TABLE_HEADERS = {
    "code": "code", "n_units": "units", "n_coders": "coders", "prevalence": "prevalence",
    "percent_agreement": "agreement", "cohen_kappa": "kappa", "fleiss_kappa": "fleiss",
    "alpha": "alpha", "ci": "alpha CI", "gwet_ac1": "AC1", "interpretation": "reading",
}


def _coder_list(text: str) -> list[str]:
    coders = [c.strip() for c in text.split(",") if c.strip()]
    if not coders:
        raise argparse.ArgumentTypeError("give coder names separated by commas, e.g. ann,bob")
    return coders


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "agreement",
        help="inter-coder agreement (kappa, alpha, AC1) overall and per code",
        description="Inter-coder agreement from a long codings CSV (unit,coder,code), or from the project "
                    "database with --frame. Undefined statistics print as '— (reason)' (NaN with a reason "
                    "column in CSV, null with its reason in JSON).",
    )
    p.add_argument("codings", nargs="?", metavar="CODINGS.csv",
                   help="long table with columns unit,coder,code (optional: respondent, frame)")
    p.add_argument("--level", choices=LEVELS, default="nominal",
                   help="level of measurement of the overall alpha (default: %(default)s)")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: %(default)s)")
    p.add_argument("--frame", metavar="F",
                   help="only this frame's codes (CSV: needs a 'frame' column; without a CSV: database mode)")
    p.add_argument("--unit", choices=UNITS, default="segment",
                   help="compare coders per segment or per respondent (CSV: needs a 'respondent' column)")
    p.add_argument("--coders", type=_coder_list, metavar="A,B",
                   help="compare these coders (default: the coders who double-coded the most; excluded coders "
                        "are left out)")
    p.add_argument("--bootstrap", type=whole_number(0), default=1000, metavar="N",
                   help="bootstrap resamples for the alpha interval, 0 to skip (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: %(default)s)")
    p.add_argument("--disagreements", action="store_true",
                   help="also list the units where coders differ (table format)")
    p.set_defaults(func=cmd_agreement)


def cmd_agreement(args) -> int:
    import json

    from coding.errors import CodeframeError

    if args.codings:
        report = report_from_csv(args)
    elif args.frame:
        report = report_from_database(args)
    else:
        raise CodeframeError("nothing to compare: give a codings CSV, or --frame FRAME to use the project database")
    out = sys.stdout
    if args.format == "json":
        out.write(json.dumps(report_to_json(report), ensure_ascii=False, indent=2) + "\n")
    elif args.format == "csv":
        from coding.safe_cells import write_csv

        write_csv(report_to_csv(report), out)
    else:
        out.write(render_table(report, show_disagreements=args.disagreements))
    return 0


# --------------------------------------------------------------------------- building


def report_from_csv(args):
    """The agreement report of a long codings CSV, as selected by ``args``."""
    from coding import reliability
    from coding.errors import CodingsError, Problem

    path = args.codings
    codings = reliability.read_long_codings(path)
    if args.frame:
        if "frame" not in codings.columns:
            raise CodingsError("--frame needs a 'frame' column in the codings file",
                               [Problem("no 'frame' column", file=str(path), line=1, field="frame")])
        frames = sorted(set(codings["frame"]) - {""})
        codings = codings[codings["frame"] == args.frame]
        if codings.empty:
            raise CodingsError(f"no codings of frame {args.frame!r}",
                               [Problem(f"frames in the file: {', '.join(frames) or 'none'}", file=str(path),
                                        field="frame")])
    units_by_coder = None
    notes = []
    if args.unit == "respondent":
        mapping = _respondent_mapping(codings, str(path))
        codings, units_by_coder = reliability.presence_by_respondent(codings, mapping)
        notes.append("respondent level: a respondent carries a code for a coder if any of their segments does; "
                     "respondents no coder coded are invisible in a codings file")
    report = reliability.report_from_codings(
        codings, units_by_coder=units_by_coder, coders=args.coders, unit=args.unit, level=args.level,
        n_boot=args.bootstrap, seed=args.seed,
    )
    report.notes.extend(notes)
    return report


def _respondent_mapping(codings: pd.DataFrame, name: str) -> dict:
    from coding.errors import CodingsError, Problem

    if "respondent" not in codings.columns:
        raise CodingsError("--unit respondent needs a 'respondent' column in the codings file",
                           [Problem("no 'respondent' column", file=name, line=1, field="respondent")])
    problems = [Problem("blank respondent", file=name, line=int(line), field="respondent")
                for line in codings.loc[codings["respondent"] == "", "line"]]
    mapping: dict = {}
    for unit, respondent, line in codings[["unit", "respondent", "line"]].itertuples(index=False):
        if respondent == "":
            continue
        if mapping.setdefault(unit, respondent) != respondent:
            problems.append(Problem(f"unit {unit!r} belongs to respondent {mapping[unit]!r} on an earlier line, "
                                    f"to {respondent!r} here", file=name, line=int(line), field="respondent"))
    if problems:
        raise CodingsError(f"{len(problems)} bad respondent value(s)", problems)
    return mapping


def report_from_database(args):
    """Database mode: :func:`coding.service.agreement_report`."""
    from coding import service
    from coding.cli.common import engine_from_args

    return service.agreement_report(engine_from_args(args), args.project, frame=args.frame, unit=args.unit,
                                    coders=args.coders, level=args.level, n_boot=args.bootstrap, seed=args.seed)


# --------------------------------------------------------------------------- rendering


UNDEFINED = "—"  # an undefined value, always printed with its reason beside it


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return UNDEFINED
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _statistic_text(stat: Statistic) -> str:
    return f"{stat.value:.3f}" if stat.defined else f"{UNDEFINED} ({stat.reason or 'undefined'})"


def _ci_text(low: float, high: float) -> str:
    if math.isnan(low) or math.isnan(high):
        return UNDEFINED
    return f"[{low:.3f}, {high:.3f}]"


def render_table(report, *, show_disagreements: bool = False) -> str:
    """The report as aligned plain text (3 decimals, ``NaN (reason)``)."""
    import pandas as pd

    from coding.agreement import interpret_alpha
    from coding.cli.common import format_table

    lines = [
        f"Inter-coder agreement: {report.n_units} {report.unit}(s) seen by two or more coders; "
        f"{len(report.coders)} coder(s): {', '.join(map(str, report.coders))}",
        "",
        f"Overall ({report.level} level; one code per {report.unit} and coder)",
    ]
    coverage = getattr(report, "coverage", None)
    if coverage is not None:  # database mode: each coder over the units they covered
        lines[1:1] = ["", "Coverage (documents each coder coded, finished or was assigned in the frame)",
                      format_table(coverage.rename(columns={"units": "units covered",
                                                            "respondents": "respondents covered",
                                                            "codings": "codings made"}))]
    labels = OVERALL_LABELS + tuple((k, v) for k, v in SET_VALUED_LABELS if k in report.overall)
    width = max(len(label) for _, label in labels)
    for key, label in labels:
        stat = report.overall[key]
        text = _statistic_text(stat)
        if key == "alpha" and stat.defined:
            low, high = report.overall["alpha_low"], report.overall["alpha_high"]
            if low.defined and high.defined:
                text += f"  95% CI {_ci_text(low.value, high.value)}"
            text += f"  {interpret_alpha(stat.value)}"
        elif key in dict(SET_VALUED_LABELS) and stat.defined:
            text += f"  {interpret_alpha(stat.value)}"
        if stat.note:
            text += f"  ({stat.note})"
        lines.append(f"  {label.ljust(width)}  {text}")
    lines += ["", "Per code (agreement on each code's presence; alpha CI: 95% unit bootstrap)"]
    table = report.table
    if table.empty:
        lines.append("  no codes")
    else:
        footnotes: dict[str, int] = {}
        rows = []
        for record in table.to_dict("records"):
            mark = ""
            if record.get("reason"):
                mark = f" ({footnotes.setdefault(record['reason'], len(footnotes) + 1)})"
            row = {}
            for key, header in TABLE_HEADERS.items():
                if key == "ci":
                    value = _ci_text(record["alpha_low"], record["alpha_high"])
                else:
                    value = _number(record[key])
                if value == UNDEFINED and key not in ("prevalence",):
                    value += mark or " (undefined)"
                row[header] = value
            rows.append(row)
        lines.append(format_table(pd.DataFrame(rows, columns=list(TABLE_HEADERS.values()))))
        for reason, number in footnotes.items():
            lines.append(f"  ({number}) {reason}")
        notes = [f"  {code}: {note}" for code, note in zip(table["code"], table["note"]) if note]
        if notes:
            lines += ["Notes per code:"] + notes
    if report.conflicts is not None and len(report.conflicts):
        lines += ["", "Exclusive-frame conflicts (unit left out):", format_table(report.conflicts)]
    if show_disagreements:
        lines += ["", "Disagreements"]
        lines.append(format_table(report.disagreements) if len(report.disagreements) else "  none")
    if report.notes:
        lines += [""] + [f"Note: {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    return value


def _records(frame: pd.DataFrame | None) -> list[dict] | None:
    if frame is None:
        return None
    return [{k: _jsonable(v) for k, v in row.items()} for row in frame.to_dict("records")]


def report_to_json(report) -> dict:
    """The report as JSON-ready data; NaN becomes null next to its reason."""
    from coding.agreement import interpret_alpha

    return {
        "unit": report.unit,
        "level": report.level,
        "coders": [_jsonable(c) for c in report.coders],
        "n_units": report.n_units,
        "overall": {name: {"value": _jsonable(s.value), "reason": s.reason, "note": s.note}
                    for name, s in report.overall.items()},
        "interpretation": interpret_alpha(report.overall["alpha"].value),
        "codes": _records(report.table),
        "disagreements": _records(report.disagreements),
        "conflicts": _records(report.conflicts),
        "notes": list(report.notes),
    }


def report_to_csv(report) -> pd.DataFrame:
    """The per-code table after the ``(overall)`` row (and, for a non-exclusive frame, the pooled and
    MASI rows); an undefined figure is NaN with its ``reason``."""
    import pandas as pd

    from coding.agreement import interpret_alpha
    from coding.reliability import STATISTICS, join_notes

    overall = report.overall
    first = {
        "code": "(overall)",
        "n_units": report.n_units,
        "n_coders": len(report.coders),
        "prevalence": float("nan"),
        **{name: overall[name].value for name in STATISTICS},
        "interpretation": interpret_alpha(overall["alpha"].value),
        "reason": join_notes(overall, "reason"),
        "note": join_notes(overall, "note"),
    }
    extra = [{"code": SET_VALUED_ROWS[key], "n_units": report.n_units, "n_coders": len(report.coders),
              "prevalence": float("nan"), "alpha": overall[key].value,
              "interpretation": interpret_alpha(overall[key].value), "reason": overall[key].reason,
              "note": overall[key].note} for key in SET_VALUED_ROWS if key in overall]
    return pd.concat([pd.DataFrame([first, *extra], columns=report.table.columns), report.table],
                     ignore_index=True)
