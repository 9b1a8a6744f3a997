"""Issue 27, item 1: an excluded coder is never counted, and asking for one by name is refused with
how to include them again (library on SQLite and PostgreSQL, and the command line)."""

from __future__ import annotations

import pytest
from team_project import FRAME, P, build

from coding import service
from coding.cli import main
from coding.errors import CodeframeError

REFUSAL = r"pilot is excluded from analysis and never counted; include them again .*codeframe coders include pilot"


def test_an_excluded_coder_asked_for_by_name_is_refused_everywhere(engine, tmp_path):
    build(engine, tmp_path, blind=False)
    # before the exclusion the pilot is compared when asked for
    assert "pilot" in service.disagreement_report(engine, P, frame=FRAME, coders=["cal", "dana", "pilot"]).coders
    assert service.agreement_report(engine, P, frame=FRAME, coders=["cal", "pilot"], n_boot=0).coders == [
        "cal", "pilot"]
    assert service.set_excluded(engine, P, kind="coder", name="pilot", actor="sup")
    calls = {
        "disagreements": lambda: service.disagreement_report(engine, P, frame=FRAME, coders=["cal", "dana", "pilot"]),
        "adjudication view": lambda: service.disagreement_details(engine, P, frame=FRAME, coders=["cal", "pilot"]),
        "agreement": lambda: service.agreement_report(engine, P, frame=FRAME, coders=["cal", "pilot"], n_boot=0),
        "coverage": lambda: service.coder_coverage(engine, P, frame=FRAME, coders=["cal", "pilot"]),
        "shares": lambda: service.share_report(engine, P, frame=FRAME, coder="pilot"),
        "report": lambda: service.findings_report(engine, P, frame=FRAME, coder="pilot", embedder=False,
                                                  chart=False),
        "retrieve": lambda: service.retrieve(engine, P, codes=["rd_delegation"], coder="pilot"),
        "co-occurrence": lambda: service.cooccurrence(engine, P, frames=[FRAME], coder="pilot"),
    }
    for name, call in calls.items():
        with pytest.raises(CodeframeError, match=REFUSAL):
            call()
    # by default nobody excluded is counted
    assert "pilot" not in service.disagreement_report(engine, P, frame=FRAME).coders
    assert "pilot" not in service.agreement_report(engine, P, frame=FRAME, n_boot=0).coders
    everyone = service.retrieve(engine, P, codes=["rd_delegation"], coder=service.ALL_CODERS)
    assert "pilot" not in set(everyone["coder"]) and "dana" in set(everyone["coder"])
    # included again, the pilot counts again
    assert service.set_excluded(engine, P, kind="coder", name="pilot", excluded=False, actor="sup")
    assert service.share_report(engine, P, frame=FRAME, coder="pilot").coder == "pilot"


def test_the_cli_refuses_an_excluded_coder_with_how_to_include_them(sqlite_engine, tmp_path, capsys):
    build(sqlite_engine, tmp_path, blind=False, exclude_pilot=True)
    db = ["--db", str(sqlite_engine.url), "--project", P]
    for argv in (["agreement", "--frame", FRAME, "--coders", "cal,pilot", "--bootstrap", "0"],
                 ["disagreements", "--frame", FRAME, "--coders", "cal,dana,pilot"],
                 ["shares", "--frame", FRAME, "--coder", "pilot"]):
        assert main([*db, *argv]) == 2, argv
        err = capsys.readouterr().err
        assert "pilot is excluded from analysis" in err and "codeframe coders include pilot" in err, err
    assert main([*db, "agreement", "--frame", FRAME, "--coders", "cal,dana", "--bootstrap", "0"]) == 0
    assert "pilot" not in capsys.readouterr().out


def test_code_usage_and_codebook_quotes_leave_excluded_coders_out(sqlite_engine, tmp_path):
    build(sqlite_engine, tmp_path, blind=False)
    before = service.code_usage(sqlite_engine, P)
    pilot_only = service.code_usage(sqlite_engine, P, coders=["pilot"])
    assert pilot_only["codings"].sum() > 0
    assert any(q["coder"] == "pilot" for qs in service.quotes_by_code(sqlite_engine, P, limit=50).values() for q in qs)
    assert service.set_excluded(sqlite_engine, P, kind="coder", name="pilot", actor="sup")
    after = service.code_usage(sqlite_engine, P)
    assert after["codings"].sum() == before["codings"].sum() - pilot_only["codings"].sum()
    assert not any(q["coder"] == "pilot" for qs in service.quotes_by_code(sqlite_engine, P, limit=50).values()
                   for q in qs)
