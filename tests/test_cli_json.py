"""``--format json`` prints one JSON document, for every command that offers it.

The commands are found in the argparse parsers, so a new command with ``--format json`` fails here until
it is given its arguments in ``ARGUMENTS`` (and then prints one document too).
"""

from __future__ import annotations

import argparse
import json

import pytest
from test_cli_suggest import sample_db, toy_registry  # noqa: F401 - fixtures: the sample with a fast model

from coding.cli import build_parser, main

# the arguments each command needs on the sample project (besides --format json)
ARGUMENTS = {
    "history": [],
    "agreement": ["--frame", "reform_directions", "--bootstrap", "0"],
    "shares": ["--frame", "reform_directions"],
    "suggest": ["--frame", "reform_directions", "--document", "R03", "--coder", "daniyar"],
    "evaluate-suggestions": ["--frame", "contract_service", "--gold", "consensus", "--no-curve"],
    "user list": [],
    "ocai": [],
    "scales": [],
    "survey": [],
    "disagreements": ["--frame", "reform_directions"],
    "codebook history": [],
    "codebook units": ["rd_delegation"],
}
# further invocations whose output has another shape (several tables, a crosstab)
VARIANTS = [["ocai", "--by", "body"], ["ocai", "--table", "profiles"], ["shares", "--frame", "reform_directions",
            "--by", "expert_group"], ["history", "--sign-ins"], ["survey", "--by", "body"]]


def json_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """The command paths (e.g. "user list") whose --format offers json."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from json_commands(sub, (*path, name))
        elif "--format" in action.option_strings and "json" in (action.choices or ()):
            yield " ".join(path)


def test_every_json_command_is_listed_here():
    found = set(json_commands(build_parser()))
    assert "ocai" in found and "user list" in found
    assert found == set(ARGUMENTS), f"give these commands their arguments in ARGUMENTS: {found ^ set(ARGUMENTS)}"


@pytest.mark.parametrize("argv", [[*name.split(), *args] for name, args in ARGUMENTS.items()] + VARIANTS,
                         ids=lambda argv: " ".join(argv))
def test_format_json_prints_one_document(argv, sample_db, capsys):  # noqa: F811
    code = main(["--db", sample_db, *argv, "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0
    document = json.loads(out)  # one document: several concatenated would raise "Extra data"
    assert isinstance(document, (list, dict))
    if argv[0] == "ocai" and "--table" not in argv:  # several tables: an object of named tables
        assert set(document) == {"profiles", "dimensions", "dominant", "congruence", "discrepancy", "respondents"}
        assert document["profiles"][0]["mean"] > 0
