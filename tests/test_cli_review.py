"""Issue 14 from the command line: disagreements over chosen coders, coverage, the covered denominator,
pilot documents and a pilot coder excluded or removed (a copy of the sample database per test)."""

from __future__ import annotations

import csv
import io
import shutil

import pytest

from coding.cli import main

FIGURE_1 = ["7/24 = 29.2%", "3/24 = 12.5%", "4/24 = 16.7%", "2/24 = 8.3%", "2/24 = 8.3%"]


@pytest.fixture
def sample_db(sample_db_template, tmp_path):
    path = tmp_path / "sample.sqlite"
    shutil.copy(sample_db_template, path)
    return f"sqlite:///{path}"


def run(capsys, db, *argv) -> tuple[int, str, str]:
    code = main(["--db", db, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def shares(capsys, db, *extra) -> tuple[list[str], str]:
    code, out, err = run(capsys, db, "shares", "--frame", "reform_directions", "--format", "csv", *extra)
    assert code == 0, err
    return [row["display"] for row in csv.DictReader(io.StringIO(out))], err


def add_pilots(capsys, db, tmp_path) -> None:
    files = []
    for name, text in (("P01", "We need a systematic and comprehensive approach to reform."),
                       ("P02", "Salaries. We need a systematic approach too.")):
        path = tmp_path / f"{name}.txt"
        path.write_text(f"Interviewer: What should change first?\n\nRespondent: {text}\n", encoding="utf-8")
        files.append(str(path))
    assert run(capsys, db, "import", "transcripts", *files)[0] == 0
    codings = tmp_path / "pilot.csv"
    codings.write_text("document,coder,code,segment\nP01,pilot,rd_systemic_approach,1\n"
                       "P02,pilot,rd_systemic_approach,2\nR01,pilot,rd_delegation,1\n"
                       "R01,pilot,rd_systemic_approach,2\n", encoding="utf-8")
    assert run(capsys, db, "import", "codings", str(codings), "--create-coders")[0] == 0


def test_disagreements_and_agreement_over_chosen_coders(capsys, sample_db, tmp_path):
    add_pilots(capsys, sample_db, tmp_path)
    code, out, err = run(capsys, sample_db, "disagreements", "--frame", "reform_directions")
    assert code == 0
    assert "7 disagreement(s) in 602 units compared (covered by at least two of aigerim (602 units), daniyar " \
           "(602 units))" in err
    assert [line.split()[0] for line in out.splitlines()[2:]] == ["R05", "R06", "R07", "R08", "R11", "R13", "R22"]
    code, out, err = run(capsys, sample_db, "disagreements", "--frame", "reform_directions",
                         "--coders", "aigerim,daniyar,pilot", "--show", "undecided")
    assert code == 0 and "pilot (30 units)" in err and "R05" in out
    code, out, _ = run(capsys, sample_db, "agreement", "--frame", "reform_directions", "--bootstrap", "0",
                       "--coders", "aigerim,daniyar,pilot")
    assert code == 0 and "3 coder(s): aigerim, daniyar, pilot" in out
    coverage = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith("pilot ")}
    assert coverage["pilot"] == ["30", "3", "4"]  # units covered, respondents covered, codings made
    code, out, _ = run(capsys, sample_db, "agreement", "--frame", "reform_directions", "--bootstrap", "0")
    assert "2 coder(s): aigerim, daniyar" in out and "rd_systemic_approach     602    2       0.026       " \
                                                        "0.995      0.901" in out


def test_shares_print_the_coverage_and_divide_by_the_covered_on_request(capsys, sample_db):
    code, out, err = run(capsys, sample_db, "shares", "--frame", "oecd_pslc")
    assert code == 0 and "coverage: consensus coded this frame for 10 of 24 respondents" in err
    assert "warning: partial coverage" in err and "8/24 = 33.3%" in out
    code, out, err = run(capsys, sample_db, "shares", "--frame", "oecd_pslc", "--denominator", "covered")
    assert code == 0 and "8/10 = 80.0%" in out and "n = 10 respondents consensus covered" in err
    assert "coverage: consensus coded this frame for 10 of 24 respondents" in err


def test_pilot_documents_and_coder_excluded_then_removed(capsys, sample_db, tmp_path):
    add_pilots(capsys, sample_db, tmp_path)
    assert shares(capsys, sample_db)[0][0] == "7/26 = 26.9%"
    code, out, err = run(capsys, sample_db, "documents", "remove", "P01")
    assert code == 2 and "removing P01 deletes its 2 segments, 1 codings (pilot 1)" in out
    assert "nothing removed" in err
    assert run(capsys, sample_db, "documents", "exclude", "P01", "P02", "--reason", "pilot")[1] == (
        "document P01: excluded from analysis\ndocument P02: excluded from analysis\n")
    assert run(capsys, sample_db, "coders", "exclude", "pilot")[0] == 0
    assert shares(capsys, sample_db)[0] == FIGURE_1
    code, out, _ = run(capsys, sample_db, "agreement", "--frame", "reform_directions", "--bootstrap", "0",
                       "--format", "csv")
    assert "pilot" not in out
    assert run(capsys, sample_db, "documents", "remove", "P01", "P02", "--yes")[0] == 0
    assert shares(capsys, sample_db)[0] == FIGURE_1
    code, out, _ = run(capsys, sample_db, "documents", "history")
    actions = [line.split()[2:5] for line in out.splitlines()[2:]]
    assert [a[:3] for a in actions] == [["exclude", "document", "P01"], ["exclude", "document", "P02"],
                                       ["exclude", "coder", "pilot"], ["remove", "document", "P01"],
                                       ["remove", "document", "P02"]]


def test_in_team_mode_only_an_admin_excludes(capsys, sample_db, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase\n"))
    assert run(capsys, sample_db, "user", "add", "root", "--role", "admin", "--password-stdin")[0] == 0
    monkeypatch.setenv("CODEFRAME_PASSWORD", "a long passphrase")
    assert run(capsys, sample_db, "team", "on", "--as", "root")[0] == 0
    code, _, err = run(capsys, sample_db, "documents", "exclude", "R01")
    assert code == 2 and "needs --as NAME" in err
    assert run(capsys, sample_db, "documents", "exclude", "R01", "--as", "root")[0] == 0


def test_a_pilot_coder_is_removed_with_yes_only(capsys, sample_db, tmp_path):
    add_pilots(capsys, sample_db, tmp_path)
    code, out, err = run(capsys, sample_db, "coders", "remove", "pilot")
    assert code == 2 and "removing coder pilot deletes their 4 codings on 3 documents" in out
    assert "pilot" in run(capsys, sample_db, "coders", "list")[1]
    assert run(capsys, sample_db, "coders", "remove", "pilot", "--yes")[1].startswith("removed coder pilot: 4 codings")
    assert "pilot" not in run(capsys, sample_db, "coders", "list")[1]


def test_importing_consensus_codings_names_a_supervisor_and_is_logged_as_an_import(capsys, sample_db, tmp_path):
    codings = tmp_path / "adjudicated.csv"
    codings.write_text("document,coder,code,segment\nR02,consensus,rd_delegation,1\n", encoding="utf-8")
    code, _, err = run(capsys, sample_db, "import", "codings", str(codings), "--as", "aigerim")
    assert code == 2 and "only supervisors adjudicate" in err
    assert run(capsys, sample_db, "import", "codings", str(codings), "--as", "supervisor")[0] == 0
    code, out, _ = run(capsys, sample_db, "history", "--coder", "consensus")
    last = out.splitlines()[-1]
    assert "supervisor" in last and " import " in last and "imported from adjudicated.csv" in last


def test_blind_export_gives_a_coder_only_their_own_codings(capsys, sample_db):
    from coding import service
    from coding.database.engine import make_engine

    engine = make_engine(sample_db)
    service.update_settings(engine, blind_mode=True)
    engine.dispose()
    code, out, _ = run(capsys, sample_db, "export", "codings", "-", "--as", "aigerim")
    coders = {row["coder"] for row in csv.DictReader(io.StringIO(out))}
    assert code == 0 and coders == {"aigerim"}
    code, _, err = run(capsys, sample_db, "export", "codings", "-", "--as", "aigerim", "--coder", "consensus")
    assert code == 2 and "blind mode: aigerim sees only their own codings" in err
    code, out, _ = run(capsys, sample_db, "export", "codings", "-", "--as", "supervisor")
    assert {row["coder"] for row in csv.DictReader(io.StringIO(out))} == {"aigerim", "daniyar", "consensus"}
