"""The share workbook, read back with openpyxl."""

import io

import openpyxl
import pandas as pd
import pytest

from coding.shares import case_code_matrix, crosstab, share_table
from coding.xlsx import sanitize_sheet_name, share_workbook


@pytest.fixture()
def tables():
    people = pd.DataFrame({"respondent": ["R1", "R2", "R3", "R4"], "group": ["a", "a", "b", "b"]})
    codings = pd.DataFrame({"respondent": ["R1", "R3", "X9"], "coder": "ann", "code": ["pay", "pay", "pay"]})
    shares = share_table(people, codings, labels={"pay": "Pay"})
    return people, codings, shares


def test_workbook_sheets_formats_and_values(tables):
    people, codings, shares = tables
    ct = crosstab(people, codings, by="group")
    matrix = case_code_matrix(people, codings)
    quotes = pd.DataFrame({"document": ["d1.txt"], "respondent": ["R1"], "group": ["a"], "coder": ["ann"],
                           "code": ["pay"], "text": ["We are paid too little."]})
    data = share_workbook(shares=shares, crosstabs={"By group: a/b [test]": ct}, matrix=matrix, quotes=quotes)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Shares", "By group_ a_b _test_", "Case x Code", "Quotes"]
    sheet = book["Shares"]
    header = [c.value for c in sheet[1]]
    assert header[:6] == ["code", "label", "count", "n", "percent", "display"]
    assert all(c.font.bold for c in sheet[1])
    percent = sheet.cell(row=2, column=header.index("percent") + 1)
    assert percent.value == pytest.approx(0.5) and percent.number_format == "0.0%"
    assert sheet.cell(row=2, column=header.index("display") + 1).value == "2/4 = 50.0%"
    assert sheet.column_dimensions["F"].width >= len("2/4 = 50.0%")
    assert "X9" in sheet.cell(row=4, column=1).value  # the note about the ignored coding
    matrix_sheet = book["Case x Code"]
    assert [c.value for c in matrix_sheet[1]] == ["respondent", "pay"]
    assert [matrix_sheet.cell(row=r, column=2).value for r in range(2, 6)] == [1, 0, 1, 0]
    q = book["Quotes"]
    assert [c.value for c in q[2]] == ["d1.txt", "R1", "a", "ann", "pay", "We are paid too little."]


def test_sheet_names_follow_excel_rules():
    taken = set()
    names = [sanitize_sheet_name(n, taken) for n in ["Shares", "shares", "a*b?c:d", "'quoted'", "x" * 40, "x" * 40]]
    assert names[0] == "Shares" and names[1] == "shares (2)"
    assert names[2] == "a_b_c_d" and names[3] == "quoted"
    assert all(len(n) <= 31 for n in names) and len({n.lower() for n in names}) == len(names)
    assert not any(ch in n for n in names for ch in "[]:*?/\\")


