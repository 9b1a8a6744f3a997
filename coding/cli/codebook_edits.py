"""``codebook add|edit|move|merge|split|retire|accept|undo|history|editors``: change the project's codebook.

Each change is a new codebook version with its changelog line (see ``codebook history``); in team
mode ``--as`` names who changes it, and their password is checked as for every other write command.
"""

from __future__ import annotations

import argparse

from coding.cli.common import engine_from_args, print_frame, whole_number
from coding.cli.users import add_as_option, signed_in_actor


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add the editing sub-commands to the ``codebook`` group."""
    p = commands.add_parser("add", help="add a code to a frame (a new codebook version)")
    p.add_argument("frame")
    p.add_argument("label")
    p.add_argument("--id", dest="key", help="the code's id (default: derived from the label)")
    p.add_argument("--parent", help="the parent code (same frame)")
    _content_options(p)
    _change_options(p, cmd_add)

    p = commands.add_parser("edit", help="change a code's label, definition, criteria or examples")
    p.add_argument("code")
    p.add_argument("--label")
    _content_options(p)
    _change_options(p, cmd_edit)

    p = commands.add_parser("move", help="move a code to another parent or frame (children move with it)")
    p.add_argument("code")
    p.add_argument("--frame", help="the frame to move it to (default: its own)")
    p.add_argument("--parent", help="the new parent (default: top level)")
    _change_options(p, cmd_move)

    p = commands.add_parser("merge", help="merge SOURCE into TARGET: codings re-pointed, SOURCE retired")
    p.add_argument("source")
    p.add_argument("target")
    _change_options(p, cmd_merge)

    p = commands.add_parser("split", help="move the codings of chosen units of CODE to a new code")
    p.add_argument("code")
    p.add_argument("label", help="the new code's label")
    p.add_argument("--unit", dest="units", type=int, action="append", required=True, metavar="SEGMENT_ID",
                   help="a unit whose codings move (repeatable; see 'codeframe codebook units CODE')")
    p.add_argument("--id", dest="key", help="the new code's id (default: derived from the label)")
    p.add_argument("--definition", default="")
    _change_options(p, cmd_split)

    p = commands.add_parser("units", help="the units carrying CODE, with their text (to choose what a split moves)")
    p.add_argument("code")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.set_defaults(func=cmd_units)

    for name, helptext, func in (("retire", "retire a code: kept with its codings, offered no more", cmd_retire),
                                 ("accept", "accept a coder's proposed code into the codebook", cmd_accept)):
        p = commands.add_parser(name, help=helptext)
        p.add_argument("code")
        _change_options(p, func)

    p = commands.add_parser("undo", help="undo a codebook change (default: the last one not undone)")
    p.add_argument("--version", type=whole_number(1), help="the version to undo")
    _change_options(p, cmd_undo)

    p = commands.add_parser("history", help="every codebook version: what, who, when, why")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.set_defaults(func=cmd_history)

    p = commands.add_parser("editors", help="who may change the codebook: admins, supervisors (default), or "
                                            "propose (coders may propose codes a supervisor accepts)")
    p.add_argument("editors", choices=("admins", "supervisors", "propose"))
    add_as_option(p)
    p.set_defaults(func=cmd_editors)


def _content_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--definition")
    p.add_argument("--include", action="append", metavar="TEXT", help="an inclusion criterion (repeatable)")
    p.add_argument("--exclude", action="append", metavar="TEXT", help="an exclusion criterion (repeatable)")
    p.add_argument("--example", dest="examples", action="append", metavar="TEXT", help="an example (repeatable)")


def _change_options(p: argparse.ArgumentParser, func) -> None:
    p.add_argument("--reason", help="why (kept in the changelog)")
    add_as_option(p)
    p.set_defaults(func=func)


def _report(change) -> int:
    print(f"codebook version {change.version}: {change.summary}")
    for warning in change.warnings:
        print(f"warning: {warning}")
    if change.proposed:
        print("the code is a proposal: a supervisor accepts it with 'codeframe codebook accept'")
    return 0


def _engine_actor(args):
    engine = engine_from_args(args)
    return engine, signed_in_actor(args, engine)


def cmd_add(args) -> int:
    from coding import service

    engine, actor = _engine_actor(args)
    return _report(service.add_code(
        engine, args.project, frame=args.frame, label=args.label, key=args.key, parent=args.parent,
        definition=args.definition or "", include=args.include or (), exclude=args.exclude or (),
        examples=args.examples or (), actor=actor, reason=args.reason))


def cmd_edit(args) -> int:
    from coding import service

    engine, actor = _engine_actor(args)
    return _report(service.edit_code(
        engine, args.project, code=args.code, label=args.label, definition=args.definition, include=args.include,
        exclude=args.exclude, examples=args.examples, actor=actor, reason=args.reason))


def cmd_move(args) -> int:
    from coding import service

    engine, actor = _engine_actor(args)
    return _report(service.move_code(engine, args.project, code=args.code, frame=args.frame, parent=args.parent,
                                     actor=actor, reason=args.reason))


def cmd_merge(args) -> int:
    from coding import service

    engine, actor = _engine_actor(args)
    return _report(service.merge_codes(engine, args.project, source=args.source, into=args.target, actor=actor,
                                       reason=args.reason))


def cmd_split(args) -> int:
    from coding import service

    engine, actor = _engine_actor(args)
    return _report(service.split_code(engine, args.project, code=args.code, label=args.label,
                                      segment_ids=args.units, key=args.key, definition=args.definition,
                                      actor=actor, reason=args.reason))


def cmd_units(args) -> int:
    from coding import service

    engine = engine_from_args(args)
    print_frame(service.coded_units(engine, args.project, code=args.code, viewer=signed_in_actor(args, engine)),
                args.format)
    return 0


def cmd_retire(args) -> int:
    from coding import service

    engine, actor = _engine_actor(args)
    return _report(service.retire_code(engine, args.project, code=args.code, actor=actor, reason=args.reason))


def cmd_accept(args) -> int:
    from coding import service

    engine, actor = _engine_actor(args)
    return _report(service.accept_code(engine, args.project, code=args.code, actor=actor, reason=args.reason))


def cmd_undo(args) -> int:
    from coding import service

    engine, actor = _engine_actor(args)
    return _report(service.undo_codebook_change(engine, args.project, version=args.version, actor=actor,
                                                reason=args.reason))


def cmd_history(args) -> int:
    from coding import service

    engine = engine_from_args(args)
    print_frame(service.codebook_history(engine, args.project, viewer=signed_in_actor(args, engine)), args.format)
    return 0


def cmd_editors(args) -> int:
    from coding import service

    engine, actor = _engine_actor(args)
    service.set_codebook_editors(engine, args.project, args.editors, actor=actor)
    print(f"the codebook is now changed by: {args.editors}")
    return 0
