"""Errors a user can cause, each naming the file, line or field at fault.

Every user-facing error derives from :class:`CodeframeError` (a ``ValueError``),
so the CLI can print it without a traceback and the app can show it as-is.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_LISTED = 50  # problems listed in a message; the rest are counted (coding.limits.MAX_LISTED_ERRORS)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        if self.field:
            where = f"{where} [{self.field}]" if where else f"[{self.field}]"
        return f"{where}: {self.message}" if where else self.message


class CodeframeError(ValueError):
    """Base class of errors caused by user input; carries a list of problems."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        self.problems = list(problems or [])
        detail = "\n".join(f"  - {p}" for p in self.listed())
        more = len(self.problems) - len(self.listed())
        if more:
            detail += f"\n  ... and {more} more problem(s) (first {MAX_LISTED} listed)"
        super().__init__(f"{message}\n{detail}" if detail else message)

    def listed(self) -> list[Problem]:
        """The problems worth showing: the first :data:`MAX_LISTED` (a million bad rows print 50 lines)."""
        return self.problems[:MAX_LISTED]


class CodebookError(CodeframeError):
    """The codebook YAML is invalid; nothing of it was loaded."""


class TranscriptError(CodeframeError):
    """A transcript could not be read: empty, binary, undecodable, unknown format."""


class AttributesError(CodeframeError):
    """The respondent attributes CSV is invalid."""


class CodingsError(CodeframeError):
    """A codings table (CSV) is invalid: missing columns, unknown codes or coders."""


class ExchangeError(CodeframeError):
    """A REFI-QDA file (.qdpx/.qdc) is invalid or unsafe."""


class DuplicateDocumentError(CodeframeError):
    """A document with the same content or name is already in the project."""


class PermissionDenied(CodeframeError):
    """The acting user may not do this (role or blind coding)."""


class NotFound(CodeframeError):
    """A named project, document, code, coder or segment does not exist."""
