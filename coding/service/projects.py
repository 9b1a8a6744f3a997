"""Projects: create, read, change settings, delete; the status summary."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.database import queries
from coding.database.retry import retry_locked
from coding.database.tables import Code, CodeFrame, Document, Project, Segment
from coding.errors import CodeframeError
from coding.roles import may_see_others
from coding.service.codebook import _apply_codebook
from coding.service.common import DEFAULT_PROJECT, SEGMENTATION_UNITS, SUPPORTED_LANGUAGES
from coding.service.permissions import _require_team_admin
from coding.service.results import ProjectInfo, Status


def default_model_for(language: str) -> str:
    from coding.embeddings import default_model_for as default

    return default(language)


def _info(project: Project) -> ProjectInfo:
    return ProjectInfo(
        id=project.id,
        name=project.name,
        language=project.language,
        segmentation_unit=project.segmentation_unit,
        blind_mode=project.blind_mode,
        team_mode=project.team_mode,
        embedding_model=project.embedding_model,
    )


def get_project(engine: Engine, project: str = DEFAULT_PROJECT) -> ProjectInfo:
    with Session(engine) as session:
        return _info(queries.project_by_name(session, project))


def project_exists(engine: Engine, project: str = DEFAULT_PROJECT) -> bool:
    with Session(engine) as session:
        return session.exec(select(Project.id).where(Project.name == project)).first() is not None


@retry_locked
def create_project(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    language: str = "en",
    codebook_path: str | Path | None = None,
) -> ProjectInfo:
    """Create a project with the codebook (default: the shipped ``codebook.yaml``) in one transaction."""
    from coding.codebook import default_codebook_path, load_codebook

    path = Path(codebook_path) if codebook_path else default_codebook_path()
    codebook = load_codebook(path)
    source_text = path.read_text(encoding="utf-8-sig")
    with Session(engine) as session:
        if session.exec(select(Project.id).where(Project.name == project)).first() is not None:
            raise CodeframeError(f"project {project!r} already exists")
        row = Project(name=project, language=language, embedding_model=default_model_for(language))
        session.add(row)
        session.flush()
        _apply_codebook(session, row, codebook, source_text=source_text, renames={})
        session.commit()
        return _info(row)


@retry_locked
def update_settings(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    language: str | None = None,
    segmentation_unit: str | None = None,
    blind_mode: bool | None = None,
    embedding_model: str | None = None,
    actor: str | None = None,
) -> ProjectInfo:
    """Change project settings. Segmentation settings apply to documents imported afterwards.

    ``embedding_model``: an id of the model registry (see :func:`model_choices`) or a model folder.
    Changing the language changes the model too while it is the old language's default (Russian
    and Kazakh projects use the multilingual model).
    In team mode only an admin ``actor`` may do this (an unnamed actor is refused).
    """
    if segmentation_unit is not None and segmentation_unit not in SEGMENTATION_UNITS:
        raise CodeframeError(f"segmentation unit must be 'sentence' or 'turn', not {segmentation_unit!r}")
    if language is not None and language not in SUPPORTED_LANGUAGES:
        raise CodeframeError(f"language must be one of {', '.join(SUPPORTED_LANGUAGES)}, not {language!r}")
    if embedding_model is not None:
        check_model_id(embedding_model)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        _require_team_admin(session, row, actor, "change the project settings")  # unnamed: refused in team mode
        if language is not None and embedding_model is None and row.embedding_model == default_model_for(row.language):
            row.embedding_model = default_model_for(language)  # still the old language's default: follow the language
        if language is not None:
            row.language = language
        if segmentation_unit is not None:
            row.segmentation_unit = segmentation_unit
        if blind_mode is not None:
            row.blind_mode = blind_mode
        if embedding_model is not None:
            row.embedding_model = embedding_model
        session.add(row)
        session.commit()
        return _info(row)


def check_model_id(model_id: str) -> None:
    """Raise unless ``model_id`` names a model of the registry or an existing model folder."""
    from coding.embeddings import load_registry

    if model_id in load_registry() or Path(model_id).expanduser().is_dir():
        return
    raise CodeframeError(f"unknown embedding model {model_id!r}; the registry has: {', '.join(load_registry())}")


def model_choices() -> list[dict]:
    """The registry's models (id, backend, languages) for a settings menu."""
    from coding.embeddings import registry_models

    return registry_models()


