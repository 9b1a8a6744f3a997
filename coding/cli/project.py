"""Project commands: init, import (transcripts, attributes, codings), status, apply-codebook, history."""

from __future__ import annotations

import sys

from coding.cli import exchange
from coding.cli.common import LANGUAGES, UNITS, engine_from_args, print_frame
from coding.cli.users import add_as_option, signed_in_actor

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: ``codeframe --help`` stays fast
if TYPE_CHECKING:  # imported in the handlers, so that ``codeframe --help`` stays fast
    from coding import service


def register(subparsers) -> None:
    p = subparsers.add_parser("init", help="create the project database with the codebook (and the sample corpus)")
    p.add_argument("--sample", action="store_true", help="also load the sample corpus of 24 synthetic interviews")
    p.add_argument("--codebook", help="codebook YAML (default: the shipped codebook.yaml)")
    p.add_argument("--language", default="en", choices=LANGUAGES)
    p.set_defaults(func=cmd_init)

    imp = subparsers.add_parser("import", help="import transcripts, attributes, codings or REFI-QDA files")
    imp_sub = imp.add_subparsers(dest="what", metavar="WHAT", required=True)
    t = imp_sub.add_parser("transcripts", help="import .txt .md .docx .vtt .srt transcripts (all or nothing)")
    t.add_argument("paths", nargs="+", metavar="PATH")
    t.add_argument("--attributes", metavar="CSV", help="respondent attributes: id column, then any columns")
    t.add_argument("--language", choices=LANGUAGES + ("auto",),
                   help="en, ru, kk, or auto (per document, from its script); default: the project's language")
    t.add_argument("--unit", choices=UNITS, help="segmentation unit (default: the project's)")
    t.add_argument("--allow-same-content", action="store_true",
                   help="accept files whose text equals another's under a different name (identical survey answers)")
    add_as_option(t)
    t.set_defaults(func=cmd_import_transcripts)
    a = imp_sub.add_parser("attributes", help="set respondent attributes on imported documents")
    a.add_argument("path", metavar="CSV")
    add_as_option(a)
    a.set_defaults(func=cmd_import_attributes)
    c = imp_sub.add_parser("codings", help="import codings from a long CSV (document,coder,code + locator)")
    c.add_argument("path", metavar="CSV")
    c.add_argument("--create-coders", action="store_true", help="add coders named in the file that do not exist")
    c.add_argument("--as", dest="as_user", metavar="NAME",
                   help="who imports (a supervisor or admin for consensus codings; needed in team mode)")
    c.set_defaults(func=cmd_import_codings)
    from coding.cli import instruments

    instruments.add_import_commands(imp_sub)
    exchange.add_import_commands(imp_sub)
    exp = subparsers.add_parser("export", help="export codings, codebook or project (CSV, REFI-QDA)")
    exchange.add_export_commands(exp.add_subparsers(dest="what", metavar="WHAT", required=True))

    s = subparsers.add_parser("status", help="documents, segments and codings per coder")
    s.set_defaults(func=cmd_status)

    cb = subparsers.add_parser("apply-codebook", help="replace the project's codebook, keeping every coding")
    cb.add_argument("path", metavar="FILE")
    cb.add_argument("--rename", action="append", default=[], metavar="OLD=NEW",
                    help="move codings of code OLD to NEW (repeatable)")
    add_as_option(cb)
    cb.set_defaults(func=cmd_apply_codebook)

    h = subparsers.add_parser("history", help="the append-only history of coding changes")
    h.add_argument("--coder")
    h.add_argument("--format", choices=("table", "csv", "json"), default="table")
    h.add_argument("--output", metavar="FILE", help="write the audit trail to FILE (CSV; JSON Lines if FILE ends "
                                                     "in .jsonl or with --format json)")
    h.add_argument("--sign-ins", action="store_true",
                   help="instead, the sign-in history: every attempt, sign-out, expiry and user change (no passwords)")
    h.set_defaults(func=cmd_history)


def cmd_init(args) -> int:
    from coding import service

    engine = engine_from_args(args)
    existed = service.project_exists(engine, args.project)
    report = service.initialize(engine, args.project, sample=args.sample, codebook_path=args.codebook,
                                language=args.language)
    print(f"project {args.project!r} {'already existed' if existed else 'created'} in {engine.url.render_as_string()}")
    _print_import(report)
    return 0


