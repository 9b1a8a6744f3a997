"""The `codeframe` command line as a user runs it: a real subprocess on a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from coding.cli import main


def run(*args: str, db: str, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-m", "coding", "--db", db, *args], capture_output=True, text=True,
                            env=env, cwd=cwd)
    if check and result.returncode != 0:
        raise AssertionError(f"codeframe {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


@pytest.fixture
def sample_db(sample_db_template, tmp_path):
    import shutil

    path = tmp_path / "sample.sqlite"
    shutil.copy(sample_db_template, path)
    return f"sqlite:///{path}"


def test_init_sample_then_status(tmp_path):
    db = f"sqlite:///{tmp_path / 'cf.sqlite'}"
    out = run("init", "--sample", db=db).stdout
    assert "imported 24 document(s)" in out and "imported 334 coding(s)" in out
    status = run("status", db=db).stdout
    assert "documents: 24 (24 respondents)" in status
    assert "aigerim" in status and "consensus" in status
    again = run("init", "--sample", db=db).stdout
    assert "already existed" in again and "not loaded again" in again


def test_shares_prints_figure_1(sample_db):
    out = run("shares", "--frame", "reform_directions", db=sample_db).stdout
    for display in ("7/24 = 29.2%", "3/24 = 12.5%", "4/24 = 16.7%", "2/24 = 8.3%"):
        assert display in out
    assert out.count("2/24 = 8.3%") == 2


def test_agreement_from_the_database_at_both_levels(sample_db):
    respondent = run("agreement", "--frame", "reform_directions", "--unit", "respondent", "--bootstrap", "50",
                     "--format", "csv", db=sample_db).stdout
    lines = respondent.strip().splitlines()
    assert lines[0].startswith("code,n_units,")
    assert lines[1].startswith("(overall),24,2,") and "several codes" in lines[1]  # codes overlap: overall undefined
    assert lines[2].startswith("(overall: pooled presence alpha),24,2,")  # defined for set-valued units
    assert lines[3].startswith("(overall: MASI alpha),24,2,")
    assert [line.split(",")[:2] for line in lines[4:]] == [[code, "24"] for code in (
        "rd_systemic_approach", "rd_resistance_to_change", "rd_human_capital", "rd_delegation", "rd_evidence_based")]
    segment = run("agreement", "--frame", "reform_directions", "--unit", "segment", "--bootstrap", "0", db=sample_db)
    assert "rd_systemic_approach" in segment.stdout


def test_import_transcripts_and_codings_from_the_command_line(tmp_path):
    db = f"sqlite:///{tmp_path / 'cf.sqlite'}"
    run("init", db=db)
    (tmp_path / "A1.txt").write_text("Interviewer: Why?\nRespondent: Officials lack training. Reform is slow.\n")
    (tmp_path / "attrs.csv").write_text("respondent,expert_group\nA1,academia\n")
    out = run("import", "transcripts", str(tmp_path / "A1.txt"), "--attributes", str(tmp_path / "attrs.csv"),
              db=db).stdout
    assert "imported 1 document(s): 3 segments, 2 units of coding" in out
    (tmp_path / "c.csv").write_text("document,coder,code,segment\nA1,eve,rd_human_capital,1\n")
    refused = run("import", "codings", str(tmp_path / "c.csv"), db=db, check=False)
    assert refused.returncode == 2 and "unknown coder 'eve'" in refused.stderr
    assert run("import", "codings", str(tmp_path / "c.csv"), "--create-coders", db=db).stdout.startswith(
        "imported 1 coding(s)")


def test_identical_survey_answers_need_allow_same_content(tmp_path):
    db = f"sqlite:///{tmp_path / 'cf.sqlite'}"
    run("init", db=db)
    paths = []
    for name in ("S1", "S2"):
        (tmp_path / f"{name}.txt").write_text("Respondent: No opinion.\n")
        paths.append(str(tmp_path / f"{name}.txt"))
    refused = run("import", "transcripts", *paths, db=db, check=False)
    assert refused.returncode == 2 and "same content" in refused.stderr and "--allow-same-content" in refused.stderr
    out = run("import", "transcripts", *paths, "--allow-same-content", db=db).stdout
    assert "imported 2 document(s): 2 segments, 2 units of coding" in out


def test_user_errors_exit_2_without_traceback(tmp_path):
    db = f"sqlite:///{tmp_path / 'cf.sqlite'}"
    run("init", db=db)
    (tmp_path / "empty.txt").write_bytes(b"")
    result = run("import", "transcripts", str(tmp_path / "empty.txt"), db=db, check=False)
    assert result.returncode == 2
    assert "empty.txt" in result.stderr and "Traceback" not in result.stderr
    missing = run("import", "codings", str(tmp_path / "nope.csv"), db=db, check=False)
    assert missing.returncode == 2 and "nope.csv" in missing.stderr and "Traceback" not in missing.stderr
    for bad in ("notaurl", "foo://x"):
        wrong = run("status", db=bad, check=False)
        assert wrong.returncode == 2 and "--db is not a database URL" in wrong.stderr
        assert "Traceback" not in wrong.stderr
    unknown = run("--project", "other", "status", db=db, check=False)
    assert unknown.returncode == 2 and "codeframe init" in unknown.stderr


def test_refi_qda_export_and_import_round_trip(sample_db, tmp_path):
    target = f"sqlite:///{tmp_path / 'copy.sqlite'}"
    run("export", "qdpx", str(tmp_path / "p.qdpx"), db=sample_db)
    out = run("import", "qdpx", str(tmp_path / "p.qdpx"), db=target).stdout
    assert "24 document(s)" in out and "334 coding(s)" in out
    original = run("export", "codings", "-", db=sample_db).stdout
    copy = run("export", "codings", "-", db=target).stdout
    columns = lambda text: sorted(line.split(",")[:2] + line.split(",")[3:9] for line in text.splitlines()[1:])  # noqa: E731
    assert len(original.splitlines()) == 335
    assert sorted(original.splitlines()[1:]) != []
    assert [r[:4] for r in columns(copy)] == [r[:4] for r in columns(original)]


def test_main_without_command_prints_help(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().err


def test_python_dash_m_and_console_script_agree():
    out = subprocess.run([sys.executable, "-m", "coding", "--help"], capture_output=True, text=True).stdout
    assert "codebook" in out and "agreement" in out and "shares" in out and "import" in out


def test_the_parsers_spelled_out_choices_are_the_librarys():
    """coding/cli/common.py spells some choices out so that ``--help`` imports no service; they must agree."""
    from coding import service
    from coding.cli import common
    from coding.ratings import LEVELS

    assert common.LANGUAGES == service.SUPPORTED_LANGUAGES and common.CONSENSUS == service.CONSENSUS
    assert common.DISAGREEMENT_VIEWS == service.DISAGREEMENT_VIEWS and common.LEVELS == LEVELS
    assert common.UNITS == service.SEGMENTATION_UNITS
