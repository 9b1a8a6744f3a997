"""Checks on files that arrive through the web front end, before any parsing (pure: bytes in, errors out).

The command line reads files its user chose; the app receives whatever a browser sends. So
uploads get limits of their own, each refused with a message that names the file:

- every file at most :data:`MAX_UPLOAD_BYTES` (the library's 50 MB file guard, and the app's
  ``server.maxUploadSize``);
- a transcript at most :data:`MAX_TRANSCRIPT_BYTES` (a two-hour interview is about 150 kB;
  segmenting tens of megabytes would hold the server for minutes);
- an attributes CSV at most :data:`MAX_CSV_ROWS` rows (one per respondent or document);
- a file name is a plain name: no folders (``/`` or ``\\``), no control characters, not
  ``.``/``..``, at most :data:`MAX_NAME_CHARS` characters.

Zip and XML bombs in a .qdpx are refused by :mod:`coding.refiqda` itself (member count,
total size, compression ratio, entity declarations).
"""

from __future__ import annotations

import unicodedata

from coding import limits
from coding.errors import CodeframeError, Problem
from coding.transcripts import MAX_FILE_BYTES

MAX_UPLOAD_BYTES = MAX_FILE_BYTES
MAX_UPLOAD_MB = MAX_UPLOAD_BYTES // (1024 * 1024)  # Streamlit counts server.maxUploadSize in MiB
MAX_TRANSCRIPT_BYTES = 5 * 1024 * 1024
MAX_CSV_ROWS = limits.CSV_MAX_ROWS
MAX_NAME_CHARS = 200
MAX_FILES = 500


def name_problem(name: str) -> str | None:
    """Why an uploaded file name is not a plain file name, or None.

    >>> name_problem("R01.txt"), name_problem("../etc/passwd"), name_problem("a\\x1b[2Jb.txt")
    (None, 'a file name may not contain a folder (/ or \\\\)', 'a file name may not contain control characters')
    """
    if not isinstance(name, str) or not name.strip():
        return "the file has no name"
    if "/" in name or "\\" in name:
        return "a file name may not contain a folder (/ or \\)"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        return "a file name may not contain control characters"
    if name.strip() in (".", ".."):
        return "a file name may not be . or .."
    if len(name) > MAX_NAME_CHARS:
        return f"a file name may have at most {MAX_NAME_CHARS} characters"
    return None


def _shown(name) -> str:
    """The name as it may be shown in a message: control characters as escapes, shortened."""
    text = repr(str(name))[1:-1]
    return text if len(text) <= 80 else text[:77] + "..."


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _check(files, *, limit: int, what: str) -> list[Problem]:
    problems = []
    if len(files) > MAX_FILES:
        problems.append(Problem(f"{len(files)} files; at most {MAX_FILES} at a time", field="files"))
    for name, data in files:
        shown = _shown(name)
        why = name_problem(name)
        if why:
            problems.append(Problem(f"{why}: {shown!r}", file=shown))
            continue
        if len(data) > MAX_UPLOAD_BYTES:
            problems.append(Problem(f"{_mb(len(data))}, over the {MAX_UPLOAD_MB} MB limit of any upload", file=shown))
        elif len(data) > limit:
            problems.append(Problem(f"{_mb(len(data))}, over the {_mb(limit)} limit of {what}", file=shown))
    return problems


def check_transcript_uploads(files) -> None:
    """Refuse the whole upload (nothing is read) when any transcript breaks a limit; every problem listed."""
    problems = _check(files, limit=MAX_TRANSCRIPT_BYTES, what="a transcript")
    if problems:
        raise CodeframeError("these uploads were refused; nothing was imported", problems)


def _lines(data: bytes) -> int:
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n") + (0 if data.endswith((b"\n", b"\r")) else 1)


def check_csv_upload(name: str, data: bytes) -> None:
    """Refuse an attributes CSV with a bad name, too many bytes, or more than :data:`MAX_CSV_ROWS` rows."""
    problems = _check([(name, data)], limit=MAX_UPLOAD_BYTES, what="a CSV file")
    if not problems and _lines(data) > MAX_CSV_ROWS + 1:
        problems.append(Problem(f"{_lines(data) - 1} rows; an attributes file may have at most {MAX_CSV_ROWS} "
                                "(one per respondent or document)", file=_shown(name)))
    if problems:
        raise CodeframeError("the attributes upload was refused; nothing was changed", problems)


def check_qdpx_upload(name: str, data: bytes) -> None:
    """Refuse a .qdpx or .qdc with a bad name or over the upload limit (its contents are the reader's job)."""
    problems = _check([(name, data)], limit=MAX_UPLOAD_BYTES, what="a REFI-QDA file")
    if problems:
        raise CodeframeError("the REFI-QDA upload was refused; nothing was imported", problems)
