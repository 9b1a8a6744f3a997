"""Exports that are safe to open: user text that starts like a formula is written as text in every CSV and
XLSX of the CLI and the pages, and numbers stay numbers (coding.safe_cells)."""

from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd
import pytest

from coding import exports, safe_cells, service
from coding.cli import main
from coding.codebook import parse_codebook

P = "default"
FORMULA = '=HYPERLINK("http://127.0.0.1:9/x","m")'
HOSTILE = {"label": FORMULA, "coding memo": "@SUM(1+1)*cmd|' /C calc'!A0", "document memo": "+cmd",
           "coder": "-2+3", "code memo": "=1+1"}


def live_cells(data: bytes) -> tuple[list[str], list]:
    """(every text cell, the cells that are formulas or start with '=') of an XLSX file."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    live = [c for c in cells if c.data_type == "f" or (isinstance(c.value, str) and c.value.startswith("="))]
    return [c.value for c in cells if isinstance(c.value, str)], live


def dangerous_csv_cells(text: str) -> tuple[list[str], list[str]]:
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    return cells, [c for c in cells if c.startswith(safe_cells.DANGEROUS_STARTS)]


@pytest.fixture
def hostile_project(sample_engine):
    """The sample with a code label, memos and a coder name that a spreadsheet would run as formulas."""
    engine = sample_engine
    data = service.project_codebook(engine, P).to_dict()
    for frame in data["frames"]:
        for code in frame["codes"]:
            if code["id"] == "rd_systemic_approach":
                code["label"] = HOSTILE["label"]
    import yaml

    service.import_codebook_object(engine, P, parse_codebook(yaml.safe_dump(data, allow_unicode=True)))
    rows = service.retrieve(engine, P, codes=["rd_systemic_approach"])
    first = rows.iloc[0]
    service.ensure_coder(engine, P, HOSTILE["coder"])
    service.add_coding(engine, P, segment_id=int(first["segment_id"]), code="rd_systemic_approach",
                       coder=HOSTILE["coder"])
    service.set_memo(engine, P, segment_id=int(first["segment_id"]), code="rd_systemic_approach",
                     coder=HOSTILE["coder"], memo=HOSTILE["coding memo"])
    service.add_memo(engine, P, kind="document", target=str(first["document"]), coder=HOSTILE["coder"],
                     text=HOSTILE["document memo"])
    service.add_memo(engine, P, kind="code", target="rd_systemic_approach", coder="supervisor",
                     text=HOSTILE["code memo"])
    return engine


def test_the_helper_quotes_text_and_leaves_numbers():
    frame = pd.DataFrame({"text": ["=1+1", "-x", "\tplain", None], "n": [-1.5, 2, 3, 4], "k": [-1, 0, 1, 2]})
    data = exports.workbook({"T": frame})
    values, live = live_cells(data)
    assert not live and "'=1+1" in values and "'-x" in values
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet["B2"].value == -1.5 and sheet["B2"].data_type == "n" and sheet["C2"].value == -1
    assert sheet["A2"].quotePrefix
    assert safe_cells.csv_text(frame).splitlines()[1] == "'=1+1,-1.5,-1"
    assert safe_cells.unquote(safe_cells.neutral("=1+1")) == "=1+1"


def test_cli_csv_and_xlsx_exports_hold_no_live_formula(hostile_project, tmp_path, capsys):
    url = str(hostile_project.url)
    csvs, books = {}, {}
    commands = {
        "export codings": (["export", "codings", str(tmp_path / "codings.csv")], tmp_path / "codings.csv"),
        "history": (["history", "--output", str(tmp_path / "history.csv")], tmp_path / "history.csv"),
        "retrieve csv": (["retrieve", "--code", "rd_systemic_approach", "--coder=" + HOSTILE["coder"],
                          "--format", "csv", "--output", str(tmp_path / "r.csv")], tmp_path / "r.csv"),
        "retrieve xlsx": (["retrieve", "--code", "rd_systemic_approach", "--coder=" + HOSTILE["coder"],
                           "--format", "xlsx", "--output", str(tmp_path / "r.xlsx")], tmp_path / "r.xlsx"),
        "memos csv": (["memos", "--format", "csv", "--output", str(tmp_path / "m.csv")], tmp_path / "m.csv"),
        "memos xlsx": (["memos", "--format", "xlsx", "--output", str(tmp_path / "m.xlsx")], tmp_path / "m.xlsx"),
        "shares csv": (["shares", "--frame", "reform_directions", "--format", "csv"], None),
        "shares xlsx": (["shares", "--frame", "reform_directions", "--format", "xlsx", "--output",
                         str(tmp_path / "s.xlsx")], tmp_path / "s.xlsx"),
        "cooccurrence csv": (["cooccurrence", "--frame", "reform_directions", "--unit", "segment",
                              "--format", "csv", "--coder=" + HOSTILE["coder"]], None),
        "cooccurrence xlsx": (["cooccurrence", "--frame", "reform_directions", "--unit", "segment", "--format",
                               "xlsx", "--coder=" + HOSTILE["coder"], "--output", str(tmp_path / "c.xlsx")],
                              tmp_path / "c.xlsx"),
    }
    for name, (argv, path) in commands.items():
        assert main(["--db", url, *argv]) == 0, name
        out = capsys.readouterr().out
        if path is None:
            csvs[name] = out
        elif path.suffix == ".xlsx":
            books[name] = path.read_bytes()
        else:
            csvs[name] = path.read_text(encoding="utf-8")
    for name, text in csvs.items():
        cells, dangerous = dangerous_csv_cells(text)
        assert not dangerous, (name, dangerous)
    for name, data in books.items():
        values, live = live_cells(data)
        assert not live, (name, [(c.coordinate, c.value) for c in live])
    # the hostile text is there, quoted (so the checks above looked at it)
    assert "'" + HOSTILE["coding memo"] in dangerous_csv_cells(csvs["export codings"])[0]
    assert "'" + HOSTILE["coder"] in dangerous_csv_cells(csvs["history"])[0]
    assert "'" + HOSTILE["document memo"] in dangerous_csv_cells(csvs["memos csv"])[0]
    assert "'" + HOSTILE["code memo"] in live_cells(books["memos xlsx"])[0]
    assert "'" + HOSTILE["label"] in live_cells(books["shares xlsx"])[0]
    assert "'" + HOSTILE["label"] in dangerous_csv_cells(csvs["shares csv"])[0]
    assert any(HOSTILE["label"] in v for v in live_cells(books["cooccurrence xlsx"])[0])
    assert "'" + HOSTILE["coding memo"] in live_cells(books["retrieve xlsx"])[0]


def test_a_quoted_memo_comes_back_unquoted_on_import(hostile_project, tmp_path, capsys):
    """export codings, then import codings: the memo is the user's text again, not the quoted one."""
    url = str(hostile_project.url)
    path = tmp_path / "codings.csv"
    assert main(["--db", url, "export", "codings", str(path), "--coder=" + HOSTILE["coder"]]) == 0
    assert "'" + HOSTILE["coding memo"] in path.read_text(encoding="utf-8")
    from coding.codings_table import read_csv_table

    table = read_csv_table("codings.csv", path.read_bytes(), required=["memo"])
    assert HOSTILE["coding memo"] in [r["memo"] for _, r in table.records()]


def test_page_downloads_hold_no_live_formula(hostile_project):
    """What the Retrieve, Memos, Shares and Instruments pages offer (the same service and writer calls)."""
    rows = service.retrieve(hostile_project, P, codes=["rd_systemic_approach"], coder=HOSTILE["coder"])
    memos = service.memos(hostile_project, P)
    report = service.share_report(hostile_project, P, frame="reform_directions")
    table = service.cooccurrence(hostile_project, P, frames=["reform_directions"], coder=HOSTILE["coder"])
    books = [exports.write_rows(rows, "xlsx", title="t"), service.share_xlsx(report),
             exports.workbook({"Memos": memos.assign(updated=memos["updated"].astype(str))}),
             service.tables_workbook({"Memos": memos.drop(columns=["updated"])}),
             exports.workbook({"Cells": table})]
    for data in books:
        assert not live_cells(data)[1]
    for text in [exports.write_rows(rows, "csv", title="t"), service.share_csv(report),
                 safe_cells.csv_text(memos), safe_cells.csv_text(table)]:
        assert not dangerous_csv_cells(text)[1]
    assert "'" + HOSTILE["document memo"] in dangerous_csv_cells(safe_cells.csv_text(memos))[0]
