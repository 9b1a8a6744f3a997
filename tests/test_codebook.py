"""Tests for coding.codebook (the default codebook, the strict loader, the diff) and
the ``codebook check`` command."""

from __future__ import annotations

import argparse
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from coding import codebook as codebook_module
from coding.cli import codebook as codebook_cli
from coding.codebook import (
    MAX_CODEBOOK_BYTES,
    Code,
    Codebook,
    Frame,
    default_codebook_path,
    diff_codebooks,
    load_codebook,
    parse_codebook,
)
from coding.errors import CodebookError, NotFound

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_COPY = REPO_ROOT / "coding" / "data" / "codebook.yaml"
REPO_COPY = REPO_ROOT / "codebook.yaml"

PRINCIPLES = {
    "pslc_p1_values_culture": [
        "pslc_01_define_values",
        "pslc_02_leadership_capability",
        "pslc_03_inclusive_safe",
        "pslc_04_proactive_innovative",
    ],
    "pslc_p2_skilled_servants": [
        "pslc_05_identify_skills",
        "pslc_06_attract_retain",
        "pslc_07_merit_recruitment",
        "pslc_08_learning_culture",
        "pslc_09_reward_performance",
    ],
    "pslc_p3_employment_systems": [
        "pslc_10_institutional_responsibilities",
        "pslc_11_strategic_people_mgmt",
        "pslc_12_mobility",
        "pslc_13_employment_terms",
        "pslc_14_employee_engagement",
    ],
}


def doc(text: str) -> str:
    """Dedent a YAML snippet so that its first line is line 1."""
    return textwrap.dedent(text).lstrip("\n")


def problems(text: str) -> list[tuple[int | None, str]]:
    """(line, message) of every problem parse_codebook reports for ``text``."""
    with pytest.raises(CodebookError) as caught:
        parse_codebook(text, source="test.yaml")
    assert caught.value.problems, "a CodebookError must carry its problems"
    assert all(p.file == "test.yaml" for p in caught.value.problems)
    return [(p.line, p.message) for p in caught.value.problems]


VALID = doc("""
    codebook: 1
    title: Demo
    description: A small codebook.
    frames:
      - id: topics
        label: Topics
        mutually_exclusive: false
        codes:
          - id: pay
            label: Pay
            definition: Talk about salaries.
            include: [salary levels]
            exclude: ["Do not confuse with bonus: rewards for results."]
            examples: [We are paid too little.]
          - id: bonus
            label: Bonus
            parent: pay
            definition: Talk about rewards for results.
            include: [bonuses]
            exclude: []
            examples: [Bonuses are the same for everyone.]
      - id: stance
        label: Stance
        mutually_exclusive: true
        codes:
          - id: pro
            label: For
            definition: Supports the reform.
            include: []
            exclude: []
            examples: [I support it.]
    """)


# --------------------------------------------------------------------------- shipped codebook


@pytest.fixture(scope="module")
def shipped() -> Codebook:
    return load_codebook(default_codebook_path())


def test_repo_copy_is_byte_identical_to_package_copy():
    assert PACKAGE_COPY.read_bytes() == REPO_COPY.read_bytes()


def test_default_path_prefers_repo_copy_and_falls_back_to_package(monkeypatch, tmp_path):
    assert default_codebook_path() == REPO_COPY
    monkeypatch.setattr(codebook_module, "_REPO_FILE", tmp_path / "missing.yaml")
    assert default_codebook_path() == PACKAGE_COPY
    assert load_codebook(default_codebook_path()).code_ids == load_codebook(REPO_COPY).code_ids


def test_shipped_frames(shipped):
    assert [f.id for f in shipped.frames] == [
        "reform_directions", "oecd_pslc", "cs_values", "dev_factors", "contract_service", "cvf_culture"]
    assert {f.id for f in shipped.frames if f.mutually_exclusive} == {"contract_service"}


def test_shipped_reform_directions(shipped):
    assert [c.id for c in shipped.codes("reform_directions")] == [
        "rd_systemic_approach", "rd_resistance_to_change", "rd_human_capital",
        "rd_delegation", "rd_evidence_based"]
    assert all(c.parent is None for c in shipped.codes("reform_directions"))


