"""``codeframe shares``: share of respondents per code, from the project or from exported CSVs.

Two modes:

* **CSV mode** -- ``codeframe shares CODINGS.csv --respondents RESPONDENTS.csv``: the
  long codings table (columns ``respondent,coder,code``; other columns are ignored,
  except ``document`` and ``text`` which feed the Quotes sheet of ``--format xlsx``)
  and the respondents table (first column the id, then attributes). No database is
  touched: anyone can recompute the published table from the exported files. The
  denominator is the number of rows of RESPONDENTS.csv.
* **Project mode** -- no CODINGS.csv: the project database (``--db``/``--project``)
  through :func:`coding.service.share_report`.

``--codebook`` gives labels, the ``--frame`` filter and the parent hierarchy for roll-up,
and every code of CODINGS.csv must be in it. In CSV mode without ``--codebook`` and without
``--frame`` the codes are taken as given (labels = ids, no roll-up, first-seen order): the
exported tables alone are enough. ``--frame`` without ``--codebook`` reads the frame from the
shipped codebook (and then validates against it). ``--coder`` restricts to one coder's codings
(in CSV mode ``consensus`` is just a coder name in the file).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

FORMATS = ("table", "csv", "json", "xlsx")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "shares",
        help="share of respondents per code (Figure 1), from the project or from CSV files",
        description="Share of respondents naming each code: count / all respondents in scope.",
    )
    p.add_argument("codings", nargs="?", metavar="CODINGS.csv",
                   help="long codings table (respondent,coder,code); omit to use the project database")
    p.add_argument("--respondents", metavar="RESPONDENTS.csv",
                   help="every respondent in scope: first column the id, then attributes (required with CODINGS.csv)")
    p.add_argument("--frame", metavar="F", help="only the codes of this frame")
    p.add_argument("--by", metavar="ATTRIBUTE", help="also cross-tabulate by this respondent attribute")
    p.add_argument("--coder", metavar="CODER", help="only this coder's codings ('consensus' for adjudicated)")
    p.add_argument("--denominator", choices=("all", "covered"), default="all",
                   help="divide by every respondent in scope (default, as the article counts) or by the "
                        "respondents the coder covered in the frame (project mode)")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--output", metavar="FILE", help="write here instead of standard output (required for xlsx)")
    p.add_argument("--codebook", metavar="FILE", help="codebook YAML for labels, frames and roll-up; every code "
                                                      "must be in it (CSV mode without it and without --frame: "
                                                      "codes as given, labels = ids)")
    p.add_argument("--chart", metavar="FILE.png|FILE.svg", help="also draw the bar chart to this file")
    p.set_defaults(func=cmd_shares)


# --------------------------------------------------------------------------- reading CSVs


def read_codings_csv(path: str | Path):
    """The long codings table as a DataFrame; CodingsError naming file and line on any problem."""
    import csv

    import pandas as pd

    from coding.codings_table import decode_csv
    from coding.errors import CodingsError, Problem

    path = Path(path)
    name = str(path)
    text = decode_csv(name, path.read_bytes())  # the size limit and the encodings of every codings reader
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise CodingsError(f"{name} is empty", [Problem("no header line", file=name, line=1)]) from None
    missing = [c for c in ("respondent", "coder", "code") if c not in header]
    if missing:
        raise CodingsError(f"{name} lacks required columns",
                           [Problem(f"missing column {c!r}; header is {','.join(header)}", file=name, line=1, field=c)
                            for c in missing])
    rows, problems = [], []
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            problems.append(Problem(f"{len(record)} fields, header has {len(header)}", file=name, line=line))
            continue
        row = {h: cell.strip() for h, cell in zip(header, record)}
        for column in ("respondent", "coder", "code"):
            if not row[column]:
                problems.append(Problem(f"empty {column}", file=name, line=line, field=column))
        row["_line"] = line
        rows.append(row)
        if len(problems) >= 50:
            break
    if problems:
        raise CodingsError(f"{name} has invalid rows", problems)
    return pd.DataFrame(rows, columns=[*header, "_line"])


def read_respondents_csv(path: str | Path):
    """Respondents (first column id, then attributes) as a DataFrame indexed by id."""
    import pandas as pd

    from coding.attributes import read_attributes_csv

    table = read_attributes_csv(path)
    frame = pd.DataFrame([table.rows[rid] for rid in table.rows], columns=table.columns,
                         index=pd.Index(list(table.rows), name="respondent"))
    return frame


# --------------------------------------------------------------------------- command


def _codebook_info(args, codings=None):
    """Labels, code order and hierarchy from the codebook (restricted to --frame)."""
    from coding.codebook import default_codebook_path, load_codebook
    from coding.errors import CodingsError, Problem

    codebook = load_codebook(args.codebook or default_codebook_path())
    codes = codebook.codes(args.frame) if args.frame else codebook.codes()
    hierarchy = {c.id: codebook.descendants(c.id) for c in codes if codebook.children(c.id)}
    labels = {c.id: c.label for c in codes}
    if codings is not None:
        unknown = codings[~codings["code"].isin(set(codebook.code_ids))]
        if len(unknown):
            problems = [Problem(f"code {row['code']!r} is not in codebook {codebook.source or 'default'}",
                                file=args.codings, line=int(row["_line"]), field="code")
                        for row in unknown.head(20).to_dict("records")]
            raise CodingsError("The codings use codes the codebook does not define (pass the right --codebook)",
                               problems)
    return codebook, [c.id for c in codes], labels, hierarchy


def cmd_shares(args) -> int:
    from coding.errors import CodingsError, Problem

    if args.format == "xlsx" and not args.output:
        raise CodingsError("--format xlsx writes a file: give --output FILE.xlsx",
                           [Problem("missing --output", field="output")])
    if args.codings:
        result = _csv_mode(args)
    else:
        result = _project_mode(args)
    shares, crosstab_table, matrix, quotes = result
    _write(args, shares, crosstab_table, matrix, quotes)
    if args.chart:
        from coding.charts import chart_to_png, chart_to_svg, share_bar_chart

        chart = share_bar_chart(crosstab_table if crosstab_table is not None else shares, by=args.by)
        if args.chart.lower().endswith(".svg"):
            Path(args.chart).write_text(chart_to_svg(chart), encoding="utf-8")
        else:
            Path(args.chart).write_bytes(chart_to_png(chart))
    return 0


def _csv_mode(args):
    import pandas as pd

    from coding import shares as sh
    from coding.errors import CodingsError, Problem

    if not args.respondents:
        raise CodingsError("CSV mode needs --respondents RESPONDENTS.csv: the denominator is every respondent "
                           "in scope, which the codings table cannot tell",
                           [Problem("missing --respondents", field="respondents")])
    codings = read_codings_csv(args.codings)
    respondents = read_respondents_csv(args.respondents)
    if args.codebook or args.frame:
        _, codes, labels, hierarchy = _codebook_info(args, codings)
    else:  # no codebook given: the codes are what the file says
        codes = list(dict.fromkeys(codings["code"]))
        labels, hierarchy = {c: c for c in codes}, {}
    shares = sh.share_table(respondents, codings, codes=codes, coder=args.coder, hierarchy=hierarchy, labels=labels)
    table = None
    if args.by:
        table = sh.crosstab(respondents, codings, by=args.by, codes=codes, coder=args.coder,
                            hierarchy=hierarchy, labels=labels)
    matrix = sh.case_code_matrix(respondents, codings, codes=codes, coder=args.coder, hierarchy=hierarchy)
    selected = codings if args.coder is None else codings[codings["coder"] == args.coder]
    selected = selected[selected["code"].isin(set(codes))]
    quotes = pd.DataFrame({
        "document": selected["document"] if "document" in selected else "",
        "respondent": selected["respondent"],
        "coder": selected["coder"],
        "code": selected["code"],
        "label": selected["code"].map(labels),
        "text": selected["text"] if "text" in selected else "",
    })
    attributes = respondents.reset_index()
    quotes = quotes.merge(attributes, how="left", on="respondent")
    return shares, table, matrix, quotes


def _project_mode(args):
    """Shares from the project database (:func:`coding.service.share_report`)."""
    from coding import service
    from coding.cli.common import engine_from_args
    from coding.errors import CodingsError, Problem

    if not args.frame:
        raise CodingsError("give --frame F (or a CODINGS.csv with --respondents)",
                           [Problem("missing --frame", field="frame")])
    engine = engine_from_args(args)
    report = service.share_report(engine, args.project, frame=args.frame, by=args.by, coder=args.coder,
                                  denominator=args.denominator, viewer=getattr(args, "as_user", None))
    if args.format == "table":
        scope = ("respondents in scope, including those with no coding" if report.denominator == "all"
                 else f"respondents {report.coder} covered")
        print(f"{args.frame}: share of respondents mentioning each code ({report.coder} codings; "
              f"n = {report.n} {scope})", file=sys.stderr)
    print(f"coverage: {report.coverage}", file=sys.stderr)
    if report.partial and report.denominator == "all":
        print("warning: partial coverage; --denominator covered divides by the respondents the coder covered",
              file=sys.stderr)
    quotes = report.quotes[report.quotes["coder"] == report.coder]
    return report.table, report.crosstab, report.matrix, quotes


def _write(args, shares, table, matrix, quotes) -> None:
    from coding.shares import format_share_table

    if args.format == "xlsx":
        from coding.xlsx import share_workbook

        crosstabs = {f"By {args.by}": table} if table is not None else {}
        data = share_workbook(shares=shares, crosstabs=crosstabs, matrix=matrix, quotes=quotes)
        Path(args.output).write_bytes(data)
        return
    if args.format == "table":
        text = format_share_table(shares, "table")
        if table is not None:
            text += f"\nBy {args.by} (column % within each group):\n" + format_share_table(table, "table")
    elif args.format == "csv":
        text = format_share_table(table if table is not None else shares, "csv")
    else:
        import json

        payload = json.loads(format_share_table(shares, "json"))
        if table is not None:
            payload["crosstab"] = json.loads(format_share_table(table, "json"))["rows"]
        text = json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
