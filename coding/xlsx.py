"""The share workbook: shares, crosstabs, case x code matrix and every coded quote in one XLSX.

Pure: DataFrames in, ``bytes`` out (openpyxl through pandas' ExcelWriter).
Percent columns of :mod:`coding.shares` (0-100) are written as Excel
percentages (0-1 with format ``0.0%``), so they stay numbers a reader can compute with.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

import pandas as pd

from coding.safe_cells import harden_workbook

#: Columns holding percentages (0-100) in coding.shares output.
PERCENT_COLUMNS = {"percent", "ci_low", "ci_high", "coder_min", "coder_max", "row_percent"}
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_MAX_SHEET = 31
_MAX_WIDTH = 60


def sanitize_sheet_name(name: str, taken: set[str] | None = None) -> str:
    """A valid, unique Excel sheet name: at most 31 characters, none of ``[]:*?/\\``,
    no leading/trailing apostrophe, not empty, not "History"; unique case-insensitively.

    >>> sanitize_sheet_name("By region/role: [all]")
    'By region_role_ _all_'
    >>> sanitize_sheet_name("x" * 40)
    'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'
    >>> sanitize_sheet_name("Shares", {"shares"})
    'Shares (2)'
    """
    taken = taken if taken is not None else set()
    clean = _FORBIDDEN.sub("_", str(name)).strip().strip("'").strip()
    clean = "".join(ch for ch in clean if ch.isprintable()) or "Sheet"
    if clean.lower() == "history":
        clean = "History_"
    candidate = clean[:_MAX_SHEET]
    number = 2
    while candidate.lower() in taken:
        suffix = f" ({number})"
        candidate = clean[: _MAX_SHEET - len(suffix)].rstrip() + suffix
        number += 1
    taken.add(candidate.lower())
    return candidate


def _excel_ready(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for column in out.columns:
        if column in PERCENT_COLUMNS:
            out[column] = pd.to_numeric(out[column], errors="coerce") / 100
    return out


def _style(sheet, df: pd.DataFrame, *, index_columns: int = 0) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
    sheet.freeze_panes = "A2" if not index_columns else f"{get_column_letter(index_columns + 1)}2"
    headers = [*([df.index.name or ""] * index_columns), *map(str, df.columns)]
    for position, header in enumerate(headers, start=1):
        letter = get_column_letter(position)
        values = [sheet.cell(row=r, column=position).value for r in range(2, min(sheet.max_row, 500) + 1)]
        longest = max([len(str(header))] + [len(str(v)) for v in values if v is not None])
        sheet.column_dimensions[letter].width = min(_MAX_WIDTH, longest + 2)
        if header in PERCENT_COLUMNS:
            for row in range(2, sheet.max_row + 1):
                sheet.cell(row=row, column=position).number_format = "0.0%"
            sheet.column_dimensions[letter].width = max(sheet.column_dimensions[letter].width, 9)
        if header == "text":
            for row in range(2, sheet.max_row + 1):
                sheet.cell(row=row, column=position).alignment = Alignment(wrap_text=True, vertical="top")


def share_workbook(
    *,
    shares: pd.DataFrame,
    crosstabs: Mapping[str, pd.DataFrame] | None = None,
    matrix: pd.DataFrame | None = None,
    quotes: pd.DataFrame | None = None,
) -> bytes:
    """An XLSX workbook with sheets ``Shares``, one per crosstab (named by its key,
    sanitised to Excel's rules), ``Case x Code`` and ``Quotes``.

    Headers are bold and frozen, column widths fit the content (at most 60),
    percent columns are Excel percentages. Notes of the share table (e.g. ignored
    codings of respondents not in scope) go below the table on the Shares sheet.
    """
    buffer = io.BytesIO()
    taken: set[str] = set()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        name = sanitize_sheet_name("Shares", taken)
        _excel_ready(shares).to_excel(writer, sheet_name=name, index=False)
        sheet = writer.sheets[name]
        _style(sheet, shares)
        notes = list(shares.attrs.get("notes", []))
        for offset, note in enumerate(notes, start=3):  # one blank row after the table
            sheet.cell(row=len(shares) + offset, column=1, value=f"note: {note}")
        for key, table in (crosstabs or {}).items():
            name = sanitize_sheet_name(key, taken)
            _excel_ready(table).to_excel(writer, sheet_name=name, index=False)
            _style(writer.sheets[name], table)
        if matrix is not None:
            name = sanitize_sheet_name("Case x Code", taken)
            frame = matrix.rename_axis(matrix.index.name or "respondent")
            frame.to_excel(writer, sheet_name=name, index=True)
            _style(writer.sheets[name], frame, index_columns=1)
        if quotes is not None:
            name = sanitize_sheet_name("Quotes", taken)
            quotes.to_excel(writer, sheet_name=name, index=False)
            _style(writer.sheets[name], quotes)
        harden_workbook(writer.book)
    return buffer.getvalue()
