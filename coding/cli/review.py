"""``codeframe disagreements``, ``documents remove|exclude|include``, ``coders remove|exclude|include``.

The supervisor's review from the command line: the disagreements over chosen coders (as on the
Agreement & adjudication page), and what is analysed. Exclusions and removals are admins only
in team mode (``--as NAME``); every change is in the project history (``codeframe documents history``).
"""

from __future__ import annotations

import sys

from coding import service
from coding.cli.agreement import _coder_list
from coding.cli.common import engine_from_args, format_table, print_frame
from coding.cli.users import add_as_option, signed_in_actor


def register(subparsers) -> None:
    d = subparsers.add_parser(
        "disagreements", help="units where the chosen coders differ in a frame, with the consensus so far",
        description="Every unit at least two of the chosen coders covered and on which they differ.")
    d.add_argument("--frame", metavar="F", required=True)
    d.add_argument("--coders", type=_coder_list, metavar="A,B",
                   help="two or more coders (default: the coders who double-coded the most)")
    d.add_argument("--show", choices=service.DISAGREEMENT_VIEWS, default="all", help="default: %(default)s")
    d.add_argument("--format", choices=("table", "csv", "json"), default="table")
    d.set_defaults(func=cmd_disagreements)

    docs = subparsers.add_parser("documents", help="exclude documents from analysis, include them again, "
                                                   "remove them, or show the project history")
    docs_sub = docs.add_subparsers(dest="documents_command", metavar="COMMAND", required=True)
    for action, text in (("exclude", "leave out of shares, agreement and disagreements (nothing deleted)"),
                         ("include", "bring an excluded document back")):
        p = docs_sub.add_parser(action, help=text)
        p.add_argument("names", nargs="+", metavar="DOCUMENT")
        p.add_argument("--reason", help="recorded in the project history")
        add_as_option(p)
        p.set_defaults(func=cmd_exclude, kind="document", excluded=action == "exclude")
    remove = docs_sub.add_parser("remove", help="delete documents with their codings (asks for --yes)")
    remove.add_argument("names", nargs="+", metavar="DOCUMENT")
    remove.add_argument("--yes", action="store_true", help="confirm: without it, say what would go and stop")
    add_as_option(remove)
    remove.set_defaults(func=cmd_remove)
    history = docs_sub.add_parser("history", help="exclusions, inclusions and removals, oldest first")
    history.set_defaults(func=cmd_history)

    coders = subparsers.add_parser("coders", help="exclude coders from analysis (pilot, training), include them "
                                                  "again, or remove them")
    coders_sub = coders.add_subparsers(dest="coders_command", metavar="COMMAND", required=True)
    for action in ("exclude", "include"):
        p = coders_sub.add_parser(action, help=f"{action} coders (nothing deleted)")
        p.add_argument("names", nargs="+", metavar="CODER")
        p.add_argument("--reason", help="recorded in the project history")
        add_as_option(p)
        p.set_defaults(func=cmd_exclude, kind="coder", excluded=action == "exclude")
    remove = coders_sub.add_parser("remove", help="delete coders with their codings (asks for --yes)")
    remove.add_argument("names", nargs="+", metavar="CODER")
    remove.add_argument("--yes", action="store_true", help="confirm: without it, say what would go and stop")
    add_as_option(remove)
    remove.set_defaults(func=cmd_remove_coder)
    listing = coders_sub.add_parser("list", help="coders with their role and whether they are excluded")
    listing.set_defaults(func=cmd_coders_list)


def cmd_disagreements(args) -> int:
    import pandas as pd

    report = service.disagreement_report(engine_from_args(args), args.project, frame=args.frame,
                                                coders=args.coders, show=args.show)
    rows = [{
        "document": i["document"], "unit": i["unit"], "segment_id": i["segment_id"],
        **{c: ("; ".join(sorted(i["coders"][c])) or "(no code)") if c in i["coders"] else "(not covered)"
           for c in report.coders},
        "consensus": "; ".join(sorted(i["consensus"])) or ("(no code)" if i["decided"] else "(undecided)"),
        "text": i["text"][:70] + ("…" if len(i["text"]) > 70 else ""),
    } for i in report.items]
    frame = pd.DataFrame(rows, columns=["document", "unit", "segment_id", *report.coders, "consensus", "text"])
    print(report.summary(), file=sys.stderr)
    if args.format == "table":
        print(format_table(frame) if rows else "no disagreements to show")
    else:
        print_frame(frame, args.format)
    return 0


def cmd_exclude(args) -> int:
    engine = engine_from_args(args)
    actor = signed_in_actor(args, engine)
    for name in args.names:
        changed = service.set_excluded(engine, args.project, kind=args.kind, name=name,
                                              excluded=args.excluded, actor=actor, reason=args.reason)
        verb = "excluded from analysis" if args.excluded else "included in analysis"
        print(f"{args.kind} {name}: {verb}" if changed else f"{args.kind} {name}: already {verb}")
    return 0


def cmd_remove(args) -> int:
    engine = engine_from_args(args)
    actor = signed_in_actor(args, engine)
    if not args.yes:
        for name in args.names:
            print(service.removal_preview(engine, args.project, document=name)["message"])
        print("nothing removed: add --yes to remove", file=sys.stderr)
        return 2
    for name in args.names:
        gone = service.remove_document(engine, args.project, document=name, actor=actor, confirm=True)
        print(f"removed {name}: {gone['segments']} segments, {gone['codings']} codings, "
              f"{gone['history_events']} history events")
    return 0


def cmd_remove_coder(args) -> int:
    engine = engine_from_args(args)
    actor = signed_in_actor(args, engine)
    if not args.yes:
        for name in args.names:
            print(service.coder_removal_preview(engine, args.project, coder=name)["message"])
        print("nothing removed: add --yes to remove", file=sys.stderr)
        return 2
    for name in args.names:
        gone = service.remove_coder(engine, args.project, coder=name, actor=actor, confirm=True)
        print(f"removed coder {name}: {gone['codings']} codings, {gone['history_events']} history events")
    return 0


def cmd_history(args) -> int:
    frame = service.project_history(engine_from_args(args), args.project)
    print(format_table(frame.drop(columns="detail")) if not frame.empty else "no exclusions or removals yet")
    return 0


def cmd_coders_list(args) -> int:
    import pandas as pd

    from coding import service

    engine = engine_from_args(args)
    excluded = set(service.exclusions(engine, args.project)["coder"])
    rows = [{"coder": c["name"], "role": c["role"], "excluded": c["name"] in excluded}
            for c in service.list_coders(engine, args.project)]
    print(format_table(pd.DataFrame(rows, columns=["coder", "role", "excluded"])))
    return 0
