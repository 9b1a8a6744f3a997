"""``codeframe cooccurrence --frame F [--frame G] --unit segment|respondent``: code x code counts and Jaccard."""

from __future__ import annotations

import sys

from coding.cli.common import engine_from_args
from coding.cli.retrieve import add_as, emit, viewer


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "cooccurrence", help="how often codes meet in one unit or one respondent (counts and Jaccard)",
        description="Code x code matrix of one frame, or of the first frame's codes against the second's.")
    p.add_argument("--frame", action="append", required=True, metavar="F", help="a frame (give one or two)")
    p.add_argument("--unit", choices=("segment", "respondent"), default="segment")
    p.add_argument("--coder", metavar="C", help="whose codings (default: consensus, else the only coder)")
    p.add_argument("--value", choices=("count", "jaccard"), default="count", help="what the table shows")
    p.add_argument("--format", choices=("table", "csv", "xlsx"), default="table")
    p.add_argument("--output", metavar="FILE")
    add_as(p)
    p.set_defaults(func=cmd_cooccurrence)


def cmd_cooccurrence(args) -> int:
    from coding import cooccurrence, exports, service
    from coding.cli.common import format_table
    from coding.safe_cells import csv_text

    engine = engine_from_args(args)
    table = service.cooccurrence(engine, args.project, frames=args.frame, unit=args.unit,
                                          coder=args.coder, viewer=viewer(args, engine))
    if args.format == "csv":
        emit(csv_text(table), args.output, "csv")
    elif args.format == "xlsx":
        data = exports.workbook({"Counts": cooccurrence.wide(table, "count").reset_index(),
                                 "Jaccard": cooccurrence.wide(table, "jaccard").reset_index(), "Cells": table})
        emit(data, args.output, "xlsx")
    else:
        print(f"co-occurrence at the {args.unit} level ({table.attrs['coder']} codings); {args.value}"
              + "".join(f"; {note}" for note in table.attrs.get("excluded", [])), file=sys.stderr)
        grid = cooccurrence.wide(table, args.value)
        keys = dict(zip(table["label_a"], table["code_a"])) | dict(zip(table["label_b"], table["code_b"]))
        grid = grid.rename(index=keys, columns=keys).reset_index()
        emit(format_table(grid, floatfmt="{:.0f}" if args.value == "count" else "{:.2f}") + "\n", args.output,
             "table")
    return 0
