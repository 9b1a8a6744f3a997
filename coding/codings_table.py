"""Reading a long codings table (one row per applied code): one set of rules for every reader.

The import of codings (:func:`coding.service.import_codings`), agreement from a CSV
(:func:`coding.reliability.read_long_codings`), shares from a CSV (``codeframe shares``) and the
frame coverage table (:func:`coding.service.import_coverage`, ``document,coder,frame``) decode,
size-check and split their files here; each then gives its own columns their meaning.
Pure module.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from coding.errors import CodingsError, Problem
from coding.safe_cells import unquote
from coding.textio import decode_bytes

MAX_CSV_BYTES = 200 * 1024 * 1024
"""Codings files larger than this (200 MB) are refused before they are decoded."""


def decode_csv(name: str, data: bytes | str) -> str:
    """The text of a codings file: size-checked, decoded like a transcript (UTF-8, UTF-16, cp1251,
    KOI8-R ...), without a byte-order mark; CodingsError naming the file when it cannot be read."""
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    if len(data) > MAX_CSV_BYTES:
        raise CodingsError(f"{name} is too large",
                           [Problem(f"{len(data)} bytes; the limit is {MAX_CSV_BYTES // (1024 * 1024)} MB", file=name)])
    text, _ = decode_bytes(data, file=name, error=CodingsError)
    return text


@dataclass
class CsvTable:
    """A codings file split into cells: the stripped header, and each non-blank row as
    ``(line, cells)`` with the raw cells padded to the header's width."""

    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # rows with more fields than the header

    def records(self) -> list[tuple[int, dict[str, str]]]:
        """Each row as ``(line, {column: raw cell})`` (a repeated column keeps its last cell)."""
        return [(line, dict(zip(self.header, cells))) for line, cells in self.rows]


def read_csv_table(name: str, data: bytes | str, *, required: Sequence[str], what: str = "codings file") -> CsvTable:
    """Split a codings file into a :class:`CsvTable`, checking what every reader needs.

    Raises CodingsError for an empty or undecodable file and for missing ``required`` columns
    (naming those missing and those found). Rows with more fields than the header are listed in
    ``problems``, by line; blank rows are skipped. ``what`` names the file in the messages.
    """
    if not data.strip() or (isinstance(data, str) and not data.lstrip("\ufeff").strip()):
        raise CodingsError(f"the {what} is empty", [Problem("empty file", file=name)])
    text = decode_csv(name, data)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise CodingsError(
            f"the {what} lacks required columns",
            [Problem(f"missing column(s) {', '.join(missing)}; found {', '.join(h for h in header if h) or 'none'}",
                     file=name, line=1)],
        )
    table = CsvTable(header)
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            table.problems.append(Problem("more fields than columns in the header", file=name, line=line))
            continue
        table.rows.append((line, [unquote(cell) for cell in row] + [""] * (len(header) - len(row))))
    return table
