"""A project as plain data, for exchange: what REFI-QDA, CSV and the database convert to and from.

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
