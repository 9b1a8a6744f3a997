"""``codeframe memos``: every memo (on codings, units, documents, codes) in one list; ``memo add`` writes one.

    codeframe memos [--coder C] [--code C] [--document D] [--format table|csv|xlsx|md] [--output F]
    codeframe memo add --on segment|document|code TARGET --coder C TEXT
    codeframe key-quote SEGMENT_ID --code C --coder C [--off] [--as NAME]
"""

from __future__ import annotations

import sys

from coding.cli.common import engine_from_args
from coding.cli.retrieve import add_as, emit, rows_text, viewer


def register(subparsers) -> None:
    p = subparsers.add_parser("memos", help="all memos on codings, units, documents and codes")
    p.add_argument("--coder", metavar="C", help="only memos by this coder")
    p.add_argument("--code", metavar="C", help="only memos on this code or on codings of it")
    p.add_argument("--document", metavar="NAME", help="only memos on this document, its units and codings")
    p.add_argument("--format", choices=("table", "csv", "xlsx", "md"), default="table")
    p.add_argument("--output", metavar="FILE")
    add_as(p)
    p.set_defaults(func=cmd_memos)

    memo = subparsers.add_parser("memo", help="write an analytic memo on a unit, a document or a code")
    commands = memo.add_subparsers(dest="memo_command", metavar="COMMAND")
    commands.required = True
    add = commands.add_parser("add", help="add a memo")
    add.add_argument("--on", dest="kind", choices=("segment", "document", "code"), required=True)
    add.add_argument("target", metavar="TARGET", help="segment id, document name or id, or code id")
    add.add_argument("--coder", required=True, metavar="C", help="the memo's author")
    add.add_argument("text", metavar="TEXT")
    add.set_defaults(func=cmd_memo_add)

    star = subparsers.add_parser("key-quote", help="star a coded unit as a key quote (the findings report quotes it "
                                                   "first), or --off to unstar it")
    star.add_argument("segment", type=int, metavar="SEGMENT_ID",
                      help="the unit's segment id (a column of retrieve --format csv)")
    star.add_argument("--code", required=True, metavar="C")
    star.add_argument("--coder", required=True, metavar="C", help="whose coding (consensus: supervisors only)")
    star.add_argument("--off", action="store_true", help="remove the star")
    add_as(star)
    star.set_defaults(func=cmd_key_quote)


def cmd_memos(args) -> int:
    from coding import exports, service

    engine = engine_from_args(args)
    table = service.memos(engine, args.project, viewer=viewer(args, engine), coder=args.coder,
                                 code=args.code, document=args.document)
    if args.format == "table":
        print(f"{len(table)} memo(s)", file=sys.stderr)
        emit(rows_text(table, ["kind", "coder", "code", "document", "target", "text"], width=60), args.output,
             "table")
    elif args.format == "csv":
        from coding.safe_cells import csv_text

        emit(csv_text(table), args.output, "csv")
    elif args.format == "xlsx":
        emit(exports.workbook({"Memos": table.assign(updated=table["updated"].astype(str))}), args.output, "xlsx")
    else:
        from coding.markup import md

        lines = ["# Memos", ""]
        for r in table.to_dict("records"):
            where = " · ".join(str(v) for v in (r["kind"], r["document"], r["code"]) if v)
            lines += [f"**{md(r['coder'])}** · {md(where)}", ""]
            if r["target"] and r["kind"] in ("coding", "segment"):
                lines += [f"> {md(r['target'])}", ""]
            lines += [md(r["text"]), ""]
        emit("\n".join(lines), args.output, "md")
    return 0


def cmd_memo_add(args) -> int:
    from coding import service

    engine = engine_from_args(args)
    memo_id = service.add_memo(engine, args.project, kind=args.kind, target=args.target, coder=args.coder,
                               text=args.text, actor=viewer(args, engine))
    print(f"memo {memo_id} added on {args.kind} {args.target}")
    return 0


def cmd_key_quote(args) -> int:
    from coding import service

    engine = engine_from_args(args)
    service.set_key_quote(engine, args.project, segment_id=args.segment, code=args.code, coder=args.coder,
                          starred=not args.off, actor=viewer(args, engine))
    print(f"unit {args.segment} {'is no longer' if args.off else 'is now'} a key quote for {args.code} ({args.coder})")
    return 0
