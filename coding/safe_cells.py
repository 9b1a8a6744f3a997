"""Spreadsheet cells that are safe to open: user text never becomes a live formula (pure).

Every CSV and XLSX writer of Codeframe goes through here (OWASP, "CSV injection"): a text cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with a leading single
quote, so a spreadsheet shows it as text and never evaluates it; in an XLSX the cell is also typed as
a string with Excel's quote prefix. Only strings are touched: numbers (negative ones too) stay numbers.

>>> neutral("=HYPERLINK(\\"http://x\\",\\"m\\")"), neutral("-3"), neutral(-3), neutral("Reform")
('\\'=HYPERLINK("http://x","m")', "'-3", -3, 'Reform')
>>> import pandas as pd
>>> print(csv_text(pd.DataFrame({"memo": ["@SUM(A1)", "fine"], "n": [-1, 2]})), end="")
memo,n
'@SUM(A1),-1
fine,2
"""

from __future__ import annotations

import pandas as pd

DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(value):
    """``value`` with a leading quote when it is a string a spreadsheet would evaluate; anything else as is."""
    if isinstance(value, str) and value.startswith(DANGEROUS_STARTS):
        return "'" + value
    return value


def unquote(cell: str) -> str:
    """The inverse of :func:`neutral` for a cell read back from a CSV Codeframe wrote (``'=x`` -> ``=x``).

    >>> unquote("'=SUM(A1)"), unquote("'plain"), unquote("=raw")
    ('=SUM(A1)', "'plain", '=raw')
    """
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(DANGEROUS_STARTS) else cell


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells, column names and index labels are :func:`neutral`."""
    out = df.copy()
    for position in range(out.shape[1]):
        series = out.iloc[:, position]
        kind = series.dtype
        if pd.api.types.is_numeric_dtype(kind) or pd.api.types.is_datetime64_any_dtype(kind) \
                or pd.api.types.is_bool_dtype(kind):
            continue  # numbers (negative ones too), dates and flags are never text
        if series.astype(object).map(lambda v: isinstance(v, str) and v.startswith(DANGEROUS_STARTS)).any():
            out.isetitem(position, series.astype(object).map(neutral))
    out.columns = [neutral(c) for c in out.columns]
    if out.index.dtype == object:
        out.index = out.index.map(neutral)
    return out


def csv_text(df: pd.DataFrame, **to_csv) -> str:
    """``df`` as CSV text (no index unless asked), every cell safe to open."""
    to_csv.setdefault("index", False)
    return safe_frame(df).to_csv(**to_csv)


def write_csv(df: pd.DataFrame, target, **to_csv) -> None:
    """``df.to_csv(target)``, every cell safe to open."""
    to_csv.setdefault("index", False)
    safe_frame(df).to_csv(target, **to_csv)


def harden_workbook(book) -> int:
    """Make every dangerous text cell of an openpyxl workbook plain text (before it is saved).

    A formula cell (``data_type == "f"``, which openpyxl makes of any string starting with ``=``) and any
    string starting with a dangerous character get a leading quote, the string type and Excel's quote
    prefix. Returns how many cells were changed. Codeframe writes no formulas of its own.
    """
    changed = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str) and (cell.data_type == "f" or value.startswith(DANGEROUS_STARTS)):
                    cell.value = neutral(value)
                    cell.data_type = "s"
                    cell.quotePrefix = True
                    changed += 1
    return changed
