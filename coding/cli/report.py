"""``codeframe report --frame F [--by ATTR] --format docx|md``: the findings report, as the article writes it.

Per code, in order of share: "Label: 7 of 24 respondents (29.2%, 95% CI 14.9–49.2%; respondent-level
α 0.82)", the split by ``--by``, 1-3 representative quotes, then Figure 1 and a methods paragraph.
With ``--format md --output F.md`` the chart is written next to it as ``F.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from coding.cli.common import engine_from_args, whole_number
from coding.cli.retrieve import add_as, emit, viewer


def register(subparsers) -> None:
    p = subparsers.add_parser("report", help="a draft findings section: shares, splits, quotes, Figure 1, methods")
    p.add_argument("--frame", required=True, metavar="F")
    p.add_argument("--by", metavar="ATTR", help="split each code by this respondent attribute")
    p.add_argument("--coder", metavar="C", help="whose codings (default: consensus)")
    p.add_argument("--quotes", type=whole_number(1), default=3, help="quotes per code, 1-3 (default 3)")
    p.add_argument("--format", choices=("md", "docx"), default="md")
    p.add_argument("--output", metavar="FILE", help="required for docx")
    p.add_argument("--no-embeddings", action="store_true",
                   help="pick quotes in document order instead of nearest the code's centroid")
    add_as(p)
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from coding import report, service

    engine = engine_from_args(args)
    found = service.findings_report(
        engine, args.project, frame=args.frame, by=args.by, coder=args.coder, quotes=args.quotes,
        embedder=False if args.no_embeddings else None, chart=args.format == "docx" or bool(args.output),
        viewer=viewer(args, engine))
    if args.format == "docx":
        emit(report.to_docx(found), args.output, "docx")
        return 0
    chart_file = None
    if args.output and found.chart_png:
        image = Path(args.output).with_suffix(".png")
        image.write_bytes(found.chart_png)
        chart_file = image.name
    emit(report.to_markdown(found, chart_file=chart_file), args.output, "md")
    if chart_file is None:
        print("note: Figure 1 is not drawn on standard output: give --output FILE.md to write it as FILE.png "
              "next to the report, or use --format docx", file=sys.stderr)
    return 0
