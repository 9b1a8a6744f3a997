"""Tests of coding.attributes: the respondent attributes CSV."""

from __future__ import annotations

import codecs
from collections.abc import Mapping

import pytest

from coding import attributes
from coding.attributes import Attributes, read_attributes_csv
from coding.errors import AttributesError

ROWS = [
    ("respondent", "expert group", "affiliation"),
    ("R1", "civil servants", "internal"),
    ("R2", "academics", "external"),
    ("R3", "civil servants", "external"),
]


def csv_bytes(delimiter: str = ",", encoding: str = "utf-8", rows=ROWS) -> bytes:
    return ("\n".join(delimiter.join(row) for row in rows) + "\n").encode(encoding)


def problems(excinfo) -> list[tuple[int | None, str]]:
    return [(p.line, p.message) for p in excinfo.value.problems]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters_are_sniffed(delimiter):
    a = read_attributes_csv("attrs.csv", data=csv_bytes(delimiter))
    assert a.delimiter == delimiter
    assert a.id_column == "respondent"
    assert a.columns == ["expert group", "affiliation"]
    assert a.rows == {
        "R1": {"expert group": "civil servants", "affiliation": "internal"},
        "R2": {"expert group": "academics", "affiliation": "external"},
        "R3": {"expert group": "civil servants", "affiliation": "external"},
    }


def test_reads_from_a_path_and_behaves_like_a_mapping(tmp_path):
    path = tmp_path / "respondents.csv"
    path.write_bytes(csv_bytes())
    a = read_attributes_csv(path)
    assert isinstance(a, Attributes) and isinstance(a, Mapping)
    assert list(a) == ["R1", "R2", "R3"] and len(a) == 3 and "R2" in a
    assert a["R2"]["affiliation"] == "external"
    assert dict(a) == a.rows


def test_id_column_name_is_free_and_values_are_stripped():
    data = b"document ; group \n  interview_07.txt ;  A  \n"
    a = read_attributes_csv("a.csv", data=data)
    assert (a.id_column, a.columns, a.rows) == ("document", ["group"], {"interview_07.txt": {"group": "A"}})


def test_id_only_file_has_no_attribute_columns():
    a = read_attributes_csv("a.csv", data=b"respondent\nR1\nR2\n")
    assert a.columns == [] and a.rows == {"R1": {}, "R2": {}}


def test_quoted_fields_with_delimiters_and_newlines_keep_line_numbers():
    data = b'id,note\nR1,"one, two"\nR2,"multi\nline"\nR2,dup\n'
    with pytest.raises(AttributesError) as excinfo:
        read_attributes_csv("a.csv", data=data)
    assert problems(excinfo) == [(5, "duplicate id 'R2' (first on line 3)")]
    a = read_attributes_csv("a.csv", data=data.rsplit(b"R2,dup\n", 1)[0])
    assert a.rows == {"R1": {"note": "one, two"}, "R2": {"note": "multi\nline"}}


def test_blank_lines_and_trailing_delimiters_are_tolerated():
    data = b"\nid;group;;\n\nR1;a;;\n;;;\nR2;b\n"
    a = read_attributes_csv("a.csv", data=data)
    assert a.columns == ["group"] and a.rows == {"R1": {"group": "a"}, "R2": {"group": "b"}}


@pytest.mark.parametrize(
    "encoding, prefix, recorded",
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16-le"),
        ("cp1251", b"", "cp1251"),
        ("koi8_r", b"", "koi8-r"),
    ],
)
def test_encodings_are_detected(encoding, prefix, recorded):
    rows = [("респондент", "группа"), ("Р1", "государственные служащие"), ("Р2", "эксперты из академии")]
    a = read_attributes_csv("a.csv", data=prefix + csv_bytes(";", encoding, rows))
    assert a.encoding == recorded
    assert a.id_column == "респондент"
    assert a.rows == {"Р1": {"группа": "государственные служащие"}, "Р2": {"группа": "эксперты из академии"}}


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("data, message", [(b"", "empty"), (b"  \n \n", "only whitespace")])
def test_empty_file(data, message):
    with pytest.raises(AttributesError, match=message) as excinfo:
        read_attributes_csv("a.csv", data=data)
    assert excinfo.value.problems[0].file == "a.csv"


def test_file_with_only_delimiters_has_no_header():
    with pytest.raises(AttributesError, match="no header"):
        read_attributes_csv("a.csv", data=b",,,\n,,\n")


def test_duplicate_ids_name_both_lines():
    with pytest.raises(AttributesError) as excinfo:
        read_attributes_csv("a.csv", data=b"id,g\nR1,a\nR2,b\nR1,c\n")
    problem = excinfo.value.problems[0]
    assert (problem.file, problem.line, problem.field) == ("a.csv", 4, "id")
    assert "line 2" in problem.message and "'R1'" in problem.message


def test_wrong_field_counts_and_blank_ids_are_reported_together_by_line():
    data = b"id,g,h\nR1,a,b\nR2,a\nR3,a,b,c\n,a,b\nR4,a,b\n"
    with pytest.raises(AttributesError) as excinfo:
        read_attributes_csv("a.csv", data=data)
    assert problems(excinfo) == [
        (3, "too few fields: 2, the header has 3"),
        (4, "too many fields: 4, the header has 3"),
        (5, "the id is blank"),
    ]
    assert all(p.file == "a.csv" for p in excinfo.value.problems)


def test_duplicate_and_blank_column_names():
    with pytest.raises(AttributesError) as excinfo:
        read_attributes_csv("a.csv", data=b"id,Group,,group\nR1,a,b,c\n")
    assert problems(excinfo) == [
        (1, "column 3 of the header has no name"),
        (1, "column name 'group' is used twice (columns 2 and 4)"),
    ]


def test_unclosed_quote_is_reported_with_a_line():
    with pytest.raises(AttributesError, match="unclosed") as excinfo:
        read_attributes_csv("a.csv", data=b'id,g\nR1,a\nR2,"oops\n')
    assert excinfo.value.problems[-1].line == 3  # where the unclosed field starts


def test_binary_and_missing_files(tmp_path):
    with pytest.raises(AttributesError, match="PNG image"):
        read_attributes_csv("a.csv", data=b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(AttributesError, match="not found"):
        read_attributes_csv(tmp_path / "missing.csv")


def test_too_big_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(attributes, "MAX_FILE_BYTES", 10)
    path = tmp_path / "big.csv"
    path.write_bytes(csv_bytes())
    with pytest.raises(AttributesError, match="larger than"):
        read_attributes_csv(path)
    with pytest.raises(AttributesError, match="larger than"):
        read_attributes_csv("up.csv", data=csv_bytes())
