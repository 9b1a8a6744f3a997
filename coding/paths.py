"""Where the checkout, the packaged data and the sample corpus live."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def repo_root() -> Path:
    """The checkout this package runs from (editable install), where codebook.yaml and corpus/ live."""
    return PACKAGE_DIR.parent


def package_data(name: str) -> Path:
    """A file shipped inside the package, in ``coding/data/``."""
    return PACKAGE_DIR / "data" / name


def sample_corpus_dir() -> Path:
    """The shipped sample corpus: ``$CODEFRAME_CORPUS`` or ``corpus/`` of the checkout."""
    return Path(os.environ.get("CODEFRAME_CORPUS", repo_root() / "corpus"))