def test_shipped_oecd_has_14_principles_under_3_pillars(shipped):
    codes = shipped.codes("oecd_pslc")
    pillars = [c.id for c in codes if c.parent is None]
    principles = [c for c in codes if c.parent is not None]
    assert pillars == list(PRINCIPLES)
    assert len(principles) == 14
    for pillar, expected in PRINCIPLES.items():
        assert shipped.children(pillar) == expected
        assert shipped.descendants(pillar) == set(expected)
    assert [int(c.id[5:7]) for c in principles] == list(range(1, 15))


def test_shipped_values_factors_contract(shipped):
    assert [c.id for c in shipped.codes("cs_values")] == [
        "val_patriotism", "val_customer_focus", "val_integrity", "val_empathy",
        "val_honesty", "val_ethics", "val_professionalism", "val_legal_regulation"]
    assert [c.id for c in shipped.codes("dev_factors")] == [
        "dev_economic_interests", "dev_political_will", "dev_institutional_support",
        "dev_low_corruption", "dev_transparent_culture", "dev_data_driven"]
    assert [c.id for c in shipped.codes("contract_service")] == ["cs_evolutionary", "cs_progressive"]
    assert shipped.frame("contract_service").mutually_exclusive is True


def test_shipped_competing_values_frame(shipped):
    assert [c.id for c in shipped.codes("cvf_culture")] == [
        "cvf_collaborate", "cvf_create", "cvf_compete", "cvf_control"]
    assert shipped.frame("cvf_culture").mutually_exclusive is False  # a segment may describe two cultures
    labels = " ".join(c.label for c in shipped.codes("cvf_culture"))
    assert all(t in labels for t in ("clan", "adhocracy", "market", "hierarchy"))
    definitions = {c.id: c.definition for c in shipped.codes("cvf_culture")}
    assert definitions["cvf_collaborate"].startswith("Internal focus and flexibility")
    assert definitions["cvf_create"].startswith("External focus and flexibility")
    assert definitions["cvf_compete"].startswith("External focus and stability")
    assert definitions["cvf_control"].startswith("Internal focus and stability")


def test_shipped_codes_are_fully_specified(shipped):
    for code in shipped.codes():
        assert 1 <= len(code.examples) <= 3, code.id
        assert code.include and code.exclude, code.id
        assert len(code.definition) > 80, code.id
        assert code.label and code.line is not None


def test_shipped_exclusions_name_existing_other_codes(shipped):
    """Every exclusion points at a confusable code that exists (and is not the code itself)."""
    known = set(shipped.code_ids) | {f.id for f in shipped.frames}
    pattern = re.compile(r"\b(?:rd|pslc|val|dev|cs|cvf)_[a-z0-9_]+")
    for code in shipped.codes():
        for rule in code.exclude:
            assert rule.startswith("Do not confuse with "), (code.id, rule)
            named = pattern.findall(rule.split(":", 1)[0])
            assert named, (code.id, rule)
            assert code.id not in named, (code.id, rule)
            assert set(pattern.findall(rule)) <= known, (code.id, rule)


def test_code_ids_unique_and_well_formed(shipped):
    assert len(shipped.code_ids) == len(set(shipped.code_ids)) == 42
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", cid) for cid in shipped.code_ids)


# --------------------------------------------------------------------------- model & look-ups


def test_parse_valid_builds_everything():
    cb = parse_codebook(VALID, source="demo.yaml")
    assert cb.title == "Demo" and cb.description == "A small codebook." and cb.source == "demo.yaml"
    assert cb.code_ids == ("pay", "bonus", "pro")
    bonus = cb.code("bonus")
    assert bonus == Code(
        id="bonus", label="Bonus", frame="topics", parent="pay",
        definition="Talk about rewards for results.", include=("bonuses",), exclude=(),
        examples=("Bonuses are the same for everyone.",))
    assert bonus.line == 15
    assert cb.frame("topics").line == 5 and cb.frame("stance").line == 22
    assert cb.frame("stance").mutually_exclusive is True
    assert cb.frame_of("pro").id == "stance"
    assert [c.id for c in cb.codes("topics")] == ["pay", "bonus"]
    assert "pay" in cb and "nope" not in cb


