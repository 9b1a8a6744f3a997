"""What command handlers share: the engine from ``--db``, and plain-text tables."""

from __future__ import annotations

import argparse
import json
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: ``codeframe --help`` stays fast
if TYPE_CHECKING:  # imported by make_engine, when a command needs the database
    from typing import Any

    from sqlalchemy.engine import Engine

# The parser's choices, spelled out so that building it (``codeframe --help``) imports neither the service
# nor numpy; tests/test_cli.py checks that they equal the library's.
LANGUAGES = ("en", "ru", "kk")  # coding.service.SUPPORTED_LANGUAGES
UNITS = ("sentence", "turn")  # coding.service.SEGMENTATION_UNITS
CONSENSUS = "consensus"  # coding.service.CONSENSUS
DISAGREEMENT_VIEWS = ("all", "undecided", "decided")  # coding.service.DISAGREEMENT_VIEWS
LEVELS = ("nominal", "ordinal", "interval", "ratio")  # coding.ratings.LEVELS


def engine_from_args(args: argparse.Namespace) -> Engine:
    """The project database named by ``--db`` (or the default), migrated to the current schema (once per run)."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from coding.database.engine import make_engine
    from coding.errors import CodeframeError

    if getattr(args, "_engine", None) is not None:
        return args._engine
    try:
        args._engine = make_engine(getattr(args, "db", None))
    except (ArgumentError, NoSuchModuleError) as exc:
        raise CodeframeError(f"--db is not a database URL this installation can open: {exc}") from None
    return args._engine


def whole_number(minimum: int):
    """An argparse ``type`` for whole numbers of at least ``minimum``, with a clear message otherwise."""

    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {number}")
        return number

    return parse


def print_frame(df, fmt: str = "table", *, out=None, floatfmt: str = "{:.3f}") -> None:
    """Print a DataFrame as an aligned table, CSV or JSON records."""
    out = out or sys.stdout
    if fmt == "csv":
        from coding.safe_cells import write_csv

        write_csv(df, out)
    elif fmt == "json":
        out.write(df.to_json(orient="records", force_ascii=False, date_format="iso", indent=2) + "\n")
    else:
        out.write(format_table(df, floatfmt=floatfmt) + "\n")


def records(df) -> list[dict]:
    """A DataFrame as JSON-ready records (NaN as null, dates in ISO), the rows :func:`print_frame` prints as JSON."""
    return json.loads(df.to_json(orient="records", force_ascii=False, date_format="iso"))


def format_table(df, *, floatfmt: str = "{:.3f}") -> str:
    """A plain aligned text table; floats to 3 decimals, NaN shown as 'NaN'."""
    import math

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "NaN" if math.isnan(value) else floatfmt.format(value)
        return "" if value is None else str(value)

    header = [str(c) for c in df.columns]
    rows = [[cell(v) for v in row] for row in df.itertuples(index=False)]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)


def print_json(data: Any, *, out=None) -> None:
    import json

    (out or sys.stdout).write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
