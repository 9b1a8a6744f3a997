"""``codebook`` commands: check a codebook file and summarise it; export the project's codebook as an appendix."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: ``codeframe --help`` stays fast
if TYPE_CHECKING:  # imported in the handlers, so that ``codeframe --help`` stays fast
    from coding.codebook import Codebook
    from coding.errors import Problem


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``codebook`` command group to the top-level parser's subparsers."""
    parser = subparsers.add_parser("codebook", help="check, change and export the codebook (each change a version)")
    commands = parser.add_subparsers(dest="codebook_command", metavar="COMMAND")
    commands.required = True

    check = commands.add_parser(
        "check",
        help="validate a codebook and print a summary",
        description="Validate a codebook YAML file. Prints a summary and exits 0, or lists "
        "every problem as file:line: message on stderr and exits 2.",
    )
    check.add_argument(
        "file",
        nargs="?",
        type=Path,
        default=None,
        help="codebook YAML file (default: the shipped codebook.yaml)",
    )
    check.set_defaults(func=check_command)

    export = commands.add_parser(
        "export",
        help="the project's codebook as a paper's appendix (DOCX or Markdown), with counts",
        description="Frames, codes, definitions, inclusion and exclusion criteria, examples, and how many "
        "segments and respondents carry each code.",
    )
    export.add_argument("--format", choices=("md", "docx", "yaml", "qdc"), default="md",
                        help="md/docx: the appendix with counts; yaml/qdc: a codebook version as codebook.yaml "
                             "or REFI-QDA .qdc")
    export.add_argument("--version", type=int, metavar="N",
                        help="with yaml/qdc: this codebook version (see 'codebook history'; default: the current)")
    export.add_argument("--coder", default="consensus", help="whose codings the counts are of (default: %(default)s)")
    export.add_argument("--output", metavar="FILE", help="required for docx and qdc")
    export.set_defaults(func=export_command)

    from coding.cli import codebook_edits

    codebook_edits.add_commands(commands)


def check_command(args: argparse.Namespace) -> int:
    """Validate ``args.file`` (or the default codebook); 0 if valid, 2 if not."""
    from coding.codebook import default_codebook_path, load_codebook
    from coding.errors import CodebookError

    path = args.file if args.file is not None else default_codebook_path()
    try:
        codebook = load_codebook(path)
    except CodebookError as exc:
        for problem in exc.problems:
            print(format_problem(problem, default_file=str(path)), file=sys.stderr)
        count = len(exc.problems)
        print(f"{path}: {count} problem{'s' if count != 1 else ''}; the codebook was not loaded",
              file=sys.stderr)
        return 2
    for line in summary_lines(codebook, path):
        print(line)
    return 0


def export_command(args: argparse.Namespace) -> int:
    from coding import service
    from coding.cli.common import engine_from_args
    from coding.cli.retrieve import emit

    if args.format in ("yaml", "qdc"):
        data = service.export_codebook_version(engine_from_args(args), args.project, version=args.version,
                                               fmt=args.format)
        emit(data.decode("utf-8") if args.format == "yaml" else data, args.output, args.format)
        return 0
    data = service.codebook_appendix(engine_from_args(args), args.project, fmt=args.format, coder=args.coder)
    emit(data, args.output, args.format)
    return 0


def format_problem(problem: Problem, *, default_file: str) -> str:
    """``file:line: message``, the form editors and CI logs can jump to."""
    where = problem.file or default_file
    if problem.line is not None:
        where = f"{where}:{problem.line}"
    return f"{where}: {problem.message}"


def summary_lines(codebook: Codebook, path: Path | str) -> list[str]:
    """A short overview: title, then one line per frame with its code counts."""
    codes = codebook.codes()
    lines = [
        f"{path}: OK",
        f"{codebook.title}",
        f"{len(codebook.frames)} frames, {len(codes)} codes",
    ]
    width = max((len(frame.id) for frame in codebook.frames), default=0)
    for frame in codebook.frames:
        top_level = sum(1 for code in frame.codes if code.parent is None)
        nested = len(frame.codes) - top_level
        shape = f"{len(frame.codes)} codes"
        if nested:
            shape += f" ({top_level} top-level, {nested} nested)"
        kind = "mutually exclusive" if frame.mutually_exclusive else "several codes per segment"
        lines.append(f"  {frame.id:<{width}}  {shape}; {kind}")
    return lines
