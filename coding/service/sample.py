"""Initialise a project and load the shipped sample corpus."""

from __future__ import annotations

from pathlib import Path

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


def initialize(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    sample: bool = False,
    codebook_path: str | Path | None = None,
    language: str = "en",
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
        return load_sample(engine, project)
    except BaseException:
        if created:
            delete_project(engine, project)
        raise


def load_sample(engine: Engine, project: str = DEFAULT_PROJECT) -> ImportReport:
    """Load the sample corpus: transcripts (English and Russian), attributes, two coders' and consensus codings."""
    corpus = sample_corpus_dir()
    transcripts = sorted((corpus / "transcripts").glob("*.txt"))
    if not transcripts:
        raise NotFound(f"no sample corpus at {corpus}")
    for name, role in SAMPLE_CODERS:
        ensure_coder(engine, project, name, role=role)
    report = import_transcripts(engine, project, transcripts, attributes=corpus / "respondents.csv", language="auto")
    codings = import_codings(engine, project, corpus / "codings.csv", actor="supervisor")
    report.codings = codings.codings
    report.notes += codings.notes
    if (corpus / "coverage.csv").exists():
        import_coverage(engine, project, corpus / "coverage.csv")
    for loaded in load_instruments_sample(engine, project):
        report.notes.append(f"instrument {loaded.name!r} ({loaded.kind}): {loaded.respondents} respondent(s)")
    return report
