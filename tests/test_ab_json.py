"""A/B: the JSON of shares, agreement (segment and respondent unit) and the crosstab on a fresh
``init --sample``, for every frame, is byte-identical to the reference made before the service
became a package (commit 83d8ce9; see tests/ab_reference.py for how it was made).

The sample comes from the session's sample template on each backend (``sample_db_url``), loaded
once by ``service.initialize(sample=True)``, what ``codeframe init --sample`` runs
(``tests/test_cli.py`` runs that command itself)."""

from __future__ import annotations

import json
from pathlib import Path

from ab_reference import commands, outputs

REFERENCE = Path(__file__).parent / "golden" / "cli_json_sample.json"


def test_cli_json_on_the_sample_is_byte_identical_to_the_reference(sample_db_url):
    expected = json.loads(REFERENCE.read_text(encoding="utf-8"))
    assert list(expected) == [" ".join(argv) for argv in commands()]
    got = outputs(sample_db_url, init=False)
    assert list(got) == list(expected)
    for command, text in expected.items():
        assert got[command] == text, f"{command}: output differs from the reference"
