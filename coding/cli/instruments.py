"""Instrument commands: ``import survey|ocai|scales``, ``ocai``, ``scales``, ``survey`` (closed questions).

* ``codeframe import survey FILE [--closed Q,...] [--open Q,...]``: a CSV/XLSX survey, all or
  nothing; open answers become documents (one unit each).
* ``codeframe import ocai FILE [--invalid reject|rescale]`` and
  ``codeframe import scales INSTRUMENT.yaml RATINGS``.
* ``codeframe ocai``, ``codeframe scales``, ``codeframe survey``: the tables, as text, CSV,
  JSON or one XLSX workbook, and the charts (``--chart FILE.png|FILE.svg``).
* ``codeframe scales --check FILE.yaml`` validates a sector instrument like ``codebook check``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from coding.cli.common import engine_from_args, print_frame, print_json, records
from coding.cli.users import add_as_option, signed_in_actor

FORMATS = ("table", "csv", "json", "xlsx")
OCAI_TABLES = ("profiles", "dimensions", "dominant", "congruence", "discrepancy", "respondents")


def _names(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def add_import_commands(imp_sub) -> None:
    s = imp_sub.add_parser("survey", help="a survey (CSV/XLSX, one row per respondent), all or nothing")
    s.add_argument("path", metavar="FILE")
    s.add_argument("--name", help="the survey's name (default: the file name without extension)")
    s.add_argument("--id", dest="id_column", metavar="COLUMN", help="the id column (default: respondent, id, "
                                                                     "or the first column)")
    s.add_argument("--closed", metavar="Q,...", help="closed-question columns; Q=1-10 checks a whole-number range, "
                                                     "Q=a|b|c the allowed answers and their order (or prefix "
                                                     "headers with 'closed:')")
    s.add_argument("--open", metavar="Q,...", help="open-answer columns (or prefix headers with 'open:')")
    s.add_argument("--no-documents", action="store_true", help="keep open answers as text, not documents")
    add_as_option(s)
    s.set_defaults(func=cmd_import_survey)
    o = imp_sub.add_parser("ocai", help="OCAI answers (CSV/XLSX: respondent, view, dimension, A, B, C, D, "
                                        "attributes)")
    o.add_argument("path", metavar="FILE")
    o.add_argument("--name", default="ocai")
    o.add_argument("--invalid", choices=("reject", "rescale"), default="reject",
                   help="a dimension not summing to 100: reject the file (default) or rescale it to 100")
    add_as_option(o)
    o.set_defaults(func=cmd_import_ocai)
    c = imp_sub.add_parser("scales", help="a sector instrument (YAML) and its 1-10 ratings (CSV/XLSX)")
    c.add_argument("instrument", metavar="INSTRUMENT.yaml")
    c.add_argument("ratings", metavar="RATINGS")
    c.add_argument("--name", help="default: the instrument's id")
    add_as_option(c)
    c.set_defaults(func=cmd_import_scales)


def _outputs(p) -> None:
    p.add_argument("--by", metavar="ATTRIBUTE", help="per group of this respondent attribute")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--output", metavar="FILE", help="write here instead of standard output (required for xlsx)")
    p.add_argument("--chart", metavar="FILE.png|FILE.svg", help="also draw the chart to this file")


def register(subparsers) -> None:
    o = subparsers.add_parser("ocai", help="OCAI culture profiles: means and CIs, dominant type, congruence, "
                                           "discrepancy, kite chart")
    o.add_argument("--name", help="the OCAI instrument (default: the project's only one)")
    o.add_argument("--table", choices=OCAI_TABLES, help="print only this table (default: all)")
    o.add_argument("--dimension", help="with --chart: the kite of one dimension; 'all' for the six")
    o.add_argument("--group", help="with --by and --chart: the group to draw")
    _outputs(o)
    o.set_defaults(func=cmd_ocai)
    s = subparsers.add_parser("scales", help="sector scores: mean, CI, band and bottleneck flag per sector")
    s.add_argument("--name", help="the sector instrument (default: the project's only one)")
    s.add_argument("--check", metavar="FILE.yaml", help="only validate this instrument file and report its problems")
    s.add_argument("--group", help="with --by and --chart: the group to draw")
    _outputs(s)
    s.set_defaults(func=cmd_scales)
    q = subparsers.add_parser("survey", help="closed questions: share of respondents per answer, Wilson CI")
    q.add_argument("--name", help="the survey (default: the project's only one)")
    q.add_argument("--question", action="append", metavar="Q", help="only this closed question (repeatable)")
    _outputs(q)
    q.set_defaults(func=cmd_survey)


# --------------------------------------------------------------------------- imports


def cmd_import_survey(args) -> int:
    from coding import service

    engine = engine_from_args(args)
    report = service.import_survey(engine, args.project, args.path, name=args.name,
                                   id_column=args.id_column, closed=_names(args.closed), open=_names(args.open),
                                   documents=not args.no_documents, actor=signed_in_actor(args, engine))
    print(f"imported survey {report.name!r}: {report.respondents} respondent(s), "
          f"{len(report.documents)} open answer document(s)")
    for note in report.notes:
        print(f"note: {note}")
    return 0


def cmd_import_ocai(args) -> int:
    from coding import service

    engine = engine_from_args(args)
    report = service.import_ocai(engine, args.project, args.path, name=args.name, mode=args.invalid,
                                 actor=signed_in_actor(args, engine))
    print(f"imported OCAI {report.name!r}: {report.respondents} respondent(s)")
    for note in report.notes:
        print(f"note: {note}")
    return 0


def cmd_import_scales(args) -> int:
    from coding import service

    engine = engine_from_args(args)
    report = service.import_scale(engine, args.project, args.instrument, args.ratings, name=args.name,
                                  actor=signed_in_actor(args, engine))
    print(f"imported sector instrument {report.name!r}: {report.respondents} respondent(s)")
    return 0


# --------------------------------------------------------------------------- reports


def _emit(tables: dict, args, notes: list[str]) -> None:
    from coding.errors import CodeframeError

    if args.format == "xlsx":
        from coding.service import tables_workbook

        if not args.output:
            raise CodeframeError("--format xlsx needs --output FILE.xlsx")
        Path(args.output).write_bytes(tables_workbook(tables))
        print(f"wrote {args.output}")
        return
    out = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout
    try:
        if args.format == "json" and len(tables) > 1:  # one document: an object of named tables
            print_json({title: records(table) for title, table in tables.items()}, out=out)
            return
        for title, table in tables.items():
            if args.format == "table" and len(tables) > 1:
                out.write(f"\n## {title}\n")
            print_frame(table, args.format, out=out, floatfmt="{:.2f}")
        if args.format == "table":
            for note in dict.fromkeys(notes):
                out.write(f"note: {note}\n")
    finally:
        if args.output:
            out.close()


def _chart(draw, *args, **kwargs):
    """A chart, or a user error naming the option to add (e.g. --group with --by)."""
    from coding.errors import CodeframeError

    try:
        return draw(*args, **kwargs)
    except ValueError as exc:
        hint = " (add --group G)" if "several groups" in str(exc) else ""
        raise CodeframeError(f"cannot draw the chart: {exc}{hint}") from None


def _save_chart(chart, path: str) -> None:
    from coding.charts import chart_to_png, chart_to_svg
    from coding.errors import CodeframeError

    target = Path(path)
    if target.suffix.lower() == ".svg":
        target.write_text(chart_to_svg(chart), encoding="utf-8")
    elif target.suffix.lower() == ".png":
        target.write_bytes(chart_to_png(chart))
    else:
        raise CodeframeError(f"--chart must end in .png or .svg, not {target.name!r}")
    print(f"wrote {target}", file=sys.stderr)


def cmd_ocai(args) -> int:
    import pandas as pd

    from coding import instrument_charts, service
    report = service.ocai_report(engine_from_args(args), args.project, name=args.name, by=args.by)
    tables = {"profiles": report.profiles, "dimensions": report.per_dimension,
              "dominant": pd.concat([report.dominant.assign(dimension="(six-dimension profile)"),
                                  report.dominant_per_dimension], ignore_index=True)[
                      ["group", "view", "dimension", "dominant", "strength", "margin"]],
              "congruence": report.congruence, "discrepancy": report.discrepancy, "respondents": report.respondents}
    if args.table:
        tables = {args.table: tables[args.table]}
    _emit(tables, args, report.notes)
    if args.chart:
        if args.dimension == "all":
            chart = _chart(instrument_charts.kite_grid, report.per_dimension, group=args.group)
        elif args.dimension:
            chart = _chart(instrument_charts.kite_chart, report.per_dimension, dimension=args.dimension,
                           group=args.group)
        else:
            chart = _chart(instrument_charts.kite_chart, report.profiles, group=args.group)
        _save_chart(chart, args.chart)
    return 0


def cmd_scales(args) -> int:
    from coding import instrument_charts, scales, service
    if args.check:
        instrument = scales.load_instrument(args.check)
        statements = sum(len(s.statements) for s in instrument.sectors)
        print(f"{args.check}: OK ({len(instrument.sectors)} sectors, {statements} statements)")
        return 0
    report = service.scale_report(engine_from_args(args), args.project, name=args.name, by=args.by)
    _emit({"sectors": report.table, "statements": report.statements}, args, report.notes)
    if args.chart:
        _save_chart(_chart(instrument_charts.sector_chart, report.table, group=args.group), args.chart)
    return 0


def cmd_survey(args) -> int:
    from coding import instrument_charts, service
    table = service.closed_question_table(engine_from_args(args), args.project, survey=args.name,
                                          questions=args.question, by=args.by)
    columns = ["question", "answer", "count", "n", "percent", "display", "ci_low", "ci_high"] if args.by is None \
        else ["question", "answer", "group", "count", "group_n", "percent", "display", "ci_low", "ci_high", "small"]
    shown = table[columns] if args.format == "table" else table
    _emit({"closed questions": shown}, args, table.attrs.get("notes", []))
    if args.chart:
        question = (args.question or [table["question"].iloc[0]])[0]
        _save_chart(_chart(instrument_charts.closed_question_chart, table, question=question, by=args.by), args.chart)
    return 0
