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
from apptest import APP, ok, shown
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
def app_db(db_url, monkeypatch):
    """A small project (codebook, one transcript) on each backend; the app is pointed at it."""
    engine = make_engine(db_url)
    service.initialize(engine, P, codebook_path=ROOT / "codebook.yaml")
    service.import_transcripts(engine, P, [("R01.txt", TRANSCRIPT)])
    monkeypatch.setenv("CODEFRAME_DB", db_url)
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
    return "\n".join(shown(e.value) for e in at.error)


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
    shown = "\n".join(h.proto.body for h in at.html) + "\n".join(str(m.value) for m in at.markdown)
    assert "<script>window" not in shown and "<img" not in shown  # no markup of the page carries it
    # the coding view gets the text as data and sets it as text (textContent; see test_browser_keyboard)
    from test_app_coding_page import view

    texts = [s["text"] for s in view(at)["segments"]]
    assert any("<script>window.__pwned = 1</script>" in t and "<img src=x onerror=" in t for t in texts)


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


# --------------------------------------------------------------------------- a hostile corpus through every door

LIMIT_SECONDS, LIMIT_MB = 10, 500  # per input: the door's own work, measured inside a fresh subprocess
RUNNER = r'''
import json, sys, time
from pathlib import Path

from coding import service
from coding.cli import main as cli
from coding.database.engine import make_engine
from coding.errors import CodeframeError

url, cases = sys.argv[1], json.loads(Path(sys.argv[2]).read_text())
engine = make_engine(url)


def upload(path):
    return Path(path).name, Path(path).read_bytes()


DOORS = {
    "app transcripts": lambda f: service.import_transcript_uploads(engine, "default", [upload(f[0])]),
    "app attributes": lambda f: service.import_attributes_upload(engine, "default", upload(f[0])),
    "app survey": lambda f: service.import_survey(engine, "default", upload(f[0])),
    "app scales": lambda f: service.import_scale(engine, "default", upload(f[0]), upload(f[1])),
    "cli transcripts": lambda f: cli(["--db", url, "import", "transcripts", f[0]]),
    "cli attributes": lambda f: cli(["--db", url, "import", "attributes", f[0]]),
    "cli survey": lambda f: cli(["--db", url, "import", "survey", f[0]]),
    "cli scales": lambda f: cli(["--db", url, "import", "scales", f[0], f[1]]),
    "cli codebook": lambda f: cli(["--db", url, "apply-codebook", f[0]]),
}
def peak_mb():
    """This process's peak resident memory (VmHWM: reset by exec, unlike ru_maxrss, which keeps the parent's)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024


out = []
for door, files in cases:
    sys.stderr = captured = __import__("io").StringIO()
    start = time.monotonic()
    try:
        result = DOORS[door](files)
        message = captured.getvalue() if result == 2 else None
    except CodeframeError as exc:
        message = str(exc)
    sys.stderr = sys.__stderr__
    out.append({"door": door, "file": Path(files[0]).name, "message": message,
                "seconds": time.monotonic() - start,
                "peak_mb": peak_mb()})
print(json.dumps(out))
'''


def _hostile_files(folder: Path) -> dict[str, Path]:
    """The corpus: each file small on disk and built to cost seconds or gigabytes if read naively."""
    from openpyxl import Workbook

    files = {}

    def put(name: str, data: bytes) -> None:
        files[name] = folder / name
        files[name].write_bytes(data)

    put("bomb.docx", _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"\0" * (64 * 1024 * 1024)}))
    put("surrogate.txt", b"Respondent: We need reform \xed\xa0\x80 now.\n")
    put("nul.txt", b"Respondent: We need\0 reform.\n")
    put("R98\u202etxt.exe.txt", TRANSCRIPT.replace(b"systematic", b"gradual"))
    put("million.csv", b"document,group\n" + b"".join(b"R%07d,a\n" % i for i in range(1_000_000)))
    book = Workbook()
    book.active["A1"], book.active["XFD1048576"] = "respondent", "x"
    book.save(folder / "far.xlsx")
    files["far.xlsx"] = folder / "far.xlsx"
    anchors = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(9))
    put("bomb.yaml", (anchors + "id: s\nsectors: *j\n").encode())
    put("bomb_codebook.yaml", (anchors + "codebook: 1\nframes: *j\n").encode())
    put("ratings.csv", b"respondent,statement,rating\nR01,s1,5\n")
    return files


