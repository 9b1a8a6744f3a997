"""A project as plain data, for exchange: what REFI-QDA, CSV and the database convert to and from,
and the one :class:`ImportReport` every import returns.

Codings are character spans into a document's text, not segment ids, so a bundle
survives re-segmentation and can carry codings from tools that code free spans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coding.codebook import Codebook


@dataclass
class BundleDocument:
    """One text source: its full text, the respondent it belongs to and their attributes."""

    name: str
    text: str
    respondent: str
    attributes: dict[str, Any] = field(default_factory=dict)
    language: str = "en"
    format: str = "txt"


@dataclass
class BundleCoding:
    """One code applied by one coder to the span ``text[start:end]`` of a document."""

    document: str
    start: int
    end: int
    code: str  # codebook id
    coder: str
    source: str = "hand"  # hand | suggestion | adjudication | import
    memo: str | None = None
    score: float | None = None
    created: datetime | None = None


@dataclass
class BundleSet:
    """A named group of codes (codebook ids) and documents (names): a REFI-QDA ``<Set>``."""

    name: str
    description: str = ""
    codes: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)


@dataclass
class Bundle:
    """A whole project: codebook, documents with attributes, coders and codings.

    ``colors`` maps code ids to ``#rrggbb``; ``non_codable`` lists code ids that are
    categories only (REFI-QDA ``isCodable="false"``); ``sets`` are groups of codes and documents.
    """

    codebook: "Codebook | None"
    documents: list[BundleDocument] = field(default_factory=list)
    codings: list[BundleCoding] = field(default_factory=list)
    coders: list[str] = field(default_factory=list)
    name: str = "Codeframe project"
    colors: dict[str, str] = field(default_factory=dict)
    non_codable: list[str] = field(default_factory=list)
    sets: list[BundleSet] = field(default_factory=list)


@dataclass
class ImportReport:
    """What an import brought in, translated and dropped; every import (transcripts, codings CSV, sample,
    REFI-QDA, xlsx) returns one.

    * ``documents`` names the imported documents; ``segments``, ``units``, ``codings``, ``frames``,
      ``codes``, ``coders`` and ``respondents`` count the rest; ``attributes_applied`` counts
      attribute rows applied to documents already stored;
    * ``notes`` says what the user should know (``warnings`` is the same list);
    * ``carried`` counts what came in as it was (``"users -> coders"``, ``"notes -> memos"`` ...);
    * ``mapped`` counts what had to be translated (codings mapped to segments, offsets converted);
    * ``skipped`` (also :attr:`dropped`) maps a kind of dropped thing to the names or places of the
      items; ``skipped_counts`` gives their numbers;
    * ``offsets`` gives, per source, how its positions were read (code points or UTF-16 units,
      CRLF as one or two characters) and why.
    """

    documents: list[str] = field(default_factory=list)
    segments: int = 0
    units: int = 0
    codings: int = 0
    attributes_applied: int = 0
    notes: list[str] = field(default_factory=list)
    file: str = ""
    frames: int = 0
    codes: int = 0
    coders: int = 0
    respondents: int = 0
    skipped: dict[str, list[str]] = field(default_factory=dict)
    carried: dict[str, int] = field(default_factory=dict)
    mapped: dict[str, int] = field(default_factory=dict)
    offsets: dict[str, str] = field(default_factory=dict)

    def skip(self, kind: str, name: str) -> None:
        self.skipped.setdefault(kind, []).append(name)

    def carry(self, kind: str, count: int = 1) -> None:
        if count:
            self.carried[kind] = self.carried.get(kind, 0) + count

    def map(self, kind: str, count: int = 1) -> None:
        if count:
            self.mapped[kind] = self.mapped.get(kind, 0) + count

    @property
    def warnings(self) -> list[str]:
        return self.notes

    @property
    def dropped(self) -> dict[str, list[str]]:
        return self.skipped

    @property
    def skipped_counts(self) -> dict[str, int]:
        return {kind: len(names) for kind, names in self.skipped.items()}

    def summary(self) -> str:
        """Human-readable lines for the CLI and the app."""
        lines = [f"{self.file or 'import'}: {len(self.documents)} document(s) of {self.respondents} respondent(s), "
                 f"{self.codings} coding(s) by {self.coders} coder(s), {self.codes} code(s) in {self.frames} frame(s)"]
        lines += [f"carried {count} {kind}" for kind, count in self.carried.items()]
        lines += [f"offsets of {source}: {decision}" for source, decision in self.offsets.items()]
        lines += [f"mapped {count} {kind}" for kind, count in self.mapped.items()]
        for kind, names in self.skipped.items():
            shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
            lines.append(f"skipped {len(names)} {kind}: {shown}")
        lines += [f"warning: {w}" for w in self.notes]
        return "\n".join(lines)
