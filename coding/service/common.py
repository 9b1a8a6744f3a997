"""Names every part of the service shares: coding sources, roles, the consensus coder, languages."""

from __future__ import annotations

from pathlib import Path

from coding.roles import ROLES  # the one list of roles, beside the role rules
from coding.segmentation import UNITS

__all__ = ["CONSENSUS", "DEFAULT_PROJECT", "LANGUAGE_NAMES", "ROLES", "SEGMENTATION_UNITS", "SOURCES",
           "SUPPORTED_LANGUAGES", "UNIT_NAMES", "_source"]

SOURCES = ("hand", "suggestion", "adjudication", "import")
CONSENSUS = "consensus"
DEFAULT_PROJECT = "default"
SUPPORTED_LANGUAGES = ("en", "ru", "kk")
SEGMENTATION_UNITS = UNITS
LANGUAGE_NAMES = {"en": "English", "ru": "Russian", "kk": "Kazakh"}
UNIT_NAMES = {"sentence": "Sentence of a respondent", "turn": "Whole respondent turn"}


def _source(item) -> tuple[str, Path | None, bytes | None]:
    """Normalise an import item: a path, or ``(file name, bytes)`` from an upload."""
    if isinstance(item, tuple):
        name, data = item
        return str(name), None, data
    path = Path(item)
    return path.name, path, None
