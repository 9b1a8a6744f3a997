"""Where the checkout, the packaged data and the sample corpus live."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DB_ENV = "CODEFRAME_DB"
HOME_ENV = "CODEFRAME_HOME"


def repo_root() -> Path:
    """The checkout this package runs from (editable install), where codebook.yaml and corpus/ live."""
    return PACKAGE_DIR.parent


def package_data(name: str) -> Path:
    """A file shipped inside the package, in ``coding/data/``."""
    return PACKAGE_DIR / "data" / name


def sample_corpus_dir() -> Path:
    """The shipped sample corpus: ``$CODEFRAME_CORPUS`` or ``corpus/`` of the checkout."""
    return Path(os.environ.get("CODEFRAME_CORPUS", repo_root() / "corpus"))


def data_dir() -> Path:
    """Where the embedded database lives: ``$CODEFRAME_HOME`` or ``$XDG_DATA_HOME/codeframe``."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "codeframe"


def default_url() -> str:
    """``$CODEFRAME_DB`` if set, else the embedded SQLite file in :func:`data_dir`."""
    if os.environ.get(DB_ENV):
        return os.environ[DB_ENV]
    return f"sqlite:///{data_dir() / 'codeframe.sqlite'}"
