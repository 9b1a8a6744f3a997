"""One rule for every door: in team mode every CLI command names its acting user and acts with their rights.

The command list is walked from the argparse sub-parsers, so a new command is covered (or fails here
until it is given its rights in ``coding.cli.access.RIGHTS``). Both backends.
"""

from __future__ import annotations

import argparse
import io

import pytest

from coding import service
from coding.cli import build_parser, main
from coding.cli.access import FILES_ONLY, NO_PROJECT_DATA, RIGHTS, leaf_parsers
from coding.errors import PermissionDenied

P = "default"
PASSWORD = "correct horse battery"
TRANSCRIPT = ("Interviewer: How did the reform go?\nRespondent: The reform needs delegation.\n"
              "Interviewer: And then?\nRespondent: The reform stalled without trust.\n")


@pytest.fixture
def team(engine):
    """Team and blind mode on: admin ada, supervisor sue, coders cal and dana; dana coded both units."""
    service.create_project(engine, P)
    service.import_transcripts(engine, P, [("R01.txt", TRANSCRIPT.encode())], unit="turn")
    service.create_user(engine, P, "ada", role="admin", password=PASSWORD)
    for name, role in (("sue", "supervisor"), ("cal", "coder"), ("dana", "coder")):
        service.create_user(engine, P, name, role=role, password=PASSWORD, actor="ada")
    service.ensure_coder(engine, P, "consensus", actor="ada")
    units = _units(engine)
    for unit in units:
        service.add_coding(engine, P, segment_id=unit, code="rd_delegation", coder="dana", memo="dana's note")
    service.add_memo(engine, P, kind="segment", target=units[0], coder="dana", text="dana's analytic memo")
    service.update_settings(engine, P, blind_mode=True)
    service.set_team_mode(engine, P, True, actor="ada")
    return engine


def _units(engine) -> list[int]:
    document = service.list_documents(engine, P)[0]
    return [s.id for s in service.document_view(engine, P, document.id, viewer="ada").segments if s.is_unit]


def _value(action: argparse.Action) -> str:
    if action.choices:
        return str(next(iter(action.choices)))
    if action.type is not None:
        try:
            action.type("1")
            return "1"
        except (ValueError, TypeError, argparse.ArgumentTypeError):
            pass
    return "x"


def minimal_argv(path: str, leaf: argparse.ArgumentParser) -> list[str]:
    """The command with every required argument given a harmless value (and no --as)."""
    positionals, options = [], []
    for action in leaf._actions:
        if isinstance(action, argparse._HelpAction) or action.dest == "as_user":
            continue
        if not action.option_strings:
            positionals.append(_value(action))
        elif action.required:
            options += [action.option_strings[0], _value(action)]
    return [*path.split(), *positionals, *options]


def _run(monkeypatch, capsys, argv: list[str]) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO("a new passphrase\n"))
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own refusal of a required --as
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_every_command_has_reviewed_rights():
    commands = {path for path, _ in leaf_parsers(build_parser())}
    assert commands - set(RIGHTS) - NO_PROJECT_DATA == set(), "give the new command its rights in RIGHTS"
    assert set(RIGHTS) - commands == set(), "RIGHTS names a command that no longer exists"
    assert NO_PROJECT_DATA == {"codebook check"}  # the reviewed allow-list: reads a YAML file, no database
    assert set(FILES_ONLY) == {"export qdc", "import qdc"}  # file conversions, with --codebook / --output only


def test_every_command_refuses_to_run_in_team_mode_without_as(team, monkeypatch, capsys, tmp_path):
    db = team.url.render_as_string(hide_password=False)
    monkeypatch.setenv("CODEFRAME_PASSWORD", PASSWORD)  # a password alone names nobody
    before = service.history(team, P, viewer="ada")
    ran = []
    for path, leaf in leaf_parsers(build_parser()):
        if path in NO_PROJECT_DATA:
            continue
        code, out, err = _run(monkeypatch, capsys, ["--db", db, *minimal_argv(path, leaf)])
        assert code == 2 and "--as" in err, f"`codeframe {path}` ran without --as: exit {code}, {err or out}"
        assert "Traceback" not in err
        ran.append(path)
    assert len(ran) >= 45
    code, out, err = _run(monkeypatch, capsys, ["--db", db, "export", "qdc", str(tmp_path / "c.qdc"), "--codebook",
                                                str(service.repo_root() / "codebook.yaml")])
    assert code == 0, err  # a file conversion needs nobody
    assert service.history(team, P, viewer="ada").equals(before)  # nothing was written
    assert service.get_project(team, P).blind_mode


def _as(monkeypatch, capsys, db, user, *argv, password=PASSWORD) -> tuple[int, str, str]:
    monkeypatch.setenv("CODEFRAME_PASSWORD", password)
    return _run(monkeypatch, capsys, ["--db", db, *argv, "--as", user])