def follow_document_languages(session: Session, row: Project) -> str | None:
    """Switch a project still on the English default model to the multilingual one when most of its
    documents are Russian or Kazakh; returns the new model id, or None when nothing changed."""
    from coding.embeddings import DEFAULT_MODEL_ID, MULTILINGUAL_LANGUAGES, MULTILINGUAL_MODEL_ID

    if row.embedding_model != DEFAULT_MODEL_ID:
        return None
    languages = session.exec(select(Document.language).where(Document.project_id == row.id)).all()
    if languages and 2 * sum(language in MULTILINGUAL_LANGUAGES for language in languages) > len(languages):
        row.embedding_model = MULTILINGUAL_MODEL_ID
        session.add(row)
        return MULTILINGUAL_MODEL_ID
    return None


def status(engine: Engine, project: str = DEFAULT_PROJECT, *, viewer: str | None = None) -> Status:
    """Counts of the project; given a ``viewer``, a coder in blind mode counts only their own codings."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        docs = queries.documents(session, row.id)
        segs = session.exec(
            select(func.count(Segment.id), func.coalesce(func.sum(func.cast(Segment.is_unit, _int_type())), 0))
            .join(Document, Segment.document_id == Document.id)
            .where(Document.project_id == row.id)
        ).one()
        by_coder = queries.codings_per_coder(session, row.id, every_coder=True)
        if viewer is not None and row.blind_mode and not may_see_others(queries.coder_by_name(
                session, row.id, viewer).role):
            by_coder = {name: n for name, n in by_coder.items() if name == viewer}
        frames = dict(
            session.exec(
                select(CodeFrame.key, func.count(Code.id))
                .join(Code, Code.frame_id == CodeFrame.id)
                .where(CodeFrame.project_id == row.id, CodeFrame.active == True, Code.active == True)  # noqa: E712
                .group_by(CodeFrame.key)
            ).all()
        )
        return Status(
            project=_info(row), documents=len(docs), respondents=len({d.respondent for d in docs}),
            segments=int(segs[0]), units=int(segs[1]), codings_by_coder=by_coder, frames=frames,
        )


def _int_type():
    from sqlalchemy import Integer

    return Integer


@retry_locked
def delete_project(engine: Engine, project: str) -> None:
    """Remove a project and everything in it (documents, codings, history, coders), in one transaction."""
    from coding.database import tables as t

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        doc_ids = select(t.Document.id).where(t.Document.project_id == row.id)
        seg_ids = select(t.Segment.id).where(t.Segment.document_id.in_(doc_ids))
        coder_ids = select(t.Coder.id).where(t.Coder.project_id == row.id)
        instrument_ids = select(t.Instrument.id).where(t.Instrument.project_id == row.id)
        for stmt in (
            delete(t.Adjudication).where(t.Adjudication.segment_id.in_(seg_ids)),
            delete(t.Exclusion).where(t.Exclusion.project_id == row.id),
            delete(t.ProjectEvent).where(t.ProjectEvent.project_id == row.id),
            delete(t.InstrumentResponse).where(t.InstrumentResponse.instrument_id.in_(instrument_ids)),
            delete(t.Instrument).where(t.Instrument.project_id == row.id),
            delete(t.Selection).where(t.Selection.document_id.in_(doc_ids)),
            delete(t.ItemSet).where(t.ItemSet.project_id == row.id),
            delete(t.SuggestionFeedback).where(t.SuggestionFeedback.segment_id.in_(seg_ids)),
            delete(t.CodingEvent).where(t.CodingEvent.project_id == row.id),
            delete(t.AuthEvent).where(t.AuthEvent.project_id == row.id),
            delete(t.UserSession).where(t.UserSession.project_id == row.id),
            delete(t.Coding).where(t.Coding.segment_id.in_(seg_ids)),
            delete(t.UnitMark).where(t.UnitMark.segment_id.in_(seg_ids)),
            delete(t.FrameCoverage).where(t.FrameCoverage.document_id.in_(doc_ids)),
            delete(t.Assignment).where(t.Assignment.document_id.in_(doc_ids)),
            delete(t.DocumentProgress).where(t.DocumentProgress.document_id.in_(doc_ids)),
            delete(t.Segment).where(t.Segment.document_id.in_(doc_ids)),
            delete(t.Document).where(t.Document.project_id == row.id),
            delete(t.Code).where(t.Code.project_id == row.id),
            delete(t.CodeFrame).where(t.CodeFrame.project_id == row.id),
            delete(t.Coder).where(t.Coder.id.in_(coder_ids)),
            delete(t.Project).where(t.Project.id == row.id),
        ):
            session.execute(stmt)
        session.commit()
