"""Hostile input through the web front end: every upload refused with a clear message, or shown
safely, and the database compared row by row before and after (SQLite and PostgreSQL).

The files are made here, in memory: a 51 MB and a 40 MB transcript, a CSV of 1,000,000 rows, a
zip bomb and an XML entity bomb in a .qdpx, file names with folders and control characters.
"""

from __future__ import annotations

import io
import tomllib
import zipfile
from pathlib import Path

import pytest
from apptest import APP, ok
from streamlit.testing.v1 import AppTest

from coding import service, uploads
from coding.database.backup import backup_tables
from coding.database.engine import make_engine
from coding.errors import CodeframeError

P = "default"
ROOT = Path(__file__).resolve().parent.parent
TRANSCRIPT = b"Interviewer: How did the reform go?\nRespondent: We need a systematic approach.\n"


def snapshot(engine) -> dict:
    """Every row of every table, in primary-key order."""
    with engine.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(t.select().order_by(*t.primary_key.columns))]
                for t in backup_tables()}


@pytest.fixture
def app_db(any_db_url, monkeypatch):
    """A small project (codebook, one transcript) on each backend; the app is pointed at it."""
    engine = make_engine(any_db_url)
    service.initialize(engine, P, codebook_path=ROOT / "codebook.yaml")
    service.import_transcripts(engine, P, [("R01.txt", TRANSCRIPT)])
    monkeypatch.setenv("CODEFRAME_DB", any_db_url)
    monkeypatch.delenv("CODEFRAME_PROJECT", raising=False)
    yield engine
    engine.dispose()


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


QDE = (b'<?xml version="1.0" encoding="utf-8"?>\n'
       b'<Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="test"></Project>\n')
LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE Project [<!ENTITY a "lol">'
          + b"".join(b'<!ENTITY %s "%s">' % (bytes([98 + i]), (b"&%s;" % bytes([97 + i])) * 10) for i in range(9))
          + b']>\n<Project xmlns="urn:QDA-XML:project:1.0" name="&j;"></Project>\n')


def big_transcript(size: int) -> bytes:
    line = b"Respondent: Reform needs a systematic approach and trust.\n"
    return line * (size // len(line) + 1)


def import_page(at: AppTest | None = None) -> AppTest:
    at = at or ok(AppTest.from_file(str(APP), default_timeout=120).run())
    return ok(at.switch_page("app_pages/import_data.py").run())


def errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error)


def test_the_upload_limit_of_the_server_agrees_with_the_library():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == uploads.MAX_UPLOAD_BYTES  # Streamlit counts MiB
    assert uploads.MAX_UPLOAD_BYTES == 50 * 1024 * 1024


@pytest.mark.parametrize("name, data, expected", [
    ("huge.txt", big_transcript(51 * 1024 * 1024), "over the 50 MB limit of any upload"),
    ("long.txt", big_transcript(40 * 1024 * 1024), "over the 5.0 MB limit of a transcript"),
    ("../../etc/R99.txt", TRANSCRIPT, "may not contain a folder"),
    ("..\\R99.txt", TRANSCRIPT, "may not contain a folder"),
    ("R99\x1b[2J.txt", TRANSCRIPT, "control characters"),
    ("R99\u202etxt.exe.txt", TRANSCRIPT, "control characters"),  # right-to-left override
    ("x" * 300 + ".txt", TRANSCRIPT, "at most 200 characters"),
])
def test_hostile_transcript_uploads_are_refused_and_nothing_changes(app_db, name, data, expected):
    before = snapshot(app_db)
    at = import_page()
    at.file_uploader(key="_transcripts_0").set_value((name, data, "text/plain"))
    ok(at.run())
    assert "these uploads were refused; nothing was imported" in errors(at) and expected in errors(at)
    assert not [b for b in at.button if (b.label or "").startswith("Import ")]  # no preview, no Import button
    with pytest.raises(CodeframeError, match="refused") as refused:  # nor through the facade directly
        service.import_transcript_uploads(app_db, P, [(name, data)])
    assert expected in str(refused.value.problems)
    assert snapshot(app_db) == before


def test_a_nul_byte_in_a_file_name_is_refused_by_streamlit_and_by_the_library(app_db):
    before = snapshot(app_db)
    at = import_page()
    at.file_uploader(key="_transcripts_0").set_value(("R99\x00.txt", TRANSCRIPT, "text/plain"))
    at.run()
    assert "Filename cannot contain null bytes" in str(at.exception)  # Streamlit's own check comes first
    with pytest.raises(CodeframeError, match="refused") as refused:
        service.import_transcript_uploads(app_db, P, [("R99\x00.txt", TRANSCRIPT)])
    assert "control characters" in str(refused.value.problems)
    assert snapshot(app_db) == before


def test_a_million_row_csv_is_refused_and_nothing_changes(app_db):
    data = b"document,group\n" + b"".join(b"R%07d,a\n" % i for i in range(1_000_000))
    before = snapshot(app_db)
    at = import_page()
    at.file_uploader(key="_attributes_0").set_value(("respondents.csv", data, "text/csv"))
    ok(at.run())
    assert "1000000 rows; an attributes file may have at most 100000" in errors(at)
    assert not [b for b in at.button if b.label == "Apply attributes"]
    with pytest.raises(CodeframeError, match="attributes upload was refused"):
        service.import_attributes_upload(app_db, P, ("respondents.csv", data))
    with pytest.raises(CodeframeError, match="attributes upload was refused"):
        service.import_transcript_uploads(app_db, P, [("R02.txt", TRANSCRIPT)], attributes=("a.csv", data))
    assert snapshot(app_db) == before