def test_hierarchy_queries():
    text = doc("""
        codebook: 1
        title: Tree
        frames:
          - id: f
            label: F
            codes:
              - {id: a, label: A, definition: d, include: [], exclude: [], examples: [e]}
              - {id: b, label: B, parent: a, definition: d, include: [], exclude: [], examples: [e]}
              - {id: c, label: C, parent: b, definition: d, include: [], exclude: [], examples: [e]}
              - {id: d, label: D, parent: a, definition: d, include: [], exclude: [], examples: [e]}
        """)
    cb = parse_codebook(text)
    assert cb.children("a") == ["b", "d"]
    assert cb.descendants("a") == {"b", "c", "d"}
    assert cb.descendants("c") == set()
    assert cb.ancestors("c") == ["b", "a"]
    assert cb.ancestors("a") == []


def test_unknown_ids_raise_not_found_with_name():
    cb = parse_codebook(VALID)
    with pytest.raises(NotFound, match="'nope'"):
        cb.code("nope")
    with pytest.raises(NotFound, match="frames: topics, stance"):
        cb.frame("nope")
    with pytest.raises(NotFound):
        cb.descendants("nope")


def test_prototype_text_joins_label_definition_include_examples():
    cb = parse_codebook(VALID)
    text = cb.prototype_text("pay")
    assert text.split("\n") == ["Pay", "Talk about salaries.", "salary levels", "We are paid too little."]
    assert "Do not confuse" not in text


def test_to_dict_round_trip(shipped):
    for cb in (parse_codebook(VALID), shipped):
        again = parse_codebook(yaml.safe_dump(cb.to_dict(), allow_unicode=True))
        assert again == cb
        assert again.to_dict() == cb.to_dict()
        assert [c.parent for c in again.codes()] == [c.parent for c in cb.codes()]


def test_direct_construction_rejects_inconsistent_codebooks():
    code = Code(id="a", label="A", frame="f", parent="missing", definition="d", examples=("e",))
    with pytest.raises(CodebookError, match="parent 'missing'"):
        Codebook(title="T", frames=(Frame("f", "F", "", False, (code,)),))
    loop_a = Code(id="a", label="A", frame="f", parent="b", definition="d")
    loop_b = Code(id="b", label="B", frame="f", parent="a", definition="d")
    with pytest.raises(CodebookError, match="cycle"):
        Codebook(title="T", frames=(Frame("f", "F", "", False, (loop_a, loop_b)),))


# --------------------------------------------------------------------------- validation


def test_bad_yaml_syntax_reports_line():
    text = VALID.replace("    label: Topics", "    label: Topics: more")
    [(line, message)] = problems(text)
    assert line == 6
    assert "YAML syntax error" in message


def test_unclosed_flow_list_reports_a_line():
    text = VALID.replace("include: [salary levels]", "include: [salary levels")
    [(line, message)] = problems(text)
    assert "YAML syntax error" in message and "flow sequence" in message and line == 13


def test_control_character_reports_line():
    [(line, message)] = problems(VALID.replace("Talk about salaries.", "Talk \x07 about salaries."))
    assert line == 11 and "U+0007" in message


def test_duplicate_top_level_key():
    [(line, message)] = problems(VALID.replace("title: Demo\n", "title: Demo\ntitle: Again\n"))
    assert line == 3 and "the codebook: duplicate key 'title' (first given on line 2)" in message


def test_duplicate_mapping_key_is_detected():
    text = VALID.replace("        label: Pay\n", "        label: Pay\n        label: Wages\n")
    [(line, message)] = problems(text)
    assert line == 11
    assert "duplicate key 'label'" in message and "line 10" in message


def test_anchors_and_aliases_are_rejected():
    text = VALID.replace("include: [salary levels]", "include: &inc [salary levels]").replace(
        "include: [bonuses]", "include: *inc")
    found = problems(text)
    assert (12, found[0][1]) == found[0] and "anchors are not allowed (&inc)" in found[0][1]
    assert found[1][0] == 19 and "aliases are not allowed (*inc)" in found[1][1]
    assert len(found) == 2  # the placeholder for the alias adds no follow-up noise


def test_alias_bomb_is_refused_without_expanding():
    rows = ["codebook: 1", "title: Bomb", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 9):
        prev = f"*a{level - 1}"
        rows.append(f"a{level}: &a{level} [{', '.join([prev] * 9)}]")
    found = problems("\n".join(rows) + "\nframes: []\n")
    assert sum("aliases are not allowed" in m for _, m in found) == 8 * 9
    assert any("unknown key 'a0'" in m for _, m in found)


