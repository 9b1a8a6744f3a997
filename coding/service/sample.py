"""Initialise a project and load the shipped sample corpus, in this thread or in the background.

On a first start the app calls :func:`start_sample_load`: the sample loads in a daemon thread while
every page (every browser tab of the server) shows :func:`sample_load_state`, e.g. "Loading the
sample corpus: 12 of 24 transcripts…". The load is all or nothing: if any part fails, the new
project is removed again, then created empty, and the state says why.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from sqlalchemy.engine import Engine

from coding.errors import NotFound
from coding.paths import sample_corpus_dir
from coding.service.codings_csv import import_codings
from coding.service.common import CONSENSUS, DEFAULT_PROJECT
from coding.service.documents import import_transcripts
from coding.service.instruments import load_instruments_sample
from coding.service.progress import import_coverage
from coding.service.projects import create_project, delete_project, project_exists, status
from coding.service.results import ImportReport
from coding.service.users import ensure_coder

SAMPLE_CODERS = (("aigerim", "coder"), ("daniyar", "coder"), (CONSENSUS, "supervisor"), ("supervisor", "supervisor"))

#: ``progress(step, done, total)``: step is "transcripts" (done/total transcripts), "codings" or "instruments".
Progress = Callable[[str, int, int], None]


def initialize(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    sample: bool = False,
    codebook_path: str | Path | None = None,
    language: str = "en",
    progress: Progress | None = None,
) -> ImportReport:
    """Create the project (codebook loaded) and, with ``sample``, load the shipped corpus.

    Idempotent for the sample: a project that already has documents is left alone. A new
    project whose sample fails to load is removed again, so a failed first start never leaves
    an empty project behind that later starts would mistake for the user's own.
    """
    created = not project_exists(engine, project)
    if created:
        create_project(engine, project, language=language, codebook_path=codebook_path)
    if not sample:
        return ImportReport()
    if status(engine, project).documents:
        return ImportReport(notes=["the project already has documents; the sample was not loaded again"])
    try:
        return load_sample(engine, project, progress=progress)
    except BaseException:
        if created:
            delete_project(engine, project)
        raise


def load_sample(engine: Engine, project: str = DEFAULT_PROJECT, *, progress: Progress | None = None) -> ImportReport:
    """Load the sample corpus: transcripts (English and Russian), attributes, two coders' and consensus codings."""
    corpus = sample_corpus_dir()
    transcripts = sorted((corpus / "transcripts").glob("*.txt"))
    if not transcripts:
        raise NotFound(f"no sample corpus at {corpus}")
    tell = progress or (lambda step, done, total: None)
    total = len(transcripts)
    tell("transcripts", 0, total)
    for name, role in SAMPLE_CODERS:
        ensure_coder(engine, project, name, role=role)
    report = import_transcripts(engine, project, transcripts, attributes=corpus / "respondents.csv", language="auto",
                                progress=lambda done, _total: tell("transcripts", done, total))
    tell("codings", total, total)
    codings = import_codings(engine, project, corpus / "codings.csv", actor="supervisor")
    report.codings = codings.codings
    report.notes += codings.notes
    if (corpus / "coverage.csv").exists():
        import_coverage(engine, project, corpus / "coverage.csv")
    tell("instruments", total, total)
    for loaded in load_instruments_sample(engine, project):
        report.notes.append(f"instrument {loaded.name!r} ({loaded.kind}): {loaded.respondents} respondent(s)")
    return report


# --------------------------------------------------------------------------- first start in the background


