"""First start in AppTest: the page shows the sample load's progress at once, a second session sees it too,
and the overview follows; a failed load keeps nothing and says why."""

from __future__ import annotations

import threading
import time

from apptest import APP, texts
from streamlit.testing.v1 import AppTest

from coding import service
from coding.database.engine import make_engine
from coding.errors import CodeframeError
from coding.service import sample as sample_module

PROJECT = "default"


def _progress_text(at: AppTest) -> str:
    return " ".join(e.proto.text for e in at.get("progress"))


def _wait_for(engine, status: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while service.sample_load_state(engine, PROJECT).status != status:
        assert time.monotonic() < deadline, service.sample_load_state(engine, PROJECT)
        time.sleep(0.05)


def test_first_start_shows_progress_in_every_session_then_the_overview(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    monkeypatch.setenv("CODEFRAME_DB", url)
    monkeypatch.delenv("CODEFRAME_PROJECT", raising=False)
    gate = threading.Event()
    real = sample_module.import_codings

    def held(*args, **kwargs):  # hold the load after the transcripts, so both sessions see it running
        assert gate.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(sample_module, "import_codings", held)
    engine = make_engine(url)
    try:
        first = AppTest.from_file(str(APP), default_timeout=60).run()
        assert not first.exception, first.exception
        assert first.title[0].value == "Welcome to Codeframe"
        assert "Loading the sample corpus" in _progress_text(first)
        deadline = time.monotonic() + 60
        while service.sample_load_state(engine, PROJECT).step != "codings":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        second = AppTest.from_file(str(APP), default_timeout=60).run()  # another tab, during the load
        assert not second.exception, second.exception
        assert "Loading the sample corpus: 24 of 24 transcripts, then the codings…" in _progress_text(second)
        assert "No documents yet" not in texts(second)  # never the half-loaded project as an empty one
        gate.set()
        _wait_for(engine, "done")
        first.run()
        assert not first.exception, first.exception
        assert first.title[0].value == "Project overview"
        assert first.metric[0].label == "Documents" and first.metric[0].value == "24"
        assert len(first.dataframe[0].value) == 24
        assert len(service.list_documents(engine, PROJECT)) == 24
    finally:
        gate.set()
        engine.dispose()


def test_a_failed_sample_load_keeps_nothing_and_says_why(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'broken.sqlite'}"
    monkeypatch.setenv("CODEFRAME_DB", url)
    monkeypatch.delenv("CODEFRAME_PROJECT", raising=False)

    def broken(*args, **kwargs):
        raise CodeframeError("the instruments folder is unreadable")

    monkeypatch.setattr(sample_module, "load_instruments_sample", broken)  # the last step: all else was written
    engine = make_engine(url)
    try:
        at = AppTest.from_file(str(APP), default_timeout=60).run()
        assert not at.exception, at.exception
        _wait_for(engine, "failed")
        at.run()
        assert not at.exception, at.exception
        assert ("The sample corpus could not be loaded, so nothing of it was kept: CodeframeError: the instruments "
                "folder is unreadable") in texts(at)
        assert at.title[0].value == "Project overview"
        assert service.list_documents(engine, PROJECT) == []  # nothing half-loaded
        assert "No documents yet" in texts(at)
    finally:
        engine.dispose()


def test_the_progress_text_of_a_first_start_never_goes_backwards(tmp_path):
    """From the boot message to the end, the count of transcripts only grows ("0 of 24", never "Loading…")."""
    from app_pages import _boot

    total = len(list((_boot.sample_corpus_dir() / "transcripts").glob("*.txt")))
    boot_text = f"Loading the sample corpus: 0 of {total} transcripts…"
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    try:
        seen = [service.start_sample_load(engine, PROJECT)]
        assert seen[0].message == boot_text  # the page takes over from the boot message without a step back
        deadline = time.monotonic() + 300
        while seen[-1].status == "running":
            assert time.monotonic() < deadline, seen[-1]
            state = service.sample_load_state(engine, PROJECT)
            if state != seen[-1]:
                seen.append(state)
            time.sleep(0.01)
        steps = ["transcripts", "codings", "instruments"]
        running = [s for s in seen if s.status == "running"]
        assert all(s.total == total and s.step in steps for s in running), running
        order = [(steps.index(s.step), s.done) for s in running]
        assert order == sorted(order), order
        fractions = [s.fraction for s in seen]
        assert fractions == sorted(fractions) and seen[-1].status == "done"
    finally:
        service.forget_sample_load(engine, PROJECT)
        engine.dispose()
