"""``codeframe retrieve``: the segments carrying a code (or any/all/none of several), with context.

    codeframe retrieve --code C [--code C2 --mode any|all|none] [--where ATTR=VALUE ...] [--coder C]
                       [--context 1] [--format table|csv|xlsx|docx|md] [--output F]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from coding.cli.common import engine_from_args, whole_number

FORMATS = ("table", "csv", "xlsx", "docx", "md")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "retrieve", help="coded segments of one or several codes, with context, respondent and attributes",
        description="Retrieve the segments carrying codes (sub-codes rolled up), filtered by respondent "
                    "attributes, coder and document, with one unit of context before and after.")
    p.add_argument("--code", action="append", required=True, metavar="C", help="a code id (repeat for several)")
    p.add_argument("--mode", choices=("any", "all", "none"), default="any",
                   help="with several codes: segments carrying any, all or none of them (default: %(default)s)")
    p.add_argument("--where", action="append", default=[], metavar="ATTR=VALUE",
                   help="respondent filter: ATTR=VALUE, ATTR=V1,V2 (any of them) or ATTR!=VALUE; repeat to combine")
    p.add_argument("--coder", metavar="C", help="whose codings (default: consensus; 'all' for every coder)")
    p.add_argument("--document", action="append", metavar="NAME", help="only these documents (repeatable)")
    p.add_argument("--context", type=whole_number(0), default=1, help="units of context before and after")
    p.add_argument("--no-rollup", action="store_true", help="do not count sub-codes for a parent code")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--output", metavar="FILE", help="write here (required for xlsx and docx)")
    p.add_argument("--base-url", default=os.environ.get("CODEFRAME_BASE_URL", "http://localhost:8501"),
                   help="the app's address, for each row's link into the coding page "
                        "(default: $CODEFRAME_BASE_URL or %(default)s)")
    add_as(p)
    p.set_defaults(func=cmd_retrieve)


def add_as(parser) -> None:
    from coding.cli.users import add_as_option

    add_as_option(parser)


def viewer(args, engine) -> str | None:
    """The ``--as`` user (signed in when the project is in team mode), or None: no blind-mode filter."""
    from coding.cli.users import signed_in_actor

    return signed_in_actor(args, engine)


def emit(data: str | bytes, output: str | None, fmt: str) -> None:
    """Write text or bytes to ``output``, or text to standard output; binary formats need a file."""
    from coding.errors import CodeframeError, Problem

    if isinstance(data, bytes):
        if not output:
            raise CodeframeError(f"--format {fmt} writes a file: give --output FILE.{fmt}",
                                 [Problem("missing --output", field="output")])
        Path(output).write_bytes(data)
        print(f"wrote {output}", file=sys.stderr)
    elif output:
        Path(output).write_text(data, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(data)


def rows_text(rows, columns: list[str], *, width: int = 90) -> str:
    """A plain table of the chosen columns, long texts cut to ``width`` characters."""
    from coding.cli.common import format_table

    def cut(value):
        text = "" if value is None or value != value else str(value)
        return text if len(text) <= width else text[: width - 1] + "…"

    return format_table(rows[columns].map(cut)) + "\n"


def cmd_retrieve(args) -> int:
    from coding import exports, service

    engine = engine_from_args(args)
    coder = service.ALL_CODERS if args.coder == "all" else args.coder
    rows = service.retrieve(
        engine, args.project, codes=args.code, mode=args.mode, where=args.where, coder=coder,
        documents=args.document, context=args.context, rollup=not args.no_rollup, viewer=viewer(args, engine),
        base_url=args.base_url)
    filters = rows.attrs["filters"]
    if args.format == "table":
        print(f"{len(rows)} segment(s); " + "; ".join(filters), file=sys.stderr)
        columns = ["respondent", "unit", *[a for a in ("expert_group",) if a in rows.columns], "coder", "codes",
                   "text"]
        emit(rows_text(rows, columns), args.output, args.format)
        return 0
    title = "Retrieved segments: " + ", ".join(args.code)
    emit(exports.write_rows(rows, args.format, title=title, filters=filters, attributes=rows.attrs["attributes"]),
         args.output, args.format)
    return 0