def test_each_door_acts_with_the_signed_in_users_rights(team, monkeypatch, capsys, tmp_path):
    db = team.url.render_as_string(hide_password=False)
    unit = _units(team)[0]
    codings = tmp_path / "dana.csv"
    codings.write_text("document,coder,code,segment\nR01,dana,rd_systemic_approach,1\n", encoding="utf-8")
    refused = [
        ["import", "codings", str(codings)],
        ["search", "reform", "--code", "rd_delegation", "--coder", "dana", "--apply"],
        ["search", "reform", "--code", "rd_delegation", "--coder", "dana"],  # the preview tells dana's codings
        ["memo", "add", "--on", "segment", str(unit), "--coder", "consensus", "a memo as the consensus"],
        ["key-quote", str(unit), "--code", "rd_delegation", "--coder", "dana"],
        ["undo", "--coder", "dana", "--steps", "2"],
        ["settings", "--blind", "off"],
        ["retrieve", "--code", "rd_delegation", "--coder", "dana"],
        ["history", "--coder", "dana"],
        ["history", "--sign-ins"],
        ["agreement", "--frame", "reform_directions"],
        ["export", "qdpx", "x.qdpx"],
        ["backup", "x.bak"],
        ["user", "password", "dana"],
    ]
    for argv in refused:
        code, out, err = _as(monkeypatch, capsys, db, "cal", *argv)
        assert code == 2 and ("cal" in err and ("may not" in err or "only" in err)), (argv, code, err)
    assert len(service.history(team, P, viewer="ada")) == 2 and service.get_project(team, P).blind_mode
    code, out, err = _as(monkeypatch, capsys, db, "cal", "settings", "--blind", "off", password="wrong password")
    assert code == 2 and "sign-in failed" in err
    # reads show cal only what cal may see: in blind mode, nothing of dana's
    for argv in (["retrieve", "--code", "rd_delegation", "--coder", "all", "--format", "csv"],
                 ["export", "codings", "-"], ["memos", "--format", "csv"], ["history", "--format", "csv"],
                 ["status"]):
        code, out, err = _as(monkeypatch, capsys, db, "cal", *argv)
        assert code == 0 and "dana" not in out, (argv, err, out)
    code, out, err = _as(monkeypatch, capsys, db, "sue", "retrieve", "--code", "rd_delegation", "--coder", "all",
                         "--format", "csv")
    assert code == 0 and out.count("dana") >= 2  # a supervisor sees everyone's
    # a coder codes as themself; an admin changes the settings
    code, out, err = _as(monkeypatch, capsys, db, "cal", "search", "reform", "--code", "rd_delegation",
                         "--coder", "cal", "--apply")
    assert code == 0 and "coded 2 unit(s)" in err
    code, out, err = _as(monkeypatch, capsys, db, "cal", "report", "--frame", "reform_directions", "--no-embeddings")
    assert code == 0 and "dana" not in out and "cal" in out, err  # a blind coder's findings: their own only
    assert _as(monkeypatch, capsys, db, "ada", "settings", "--blind", "off")[0] == 0
    assert not service.get_project(team, P).blind_mode


def test_the_library_refuses_an_unnamed_actor_in_team_mode(team, tmp_path):
    unit = _units(team)[0]
    codings = tmp_path / "dana.csv"
    codings.write_text("document,coder,code,segment\nR01,dana,rd_systemic_approach,1\n", encoding="utf-8")
    calls = [
        lambda: service.code_hits(team, P, segment_ids=[unit], code="rd_delegation", coder="dana"),
        lambda: service.add_memo(team, P, kind="segment", target=unit, coder="dana", text="memo"),
        lambda: service.set_key_quote(team, P, segment_id=unit, code="rd_delegation", coder="dana"),
        lambda: service.undo(team, P, coder="dana"),
        lambda: service.update_settings(team, P, blind_mode=False),
        lambda: service.retrieve(team, P, codes=["rd_delegation"], coder=service.ALL_CODERS),
        lambda: service.memos(team, P),
        lambda: service.export_codings_frame(team, P),
        lambda: service.history(team, P),
        lambda: service.auth_history(team, P),
        lambda: service.share_report(team, P, frame="reform_directions"),
        lambda: service.authorize(team, P, None, "read", "read"),
        lambda: service.import_codings(team, P, codings),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied, match="team mode"):
            call()
    with pytest.raises(PermissionDenied, match="cal may not write memos as dana"):
        service.add_memo(team, P, kind="segment", target=unit, coder="dana", text="memo", actor="cal")
    with pytest.raises(PermissionDenied, match="only supervisors and admins may"):
        service.authorize(team, P, "cal", "supervise", "adjudicate")
    assert set(service.history(team, P, viewer="cal")["coder"]) == set()
    assert set(service.history(team, P, viewer="sue")["coder"]) == {"dana"}
    assert len(service.history(team, P, viewer="ada")) == 2  # nothing was written
