"""``codeframe search PATTERN``: find text in every transcript, and code all hits in one undoable batch.

    codeframe search PATTERN [--word | --regex] [--interviewer] [--code C --coder NAME [--apply]]
    codeframe search "a sentence" --like [--top 20]
"""

from __future__ import annotations

import sys

from coding.cli.common import engine_from_args, whole_number
from coding.cli.retrieve import add_as, emit, rows_text, viewer

FORMATS = ("table", "csv", "xlsx", "docx", "md")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "search", help="search the transcripts (plain, whole word, regex, or units like a sentence); code all hits",
        description="Case-insensitive search over respondent turns (add --interviewer for interviewer turns). "
                    "With --code, previews coding every hit; --apply codes them as one batch that "
                    "`codeframe undo --coder C` reverts in one step.")
    p.add_argument("pattern", metavar="PATTERN")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--word", action="store_true", help="whole words only")
    how.add_argument("--regex", action="store_true", help="PATTERN is a regular expression")
    how.add_argument("--like", action="store_true", help="units most like PATTERN (a sentence), by embedding")
    p.add_argument("--case-sensitive", action="store_true")
    p.add_argument("--interviewer", action="store_true", help="search interviewer turns too")
    p.add_argument("--top", type=whole_number(1), default=20, help="with --like: how many units (default 20)")
    p.add_argument("--context", type=whole_number(0), default=1, help="units of context before and after")
    p.add_argument("--code", metavar="C", help="code every hit unit with C (a preview unless --apply)")
    p.add_argument("--coder", metavar="NAME", help="whose coding --code writes (required with --code)")
    p.add_argument("--apply", action="store_true", help="with --code: apply it to every hit")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--output", metavar="FILE")
    add_as(p)
    p.set_defaults(func=cmd_search)


def cmd_search(args) -> int:
    from coding import exports, service
    from coding.errors import CodeframeError, Problem

    engine = engine_from_args(args)
    if args.like:
        hits = service.similar_units(engine, args.project, text=args.pattern, k=args.top)
        label = f"units like {args.pattern!r}"
    else:
        mode = "regex" if args.regex else "word" if args.word else "plain"
        hits = service.search(engine, args.project, pattern=args.pattern, mode=mode,
                                       case_sensitive=args.case_sensitive, include_interviewer=args.interviewer,
                                       context=args.context)
        label = f"search {args.pattern!r} ({mode})"
    if args.code:
        if not args.coder:
            raise CodeframeError("--code needs --coder NAME: whose coding it is", [Problem("missing --coder",
                                                                                            field="coder")])
        ids = hits["segment_id"].tolist()
        preview = service.preview_code_hits(engine, args.project, segment_ids=ids, code=args.code,
                                            coder=args.coder, actor=viewer(args, engine))
        print(f"{len(hits)} hit(s): {len(preview.apply)} unit(s) to code with {args.code}, "
              f"{len(preview.already)} already coded, {len(preview.not_units)} not units of coding "
              "(interviewer turns)", file=sys.stderr)
        if not args.apply:
            print("preview only: add --apply to code them (one batch; `codeframe undo --coder "
                  f"{args.coder}` reverts it)", file=sys.stderr)
        elif not preview.apply:
            print("nothing to code", file=sys.stderr)
        else:
            result = service.code_hits(engine, args.project, segment_ids=ids, code=args.code,
                                                 coder=args.coder, actor=viewer(args, engine), label=label)
            print(f"coded {result.applied} unit(s) with {args.code} for {args.coder} as {result.batch}; "
                  f"undo with `codeframe undo --coder {args.coder}`", file=sys.stderr)
        return 0
    if args.format == "table":
        print(f"{len(hits)} hit(s) for {label}", file=sys.stderr)
        columns = (["similarity"] if args.like else ["hits"]) + ["document", "respondent", "text"]
        emit(rows_text(hits, columns), args.output, args.format)
        return 0
    emit(exports.write_rows(hits, args.format, title=label.capitalize()), args.output, args.format)
    return 0
