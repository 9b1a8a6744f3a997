"""`codeframe shares` in CSV mode: recompute Figure 1 from exported tables alone."""

import csv
import io
import json

import openpyxl
import pytest

from coding.cli import main
from coding.codebook import default_codebook_path

FIGURE_1 = {"rd_systemic_approach": 7, "rd_resistance_to_change": 3, "rd_human_capital": 4,
            "rd_delegation": 2, "rd_evidence_based": 2}


@pytest.fixture()
def files(tmp_path):
    respondents = tmp_path / "respondents.csv"
    with respondents.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["respondent", "group"])
        for i in range(1, 25):
            writer.writerow([f"R{i:02d}", "internal" if i <= 12 else "external"])
    codings = tmp_path / "codings.csv"
    with codings.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["document", "respondent", "coder", "code", "text"])
        start = 0
        for code, count in FIGURE_1.items():
            for i in range(count):
                rid = f"R{start + i + 1:02d}"
                writer.writerow([f"{rid}.txt", rid, "ann", code, f"quote of {rid}"])
                writer.writerow([f"{rid}.txt", rid, "ann", code, f"another quote of {rid}"])
            start += count
        writer.writerow(["R01.txt", "R01", "bob", "rd_systemic_approach", "bob's view"])
        writer.writerow(["X.txt", "X99", "ann", "rd_delegation", "not in scope"])
    return tmp_path, codings, respondents


def test_table_shows_the_article_figures_with_the_full_denominator(files, capsys):
    _, codings, respondents = files
    code = main(["shares", str(codings), "--respondents", str(respondents), "--frame", "reform_directions",
                 "--coder", "ann"])
    out = capsys.readouterr().out
    assert code == 0
    for display in ["7/24 = 29.2%", "3/24 = 12.5%", "4/24 = 16.7%", "2/24 = 8.3%"]:
        assert display in out
    assert "Systematic and comprehensive approach to reform" in out
    assert "X99" in out  # the ignored out-of-scope coding is noted


def test_csv_and_json_and_crosstab(files, capsys):
    _, codings, respondents = files
    assert main(["shares", str(codings), "--respondents", str(respondents), "--frame", "reform_directions",
                 "--format", "csv", "--by", "group"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    internal = {r["code"]: r for r in rows if r["group"] == "internal"}
    assert internal["rd_systemic_approach"]["count"] == "7" and internal["rd_systemic_approach"]["group_n"] == "12"
    assert main(["shares", str(codings), "--respondents", str(respondents), "--frame", "reform_directions",
                 "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    shares = {r["code"]: r for r in payload["rows"]}
    assert shares["rd_systemic_approach"]["n"] == 24
    assert shares["rd_systemic_approach"]["coder_max"] == pytest.approx(100 * 7 / 24)


def test_xlsx_needs_output_and_writes_a_workbook(files, capsys):
    tmp, codings, respondents = files
    assert main(["shares", str(codings), "--respondents", str(respondents), "--format", "xlsx"]) == 2
    assert "--output" in capsys.readouterr().err
    target = tmp / "shares.xlsx"
    chart = tmp / "fig1.png"
    assert main(["shares", str(codings), "--respondents", str(respondents), "--frame", "reform_directions",
                 "--by", "group", "--format", "xlsx", "--output", str(target), "--chart", str(chart)]) == 0
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["Shares", "By group", "Case x Code", "Quotes"]
    assert book["Case x Code"].max_row == 25  # header + all 24 respondents
    quotes = book["Quotes"]
    header = [c.value for c in quotes[1]]
    assert {"document", "respondent", "group", "coder", "code", "text"} <= set(header)
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_without_a_codebook_the_codes_are_taken_as_given(files, tmp_path, capsys):
    _, _, respondents = files
    own = tmp_path / "own_codes.csv"
    own.write_text("respondent,coder,code\nR01,ann,human_capital\nR02,ann,human_capital\nR02,ann,trust\n",
                   encoding="utf-8")
    assert main(["shares", str(own), "--respondents", str(respondents)]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[2:] if line.strip()}
    assert "2/24 = 8.3%" in lines["human_capital"] and "1/24 = 4.2%" in lines["trust"]
    assert lines["human_capital"].split()[1] == "human_capital"  # the label is the id
    assert main(["shares", str(own), "--respondents", str(respondents), "--codebook",
                 str(default_codebook_path())]) == 2  # with a codebook the codes are validated, as before
    assert "code 'human_capital' is not in codebook" in capsys.readouterr().err


def test_user_errors_name_the_file_and_line(files, tmp_path, capsys):
    _, codings, respondents = files
    assert main(["shares", str(codings)]) == 2
    assert "--respondents" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("respondent,coder,code\nR01,ann,no_such_code\n", encoding="utf-8")
    assert main(["shares", str(bad), "--respondents", str(respondents),
                 "--codebook", str(default_codebook_path())]) == 2
    err = capsys.readouterr().err
    assert "no_such_code" in err and "bad.csv:2" in err
    missing = tmp_path / "missing.csv"
    missing.write_text("respondent,code\nR01,x\n", encoding="utf-8")
    assert main(["shares", str(missing), "--respondents", str(respondents)]) == 2
    assert "missing column 'coder'" in capsys.readouterr().err
    assert main(["shares", str(codings), "--respondents", str(respondents), "--coder", "carol"]) == 2
    assert "carol" in capsys.readouterr().err
