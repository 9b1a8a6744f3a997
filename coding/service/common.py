"""Names every part of the service shares: coding sources, roles, the consensus coder, languages."""

from __future__ import annotations

from pathlib import Path

from coding.segmentation import UNITS

SOURCES = ("hand", "suggestion", "adjudication", "import")
ROLES = ("coder", "supervisor", "admin")
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
