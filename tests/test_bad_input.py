"""Broken input at every entry point: a clear message naming the problem, and an unchanged database.

Each case snapshots every table before and after, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coding import service
from coding.cli import main
from coding.codebook import default_codebook_path
from coding.database.backup import backup_tables
from coding.errors import (
    AttributesError,
    CodebookError,
    CodeframeError,
    CodingsError,
    ExchangeError,
    TranscriptError,
)
from coding.service.codings_csv import read_codings_csv

P = "default"
TRANSCRIPT = (
    "Interviewer: How did the reform go?\n"
    "Respondent: We need a systematic approach.\n"
    "Interviewer: And trust?\n"
    "Respondent: Trust in government is low.\n"
)
GOOD = ("R02.txt", TRANSCRIPT.replace("low", "very low").encode())


@pytest.fixture
def project(engine):
    """One coded transcript, two coders."""
    service.create_project(engine, P)
    service.import_transcripts(engine, P, [("R01.txt", TRANSCRIPT.encode())], unit="turn")
    service.ensure_coder(engine, P, "ann")
    service.ensure_coder(engine, P, "bob")
    document = service.list_documents(engine, P)[0]
    units = [s.id for s in service.document_view(engine, P, document.id, viewer="ann").segments if s.is_unit]
    service.add_coding(engine, P, segment_id=units[0], code="rd_systemic_approach", coder="ann", memo="m")
    service.add_coding(engine, P, segment_id=units[1], code="rd_delegation", coder="bob")
    return engine


def snapshot(engine) -> dict:
    """Every row of every table (the coding table included), in primary-key order."""
    with engine.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(t.select().order_by(*t.primary_key.columns))]
                for t in backup_tables()}


def refused(engine, error, call, *expected: str) -> CodeframeError:
    """``call`` raises ``error`` whose message holds every ``expected`` text; the database is unchanged."""
    before = snapshot(engine)
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    for text in expected:
        assert text in message, f"{text!r} not in {message!r}"
    assert snapshot(engine) == before
    return info.value


# --------------------------------------------------------------------------- transcripts


@pytest.mark.parametrize("name, data, expected", [
    ("empty.txt", b"", "empty"),
    ("blob.txt", bytes(range(256)) * 4, "binary"),
    ("cut.docx", b"PK\x03\x04\x14\x00\x00\x00truncated", "corrupt or truncated"),
    ("subs.vtt", b"1\n00:00:01.000 --> 00:00:02.000\nhello\n", "WEBVTT"),
    ("bad16.txt", b"\xff\xfe" + "Respondent: hi".encode("utf-16-le")[:-1], "utf-16"),
    ("scan.pdf", b"%PDF-1.4 ...", "unsupported file type"),
])
def test_a_bad_transcript_in_a_batch_imports_nothing(project, name, data, expected):
    stem = name.rsplit(".", 1)[0]
    error = refused(project, TranscriptError, lambda: service.import_transcripts(project, P, [GOOD, (name, data)]),
                    expected, stem, "nothing was imported")
    assert all("R02" not in str(p) for p in error.problems)  # the good file is not blamed


def test_transcripts_over_the_size_limit_are_refused_before_reading(project, tmp_path, monkeypatch):
    import coding.transcripts as transcripts

    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:  # sparse: 50 MB + 1 byte on disk in no time
        handle.truncate(transcripts.MAX_FILE_BYTES + 1)
    refused(project, TranscriptError, lambda: service.import_transcripts(project, P, [huge]), "50 MB", "huge")
    monkeypatch.setattr(transcripts, "MAX_FILE_BYTES", 100)
    refused(project, TranscriptError,
            lambda: service.import_transcripts(project, P, [("upload.txt", TRANSCRIPT.encode())]), "limit", "upload")


def test_duplicate_transcripts_are_refused(project):
    refused(project, CodeframeError,
            lambda: service.import_transcripts(project, P, [GOOD, ("R01.txt", TRANSCRIPT.encode())]),
            "R01", "already in the project", "nothing was imported")
    refused(project, CodeframeError, lambda: service.import_transcripts(project, P, [GOOD, ("copy.txt", GOOD[1])]),
            "same content", "nothing was imported")


# --------------------------------------------------------------------------- attributes


@pytest.mark.parametrize("data, error, expected", [
    (b"", AttributesError, "empty"),
    (b"\x00\x01\x02\x03" * 20, AttributesError, "binary"),
    (b"respondent,age\nR01,30,extra\n", AttributesError, "a.csv:2"),
    (b"respondent,age\nR99,30\n", CodeframeError, "R99"),
])
def test_bad_attributes_change_nothing(project, data, error, expected):
    refused(project, error, lambda: service.import_attributes(project, P, ("a.csv", data)), expected, "a.csv")
    refused(project, error,
            lambda: service.import_transcripts(project, P, [GOOD], attributes=("a.csv", data)), expected)


# --------------------------------------------------------------------------- codings CSV


def _codings(rows: list[list[str]], header=("document", "coder", "code", "segment")) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


@pytest.mark.parametrize("data, expected", [
    (b"", "empty"),
    (b"\x00\x89PNG\r\n\x1a\n" * 10, "binary"),
    (b"document,code\nR01,rd_delegation\n", "missing column(s) coder"),
    (b"document,coder,code\nR01,ann,rd_delegation\n", "need a 'segment' column"),
    (_codings([["R01", "ann", "rd_delegation", "2", "surplus"]]), "c.csv:2: more fields than columns"),
    (_codings([["R01", "ann", "rd_delegation", "two"]]), "c.csv:2"),
    (_codings([["R01", "ann", "rd_delegation", "1"], ["R01", "ann", "no_such_code", "2"]]), "unknown code 'no_such_code'"),
    (_codings([["R01", "ann", "rd_delegation", "1"], ["R01", "zoe", "rd_delegation", "2"]]), "unknown coder 'zoe'"),
    (_codings([["R01", "ann", "rd_delegation", "1"], ["R77", "ann", "rd_delegation", "2"]]), "unknown document 'R77'"),
    (_codings([["R01", "ann", "rd_delegation", "9"]]), "segment 9 out of range"),
    (_codings([["R01", "ann", "rd_delegation", "this sentence is not there"]], header=("document", "coder", "code", "quote")),
     "quote found 0 times"),
    (b"\xff\xfe" + "document,coder,code,segment\n".encode("utf-16-le")[:-1], "c.csv"),
])
def test_bad_codings_csv_imports_nothing(project, data, expected):
    refused(project, CodingsError, lambda: service.import_codings(project, P, ("c.csv", data)), expected,
            "c.csv")


# --------------------------------------------------------------------------- codebook YAML


def _codebook_variant(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_codebooks_change_nothing(project, tmp_path):
    good = default_codebook_path().read_text(encoding="utf-8")
    duplicate = good.replace("  - id: contract_service\n", "  - id: contract_service\n    id: contract_service\n", 1)
    laughs = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8))
    cases = [
        (_codebook_variant(tmp_path, "dup.yaml", duplicate), "duplicate key 'id'"),
        (_codebook_variant(tmp_path, "laughs.yaml", laughs), "not allowed"),
        (_codebook_variant(tmp_path, "cut.yaml", good[: len(good) // 2].rsplit("\n", 3)[0] + "\n    label: [oops\n"),
         "cut.yaml"),
        (_codebook_variant(tmp_path, "empty.yaml", ""), "empty"),
    ]
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(bytes(range(256)))
    cases.append((binary, "binary.yaml"))
    for path, expected in cases:
        error = refused(project, CodebookError, lambda: service.apply_codebook(project, P, path=path), expected)
        assert any(p.line for p in error.problems) or path.name == "binary.yaml"
    refused(project, CodeframeError,
            lambda: service.apply_codebook(project, P, path=default_codebook_path(), renames={"nope": "rd_delegation"}),
            "nope")


# --------------------------------------------------------------------------- REFI-QDA


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


QDE = (b'<?xml version="1.0" encoding="utf-8"?>\n'
       b'<Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="test"></Project>\n')
XXE = (b'<?xml version="1.0"?>\n<!DOCTYPE Project [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
       b'<Project xmlns="urn:QDA-XML:project:1.0" name="&x;"></Project>\n')


@pytest.mark.parametrize("name, data, expected", [
    ("traversal.qdpx", _zip({"project.qde": QDE, "../../evil.txt": b"x"}), "unsafe"),
    ("bomb.qdpx", _zip({"project.qde": QDE, "sources/big.txt": b"\0" * (8 * 1024 * 1024)}), "zip bomb"),
    ("xxe.qdpx", _zip({"project.qde": XXE}), "DTD"),
    ("cut.qdpx", _zip({"project.qde": QDE})[:40], "not a readable zip"),
    ("plain.qdpx", b"just text", "not a readable zip"),
])
def test_unsafe_or_broken_refi_qda_files_are_refused_by_the_cli(project, tmp_path, capsys, name, data, expected):
    from coding.refiqda import import_qdpx

    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ExchangeError, match=expected):
        import_qdpx(data, name=name)
    before = snapshot(project)
    url = project.url.render_as_string(hide_password=False)
    assert main(["--db", url, "import", "qdpx", str(path)]) == 2
    err = capsys.readouterr().err
    assert name in err and "Traceback" not in err
    assert snapshot(project) == before


def test_a_refi_qda_project_is_not_imported_over_existing_documents(project):
    from coding.refiqda import export_qdpx, import_qdpx

    bundle, report = import_qdpx(export_qdpx(service.export_bundle(project, P)), name="round.qdpx")
    assert [d.name for d in bundle.documents] == ["R01"]
    refused(project, CodeframeError, lambda: service.import_bundle(project, P, bundle, report), "already has documents")


# --------------------------------------------------------------------------- command-line arguments


@pytest.mark.parametrize("argv, expected", [
    (["import"], "required"),
    (["import", "codings"], "required: CSV"),
    (["undo", "--coder", "ann", "--steps", "many"], "not a whole number"),
    (["user", "add", "x", "--role", "boss"], "invalid choice"),
    (["history", "--format", "xml"], "invalid choice"),
    (["no-such-command"], "invalid choice"),
])
def test_bad_cli_arguments_exit_2_with_usage(capsys, argv, expected):
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and expected in err and "Traceback" not in err


def test_cli_input_errors_exit_2_without_traceback_and_change_nothing(project, tmp_path, capsys):
    url = project.url.render_as_string(hide_password=False)
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_bytes(_codings([["R01", "ann", "no_such_code", "1"]]))
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("codebook: 1\ncodebook: 2\n", encoding="utf-8")
    cases = [
        (["import", "codings", str(bad_csv)], "bad.csv:2 [code]"),
        (["import", "transcripts", str(tmp_path / "missing.txt")], "missing.txt"),
        (["apply-codebook", str(bad_yaml)], "bad.yaml:2"),
        (["apply-codebook", str(default_codebook_path()), "--rename", "nonsense"], "OLD=NEW"),
        (["undo", "--coder", "nobody"], "no coder named 'nobody'"),
        (["restore", str(bad_csv)], "needs an empty database"),
        (["--project", "nope", "status"], "no project named 'nope'"),
    ]
    before = snapshot(project)
    for argv, expected in cases:
        assert main(["--db", url, *argv]) == 2, argv
        err = capsys.readouterr().err
        assert expected in err and "Traceback" not in err, (argv, err)
    assert snapshot(project) == before


# --------------------------------------------------------------------------- property: the codings CSV parser


COLUMNS = ("document", "coder", "code", "segment", "start", "end", "quote", "source", "memo", "other")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_codings_parser_never_crashes_on_random_bytes(data):
    try:
        rows = read_codings_csv("fuzz.csv", data)
    except CodingsError as exc:
        assert "fuzz.csv" in str(exc)
    else:
        assert all(r.document and r.coder and r.code for r in rows)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(COLUMNS), min_size=0, max_size=7, unique=True),
    st.lists(st.lists(st.one_of(st.text(max_size=12), st.integers(-5, 50).map(str)), max_size=9), max_size=6),
)
def test_codings_parser_never_crashes_on_random_tables(header, rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    try:
        parsed = read_codings_csv("fuzz.csv", out.getvalue().encode("utf-8"))
    except CodingsError as exc:
        assert exc.problems and all(p.file == "fuzz.csv" for p in exc.problems)
    else:
        assert len(parsed) <= len(rows)
        assert all(r.source in service.SOURCES and r.line >= 2 for r in parsed)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(
    st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,8}", fullmatch=True),
    st.from_regex(r"[a-z]{1,8}", fullmatch=True),
    st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
    st.integers(1, 500),
    st.sampled_from(service.SOURCES),
), min_size=1, max_size=8))
def test_well_formed_codings_rows_parse_back_exactly(rows):
    data = _codings([[d, c, k, str(s), src] for d, c, k, s, src in rows],
                    header=("document", "coder", "code", "segment", "source"))
    parsed = read_codings_csv("ok.csv", data)
    assert [(r.document, r.coder, r.code, r.segment, r.source) for r in parsed] == rows
    assert [r.line for r in parsed] == list(range(2, len(rows) + 2))