def cmd_import_transcripts(args) -> int:
    from coding import service

    engine = engine_from_args(args)
    report = service.import_transcripts(engine, args.project, args.paths, attributes=args.attributes,
                                        language=args.language, unit=args.unit,
                                        allow_same_content=args.allow_same_content,
                                        actor=signed_in_actor(args, engine))
    _print_import(report)
    return 0


def cmd_import_attributes(args) -> int:
    from coding import service

    engine = engine_from_args(args)
    report = service.import_attributes(engine, args.project, args.path, actor=signed_in_actor(args, engine))
    print(f"attributes set on {report.attributes_applied} document(s)")
    return 0


def cmd_import_codings(args) -> int:
    from coding import service

    engine = engine_from_args(args)
    report = service.import_codings(engine, args.project, args.path, create_coders=args.create_coders,
                                    actor=signed_in_actor(args, engine))
    _print_import(report)
    return 0


def _print_import(report: service.ImportReport) -> None:
    if report.documents:
        print(f"imported {len(report.documents)} document(s): {report.segments} segments, "
              f"{report.units} units of coding")
    if report.codings:
        print(f"imported {report.codings} coding(s)")
    if report.attributes_applied:
        print(f"attributes set on {report.attributes_applied} document(s)")
    for note in report.notes:
        print(f"note: {note}")


def cmd_status(args) -> int:
    from coding import service

    engine = engine_from_args(args)
    st = service.status(engine, args.project, viewer=args.as_user)
    p = st.project
    print(f"project {p.name!r}: language {p.language}, unit {p.segmentation_unit}, "
          f"blind mode {'on' if p.blind_mode else 'off'}, model {p.embedding_model}")
    print(f"precision: {_precision_line(engine, args.project)}")
    print(f"documents: {st.documents} ({st.respondents} respondents)")
    print(f"segments: {st.segments} ({st.units} units of coding)")
    print("codebook: " + (", ".join(f"{k} ({v} codes)" for k, v in st.frames.items()) or "empty"))
    print("codings per coder:")
    if not st.codings_by_coder:
        print("  (no coders yet)")
    for name, count in sorted(st.codings_by_coder.items()):
        print(f"  {name:<20} {count}")
    return 0


def _precision_line(engine, project: str) -> str:
    from coding import service
    from coding.errors import CodeframeError

    try:
        return service.embedding_precision(engine, project)
    except (ValueError, CodeframeError) as exc:  # an unknown model or a bad $CODEFRAME_PRECISION
        return f"unknown ({exc})"


def cmd_apply_codebook(args) -> int:
    from coding import service

    renames = {}
    for item in args.rename:
        old, sep, new = item.partition("=")
        if not sep or not old or not new:
            print(f"error: --rename wants OLD=NEW, got {item!r}", file=sys.stderr)
            return 2
        renames[old] = new
    engine = engine_from_args(args)
    report = service.apply_codebook(engine, args.project, path=args.path, renames=renames,
                                    actor=signed_in_actor(args, engine))
    lines = report.lines()
    print("\n".join(lines) if lines else "codebook unchanged")
    return 0


def cmd_history(args) -> int:
    from coding import service

    if args.sign_ins:
        import pandas as pd

        events = service.auth_history(engine_from_args(args), args.project, limit=None, actor=args.as_user)
        frame = pd.DataFrame(events[::-1], columns=["at", "action", "name", "by", "client", "detail"])
        if args.output:
            from coding.safe_cells import write_csv

            write_csv(frame, args.output)
            print(f"{len(frame)} event(s) written to {args.output}")
            return 0
        print_frame(frame, args.format)
        return 0
    if args.output:
        fmt = "jsonl" if args.format == "json" or args.output.endswith(".jsonl") else "csv"
        rows = service.export_history(engine_from_args(args), args.project, args.output, fmt=fmt, coder=args.coder,
                                      viewer=args.as_user)
        print(f"{rows} event(s) written to {args.output}")
        return 0
    print_frame(service.history(engine_from_args(args), args.project, coder=args.coder, viewer=args.as_user),
                args.format)
    return 0
