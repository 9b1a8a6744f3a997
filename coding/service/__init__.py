"""The facade: every operation the CLI and the app perform, one unit of work each.

Each public function opens one ``with Session(engine)``, does its work through the pure
modules and :mod:`coding.database.queries`, and commits once, so an import either lands
whole or not at all. Functions take and return plain data (dataclasses, pandas frames),
never ORM objects bound to a session. The exceptions, which run several units of work in a
row, are :func:`initialize` (create the project, then load the sample), :func:`import_bundle`
(create the project if needed, then import in one transaction) and :func:`share_report`
(the codebook, the codings and the agreement are read in separate sessions).

The package is split by topic (projects, documents, codebook, codings, ...); this module
re-exports every public name, so ``from coding import service`` is all a caller needs.
"""

from coding.database.backup import (
    backup,
    restore,
    table_row_counts,
)
from coding.paths import (
    repo_root,
    sample_corpus_dir,
)
from coding.service.adjudication import (
    adjudicate,
    assign_double_coding,
    disagreement_details,
    list_assignments,
    release_double_coding,
)
from coding.service.agreement import (
    agreement_report,
    coder_drift,
)
from coding.service.audit import (
    UNDOABLE_ACTIONS,
    export_history,
    history,
    undo,
)
from coding.service.auth import (
    IDLE_HOURS_ENV,
    SignedIn,
    Throttled,
    add_user,
    auth_history,
    change_own_password,
    change_role,
    check_password,
    idle_timeout,
    reset_password,
    session_user,
    sign_in,
    sign_out,
)
from coding.service.codebook import (
    apply_codebook,
    code_quotes,
    code_usage,
    find_codes,
    import_codebook_object,
    project_codebook,
    quotes_by_code,
)
from coding.service.codings import (
    add_coding,
    remove_coding,
    set_memo,
)
from coding.service.codings_csv import (
    CODINGS_CSV_LOCATORS,
    CODINGS_CSV_REQUIRED,
    export_codings_frame,
    import_codings,
)
from coding.service.common import (
    CONSENSUS,
    DEFAULT_PROJECT,
    ROLES,
    SOURCES,
    SUPPORTED_LANGUAGES,
)
from coding.service.documents import (
    KAZAKH_LETTERS,
    detect_language,
    document_text,
    document_view,
    import_attributes,
    import_transcripts,
    list_documents,
    parse_transcripts,
    preview_attributes,
)
from coding.service.evaluate import (
    SuggestionEvaluation,
    evaluate_suggestions,
)
from coding.service.exchange import (
    export_bundle,
    export_qdc_file,
    export_qdpx_file,
    import_bundle,
    import_qdc_file,
    import_qdpx_file,
)
from coding.service.progress import (
    import_coverage,
    mark_done,
    next_uncoded_segment,
    progress_by_coder,
)
from coding.service.projects import (
    create_project,
    delete_project,
    get_project,
    list_projects,
    project_exists,
    status,
    update_settings,
)
from coding.service.results import (
    CodebookReport,
    CodingView,
    DocumentInfo,
    DocumentView,
    ImportReport,
    ProjectInfo,
    SegmentView,
    Status,
)
from coding.service.sample import (
    SAMPLE_CODERS,
    initialize,
    load_sample,
)
from coding.service.shares import (
    ShareReport,
    default_share_coder,
    share_report,
)
from coding.service.suggesting import (
    accept_suggestion,
    bulk_accept,
    precode_document,
    reject_suggestion,
    suggest,
    uncertain_first,
)
from coding.service.suggestions import (
    SUGGESTION_DECISIONS,
    SuggestionEvidence,
    SuggestionNeighbour,
    SuggestionView,
    UncertainSegment,
    clear_suggestion_cache,
    embed_units,
    embedder_for,
    embedding_precision,
)
from coding.service.users import (
    MIN_PASSWORD_LENGTH,
    authenticate,
    create_user,
    ensure_coder,
    list_coders,
    list_users,
    set_password,
    set_role,
    set_team_mode,
)
from coding.service.web_uploads import (
    import_attributes_upload,
    import_qdc_upload,
    import_qdpx_upload,
    import_transcript_uploads,
    preview_attributes_upload,
    preview_transcript_uploads,
)

__all__ = [
    "SOURCES",
    "ROLES",
    "CONSENSUS",
    "DEFAULT_PROJECT",
    "SUPPORTED_LANGUAGES",
    "ProjectInfo",
    "CodebookReport",
    "ImportReport",
    "DocumentInfo",
    "CodingView",
    "SegmentView",
    "DocumentView",
    "Status",
    "add_coding",
    "remove_coding",
    "set_memo",
    "apply_codebook",
    "import_codebook_object",
    "project_codebook",
    "code_usage",
    "code_quotes",
    "quotes_by_code",
    "find_codes",
    "list_projects",
    "get_project",
    "project_exists",
    "create_project",
    "update_settings",
    "delete_project",
    "status",
    "ensure_coder",
    "list_coders",
    "MIN_PASSWORD_LENGTH",
    "create_user",
    "set_role",
    "set_password",
    "list_users",
    "authenticate",
    "set_team_mode",
    "KAZAKH_LETTERS",
    "detect_language",
    "parse_transcripts",
    "import_transcripts",
    "import_attributes",
    "preview_attributes",
    "list_documents",
    "document_text",
    "document_view",
    "next_uncoded_segment",
    "mark_done",
    "import_coverage",
    "progress_by_coder",
    "CODINGS_CSV_REQUIRED",
    "CODINGS_CSV_LOCATORS",
    "import_codings",
    "export_codings_frame",
    "agreement_report",
    "coder_drift",
    "assign_double_coding",
    "release_double_coding",
    "list_assignments",
    "disagreement_details",
    "adjudicate",
    "default_share_coder",
    "ShareReport",
    "share_report",
    "export_bundle",
    "import_bundle",
    "export_qdpx_file",
    "export_qdc_file",
    "import_qdpx_file",
    "import_qdc_file",
    "history",
    "UNDOABLE_ACTIONS",
    "undo",
    "export_history",
    "SAMPLE_CODERS",
    "initialize",
    "load_sample",
    "SUGGESTION_DECISIONS",
    "SuggestionNeighbour",
    "SuggestionEvidence",
    "SuggestionView",
    "UncertainSegment",
    "clear_suggestion_cache",
    "embedder_for",
    "embedding_precision",
    "embed_units",
    "suggest",
    "precode_document",
    "accept_suggestion",
    "reject_suggestion",
    "bulk_accept",
    "uncertain_first",
    "SuggestionEvaluation",
    "evaluate_suggestions",
    "table_row_counts",
    "backup",
    "restore",
    "repo_root",
    "sample_corpus_dir",
    "IDLE_HOURS_ENV",
    "SignedIn",
    "Throttled",
    "add_user",
    "auth_history",
    "change_own_password",
    "change_role",
    "check_password",
    "idle_timeout",
    "reset_password",
    "session_user",
    "sign_in",
    "sign_out",
    "import_attributes_upload",
    "import_qdc_upload",
    "import_qdpx_upload",
    "import_transcript_uploads",
    "preview_attributes_upload",
    "preview_transcript_uploads",
]
