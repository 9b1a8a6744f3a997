"""Survey files (CSV or XLSX) and closed-question share tables. Pure.

One row per respondent: an id column, attribute columns, closed answers and open answers.
Which column is which is given explicitly (``closed=``, ``open=``) or by a header prefix
``closed:`` / ``open:`` (the prefix is dropped from the name); the id is the column named by
``id_column``, else ``respondent``/``id``, else the first column; every other column is an
attribute. Parsing is all or nothing: every problem is reported with file, row (the file's
row number, header = row 1) and column, and nothing is returned unless all rows are valid.

Closed-question shares follow the share tables' denominator rule (:mod:`coding.shares`):
the denominator is *every respondent in scope*, so respondents who left a question blank
are counted in the row ``(no answer)`` and the answers of a question add up to 100%.
Each share carries a Wilson 95% interval, overall and by group.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from coding.errors import CodeframeError, Problem

NO_ANSWER = "(no answer)"
ID_COLUMNS = ("respondent", "id")
MAX_SURVEY_BYTES = 200 * 1024 * 1024
_MAX_PROBLEMS = 100
_RANGE = re.compile(r"^(?P<name>.+?)\s*=\s*(?P<low>-?\d+)\s*-\s*(?P<high>-?\d+)$")


class SurveyError(CodeframeError):
    """A survey file is invalid; nothing of it was imported."""


@dataclass
class SurveyRow:
    respondent: str
    row: int  # the file's row number (header = 1)
    attributes: dict[str, str]
    closed: dict[str, str]
    open: dict[str, str]


@dataclass
class Survey:
    name: str
    id_column: str
    attributes: list[str]
    closed: list[str]
    open: list[str]
    rows: list[SurveyRow] = field(default_factory=list)
    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    choices: dict[str, list[str]] = field(default_factory=dict)  # the allowed answers, in reading order

    def respondents(self) -> pd.DataFrame:
        """One row per respondent: id, attributes and closed answers (blank = '')."""
        columns = ["respondent", *self.attributes, *self.closed]
        return pd.DataFrame([[r.respondent, *(r.attributes[a] for a in self.attributes),
                              *(r.closed[q] for q in self.closed)] for r in self.rows], columns=columns)


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _records_csv(name: str, data: bytes) -> list[tuple[int, list[str]]]:
    from coding.attributes import _sniff_delimiter
    from coding.transcripts import decode_bytes

    text, _ = decode_bytes(data, file=name, error=SurveyError)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text), strict=True)
    from coding import limits

    records, line = [], 1
    try:
        for record in reader:
            if len(records) > limits.XLSX_MAX_ROWS:  # the header plus the rows a table may have
                raise SurveyError(f"{name} is too large to read", [Problem(
                    f"more than {limits.XLSX_MAX_ROWS:,} rows; a table may have at most {limits.XLSX_MAX_ROWS:,} "
                    "(CODEFRAME_LIMIT_XLSX_MAX_ROWS)", file=name, line=line)])
            records.append((line, [v.strip() for v in record]))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise SurveyError(f"cannot read {name}", [Problem(f"malformed CSV from this row on ({exc}); is a quote left "
                                                          "unclosed?", file=name, line=line)]) from None
    return records


def _records_xlsx(name: str, data: bytes) -> list[tuple[int, list[str]]]:
    """The rows of the first sheet, streamed (read-only): the zip is checked before it is opened, the declared
    dimension before a row is read, and rows and columns are capped as they are read (:mod:`coding.limits`)."""
    from openpyxl import load_workbook

    from coding import limits
    from coding.zipguard import check_zip

    check_zip(data, name, error=SurveyError)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise SurveyError(f"cannot read {name}", [Problem(f"not a readable XLSX workbook ({type(exc).__name__})",
                                                          file=name)]) from None
    max_rows, max_columns = int(limits.XLSX_MAX_ROWS), int(limits.XLSX_MAX_COLUMNS)

    def too_big(what: str) -> SurveyError:
        return SurveyError(f"{name} is too large to read", [Problem(
            f"{what}; a sheet may have at most {max_rows:,} rows and {max_columns:,} columns "
            "(CODEFRAME_LIMIT_XLSX_MAX_ROWS, CODEFRAME_LIMIT_XLSX_MAX_COLUMNS)", file=name)])

    try:
        sheet = book.worksheets[0]
        declared_rows, declared_columns = sheet.max_row or 0, sheet.max_column or 0  # the <dimension> element
        if declared_rows > max_rows or declared_columns > max_columns:
            raise too_big(f"the sheet declares {declared_rows:,} rows and {declared_columns:,} columns")
        records, width = [], declared_columns or max_columns  # a sheet without a dimension: up to the cap
        for number, values in enumerate(sheet.iter_rows(max_col=width + 1, values_only=True), start=1):
            if number > max_rows:
                raise too_big(f"more than {max_rows:,} rows")
            if len(values) > width and values[width] is not None:
                raise too_big(f"row {number} has a cell beyond column {width:,}, outside the declared dimension")
            cells = [_cell(v) for v in values[:width]]
            while not declared_columns and cells and not cells[-1]:
                cells.pop()
            records.append((number, cells))
        return records
    finally:
        book.close()


def read_records(name: str, data: bytes) -> list[tuple[int, list[str]]]:
    """(row number, cells) of a CSV or XLSX file (the first sheet), blank rows left out."""
    if len(data) > MAX_SURVEY_BYTES:
        raise SurveyError(f"{name} is too large", [Problem(f"more than {MAX_SURVEY_BYTES // 2**20} MB", file=name)])
    if not data.strip():
        raise SurveyError(f"{name} is empty", [Problem("the file is empty", file=name)])
    is_xlsx = data[:4] == b"PK\x03\x04" or name.lower().endswith((".xlsx", ".xlsm"))
    records = _records_xlsx(name, data) if is_xlsx else _records_csv(name, data)
    return [(n, cells) for n, cells in records if any(cells)]


def _split_spec(names: Iterable[str]) -> tuple[list[str], dict[str, tuple[int, int]], dict[str, list[str]]]:
    """``["satisfaction=yes|no", "integrity=1-10", "q"]`` -> names, numeric ranges and answer lists to check."""
    out, ranges, choices = [], {}, {}
    for raw in names:
        match = _RANGE.match(raw.strip())
        if match:
            name = match["name"].strip()
            ranges[name] = (int(match["low"]), int(match["high"]))
        elif "=" in raw and "|" in raw.split("=", 1)[1]:
            name, answers = (part.strip() for part in raw.split("=", 1))
            choices[name] = [a.strip() for a in answers.split("|") if a.strip()]
        else:
            name = raw.strip()
        if name:
            out.append(name)
    return out, ranges, choices


def parse_survey(name: str, data: bytes, *, id_column: str | None = None, closed: Sequence[str] = (),
                 open: Sequence[str] = ()) -> Survey:  # noqa: A002 - the survey's vocabulary
    """Parse a survey file, all or nothing (see the module docstring).

    ``closed`` entries may carry a whole-number range, ``"integrity=1-10"``, or the list of
    answers, ``"integrity=high|medium|low"`` (also their order in the tables): any other answer
    is an error. Blank answers are always allowed (no answer).
    """
    records = read_records(name, data)
    if not records:
        raise SurveyError(f"{name} has no rows", [Problem("no header row", file=name, line=1)])
    header_row, raw_header = records[0]
    while raw_header and not raw_header[-1]:
        raw_header.pop()
    closed_names, ranges, choices = _split_spec(closed)
    open_names = _split_spec(open)[0]
    header: list[str] = []
    problems: list[Problem] = []
    for number, column in enumerate(raw_header, start=1):
        kind = None
        for prefix in ("closed:", "open:"):
            if column.casefold().startswith(prefix):
                kind, column = prefix[:-1], column[len(prefix):].strip()
        if not column:
            problems.append(Problem(f"column {number} of the header has no name", file=name, line=header_row))
        elif column in header:
            problems.append(Problem(f"column name {column!r} is used twice", file=name, line=header_row,
                                    field=column))
        header.append(column)
        if kind:
            (closed_names if kind == "closed" else open_names).append(column)
    for column in dict.fromkeys([*closed_names, *open_names]):
        if column not in header:
            problems.append(Problem(f"no column {column!r} in the header ({', '.join(header)})", file=name,
                                    line=header_row, field=column))
    both = set(closed_names) & set(open_names)
    for column in sorted(both):
        problems.append(Problem(f"column {column!r} is named both closed and open", file=name, field=column))
    if id_column is None:
        id_column = next((h for h in header if h.casefold() in ID_COLUMNS), header[0] if header else "")
    elif id_column not in header:
        problems.append(Problem(f"no id column {id_column!r} in the header", file=name, line=header_row,
                                field=id_column))
    if id_column in set(closed_names) | set(open_names):
        problems.append(Problem(f"the id column {id_column!r} cannot be a question", file=name, field=id_column))
    if not open_names and not closed_names:
        problems.append(Problem("no closed or open question columns: name them (closed=..., open=...) or prefix "
                                "their headers with 'closed:' / 'open:'", file=name, line=header_row))
    if problems:
        raise SurveyError(f"cannot read {name}: {len(problems)} problem(s) in the header", problems)
    closed_names = list(dict.fromkeys(closed_names))
    open_names = list(dict.fromkeys(open_names))
    attributes = [h for h in header if h != id_column and h not in closed_names and h not in open_names]
    index = {h: i for i, h in enumerate(header)}
    survey = Survey(name=name, id_column=id_column, attributes=attributes, closed=closed_names, open=open_names,
                    ranges=ranges, choices=choices)
    seen: dict[str, int] = {}
    for row, cells in records[1:]:
        while len(cells) > len(header) and not cells[-1]:
            cells = cells[:-1]
        if len(cells) > len(header):
            problems.append(Problem(f"too many cells: {len(cells)}, the header has {len(header)}", file=name,
                                    line=row))
            continue
        cells = cells + [""] * (len(header) - len(cells))
        respondent = cells[index[id_column]]
        if not respondent:
            problems.append(Problem(f"the {id_column} is blank", file=name, line=row, field=id_column))
            continue
        if respondent in seen:
            problems.append(Problem(f"duplicate {id_column} {respondent!r} (first on row {seen[respondent]})",
                                    file=name, line=row, field=id_column))
            continue
        seen[respondent] = row
        answers = {q: cells[index[q]] for q in closed_names}
        for question, (low, high) in ranges.items():
            value = answers[question]
            if value and not (re.fullmatch(r"-?\d+", value) and low <= int(value) <= high):
                problems.append(Problem(f"respondent {respondent}: {value!r} is not a whole number from {low} to "
                                        f"{high}", file=name, line=row, field=question))
        for question, allowed in choices.items():
            value = answers[question]
            if value and value not in allowed:
                problems.append(Problem(f"respondent {respondent}: {value!r} is not one of the answers "
                                        f"{' | '.join(allowed)}", file=name, line=row, field=question))
        survey.rows.append(SurveyRow(respondent=respondent, row=row,
                                     attributes={a: cells[index[a]] for a in attributes}, closed=answers,
                                     open={q: cells[index[q]] for q in open_names}))
        if len(problems) >= _MAX_PROBLEMS:
            break
    if problems:
        more = " (first 100 shown)" if len(problems) >= _MAX_PROBLEMS else ""
        raise SurveyError(f"cannot read {name}: {len(problems)} problem(s){more}; nothing was imported", problems)
    if not survey.rows:
        raise SurveyError(f"{name} has no respondents", [Problem("only a header row", file=name, line=header_row)])
    return survey


# --------------------------------------------------------------------------- closed-question shares


def _answer_order(values: Iterable[str], declared: Sequence[str] | None) -> list[str]:
    present = [v for v in dict.fromkeys(values) if v]
    if declared:
        return [*declared, *[v for v in present if v not in declared]]
    numeric = all(re.fullmatch(r"-?\d+(\.\d+)?", v) for v in present)
    return sorted(present, key=float) if numeric and present else sorted(present, key=str.casefold)


def closed_shares(respondents: pd.DataFrame, questions: Sequence[str], *, by: str | None = None,
                  orders: Mapping[str, Sequence[str]] | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """Share of respondents per answer of each closed question (Wilson CI), overall or by ``by``.

    ``respondents`` has a ``respondent`` column and one column per question (blank = no
    answer). Output: the columns of :func:`coding.shares.share_table` (or ``crosstab``) plus
    ``question`` and ``answer``; ``code`` is ``"question: answer"``.
    """
    from coding import shares

    if respondents.empty:
        raise SurveyError("no respondents in scope")
    orders = dict(orders or {})
    records, codes = [], []
    ids = respondents["respondent"].astype(str).to_numpy()
    for question in questions:
        if question not in respondents.columns:
            raise SurveyError(f"no closed question {question!r}")
        answers = respondents[question].fillna("").astype(str).str.strip().to_numpy()
        order = [*_answer_order(answers, orders.get(question)), NO_ANSWER]
        codes += [f"{question}: {a}" for a in order]
        records.append(pd.DataFrame({"respondent": ids, "code": [f"{question}: {a or NO_ANSWER}" for a in answers]}))
    codings = pd.concat(records, ignore_index=True)
    people = respondents.drop(columns=[q for q in questions if q != by])
    if by is None:
        table = shares.share_table(people, codings, codes=codes, confidence=confidence)
    else:
        table = shares.crosstab(people, codings, by=by, codes=codes, confidence=confidence)
    split = table["code"].str.split(": ", n=1, expand=True)
    table.insert(0, "question", split[0])
    table.insert(1, "answer", split[1])
    if by is None:  # an empty "(no answer)" row is noise when everyone answered
        answered = ~((table["answer"] == NO_ANSWER) & (table["count"] == 0))
        table = table[answered].reset_index(drop=True)
    else:
        empty = table[table["answer"] == NO_ANSWER].groupby("question")["count"].sum()
        table = table[~table["question"].isin(empty[empty == 0].index) | (table["answer"] != NO_ANSWER)]
        table = table.reset_index(drop=True)
    table["label"] = table["answer"]
    table.attrs["notes"] = ["denominator: every respondent in scope, blanks counted as '(no answer)'; "
                            "Wilson 95% interval"]
    return table
