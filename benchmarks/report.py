"""Print a results file as a Markdown table: ``python -m benchmarks.report benchmarks/results/latest.jsonl``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchmarks.harness import table_lines


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m benchmarks.report RESULTS.jsonl", file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in Path(argv[0]).read_text(encoding="utf-8").splitlines() if line.strip()]
    print("\n".join(table_lines(rows, markdown=True)))
    notes = dict.fromkeys(f"- {r['stage']}: {n}" for r in rows for n in r.get("notes", []))
    print("\n" + "\n".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