CORPUS = [  # door, files, what the refusal says
    ("app transcripts", ["bomb.docx"], "zip bomb"),
    ("cli transcripts", ["bomb.docx"], "CODEFRAME_LIMIT_ZIP_MAX_RATIO"),
    ("app transcripts", ["surrogate.txt"], "invalid UTF-8 at byte offset 27"),
    ("cli transcripts", ["surrogate.txt"], "lone surrogate"),
    ("app transcripts", ["nul.txt"], "NUL"),
    ("cli transcripts", ["nul.txt"], "NUL"),
    ("app transcripts", ["R98\u202etxt.exe.txt"], "control characters"),
    ("cli transcripts", ["R98\u202etxt.exe.txt"], "direction-changing characters (U+202E)"),
    ("app attributes", ["million.csv"], "1000000 rows; an attributes file may have at most 100000"),
    ("cli attributes", ["million.csv"], "more than 100,000 data rows"),
    ("app survey", ["far.xlsx"], "declares 1,048,576 rows and 16,384 columns"),
    ("cli survey", ["far.xlsx"], "CODEFRAME_LIMIT_XLSX_MAX_ROWS"),
    ("app survey", ["million.csv"], "more than 200,000 rows"),
    ("app scales", ["bomb.yaml", "ratings.csv"], "YAML aliases are not allowed"),
    ("cli scales", ["bomb.yaml", "ratings.csv"], "YAML anchors are not allowed"),
    ("cli codebook", ["bomb_codebook.yaml"], "YAML aliases are not allowed"),
]


def test_a_hostile_corpus_is_refused_at_every_door_in_seconds_and_megabytes(app_db, any_db_url, tmp_path):
    """Each input refused with its message, the database unchanged; each within 10 s and 500 MB, measured in a
    subprocess (the door's own work; the interpreter's start is not counted, its baseline memory is)."""
    import json
    import os
    import subprocess
    import sys

    if not Path("/proc/self/status").exists():
        pytest.skip("peak memory is read from /proc/self/status (Linux only)")
    files = _hostile_files(tmp_path)
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps([[door, [str(files[f]) for f in names]] for door, names, _ in CORPUS]))
    before = snapshot(app_db)
    done = subprocess.run([sys.executable, "-c", RUNNER, any_db_url, str(cases)], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    for (door, names, expected), got in zip(CORPUS, results, strict=True):
        assert got["message"] and expected in got["message"], (door, names, got)
        assert got["seconds"] <= LIMIT_SECONDS and got["peak_mb"] <= LIMIT_MB, (door, names, got)
    assert snapshot(app_db) == before


def test_a_codebook_of_thousands_of_codes_draws_a_bounded_page(app_engine):
    """3,000 codes: the Codebook page draws the first 100 per frame, Retrieve computes no co-occurrence."""
    import json

    import yaml

    from coding import limits
    from coding.codebook import parse_codebook

    data = service.project_codebook(app_engine, P).to_dict()
    template = data["frames"][0]["codes"][0]
    data["frames"].append({**data["frames"][0], "id": "big", "label": "Big", "codes": [
        {**template, "id": f"big_{i:04d}", "label": f"Big code {i}", "parent": None, "definition": "Generated.",
         "include": ["x"], "exclude": ["y"], "examples": ["z"]} for i in range(3000)]})
    fresh = json.loads(json.dumps(data))  # no shared lists, so the YAML has no aliases
    service.import_codebook_object(app_engine, P, parse_codebook(yaml.safe_dump(fresh)))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["coder"] = "supervisor"
    ok(at.run())
    ok(at.switch_page("app_pages/codebook.py").run())
    drawn = [h for h in at.html if "big_" in h.proto.body]
    assert len(drawn) == limits.CODEBOOK_PAGE_MAX_CODES
    assert any("Showing the first 100 of 3000 codes" in c.value for c in at.caption)
    ok(at.text_input(key="_cb_filter").set_value("big_2999").run())
    assert [h for h in at.html if "big_2999" in h.proto.body]
    ok(at.switch_page("app_pages/retrieve.py").run())
    assert not at.get("vega_lite_chart") and not at.toggle(key="co_on").value
