"""The Overview page driven with AppTest on a copy of the sample database: "Codes in use" is readable."""

from __future__ import annotations

import json

from apptest import APP, ok
from streamlit.testing.v1 import AppTest

from coding import service


def placed(node, blocks=()):
    """(element, the types of the blocks around it) for every element of the page, in drawing order."""
    children = getattr(node, "children", None)
    if children is None:
        yield node, blocks
        return
    for key in sorted(children):
        yield from placed(children[key], (*blocks, getattr(node, "type", "")))


def codes_in_use(at: AppTest):
    found = [(e, blocks) for e, blocks in placed(at.main)
             if e.type == "dataframe" and "segments" in e.value.columns and "code" in e.value.columns]
    assert len(found) == 1
    return found[0]


def test_codes_in_use_shows_the_respondents_as_numbers_across_the_whole_width(app_engine):
    at = ok(AppTest.from_file(str(APP), default_timeout=90).run())
    table, blocks = codes_in_use(at)
    config = json.loads(table.proto.columns)
    shown = list(table.proto.column_order)
    assert all(config.get(c, {}).get("type_config", {}).get("type") != "progress" for c in shown), config
    respondents = next(c for c in shown if config.get(c, {}).get("label") == "Respondents")
    usage = service.code_usage(app_engine, "default").set_index("code")
    frame = table.value.set_index("code")
    for code in usage.index[:5]:
        assert frame.loc[code, respondents] == f"{usage.loc[code, 'respondents']} of 24"
    assert "column" not in blocks, blocks  # not squeezed into a side column
    numbers = [respondents, "segments", "codings"]
    assert shown[1:4] == numbers, shown  # the counts right after the code, before any long text that pushes them out
    assert all(config[c].get("width") == "small" for c in numbers), config
