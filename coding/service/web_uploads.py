"""The facade of the app's upload path: every upload is checked (:mod:`coding.uploads`) before it is parsed.

The pages call these instead of the plain import functions, so a hostile upload is refused
with a message before anything is read, segmented or written.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from coding import uploads
from coding.errors import CodeframeError, PermissionDenied
from coding.roles import may_admin
from coding.service import documents
from coding.service.exchange import import_bundle
from coding.service.projects import get_project
from coding.service.results import ImportReport
from coding.service.users import list_users


def preview_transcript_uploads(files, *, language: str, unit: str):
    uploads.check_transcript_uploads(files)
    return documents.parse_transcripts(files, language=language, unit=unit)


def preview_attributes_upload(attributes: tuple[str, bytes]):
    uploads.check_csv_upload(*attributes)
    return documents.preview_attributes(attributes)


def import_transcript_uploads(engine: Engine, project: str, files, *, attributes=None, actor: str | None = None,
                       **options) -> ImportReport:
    uploads.check_transcript_uploads(files)
    if attributes is not None:
        uploads.check_csv_upload(*attributes)
    return documents.import_transcripts(engine, project, files, attributes=attributes, actor=actor, **options)


def import_attributes_upload(engine: Engine, project: str, attributes: tuple[str, bytes], *, actor: str | None = None):
    uploads.check_csv_upload(*attributes)
    return documents.import_attributes(engine, project, attributes, actor=actor)


def import_qdpx_upload(engine: Engine, project: str, name: str, data: bytes, *, actor: str | None = None):
    """Import an uploaded REFI-QDA project into this (empty) project; returns the import report."""
    from coding.refiqda import import_qdpx as read_qdpx

    uploads.check_qdpx_upload(name, data)
    info = get_project(engine, project)
    if info.team_mode:
        role = next((u["role"] for u in list_users(engine, project) if u["name"] == actor), None)
        if not may_admin(role):
            raise PermissionDenied(f"{actor} is a {role}: in team mode only an admin may import a project")
    bundle, report = read_qdpx(data, name=name)  # zip and XML bombs are refused here, before anything is written
    if documents.list_documents(engine, project):
        raise CodeframeError(f"project {project!r} already has documents; a .qdpx project is imported into an "
                             "empty one (codeframe --project NEW import qdpx FILE)")
    import_bundle(engine, project, bundle, report)
    return report
