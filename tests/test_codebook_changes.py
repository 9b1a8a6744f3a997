"""The pure rules of codebook changes: ids, in-vivo labels, pooled examples, meaning, exports, counts, notes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import yaml

from coding.codebook import parse_codebook
from coding.codebook_changes import (
    NO_EXAMPLE,
    VersionFact,
    changes_after,
    exportable,
    in_vivo_label,
    meaning_changed,
    methods_sentence,
    new_code_key,
    pool_examples,
    restructure_note,
    review_warning,
    summary_line,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def test_new_code_key_is_a_valid_unused_id():
    assert new_code_key("Кадровый резерв", set()) == "kadrovyi_rezerv"
    assert new_code_key("Pay", {"pay", "pay_2"}) == "pay_3"
    assert new_code_key("!!!", set()) == "code"


def test_in_vivo_label_is_the_words_trimmed_and_capped():
    assert in_vivo_label(" a\n b ") == "a b"
    long = in_vivo_label("word " * 40)
    assert len(long) == 80 and long.endswith("…")


def test_pooled_examples_keep_order_drop_duplicates_and_stay_within_the_format():
    assert pool_examples(["a"], ["b", "a", ""]) == ("a", "b")
    assert pool_examples(["a", "b", "c"], ["d"]) == ("a", "b", "c")


def test_only_definition_and_criteria_change_the_meaning():
    before = {"label": "A", "definition": "x", "include": ["i"], "exclude": [], "examples": ["e"]}
    assert meaning_changed(before, {**before, "label": "B", "examples": ["f"]}) == []
    assert meaning_changed(before, {**before, "definition": " x "}) == []
    assert meaning_changed(before, {**before, "definition": "y", "exclude": ["z"]}) == ["definition", "exclude"]
    assert review_warning("a", ["definition"], []) is None
    assert "ben, cat" in review_warning("a", ["definition"], ["cat", "ben"])


def test_summary_lines_name_what_changed():
    assert summary_line("merge", "b", source="a", moved=2, dropped=1) == \
        "merged 'a' into 'b' (2 codings moved, 1 duplicates dropped)"
    assert summary_line("add", "x", frame="f", proposed=True) == "added 'x' to frame 'f' as a proposal"
    with pytest.raises(ValueError, match="unknown codebook change"):
        summary_line("delete", "x")


def test_exportable_fills_marked_gaps_so_the_yaml_checks():
    data = {"codebook": 1, "title": "T", "description": "", "frames": [
        {"id": "f", "label": "F", "description": "", "mutually_exclusive": False,
         "codes": [{"id": "a", "label": "A", "parent": None, "definition": "", "include": [], "exclude": [],
                    "examples": ["1", "2", "3", "4"]},
                   {"id": "b", "label": "B", "parent": "a", "definition": "d", "include": [], "exclude": [],
                    "examples": []}]},
        {"id": "empty", "label": "E", "description": "", "mutually_exclusive": False, "codes": []}]}
    book = parse_codebook(yaml.safe_dump(exportable(data)))
    assert book.code("a").definition.startswith("(no definition yet") and len(book.code("a").examples) == 3
    assert book.code("b").examples == (NO_EXAMPLE,) and [f.id for f in book.frames] == ["f"]
    assert data["frames"][0]["codes"][0]["definition"] == ""  # the input is not changed


def test_counts_and_notes_after_coding_began_leave_out_undone_and_earlier_changes():
    facts = [VersionFact(1, "add", "a", "added 'a'", T0 - timedelta(days=1)),
             VersionFact(2, "add", "b", "added 'b'", T0 + timedelta(hours=1)),
             VersionFact(3, "merge", "b", "merged 'c' into 'b' (1 codings moved, 0 duplicates dropped)",
                         T0 + timedelta(hours=2)),
             VersionFact(4, "split", "d", "split 'e': 1 codings moved to new code 'd'", T0 + timedelta(hours=3),
                         undone=True)]
    assert changes_after(facts, T0.replace(tzinfo=None)) == {"added": 1, "merged": 1, "split": 0}
    assert changes_after(facts, None) == {"added": 0, "merged": 0, "split": 0}
    note = restructure_note(facts, T0)
    assert "merged 'c' into 'b'" in note and "version 3" in note and "split" not in note
    assert restructure_note(facts, T0, codes=["zzz"]) is None
    assert restructure_note(facts, T0, codes=["c"]) == note
    assert methods_sentence(4, {"added": 1, "merged": 1, "split": 0}).startswith(
        "The figures rest on codebook version 4")
