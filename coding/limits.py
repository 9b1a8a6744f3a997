"""Every limit on untrusted input and on heavy work, in one place (pure; no I/O at import but the environment).

Each limit can be changed without editing code through an environment variable ``CODEFRAME_LIMIT_<NAME>``
(for example ``CODEFRAME_LIMIT_SEARCH_SECONDS=10``); the README lists them. Readers cite the limit in
their refusal ("... limit 200 MB"), so a refused file says what to change.

>>> SEARCH_SECONDS > 0 and ZIP_MAX_RATIO >= 10
True
>>> limit("NO_SUCH_LIMIT", 7)
7
"""

from __future__ import annotations

import os

from coding.errors import MAX_LISTED


def limit(name: str, default: float) -> float:
    """The limit ``name``: ``$CODEFRAME_LIMIT_<NAME>`` when set to a positive number, else ``default``."""
    raw = os.environ.get(f"CODEFRAME_LIMIT_{name}", "").strip()
    try:
        value = type(default)(float(raw)) if raw else default
    except ValueError:
        return default
    return value if value > 0 else default


MB = 1024 * 1024

#: regular-expression search: wall-clock seconds for one search over the whole project
SEARCH_SECONDS = limit("SEARCH_SECONDS", 5.0)

#: zip containers (.docx, .xlsx, .qdpx): checked from the central directory before anything is inflated
ZIP_MAX_MEMBERS = limit("ZIP_MAX_MEMBERS", 10_000)
ZIP_MAX_MEMBER_BYTES = limit("ZIP_MAX_MEMBER_BYTES", 100 * MB)
ZIP_MAX_TOTAL_BYTES = limit("ZIP_MAX_TOTAL_BYTES", 200 * MB)
ZIP_MAX_RATIO = limit("ZIP_MAX_RATIO", 100)
ZIP_RATIO_CHECK_ABOVE = limit("ZIP_RATIO_CHECK_ABOVE", MB)  # tiny members may compress extremely well

#: spreadsheets (.xlsx): the declared dimension and the rows and columns actually read
XLSX_MAX_ROWS = limit("XLSX_MAX_ROWS", 200_000)
XLSX_MAX_COLUMNS = limit("XLSX_MAX_COLUMNS", 1_000)

#: CSV files: data rows read, and how many row errors are listed before the rest are counted
CSV_MAX_ROWS = limit("CSV_MAX_ROWS", 100_000)
MAX_LISTED_ERRORS = MAX_LISTED  # every error message lists the first 50 problems, then counts the rest

#: YAML (codebooks, sector instruments): the file size; aliases are refused outright
YAML_MAX_BYTES = limit("YAML_MAX_BYTES", 5 * MB)

#: a text read from disk or an upload (transcripts, CSV, YAML) before decoding
TEXT_MAX_BYTES = limit("TEXT_MAX_BYTES", 50 * MB)

#: the Codebook page draws at most this many codes per frame (the rest are found with the filter)
CODEBOOK_PAGE_MAX_CODES = limit("CODEBOOK_PAGE_MAX_CODES", 100)

#: the co-occurrence heatmap is drawn at most this many codes per side (larger: the table and downloads only)
HEATMAP_MAX_CODES = limit("HEATMAP_MAX_CODES", 150)
