"""``codeframe disagreements``, ``documents remove|exclude|include``, ``coders remove|exclude|include``.

The supervisor's review from the command line: the disagreements over chosen coders (as on the
Agreement & adjudication page), and what is analysed. Exclusions and removals are admins only
in team mode (``--as NAME``); every change is in the project history (``codeframe documents history``).
"""

from __future__ import annotations

import sys
from collections import namedtuple

from coding.cli.agreement import _coder_list
from coding.cli.common import DISAGREEMENT_VIEWS, engine_from_args, format_table, print_frame
from coding.cli.users import add_as_option, signed_in_actor


def register(subparsers) -> None:
    d = subparsers.add_parser(
        "disagreements", help="units where the chosen coders differ in a frame, with the consensus so far",
        description="Every unit at least two of the chosen coders covered and on which they differ.")
    d.add_argument("--frame", metavar="F", required=True)
    d.add_argument("--coders", type=_coder_list, metavar="A,B",
                   help="two or more coders (default: the coders who double-coded the most)")
    d.add_argument("--show", choices=DISAGREEMENT_VIEWS, default="all", help="default: %(default)s")
    d.add_argument("--format", choices=("table", "csv", "json"), default="table")
    d.set_defaults(func=cmd_disagreements)

    for group in GROUPS:
        _register_group(subparsers, group)


#: One ``documents`` / ``coders`` command: exclude, include, remove, and its own listing. Fields: command; kind
#: (the service's kind of exclusion: document | coder); metavar; help; actions (exclude / include -> help); remove
#: (help, the service's preview and remove functions, the printed line); extra (the group's fourth subcommand:
#: name, help, handler). A named tuple rather than a dataclass: ``codeframe --help`` does not import dataclasses.
_Group = namedtuple("_Group", "command kind metavar help actions remove extra")


def _removed_document(name: str, gone: dict) -> str:
    return (f"removed {name}: {gone['segments']} segments, {gone['codings']} codings, "
            f"{gone['history_events']} history events")


def _removed_coder(name: str, gone: dict) -> str:
    return f"removed coder {name}: {gone['codings']} codings, {gone['history_events']} history events"


def _register_group(subparsers, group: _Group) -> None:
    parser = subparsers.add_parser(group.command, help=group.help)
    sub = parser.add_subparsers(dest=f"{group.command}_command", metavar="COMMAND", required=True)
    for action, text in group.actions.items():
        p = sub.add_parser(action, help=text)
        p.add_argument("names", nargs="+", metavar=group.metavar)
        p.add_argument("--reason", help="recorded in the project history")
        add_as_option(p)
        p.set_defaults(func=cmd_exclude, kind=group.kind, excluded=action == "exclude")
    text, preview, remove, line = group.remove
    p = sub.add_parser("remove", help=text)
    p.add_argument("names", nargs="+", metavar=group.metavar)
    p.add_argument("--yes", action="store_true", help="confirm: without it, say what would go and stop")
    add_as_option(p)
    p.set_defaults(func=cmd_remove, kind=group.kind, preview=preview, remove=remove, removed_line=line)
    name, text, handler = group.extra
    sub.add_parser(name, help=text).set_defaults(func=handler)


def cmd_disagreements(args) -> int:
    import pandas as pd

    from coding import service

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
    from coding import service

    engine = engine_from_args(args)
    actor = signed_in_actor(args, engine)
    for name in args.names:
        changed = service.set_excluded(engine, args.project, kind=args.kind, name=name,
                                              excluded=args.excluded, actor=actor, reason=args.reason)
        verb = "excluded from analysis" if args.excluded else "included in analysis"
        print(f"{args.kind} {name}: {verb}" if changed else f"{args.kind} {name}: already {verb}")
    return 0


def cmd_remove(args) -> int:
    """Remove documents or coders (``args.kind``); without --yes, say what would go."""
    from coding import service

    engine = engine_from_args(args)
    actor = signed_in_actor(args, engine)
    if not args.yes:
        for name in args.names:
            print(getattr(service, args.preview)(engine, args.project, **{args.kind: name})["message"])
        print("nothing removed: add --yes to remove", file=sys.stderr)
        return 2
    for name in args.names:
        gone = getattr(service, args.remove)(engine, args.project, **{args.kind: name}, actor=actor, confirm=True)
        print(args.removed_line(name, gone))
    return 0


def cmd_history(args) -> int:
    from coding import service

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


GROUPS = (
    _Group("documents", "document", "DOCUMENT",
           "exclude documents from analysis, include them again, remove them, or show the project history",
           {"exclude": "leave out of shares, agreement and disagreements (nothing deleted)",
            "include": "bring an excluded document back"},
           ("delete documents with their codings (asks for --yes)", "removal_preview", "remove_document",
            _removed_document),
           ("history", "exclusions, inclusions and removals, oldest first", cmd_history)),
    _Group("coders", "coder", "CODER",
           "exclude coders from analysis (pilot, training), include them again, or remove them",
           {action: f"{action} coders (nothing deleted)" for action in ("exclude", "include")},
           ("delete coders with their codings (asks for --yes)", "coder_removal_preview", "remove_coder",
            _removed_coder),
           ("list", "coders with their role and whether they are excluded", cmd_coders_list)),
)