@pytest.mark.parametrize(
    ("old", "new", "line", "where"),
    [
        ("title: Demo\n", "title: Demo\ncolour: blue\n", 3, "the codebook"),
        ("    label: Topics\n", "    label: Topics\n    colour: blue\n", 7, "frame 'topics'"),
        ("        label: Pay\n", "        label: Pay\n        colour: blue\n", 11, "code 'pay'"),
    ],
)
def test_unknown_key_names_allowed_keys(old, new, line, where):
    [(got_line, message)] = problems(VALID.replace(old, new, 1))
    assert got_line == line
    assert message.startswith(f"{where}: unknown key 'colour'")
    assert "allowed keys are:" in message


def test_unknown_code_key_lists_code_keys():
    [(_, message)] = problems(VALID.replace("        label: Pay\n", "        color: x\n        label: Pay\n"))
    assert "id, label, parent, definition, include, exclude, examples" in message


def test_missing_required_keys():
    text = VALID.replace("        definition: Talk about salaries.\n", "").replace("title: Demo\n", "")
    found = problems(text)
    assert found == [
        (1, "the codebook: missing required key 'title'"),
        (8, "code 'pay': missing required key 'definition'"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "line", "expected"),
    [
        ("include: [salary levels]", "include: salary levels", 12, "'include' must be a list of texts, got text"),
        ("mutually_exclusive: false", "mutually_exclusive: sometimes", 7, "must be true or false, got text"),
        ("label: Pay", "label: 123", 10, "'label' must be text, got a number (123) (put it in quotes)"),
        ("examples: [We are paid too little.]", "examples: [{a: b}]", 14, "'examples[1]' must be text, got a mapping"),
        ("codebook: 1", "codebook: one", 1, "must be the number 1"),
        ("codebook: 1", "codebook: 2", 1, "unsupported codebook format version 2"),
    ],
)
def test_wrong_types(old, new, line, expected):
    [(got_line, message)] = problems(VALID.replace(old, new, 1))
    assert got_line == line
    assert expected in message


def test_frames_must_be_a_list():
    [(line, message)] = problems("codebook: 1\ntitle: T\nframes: {}\n")
    assert line == 3 and "'frames' must be a list of frames, got a mapping" in message


def test_colon_in_unquoted_example_is_caught():
    """``- Integrity: ...`` is a mapping in YAML, not a sentence; it must not load silently."""
    text = VALID.replace("examples: [We are paid too little.]", "examples:\n          - Pay: far too little.")
    [(line, message)] = problems(text)
    assert line == 15 and "'examples[1]' must be text, got a mapping" in message


def test_duplicate_code_id_across_frames_reports_both_lines():
    text = VALID.replace("      - id: pro\n", "      - id: pay\n")
    [(line, message)] = problems(text)
    assert line == 26
    assert "duplicate code id 'pay'" in message and "line 9" in message and "line 26" in message
    assert "frame 'topics'" in message


def test_duplicate_frame_id():
    text = VALID.replace("  - id: stance\n", "  - id: topics\n")
    [(line, message)] = problems(text)
    assert line == 22 and "duplicate frame id 'topics'" in message and "line 5" in message


def test_unknown_parent():
    [(line, message)] = problems(VALID.replace("parent: pay", "parent: salary"))
    assert line == 17 and "parent 'salary' is not a code" in message


def test_parent_in_another_frame():
    [(line, message)] = problems(VALID.replace("parent: pay", "parent: pro"))
    assert line == 17 and "parent 'pro' is in frame 'stance'" in message


def test_parent_cycle_reported_once():
    text = VALID.replace("        label: Pay\n", "        label: Pay\n        parent: bonus\n")
    [(line, message)] = problems(text)
    assert line == 11 and "parent cycle: pay -> bonus -> pay" in message


def test_code_cannot_be_its_own_parent():
    [(line, message)] = problems(VALID.replace("parent: pay", "parent: bonus"))
    assert line == 17 and "parent cycle: bonus -> bonus" in message


@pytest.mark.parametrize("definition", ['""', "'   '", ""])
def test_empty_definition(definition):
    [(line, message)] = problems(VALID.replace("definition: Talk about salaries.", f"definition: {definition}"))
    assert line == 11 and "'definition' must not be empty" in message


@pytest.mark.parametrize("examples", ["[]", "[a, b, c, d]"])
def test_examples_count_outside_one_to_three(examples):
    [(line, message)] = problems(VALID.replace("examples: [We are paid too little.]", f"examples: {examples}"))
    assert line == 14 and "give 1 to 3 examples" in message


