"""The facade of the app's upload path: every upload is checked (:mod:`coding.uploads`) before it is parsed.

The pages call these instead of the plain import functions, so a hostile upload is refused
with a message before anything is read, segmented or written.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from coding import uploads
from coding.errors import PermissionDenied
from coding.roles import may_admin
from coding.service import documents
from coding.service.exchange import import_qdc_file, import_qdpx_file
from coding.service.projects import get_project, project_exists
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


def _require_admin_in_team(engine: Engine, project: str, actor: str | None, what: str) -> None:
    if not project_exists(engine, project) or not get_project(engine, project).team_mode:
        return
    role = next((u["role"] for u in list_users(engine, project) if u["name"] == actor), None)
    if not may_admin(role):
        raise PermissionDenied(f"{actor} is a {role}: in team mode only an admin may {what}")


def import_qdpx_upload(engine: Engine, project: str, name: str, data: bytes, *, actor: str | None = None):
    """Import an uploaded REFI-QDA project into ``project`` (new, or without documents); returns the report.

    Zip bombs, entity bombs and unsafe member names are refused by the reader before anything is written."""
    uploads.check_qdpx_upload(name, data)
    _require_admin_in_team(engine, project, actor, "import a project")
    return import_qdpx_file(engine, project, data, name=name)


def import_qdc_upload(engine: Engine, project: str, name: str, data: bytes, *, actor: str | None = None):
    """Apply an uploaded REFI-QDA codebook (in team mode an admin only, as for any codebook change)."""
    uploads.check_qdpx_upload(name, data)
    return import_qdc_file(engine, project, data, name=name, actor=actor)
