"""Read the respondent attributes CSV: one row per document or respondent.

The first column holds the id (its header is free: ``respondent``, ``document``, ``id``...);
every further column is an attribute (expert group, internal/external, sector...). The
delimiter (comma, semicolon or tab) and the encoding (as for transcripts: UTF-8/16 with
or without BOM, cp1251, KOI8-R...) are detected. Values and ids are stripped of
surrounding whitespace; blank lines are skipped; ids are compared exactly.

All problems found are reported together in one :class:`~coding.errors.AttributesError`,
each naming the file and line (and column where it helps).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from coding import limits
from coding.errors import AttributesError, Problem
from coding.textio import decode_bytes
from coding.transcripts import MAX_FILE_BYTES

DELIMITERS = (",", ";", "\t")
_MAX_PROBLEMS = 50


@dataclass
class Attributes(Mapping):
    """The attributes table: ``rows[id][column] -> value``; reads like that dict.

    ``id_column`` is the first column's header; ``columns`` the attribute columns in file
    order (id column excluded); ``delimiter`` and ``encoding`` what was detected.

    >>> a = read_attributes_csv("a.csv", data=b"respondent;group\\nR1;internal\\nR2;external\\n")
    >>> a.id_column, a.columns, a["R2"]["group"], len(a)
    ('respondent', ['group'], 'external', 2)
    """

    id_column: str
    columns: list[str]
    rows: dict[str, dict[str, str]] = field(default_factory=dict)
    delimiter: str = ","
    encoding: str = "utf-8"

    def __getitem__(self, key: str) -> dict[str, str]:
        return self.rows[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def _fields(line: str, delimiter: str) -> list[str] | None:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return None


def _sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: the one splitting the header into most columns that the
    following lines agree with (ties go to the earlier in ``DELIMITERS``).

    >>> _sniff_delimiter("id;group\\nR1;a, b\\n")
    ';'
    """
    lines = [line for line in text.split("\n", 200)[:200] if line.strip()]
    if not lines:
        return ","
    best, best_score = ",", (False, 0, 0)
    for delimiter in DELIMITERS:
        header = _fields(lines[0], delimiter)
        if header is None:
            continue
        width = len(header)
        agreeing = sum(1 for line in lines[1:21] if len(_fields(line, delimiter) or ()) == width)
        checked = len(lines[1:21])
        score = (width > 1 and agreeing * 2 >= checked, width, agreeing)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_header(record: list[str], *, file: str, line: int, problems: list[Problem]) -> list[str]:
    """Column names of the header row; blank and duplicate names are added to ``problems``."""
    header = [value.strip() for value in record]
    while len(header) > 1 and not header[-1]:
        header.pop()  # trailing delimiters after the last column name
    seen: dict[str, int] = {}
    for number, column in enumerate(header, start=1):
        if not column:
            problems.append(Problem(f"column {number} of the header has no name", file, line))
        elif column.casefold() in seen:
            problems.append(Problem(
                f"column name {column!r} is used twice (columns {seen[column.casefold()]} and {number})",
                file, line, column))
        else:
            seen[column.casefold()] = number
    return header


def read_attributes_csv(path: str | Path, *, data: bytes | None = None) -> Attributes:
    """Read an attributes CSV from ``path`` (or from ``data``, with ``path`` naming it).

    Raises
    ------
    AttributesError
        Empty file, no header, blank or duplicate column names, rows with too many or
        too few fields, blank or duplicate ids -- each problem with its line.
    """
    path = Path(path)
    file = path.name

    def fail(message: str, line: int | None = None) -> AttributesError:
        return AttributesError(f"Cannot read {file}", [Problem(message, file=file, line=line)])

    if data is None:
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise fail(f"the file is larger than the {MAX_FILE_BYTES // (1024 * 1024)} MB limit")
            data = path.read_bytes()
        except FileNotFoundError:
            raise fail("file not found") from None
        except OSError as exc:
            raise fail(f"cannot open the file: {exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise fail(f"the file is larger than the {MAX_FILE_BYTES // (1024 * 1024)} MB limit")
    text, encoding = decode_bytes(data, file=file, error=AttributesError)
    delimiter = _sniff_delimiter(text)

    problems: list[Problem] = []
    header: list[str] | None = None
    rows: dict[str, dict[str, str]] = {}
    row_lines: dict[str, int] = {}
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    next_line = 1
    records = 0
    try:
        for record in reader:
            line, next_line = next_line, reader.line_num + 1
            if not any(value.strip() for value in record):
                continue
            if header is None:
                header = _read_header(record, file=file, line=line, problems=problems)
                continue
            records += 1
            if records > limits.CSV_MAX_ROWS:
                raise fail(f"more than {limits.CSV_MAX_ROWS:,} data rows; an attributes file may have at most "
                           f"{limits.CSV_MAX_ROWS:,} (one per respondent or document; "
                           "CODEFRAME_LIMIT_CSV_MAX_ROWS)", line)
            values = [value.strip() for value in record]
            if len(values) > len(header) and not any(values[len(header):]):
                values = values[: len(header)]  # trailing delimiters
            if len(values) != len(header):
                many = "many" if len(values) > len(header) else "few"
                problems.append(Problem(
                    f"too {many} fields: {len(values)}, the header has {len(header)}", file, line))
            elif not values[0]:
                problems.append(Problem(f"the {header[0] or 'id'} is blank", file, line, header[0] or None))
            elif values[0] in rows:
                problems.append(Problem(
                    f"duplicate {header[0]} {values[0]!r} (first on line {row_lines[values[0]]})",
                    file, line, header[0]))
            else:
                rows[values[0]] = dict(zip(header[1:], values[1:]))
                row_lines[values[0]] = line
            if len(problems) >= _MAX_PROBLEMS:
                break
    except csv.Error as exc:
        problems.append(Problem(f"malformed CSV from this line on ({exc}); is a quote left unclosed?",
                                file, next_line))
    if header is None:
        raise fail("the file has no header row (the first row must name the columns)")
    if problems:
        raise AttributesError(f"Cannot read {file}: {len(problems)} problem(s)", problems)
    return Attributes(id_column=header[0], columns=header[1:], rows=rows,
                      delimiter=delimiter, encoding=encoding)