def test_empty_codes_and_frames_lists():
    text = doc("""
        codebook: 1
        title: Empty
        frames:
          - id: f
            label: F
            codes: []
        """)
    [(line, message)] = problems(text)
    assert line == 6 and "empty codes list" in message
    [(line, message)] = problems("codebook: 1\ntitle: T\nframes: []\n")
    assert line == 3 and "no frames" in message


@pytest.mark.parametrize("bad_id", ["Pay", "pay-1", "1pay", "pay level"])
def test_invalid_code_id(bad_id):
    [(line, message)] = problems(VALID.replace("      - id: pay\n", f"      - id: {bad_id}\n").replace(
        "parent: pay", "parent: null"))
    assert line == 9 and f"id {bad_id!r} is not valid" in message


def test_invalid_frame_id():
    [(line, message)] = problems(VALID.replace("  - id: topics\n", "  - id: Topics!\n"))
    assert line == 5 and "is not valid" in message


def test_all_problems_reported_at_once():
    text = (VALID.replace("definition: Talk about salaries.", "definition: ''")
            .replace("parent: pay", "parent: nowhere")
            .replace("mutually_exclusive: true", "mutually_exclusive: 1"))
    found = problems(text)
    assert [line for line, _ in found] == [11, 17, 24]
    assert len(found) == 3


def test_empty_document_and_non_mapping_root():
    assert problems("") == [(1, "the codebook is empty")]
    assert problems("# only a comment\n") == [(1, "the codebook is empty")]
    [(line, message)] = problems("- a\n- b\n")
    assert line == 1 and "must be a mapping" in message


def test_multiple_documents_are_refused():
    [(line, message)] = problems(VALID + "---\ntitle: again\n")
    assert "YAML syntax error" in message and line == 32


def test_python_tags_are_refused():
    [(line, message)] = problems(VALID.replace("label: Pay", "label: !!python/name:os.system ''"))
    assert line == 10 and "unsupported YAML value" in message


def test_too_large_text_refused_up_front():
    with pytest.raises(CodebookError, match="too large") as caught:
        parse_codebook("#" * (MAX_CODEBOOK_BYTES + 1))
    assert "at most 5 MB" in caught.value.problems[0].message


# --------------------------------------------------------------------------- files


def test_load_utf8_with_bom_and_non_ascii(tmp_path):
    path = tmp_path / "cb.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.replace("title: Demo", "title: Патриотизм").encode("utf-8"))
    cb = load_codebook(path)
    assert cb.title == "Патриотизм" and cb.source == str(path)
    assert cb.code("pay").line == 9


def test_load_non_utf8_names_file(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(VALID.replace("title: Demo", "title: Démo").encode("latin-1"))
    with pytest.raises(CodebookError) as caught:
        load_codebook(path)
    [problem] = caught.value.problems
    assert problem.file == str(path) and problem.line == 2 and "UTF-8" in problem.message


def test_load_binary_names_file(tmp_path):
    path = tmp_path / "image.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(CodebookError) as caught:
        load_codebook(path)
    assert caught.value.problems[0].file == str(path)
    assert "binary" in caught.value.problems[0].message


def test_load_missing_and_too_large_files(tmp_path):
    with pytest.raises(CodebookError, match="cannot read"):
        load_codebook(tmp_path / "nope.yaml")
    with pytest.raises(CodebookError, match="not a file"):
        load_codebook(tmp_path)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_CODEBOOK_BYTES + 1))
    with pytest.raises(CodebookError, match="too large"):
        load_codebook(big)


def test_load_reports_problems_with_file_name(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(VALID.replace("parent: pay", "parent: nowhere"), encoding="utf-8")
    with pytest.raises(CodebookError) as caught:
        load_codebook(path)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.field) == (str(path), 17, "parent")
    assert f"{path}:17 [parent]" in str(caught.value)


# --------------------------------------------------------------------------- diff


def test_diff_identical_is_empty(shipped):
    diff = diff_codebooks(shipped, parse_codebook(yaml.safe_dump(shipped.to_dict())))
    assert diff.is_empty and diff.describe() == []


