"""One rule for every door of the command line: in team mode each command names its acting user.

Every leaf command gets ``--as NAME``. Before a command runs on a project in team mode, the
acting user's password is checked (``$CODEFRAME_PASSWORD`` or a prompt, throttled per OS user and
account) and :func:`coding.service.authorize` checks the rights the command needs; the service
functions then check the finer rules (whose codings, blind mode) with that actor. Only the
commands of :data:`NO_PROJECT_DATA` run without, because they read no project database.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator

from coding.errors import CodeframeError, Problem

NO_PROJECT_DATA = frozenset({"codebook check"})  # reviewed: reads a YAML file, never a database
# reviewed: these convert files and open no database with these options
FILES_ONLY: dict[str, Callable[[argparse.Namespace], bool]] = {
    "export qdc": lambda args: args.codebook is not None,  # a codebook YAML file to .qdc
    "import qdc": lambda args: args.output is not None,  # a .qdc file to codebook YAML
}


def _coder_or_supervise(args) -> str:
    """Reading one's own codings is a coder's right; anyone else's (the consensus included) a supervisor's."""
    return "read" if getattr(args, "coder", None) == args.as_user else "supervise"


# The rights each command needs in team mode: read (any signed-in user; what they see follows their role and
# blind mode), code (any user, on their own codings; supervisors on anyone's), supervise, admin.
RIGHTS: dict[str, str | Callable[[argparse.Namespace], str]] = {
    "init": "admin",
    "import transcripts": "admin", "import attributes": "admin", "import codings": "code",
    "import survey": "admin", "import ocai": "admin", "import scales": "admin",
    "import qdpx": "admin", "import qdc": "admin",
    "export qdpx": "supervise", "export qdc": "read", "export codings": "read",
    "status": "read", "apply-codebook": "admin",
    "history": lambda args: "admin" if args.sign_ins else "read",
    "codebook export": lambda args: "read" if args.format in ("yaml", "qdc") else _coder_or_supervise(args),
    # code by code edits: the service applies the project's codebook_editors (admins, supervisors, or coders propose)
    "codebook add": "code", "codebook edit": "supervise", "codebook move": "supervise",
    "codebook merge": "supervise", "codebook split": "supervise", "codebook retire": "supervise",
    "codebook accept": "supervise", "codebook undo": "supervise", "codebook units": "read",
    "codebook history": "read", "codebook editors": "admin",
    "agreement": "supervise", "shares": "read",
    "suggest": _coder_or_supervise, "evaluate-suggestions": "supervise",
    "user add": "admin", "user role": "admin", "user list": "read",
    "user password": lambda args: "read" if args.name == args.as_user else "admin",
    "team": "admin", "undo": "code", "backup": "admin", "restore": "admin",
    "ocai": "read", "scales": "read", "survey": "read",
    "retrieve": "read", "search": lambda args: "code" if args.code else "read",
    "cooccurrence": "read", "report": "read", "memos": "read", "memo add": "code", "key-quote": "code",
    "disagreements": "supervise",
    "documents exclude": "admin", "documents include": "admin", "documents remove": "admin",
    "documents history": "supervise",
    "coders exclude": "admin", "coders include": "admin", "coders remove": "admin", "coders list": "read",
    "settings": lambda args: "admin" if any(
        getattr(args, k) is not None for k in ("model", "language", "unit", "blind")) else "read",
}


def leaf_parsers(parser: argparse.ArgumentParser,
                 path: tuple[str, ...] = ()) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every runnable command as ("group command", its parser), by walking the sub-parsers."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups and path:
        yield " ".join(path), parser
    for group in groups:
        for name, sub in group.choices.items():
            yield from leaf_parsers(sub, (*path, name))


def add_doors(parser: argparse.ArgumentParser) -> None:
    """Give every command ``--as`` (where it has none yet) and its name, for :func:`check_door`."""
    from coding.cli.users import add_as_option

    for path, leaf in leaf_parsers(parser):
        if "--as" not in leaf._option_string_actions:
            add_as_option(leaf)
        leaf.set_defaults(command_path=path)


def needed_rights(path: str, args: argparse.Namespace) -> str:
    """The rights ``path`` needs with these arguments; a command missing from :data:`RIGHTS` needs admin."""
    need = RIGHTS.get(path, "admin")
    return need(args) if callable(need) else need


def check_door(args: argparse.Namespace) -> None:
    """Before a command: in team mode, the ``--as`` user signs in and must hold the command's rights."""
    from coding import service
    from coding.cli.common import engine_from_args
    from coding.cli.users import signed_in_actor

    path = getattr(args, "command_path", None)
    if path is None or path in NO_PROJECT_DATA or FILES_ONLY.get(path, lambda _: False)(args):
        return
    engine = engine_from_args(args)
    if not service.team_mode_on(engine, args.project):
        return
    if not getattr(args, "as_user", None):
        raise CodeframeError(
            f"team mode is on: `codeframe {path}` needs --as NAME, the acting user (password from "
            "$CODEFRAME_PASSWORD or asked); nothing was done", [Problem("missing --as", field="--as")])
    signed_in_actor(args, engine)
    service.authorize(engine, args.project, args.as_user, needed_rights(path, args), f"run `codeframe {path}`")
