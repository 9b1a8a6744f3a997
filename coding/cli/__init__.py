"""The ``codeframe`` command line: ``codeframe [--db URL] [--project NAME] COMMAND ...``.

Each command group lives in its own module with a ``register(subparsers)`` function;
handlers call :mod:`coding.service` (or pure modules, for commands that work on files
alone) and return an exit code. User errors print to stderr with exit status 2, no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = ("project", "codebook", "agreement", "shares", "suggest", "users", "instruments", "retrieve",
                   "search", "cooccurrence", "report", "memos", "review", "settings")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codeframe",
        description="Code qualitative interview transcripts against a codebook.",
    )
    parser.add_argument("--db", help="SQLAlchemy URL of the project database (default: $CODEFRAME_DB or the "
                                     "embedded SQLite file under $CODEFRAME_HOME / ~/.local/share/codeframe)")
    parser.add_argument("--project", default="default", help="project name (default: %(default)s)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"coding.cli.{name}").register(subparsers)
    from coding.cli.access import add_doors

    add_doors(parser)  # every command takes --as; in team mode it is required (coding.cli.access)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # --help ends here, before any library import
    from coding.errors import CodeframeError

    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        from coding.cli.access import check_door

        check_door(args)
        return int(args.func(args) or 0)
    except CodeframeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"error: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return 2
    except Exception as exc:  # a database fault: one line, never a traceback; anything else is a bug
        from coding.database.faults import database_fault

        fault = database_fault(exc)
        if fault is None:
            raise
        print(f"error: {fault}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