@dataclass(frozen=True)
class SampleLoadState:
    """Where the background load of the sample corpus of one project stands (one per server process)."""

    status: str = "idle"  # idle | running | done | failed | exists (the project was there already)
    step: str = ""  # transcripts | codings | instruments
    done: int = 0
    total: int = 0
    error: str = ""
    started: float = 0.0
    seconds: float = 0.0

    @property
    def fraction(self) -> float:
        """How far the load got, 0..1 (segmenting the transcripts is most of it)."""
        if self.status == "done":
            return 1.0
        if not self.total:
            return 0.0
        share = {"transcripts": 0.8 * self.done / self.total, "codings": 0.85, "instruments": 0.92}
        return min(share.get(self.step, 0.0), 1.0)

    @property
    def message(self) -> str:
        if self.status == "failed":
            return f"The sample corpus could not be loaded, so nothing of it was kept: {self.error}"
        if self.status == "done":
            return f"The sample corpus is loaded ({self.total} transcripts, {self.seconds:.1f} s)."
        if not self.total:
            return "Loading the sample corpus…"
        text = f"Loading the sample corpus: {self.done} of {self.total} transcripts"
        if self.step == "codings":
            text += ", then the codings"
        elif self.step == "instruments":
            text += ", then the survey instruments"
        return text + "…"


_LOCK = threading.Lock()
_STATES: dict[tuple[str, str], SampleLoadState] = {}


def _key(engine: Engine, project: str) -> tuple[str, str]:
    return engine.url.render_as_string(hide_password=True), project


def _set(key: tuple[str, str], **changes) -> SampleLoadState:
    with _LOCK:
        state = replace(_STATES.get(key, SampleLoadState()), **changes)
        _STATES[key] = state
        return state


def _load_in_background(engine: Engine, project: str, key: tuple[str, str], started: float) -> None:
    steps = ("transcripts", "codings", "instruments")

    def progress(step: str, done: int, total: int) -> None:  # only ever forward
        with _LOCK:
            state = _STATES.get(key, SampleLoadState())
            if (steps.index(step), done) < (steps.index(state.step) if state.step in steps else -1, state.done):
                return
        _set(key, step=step, done=done, total=total)

    try:
        initialize(engine, project, sample=True, progress=progress)
    except Exception as exc:  # noqa: BLE001 - every page shows it; the user goes on with an empty project
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        try:  # initialize removed the half-made project; an empty one lets the user import their own
            initialize(engine, project)
        except Exception as again:  # noqa: BLE001
            error += f" (and the empty project could not be created: {type(again).__name__}: {again})"
        _set(key, status="failed", error=error, seconds=time.perf_counter() - started)
        return
    state = _set(key, status="done", seconds=time.perf_counter() - started)
    print(f"Codeframe: the sample corpus of project {project!r} loaded in {state.seconds:.2f} s", file=sys.stderr,
          flush=True)


def _sample_size() -> int:
    """How many transcripts the shipped sample has (the first start's "0 of N" says it from the start)."""
    return len(list((sample_corpus_dir() / "transcripts").glob("*.txt")))


def start_sample_load(engine: Engine, project: str = DEFAULT_PROJECT) -> SampleLoadState:
    """On a first start (no such project yet), load the sample corpus in a daemon thread.

    Returns at once: the running load's state (a second browser tab gets the same one), or status
    ``exists`` when the project is there already (nothing started).
    """
    key = _key(engine, project)
    with _LOCK:
        state = _STATES.get(key, SampleLoadState())
        if state.status == "running":
            return state
    if project_exists(engine, project):
        return replace(state, status="exists") if state.status in ("idle", "exists") else state
    with _LOCK:
        if _STATES.get(key, SampleLoadState()).status == "running":  # another session started it meanwhile
            return _STATES[key]
        started = time.perf_counter()  # the count is known from the start, so the text never steps back
        state = _STATES[key] = SampleLoadState(status="running", step="transcripts", total=_sample_size(),
                                               started=started)
    threading.Thread(target=_load_in_background, args=(engine, project, key, started),
                     name=f"codeframe-sample-{project}", daemon=True).start()
    return state


def sample_load_state(engine: Engine, project: str = DEFAULT_PROJECT) -> SampleLoadState:
    """The state of the background sample load of ``project`` in this process (``idle``: none started)."""
    with _LOCK:
        return _STATES.get(_key(engine, project), SampleLoadState())


def forget_sample_load(engine: Engine, project: str = DEFAULT_PROJECT) -> None:
    """Drop the remembered state (tests; a project deleted and made again)."""
    with _LOCK:
        _STATES.pop(_key(engine, project), None)
