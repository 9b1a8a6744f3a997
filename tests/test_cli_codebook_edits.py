"""``codeframe codebook add|edit|move|merge|split|retire|accept|undo|history|export`` on the sample database."""

from __future__ import annotations

import io
import shutil

import pytest
import xmlschema

from coding.cli import main
from coding.paths import PACKAGE_DIR

CODEBOOK_XSD = xmlschema.XMLSchema(str(PACKAGE_DIR / "schemas" / "Codebook-mrt2019.xsd"))
PASSWORD = "a long passphrase"


@pytest.fixture
def sample_db(sample_db_template, tmp_path):
    path = tmp_path / "sample.sqlite"
    shutil.copy(sample_db_template, path)
    return f"sqlite:///{path}"


def run(capsys, db, *argv) -> tuple[int, str, str]:
    code = main(["--db", db, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_change_history_and_versioned_exports(capsys, sample_db, tmp_path):
    code, out, err = run(capsys, sample_db, "codebook", "add", "reform_directions", "Digital tools",
                         "--definition", "Talk of IT systems.", "--example", "We need e-government.",
                         "--reason", "pilot")
    assert code == 0, err
    assert out.startswith("codebook version 1: added 'digital_tools'")
    code, out, _ = run(capsys, sample_db, "codebook", "edit", "rd_delegation", "--definition", "Only delegation "
                       "of decisions to lower levels.")
    assert code == 0 and "warning:" in out and "aigerim" in out and "may need review" in out
    code, out, _ = run(capsys, sample_db, "codebook", "merge", "rd_delegation", "rd_systemic_approach")
    assert code == 0 and "merged 'rd_delegation' into 'rd_systemic_approach'" in out
    code, out, _ = run(capsys, sample_db, "codebook", "history")
    assert code == 0 and "pilot" in out and "merged" in out and out.count("\n") == 5  # header, rule, 3 versions
    for version in ("1", "3"):
        path = tmp_path / f"v{version}.yaml"
        assert run(capsys, sample_db, "codebook", "export", "--format", "yaml", "--version", version,
                   "--output", str(path))[0] == 0
        assert run(capsys, sample_db, "codebook", "check", str(path))[0] == 0
        assert ("id: rd_delegation\n" in path.read_text(encoding="utf-8")) == (version == "1")
        qdc = tmp_path / f"v{version}.qdc"
        assert run(capsys, sample_db, "codebook", "export", "--format", "qdc", "--version", version,
                   "--output", str(qdc))[0] == 0
        CODEBOOK_XSD.validate(str(qdc))
    code, out, _ = run(capsys, sample_db, "codebook", "undo")
    assert code == 0 and out.startswith("codebook version 4: undid version 3")


def test_split_through_the_units_listing(capsys, sample_db):
    code, out, _ = run(capsys, sample_db, "codebook", "units", "rd_delegation", "--format", "csv")
    assert code == 0
    first = out.splitlines()[1].split(",")[0]
    code, out, err = run(capsys, sample_db, "codebook", "split", "rd_delegation", "Delegation of budgets",
                         "--unit", first)
    assert code == 0, err
    assert "codings moved to new code 'delegation_of_budgets'" in out
    code, out, _ = run(capsys, sample_db, "codebook", "units", "delegation_of_budgets", "--format", "csv")
    assert out.splitlines()[1].split(",")[0] == first


def test_team_mode_needs_the_password_and_a_coder_cannot_merge(capsys, sample_db, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert run(capsys, sample_db, "user", "add", "root", "--role", "admin", "--password-stdin")[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert run(capsys, sample_db, "user", "password", "aigerim", "--as", "root")[0] == 0
    monkeypatch.setenv("CODEFRAME_PASSWORD", PASSWORD)
    assert run(capsys, sample_db, "team", "on", "--as", "root")[0] == 0
    code, _, err = run(capsys, sample_db, "codebook", "merge", "rd_delegation", "rd_systemic_approach")
    assert code == 2 and "needs --as NAME" in err
    code, _, err = run(capsys, sample_db, "codebook", "merge", "rd_delegation", "rd_systemic_approach",
                       "--as", "aigerim")
    assert code == 2 and "aigerim is a coder" in err
    monkeypatch.setenv("CODEFRAME_PASSWORD", "wrong password")
    code, _, err = run(capsys, sample_db, "codebook", "merge", "rd_delegation", "rd_systemic_approach", "--as", "root")
    assert code == 2 and "merged" not in err
    monkeypatch.setenv("CODEFRAME_PASSWORD", PASSWORD)
    code, out, _ = run(capsys, sample_db, "codebook", "merge", "rd_delegation", "rd_systemic_approach", "--as", "root")
    assert code == 0 and "codebook version 1" in out
    assert "root" in run(capsys, sample_db, "codebook", "history", "--as", "aigerim")[1]
