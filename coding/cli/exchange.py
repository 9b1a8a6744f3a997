"""Export and import commands for REFI-QDA (.qdpx/.qdc) and the long codings CSV.

The ``import`` and ``export`` groups are created by :mod:`coding.cli.project`, which
calls :func:`add_import_commands` and :func:`add_export_commands` with their
sub-parsers:

* ``export qdpx FILE``   -- the whole project (codebook, documents, attributes, codings)
* ``export qdc FILE``    -- the codebook (from the project, or ``--codebook YAML`` without a database)
* ``export codings CSV`` -- the long codings table (one row per applied code)
* ``import qdpx FILE``   -- a project from MAXQDA, ATLAS.ti, NVivo, QualCoder...; prints what was skipped
* ``import qdc FILE --output YAML`` -- a codebook, written as codebook YAML to review and then apply
"""

from __future__ import annotations

import sys
from pathlib import Path

from coding.cli.users import add_as_option, signed_in_actor


def add_export_commands(export_subparsers) -> None:
    p = export_subparsers.add_parser("qdpx", help="the project as a REFI-QDA project (.qdpx)")
    p.add_argument("path", metavar="FILE")
    p.set_defaults(func=cmd_export_qdpx)
    p = export_subparsers.add_parser("qdc", help="the codebook as a REFI-QDA codebook (.qdc)")
    p.add_argument("path", metavar="FILE")
    p.add_argument("--codebook", metavar="YAML", help="export this codebook file instead of the project's")
    p.set_defaults(func=cmd_export_qdc)
    p = export_subparsers.add_parser("codings", help="codings as a long CSV: one row per applied code")
    p.add_argument("path", metavar="CSV", help="output file ('-' for standard output)")
    p.add_argument("--coder", help="only this coder's codings")
    p.add_argument("--frame", help="only codes of this frame")
    p.add_argument("--as", dest="as_user", metavar="NAME",
                   help="who exports: in blind mode a coder gets only their own codings")
    p.set_defaults(func=cmd_export_codings)


def add_import_commands(import_subparsers) -> None:
    p = import_subparsers.add_parser("qdpx", help="a REFI-QDA project (.qdpx): codebook, texts, cases, codings")
    p.add_argument("path", metavar="FILE")
    p.set_defaults(func=cmd_import_qdpx)
    p = import_subparsers.add_parser("qdc", help="a REFI-QDA codebook (.qdc)")
    p.add_argument("path", metavar="FILE")
    p.add_argument("--title", help="title of the imported codebook (default: the file name)")
    p.add_argument("--output", metavar="YAML",
                   help="instead of applying it to the project, write the codebook as YAML here to review "
                        "(codes from other tools lack examples), then load it with 'codeframe apply-codebook YAML'")
    add_as_option(p)
    p.set_defaults(func=cmd_import_qdc)


def _write_bytes(path: str, data: bytes) -> None:
    Path(path).write_bytes(data)
    print(f"wrote {path} ({len(data)} bytes)", file=sys.stderr)


def _read(path: str) -> bytes:
    from coding.errors import ExchangeError, Problem

    file = Path(path)
    if not file.is_file():
        raise ExchangeError(f"{path} does not exist", [Problem("file not found", file=path)])
    return file.read_bytes()


def cmd_export_qdpx(args) -> int:
    from coding import service
    from coding.cli.common import engine_from_args
    from coding.refiqda import export_qdpx

    bundle = service.export_bundle(engine_from_args(args), args.project)
    _write_bytes(args.path, export_qdpx(bundle))
    return 0


def cmd_export_qdc(args) -> int:
    from coding.refiqda import export_qdc

    if args.codebook:
        from coding.codebook import load_codebook

        codebook = load_codebook(args.codebook)
        _write_bytes(args.path, export_qdc(codebook))
        return 0
    from coding import service
    from coding.cli.common import engine_from_args

    _write_bytes(args.path, service.export_qdc_file(engine_from_args(args), args.project))  # colours, categories
    return 0


def cmd_export_codings(args) -> int:
    from coding import service
    from coding.cli.common import engine_from_args

    engine = engine_from_args(args)
    frame = service.export_codings_frame(engine, args.project, coder=args.coder, frame=args.frame,
                                         viewer=signed_in_actor(args, engine))
    from coding.safe_cells import write_csv

    if args.path == "-":
        write_csv(frame, sys.stdout)
    else:
        write_csv(frame, args.path, encoding="utf-8")
        print(f"wrote {args.path} ({len(frame)} codings)", file=sys.stderr)
    return 0


def cmd_import_qdpx(args) -> int:
    from coding import service
    from coding.cli.common import engine_from_args
    from coding.refiqda import import_qdpx

    bundle, report = import_qdpx(_read(args.path), name=Path(args.path).name)
    service.import_bundle(engine_from_args(args), args.project, bundle, report)
    print(report.summary())
    return 0


def cmd_import_qdc(args) -> int:
    from coding.refiqda import import_qdc

    codebook = import_qdc(_read(args.path), title=args.title, name=Path(args.path).name)
    if args.output is None:
        from coding import service
        from coding.cli.common import engine_from_args

        engine = engine_from_args(args)
        report = service.import_codebook_object(engine, args.project, codebook, actor=signed_in_actor(args, engine))
        print(f"applied {len(codebook.code_ids)} codes in {len(codebook.frames)} frames to project {args.project!r}")
        for line in report.lines():
            print(line)
        return 0
    import yaml

    text = yaml.safe_dump(codebook.to_dict(), sort_keys=False, allow_unicode=True, width=100)
    Path(args.output).write_text(text, encoding="utf-8")
    print(f"wrote {args.output}: {len(codebook.code_ids)} codes in {len(codebook.frames)} frames", file=sys.stderr)
    return 0
