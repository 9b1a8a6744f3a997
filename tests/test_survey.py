"""Survey files (CSV, XLSX) all or nothing, and closed-question shares with Wilson intervals."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from coding import survey
from coding.shares import wilson_interval

CSV = b"""respondent,body,closed:satisfaction,closed:integrity,open:change
S1,central,yes,high,Less paperwork.
S2,local,no,high,
S3,local,,low,More trust.
S4,central,yes,high,Fair pay.
"""


def test_csv_with_prefixed_headers():
    parsed = survey.parse_survey("s.csv", CSV)
    assert parsed.id_column == "respondent" and parsed.attributes == ["body"]
    assert parsed.closed == ["satisfaction", "integrity"] and parsed.open == ["change"]
    assert [r.respondent for r in parsed.rows] == ["S1", "S2", "S3", "S4"]
    assert parsed.rows[2].closed == {"satisfaction": "", "integrity": "low"} and parsed.rows[2].row == 4


def test_xlsx_reads_like_csv():
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for line in CSV.decode().strip().splitlines():
        sheet.append(line.split(","))
    sheet.append(["S5", "local", 7, "high", None])  # a number cell
    buffer = io.BytesIO()
    book.save(buffer)
    parsed = survey.parse_survey("s.xlsx", buffer.getvalue())
    assert [r.respondent for r in parsed.rows][-1] == "S5" and parsed.rows[-1].closed["satisfaction"] == "7"
    assert parsed.rows[1].open == {"change": ""}


def test_every_row_problem_names_file_row_and_column():
    data = (b"id,body,q,age,why\n"
            b"A,central,yes,30,x\n"
            b",local,no,31,\n"
            b"A,local,no,12,\n"
            b"B,local,no,abc,\n"
            b"C,local,no,40,y,extra\n")
    with pytest.raises(survey.SurveyError) as info:
        survey.parse_survey("bad.csv", data, closed=["q", "age=18-70"], open=["why"])
    problems = {(p.line, p.field): p.message for p in info.value.problems}
    assert "blank" in problems[(3, "id")]
    assert "duplicate id 'A' (first on row 2)" in problems[(4, "id")]
    assert "'abc' is not a whole number from 18 to 70" in problems[(5, "age")]
    assert "too many cells" in problems[(6, None)]
    assert all(p.file == "bad.csv" for p in info.value.problems)
    assert "nothing was imported" in str(info.value)


def test_header_problems():
    with pytest.raises(survey.SurveyError) as info:
        survey.parse_survey("h.csv", b"id,a,a\n1,2,3\n", closed=["missing"])
    messages = " | ".join(p.message for p in info.value.problems)
    assert "used twice" in messages and "no column 'missing'" in messages
    with pytest.raises(survey.SurveyError, match="no closed or open question"):
        survey.parse_survey("h.csv", b"id,a\n1,2\n")
    with pytest.raises(survey.SurveyError, match="empty"):
        survey.parse_survey("e.csv", b"  \n")
    with pytest.raises(survey.SurveyError, match="not a readable XLSX"):
        survey.parse_survey("broken.xlsx", b"PK\x03\x04garbage")


def test_closed_shares_count_every_respondent_and_blanks():
    parsed = survey.parse_survey("s.csv", CSV)
    table = survey.closed_shares(parsed.respondents(), parsed.closed).set_index("code")
    assert table.loc["satisfaction: yes", "display"] == "2/4 = 50.0%"
    assert table.loc["satisfaction: no", "display"] == "1/4 = 25.0%"
    assert table.loc["satisfaction: (no answer)", "display"] == "1/4 = 25.0%"
    assert "integrity: (no answer)" not in table.index  # everyone answered it
    low, high = wilson_interval(3, 4)
    assert (table.loc["integrity: high", "ci_low"], table.loc["integrity: high", "ci_high"]) == (low, high)
    assert table.loc["integrity: high", "answer"] == "high" and table.loc["integrity: high", "question"] == "integrity"


def test_closed_shares_by_group():
    parsed = survey.parse_survey("s.csv", CSV)
    table = survey.closed_shares(parsed.respondents(), ["satisfaction"], by="body")
    cells = table.set_index(["answer", "group"])
    assert cells.loc[("yes", "central"), "display"] == "2/2 = 100.0%"
    assert cells.loc[("yes", "local"), "display"] == "0/2 = 0.0%"
    assert cells.loc[("(no answer)", "local"), "display"] == "1/2 = 50.0%"
    assert set(table["group_n"]) == {2}


def test_numeric_answers_sort_as_numbers():
    respondents = pd.DataFrame({"respondent": list("abcd"), "q": ["10", "9", "", "6"]})
    table = survey.closed_shares(respondents, ["q"], orders=None)
    assert table["answer"].tolist() == ["6", "9", "10", "(no answer)"]


def test_declared_answers_are_checked_and_give_the_order():
    data = b"id,q\n1,low\n2,high\n3,\n4,hihg\n"
    with pytest.raises(survey.SurveyError) as info:
        survey.parse_survey("s.csv", data, closed=["q=high|medium|low"])
    (problem,) = info.value.problems
    assert (problem.line, problem.field) == (5, "q") and "'hihg' is not one of the answers" in problem.message
    parsed = survey.parse_survey("s.csv", data.replace(b"hihg", b"medium"), closed=["q=high|medium|low"])
    assert parsed.choices == {"q": ["high", "medium", "low"]}
    table = survey.closed_shares(parsed.respondents(), ["q"], orders=parsed.choices)
    assert table["answer"].tolist() == ["high", "medium", "low", "(no answer)"]
