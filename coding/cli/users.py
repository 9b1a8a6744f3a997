"""Team commands: ``user add|role|password|list``, ``team on|off``, ``undo``, ``backup``, ``restore``.

Who is acting is given with ``--as NAME``. Once a project is in team mode, that user's
password is checked too: from ``$CODEFRAME_PASSWORD``, or asked on the terminal. (Anyone
who can open the database file or log in to the server can change it directly; sign-in
and roles govern what people do through Codeframe, the database credentials guard the data.)
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from coding.cli.common import engine_from_args, print_frame, whole_number
from coding.roles import ROLES

PASSWORD_ENV = "CODEFRAME_PASSWORD"


def cli_client() -> str:
    """The client of CLI sign-ins in the history and their back-off: ``cli:<OS user>``, one per person at the
    terminal (one user's failures do not lock the others out; the account's own back-off still applies)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container): its number
        user = f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return f"cli:{user}"


def register(subparsers) -> None:
    user = subparsers.add_parser("user", help="users of a team project: add, change role or password, list")
    user_sub = user.add_subparsers(dest="user_command", metavar="COMMAND", required=True)
    add = user_sub.add_parser("add", help="add a user (the first admin needs no --as)")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="coder", help="default: %(default)s")
    add.add_argument("--password-stdin", action="store_true", help="read the new user's password from stdin")
    add_as_option(add)
    add.set_defaults(func=cmd_user_add)
    role = user_sub.add_parser("role", help="change a user's role")
    role.add_argument("name")
    role.add_argument("role", choices=ROLES)
    add_as_option(role)
    role.set_defaults(func=cmd_user_role)
    password = user_sub.add_parser("password", help="set a user's password, read from stdin")
    password.add_argument("name")
    add_as_option(password)
    password.set_defaults(func=cmd_user_password)
    listing = user_sub.add_parser("list", help="users, roles and who can sign in")
    listing.add_argument("--format", choices=("table", "csv", "json"), default="table")
    listing.set_defaults(func=cmd_user_list)

    team = subparsers.add_parser("team", help="switch team mode on or off (admins only)")
    team.add_argument("state", choices=("on", "off"))
    add_as_option(team, required=True)
    team.set_defaults(func=cmd_team)

    undo = subparsers.add_parser("undo", help="revert a coder's last coding changes (logged, never deleted)")
    undo.add_argument("--coder", required=True)
    undo.add_argument("--steps", type=whole_number(1), default=1, help="how many changes (default: %(default)s)")
    add_as_option(undo)
    undo.set_defaults(func=cmd_undo)

    backup = subparsers.add_parser("backup", help="write a consistent backup of the database to FILE")
    backup.add_argument("file", metavar="FILE")
    backup.set_defaults(func=cmd_backup)
    restore = subparsers.add_parser("restore", help="load a backup into an empty database (--db)")
    restore.add_argument("file", metavar="FILE")
    restore.set_defaults(func=cmd_restore)


def add_as_option(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    parser.add_argument("--as", dest="as_user", metavar="NAME", required=required,
                        help="who is acting (an admin for user management); in team mode their password is "
                             f"read from ${PASSWORD_ENV} or asked")


def signed_in_actor(args, engine) -> str | None:
    """The ``--as`` user, authenticated (once per run) when the project is in team mode."""
    from coding import service
    from coding.errors import CodeframeError, Problem

    name = getattr(args, "as_user", None)
    if name is None or getattr(args, "_signed_in", None) == name or not service.team_mode_on(engine, args.project):
        return name
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        if not sys.stdin.isatty():
            raise CodeframeError(f"team mode is on: give the password of {name} in ${PASSWORD_ENV}",
                                 [Problem("no password", field=PASSWORD_ENV)])
        password = getpass.getpass(f"password for {name}: ")
    args._signed_in = service.check_password(engine, args.project, name, password, client=cli_client())
    return args._signed_in


def _read_password_stdin() -> str:
    from coding.errors import CodeframeError, Problem

    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise CodeframeError("no password on stdin", [Problem("empty password", field="stdin")])
    return password


def cmd_user_add(args) -> int:
    from coding import service

    engine = engine_from_args(args)
    actor = signed_in_actor(args, engine)
    password = _read_password_stdin() if args.password_stdin else None
    name = service.create_user(engine, args.project, args.name, role=args.role, password=password, actor=actor)
    print(f"user {name!r} added as {args.role}" + ("" if password else " (no password: cannot sign in yet)"))
    return 0


def cmd_user_role(args) -> int:
    from coding import service

    engine = engine_from_args(args)
    service.set_role(engine, args.project, args.name, args.role, actor=signed_in_actor(args, engine))
    print(f"{args.name} is now {args.role}")
    return 0


def cmd_user_password(args) -> int:
    from coding import service

    engine = engine_from_args(args)
    actor = signed_in_actor(args, engine)
    service.set_password(engine, args.project, args.name, _read_password_stdin(), actor=actor)
    print(f"password of {args.name} set")
    return 0


def cmd_user_list(args) -> int:
    import pandas as pd

    from coding import service

    users = service.list_users(engine_from_args(args), args.project)  # names and roles: any signed-in user
    print_frame(pd.DataFrame(users, columns=["name", "role", "is_consensus", "can_sign_in"]), args.format)
    return 0


def cmd_team(args) -> int:
    from coding import service

    engine = engine_from_args(args)
    actor = signed_in_actor(args, engine)
    info = service.set_team_mode(engine, args.project, args.state == "on", actor=actor)
    print(f"team mode {'on' if info.team_mode else 'off'} for project {info.name!r}")
    return 0


def cmd_undo(args) -> int:
    from coding import service

    engine = engine_from_args(args)
    reverted = service.undo(engine, args.project, coder=args.coder, actor=signed_in_actor(args, engine),
                            steps=args.steps)
    print(f"undid {reverted} change(s) of {args.coder}" if reverted else f"nothing to undo for {args.coder}")
    return 0


def cmd_backup(args) -> int:
    from coding import service

    path = service.backup(engine_from_args(args), args.file)
    print(f"backup written to {path}")
    return 0


def cmd_restore(args) -> int:
    from coding import service

    counts = service.restore(engine_from_args(args), args.file)
    print(f"restored {sum(counts.values())} row(s) from {args.file}: "
          + ", ".join(f"{t} {n}" for t, n in counts.items() if n))
    return 0