@pytest.mark.parametrize("name, data, expected", [
    ("bomb.qdpx", _zip({"project.qde": QDE, "sources/big.txt": b"\0" * (16 * 1024 * 1024)}), "zip bomb"),
    ("laughs.qdpx", _zip({"project.qde": LAUGHS}), "DTD"),
    ("slip.qdpx", _zip({"project.qde": QDE, "../../evil.txt": b"x"}), "unsafe"),
    ("not-a-zip.qdpx", b"<script>alert(1)</script>", "not a readable zip"),
    ("sub/dir.qdpx", _zip({"project.qde": QDE}), "may not contain a folder"),
])
def test_hostile_qdpx_uploads_are_refused_and_nothing_changes(app_db, name, data, expected):
    before = snapshot(app_db)
    at = import_page()
    at.file_uploader(key="_imp_refi_upload_0").set_value((name, data, "application/zip"))
    ok(at.run())
    ok(at.button(key="_imp_refi_import_qdpx").click().run())
    assert expected in errors(at), errors(at)
    assert snapshot(app_db) == before


def test_html_in_a_transcript_is_imported_as_text_and_escaped_on_the_coding_page(app_db):
    hostile = (b"Interviewer: <b>Hello</b>?\n"
               b"Respondent: <script>window.__pwned = 1</script> and <img src=x onerror=\"window.__pwned=2\">.\n")
    at = import_page()
    at.file_uploader(key="_transcripts_0").set_value(("R02.txt", hostile, "text/plain"))
    ok(at.run())
    ok(at.button[[b.label for b in at.button].index("Import 1 transcript")].click().run())
    document = next(d for d in service.list_documents(app_db, P) if d.name == "R02")
    stored = next(d.text for d in service.export_bundle(app_db, P).documents if d.name == document.name)
    assert "<script>window.__pwned = 1</script>" in stored  # stored as is
    service.ensure_coder(app_db, P, "ann")
    at.session_state["coder"] = "ann"
    at.session_state["doc_id"] = document.id
    ok(at.switch_page("app_pages/code.py").run())
    shown = "\n".join(h.proto.body for h in at.html)
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in shown and "<script>window" not in shown
    assert "&lt;img src=x onerror=" in shown and "<img" not in shown


# --------------------------------------------------------------------------- no search can freeze the server

CATASTROPHIC = r"([a-z ]|[a-z]{2})+\d{5}"  # alternation under repetition: exponential backtracking on any sentence


def test_a_catastrophic_regex_is_stopped_with_a_clear_error_and_other_threads_run_meanwhile(monkeypatch):
    """The search runs with the interpreter lock released: another request completes while it is still running."""
    import threading

    import pandas as pd

    from coding import limits
    from coding import search as sr

    monkeypatch.setattr(limits, "SEARCH_SECONDS", 2.0)
    segments = pd.DataFrame({"segment_id": [1], "document_id": 1, "document": "R01", "respondent": "R01",
                             "position": [0], "role": ["respondent"], "speaker": ["R"], "is_unit": [True],
                             "text": ["Reform must be systemic and this is a long sentence with many words in it"]})
    started, outcome = threading.Event(), {}

    def run():
        started.set()
        try:
            sr.search(segments, CATASTROPHIC, mode="regex")
        except CodeframeError as exc:
            outcome["error"] = str(exc)

    worker = threading.Thread(target=run)
    worker.start()
    started.wait()
    served = sum(len(sr.search(segments, "reform", mode="word")) for _ in range(20))  # another user's request
    still_running = worker.is_alive()
    worker.join()
    assert served == 20 and still_running  # served while the regex ran (a held lock would have blocked it)
    assert "took longer than the 2 s limit of a search" in outcome["error"]
    assert "CODEFRAME_LIMIT_SEARCH_SECONDS" in outcome["error"]


def test_the_cli_and_the_app_refuse_a_catastrophic_search(app_db, monkeypatch, capsys):
    from coding import limits
    from coding.cli import main

    monkeypatch.setattr(limits, "SEARCH_SECONDS", 1.0)
    service.import_transcripts(app_db, P, [("R02.txt", b"Respondent: Reform must be systemic and this is a long "
                                                       b"sentence with many words in it.\n")])
    service.ensure_coder(app_db, P, "ann")
    before = snapshot(app_db)
    with pytest.raises(CodeframeError, match="took longer than the 1 s limit"):
        service.search(app_db, P, pattern=CATASTROPHIC, mode="regex")
    url = app_db.url.render_as_string(hide_password=False)
    assert main(["--db", url, "search", CATASTROPHIC, "--regex"]) == 2
    assert "took longer than the 1 s limit" in capsys.readouterr().err
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["coder"] = "ann"
    ok(at.run())
    ok(at.switch_page("app_pages/retrieve.py").run())
    at.segmented_control(key="sr_mode").set_value("regex")
    ok(at.text_input(key="sr_pattern").set_value(CATASTROPHIC).run())
    assert "took longer than the 1 s limit" in errors(at)
    assert snapshot(app_db) == before