def test_diff_added_removed_relabelled_moved():
    old = parse_codebook(VALID)
    new_text = (VALID.replace("label: Bonus", "label: Bonuses and premiums")
                .replace("      - id: pro\n", "      - id: pro\n        parent: null\n")
                .replace("parent: pay", "parent: null")
                .replace("definition: Supports the reform.", "definition: Argues for the reform.")
                .replace("          - id: pay\n            label: Pay\n", "")
                .replace("      - id: pay\n        label: Pay\n", "      - id: wages\n        label: Wages\n")
                .replace("mutually_exclusive: true", "mutually_exclusive: false"))
    new = parse_codebook(new_text)
    diff = diff_codebooks(old, new)
    assert diff.added == ["wages"]
    assert diff.removed == ["pay"]
    assert diff.relabelled == ["bonus"]
    assert diff.moved == ["bonus"]
    assert diff.redefined == ["pro"]
    assert diff.frames_changed == ["stance"]
    assert not diff.is_empty
    lines = diff.describe()
    assert "code removed: pay (its codings are kept and reported, not dropped)" in lines
    assert "code added: wages in frame topics" in lines
    assert "code relabelled: bonus: 'Bonus' -> 'Bonuses and premiums'" in lines
    assert "code moved: bonus: topics/pay -> topics/-" in lines
    assert "frame changed: stance (no longer mutually exclusive)" in lines


def test_diff_code_moved_to_another_frame_and_frames_added_removed():
    old = parse_codebook(VALID)
    renamed_frame = "  - id: position\n    label: Position\n"
    new = parse_codebook(VALID.replace("  - id: stance\n    label: Stance\n", renamed_frame))
    diff = diff_codebooks(old, new)
    assert diff.moved == ["pro"] and diff.frames_added == ["position"] and diff.frames_removed == ["stance"]
    assert diff.added == diff.removed == []
    assert "code moved: pro: stance/- -> position/-" in diff.describe()


# --------------------------------------------------------------------------- CLI


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="codeframe")
    register_into = parser.add_subparsers(dest="command")
    codebook_cli.register(register_into)
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_check_default_codebook(capsys):
    assert run_cli(["codebook", "check"]) == 0
    out = capsys.readouterr().out
    assert f"{default_codebook_path()}: OK" in out
    assert "6 frames, 42 codes" in out
    assert re.search(r"oecd_pslc\s+17 codes \(3 top-level, 14 nested\); several codes per segment", out)
    assert re.search(r"contract_service\s+2 codes; mutually exclusive", out)


def test_cli_check_good_file(tmp_path, capsys):
    path = tmp_path / "cb.yaml"
    path.write_text(VALID, encoding="utf-8")
    assert run_cli(["codebook", "check", str(path)]) == 0
    captured = capsys.readouterr()
    assert "2 frames, 3 codes" in captured.out
    assert re.search(r"topics\s+2 codes \(1 top-level, 1 nested\)", captured.out)
    assert captured.err == ""


def test_cli_check_bad_file_lists_problems(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(VALID.replace("parent: pay", "parent: nowhere").replace(
        "examples: [I support it.]", "examples: []"), encoding="utf-8")
    assert run_cli(["codebook", "check", str(path)]) == 2
    captured = capsys.readouterr()
    err_lines = captured.err.splitlines()
    assert err_lines[0] == f"{path}:17: code 'bonus': parent 'nowhere' is not a code in the codebook"
    assert err_lines[1] == f"{path}:31: code 'pro': give 1 to 3 examples, found 0"
    assert err_lines[2] == f"{path}: 2 problems; the codebook was not loaded"
    assert captured.out == ""


def test_cli_check_unreadable_file(tmp_path, capsys):
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"\x00\x01\x02")
    assert run_cli(["codebook", "check", str(path)]) == 2
    assert f"{path}: binary file" in capsys.readouterr().err


def test_expected_share_is_optional_validated_and_round_trips():
    assert parse_codebook(VALID).code("pay").expected_share is None
    with_share = VALID.replace("examples: [We are paid too little.]",
                               "examples: [We are paid too little.]\n        expected_share: 0.2")
    cb = parse_codebook(with_share)
    assert cb.code("pay").expected_share == 0.2 and cb.code("bonus").expected_share is None
    assert parse_codebook(yaml.safe_dump(cb.to_dict())) == cb
    line = with_share.splitlines().index("        expected_share: 0.2") + 1
    for bad in ("0", "1.5", "-0.1", "lots", "true"):
        [(at, message)] = problems(with_share.replace("expected_share: 0.2", f"expected_share: {bad}"))
        assert at == line and "'expected_share' must be a number above 0 and at most 1" in message
