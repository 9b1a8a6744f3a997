"""Write the CLI's JSON for a fresh ``init --sample`` (the A/B reference of tests/test_ab_json.py).

Run from the root of a checkout whose ``coding`` package should answer:

    HF_HUB_OFFLINE=1 python /path/to/tests/ab_reference.py tests/golden/cli_json_sample.json

``tests/golden/cli_json_sample.json`` was first made this way from commit 83d8ce9, before the
service became a package (the package reproduced it byte for byte), and re-made from fa9b496,
after issue 14 added coverage to the shares and agreement output on purpose and before the rest
of the restructuring landed, and re-made on the branch of issue 27 item 3, which only adds the
set-valued figures ``alpha_pooled`` and ``alpha_masi`` to the ``overall`` object of the agreement
of non-exclusive frames (every other byte unchanged, checked key by key); tests/test_ab_json.py
compares today's output with it byte for byte.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path

FRAMES = ("reform_directions", "oecd_pslc", "cs_values", "dev_factors", "contract_service")
ATTRIBUTES = ("expert_group", "sector", "gender")


def commands() -> list[list[str]]:
    """Every command compared: shares, agreement at both units, and the crosstab by each attribute."""
    out = []
    for frame in FRAMES:
        out.append(["shares", "--frame", frame, "--format", "json"])
        for unit in ("segment", "respondent"):
            out.append(["agreement", "--frame", frame, "--unit", unit, "--format", "json"])
        for attribute in ATTRIBUTES:
            out.append(["shares", "--frame", frame, "--by", attribute, "--format", "json"])
    return out


def run(main, argv: list[str]) -> str:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(argv)
    if status not in (0, None):  # a refusal (e.g. a frame with one coder) is pinned too
        return f"exit status {status}\n{stderr.getvalue()}"
    return stdout.getvalue()


def outputs(db_url: str, *, init: bool = True) -> dict[str, str]:
    """Initialise the sample in ``db_url`` (unless it holds it already); return {command line: standard output}."""
    from coding.cli import main

    if init and run(main, ["--db", db_url, "init", "--sample"]).startswith("exit status"):
        raise SystemExit("init --sample failed")
    return {" ".join(argv): run(main, ["--db", db_url, *argv]) for argv in commands()}


if __name__ == "__main__":
    sys.path.insert(0, str(Path.cwd()))
    import coding

    print(f"coding from {Path(coding.__file__).parent}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as folder:
        result = outputs(f"sqlite:///{folder}/ab.sqlite")
    Path(sys.argv[1]).write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(result)} outputs written to {sys.argv[1]}")
