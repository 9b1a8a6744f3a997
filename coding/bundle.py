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
class Bundle:
    """A whole project: codebook, documents with attributes, coders and codings."""

    codebook: "Codebook | None"
    documents: list[BundleDocument] = field(default_factory=list)
    codings: list[BundleCoding] = field(default_factory=list)
    coders: list[str] = field(default_factory=list)
    name: str = "Codeframe project"
