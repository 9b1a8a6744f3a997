"""Text search over transcripts (plain, whole-word, regex) and "units like this sentence" by embedding.

Pure: ``segments`` is a DataFrame with ``segment_id, document_id, document, respondent, position,
role, speaker, text, is_unit``; the facade reads it and the cached embeddings.

>>> import pandas as pd
>>> segments = pd.DataFrame({"segment_id": [1, 2], "document_id": 1, "document": "R01", "respondent": "R01",
...     "position": [0, 1], "role": ["interviewer", "respondent"], "speaker": ["I", "R"],
...     "text": ["What about reform?", "Reform must be systemic. Reforms fail."], "is_unit": [False, True]})
>>> search(segments, "reform", mode="word")[["segment_id", "hits"]].values.tolist()
[[2, 1]]
>>> search(segments, "reform", include_interviewer=True)["segment_id"].tolist()
[1, 2]
"""

from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd
import regex as rx

from coding import limits
from coding.errors import CodeframeError, Problem

SEARCH_MODES = ("plain", "word", "regex")
HIT_COLUMNS = ["segment_id", "document_id", "document", "respondent", "position", "role", "is_unit", "hits",
               "spans", "before", "text", "after"]


def compile_pattern(pattern: str, *, mode: str = "plain", case_sensitive: bool = False):
    """The regular expression a search runs: ``plain`` text, a ``word`` (whole words only) or a ``regex``.

    A user's ``regex`` is compiled by the ``regex`` package, whose matching can be stopped after a time
    limit and releases the interpreter lock meanwhile (see :func:`spans_of`); plain and whole-word
    patterns are escaped literals and cannot backtrack catastrophically.
    """
    if mode not in SEARCH_MODES:
        raise CodeframeError(f"search mode must be one of {', '.join(SEARCH_MODES)}, not {mode!r}")
    if not pattern or not pattern.strip():
        raise CodeframeError("the search pattern is empty")
    if "\x00" in pattern:
        raise CodeframeError("the search pattern contains a NUL character", [Problem("NUL", field="pattern")])
    flags = 0 if case_sensitive else re.IGNORECASE
    if mode == "regex":
        try:
            return rx.compile(pattern, rx.IGNORECASE if flags else 0)
        except (rx.error, OverflowError, RecursionError) as exc:
            raise CodeframeError(f"not a valid regular expression: {exc}",
                                 [Problem(f"{pattern!r}: {exc}", field="pattern")]) from None
    body = re.escape(pattern.strip())
    return re.compile(rf"(?<!\w){body}(?!\w)" if mode == "word" else body, flags)


def search(
    segments: pd.DataFrame,
    pattern: str,
    *,
    mode: str = "plain",
    case_sensitive: bool = False,
    include_interviewer: bool = False,
    width: int = 1,
    context_from: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every segment whose text matches, with the number of matches, their spans and the context.

    Respondent turns only unless ``include_interviewer``. Rows in document order. ``context_from``:
    the segments the context is read from when ``segments`` holds only candidates (default: ``segments``).
    """
    from coding.retrieve import context

    regex = compile_pattern(pattern, mode=mode, case_sensitive=case_sensitive)
    scope = segments if include_interviewer else segments[segments["role"] != "interviewer"]
    rows = []
    columns = [scope[c].tolist() for c in ("segment_id", "document_id", "document", "respondent", "position", "role",
                                           "is_unit", "text")]  # plain lists: iterating Arrow strings is slow
    deadline = time.monotonic() + limits.SEARCH_SECONDS
    for seg, doc_id, doc, respondent, position, role, is_unit, text in zip(*columns):
        spans = spans_of(regex, text, deadline=deadline, pattern=pattern)
        if spans:
            rows.append((int(seg), int(doc_id), doc, respondent, int(position), role, bool(is_unit), len(spans),
                         spans, text))
    hits = pd.DataFrame(rows, columns=[c for c in HIT_COLUMNS if c not in ("before", "after")])
    source = segments if context_from is None else context_from
    around = context(source[source["document_id"].isin(set(hits["document_id"]))], width,
                     only=hits["segment_id"].tolist()) if rows else {}
    hits["before"] = [around.get(s, ("", ""))[0] for s in hits["segment_id"]]
    hits["after"] = [around.get(s, ("", ""))[1] for s in hits["segment_id"]]
    return hits.sort_values(["document", "position"]).reset_index(drop=True).reindex(columns=HIT_COLUMNS)


def spans_of(regex, text: str, *, deadline: float, pattern: str = "") -> list[tuple[int, int]]:
    """The non-empty matches of ``regex`` in ``text``; a ``regex``-package pattern stops at ``deadline``.

    Such a pattern runs with the interpreter lock released (``concurrent=True``), so other threads (another
    user's page) go on meanwhile; past the deadline the search is refused with a clear error.

    >>> import time
    >>> try:
    ...     spans_of(compile_pattern("(a|aa)+b", mode="regex"), "a" * 60, deadline=time.monotonic() + 0.2)
    ... except CodeframeError as exc:
    ...     print(str(exc).split(" and ")[0])
    the regular expression took longer than the 5 s limit of a search
    """
    if not isinstance(regex, rx.Pattern):
        return [(m.start(), m.end()) for m in regex.finditer(text) if m.end() > m.start()]
    left = deadline - time.monotonic()
    try:
        if left <= 0:
            raise TimeoutError
        return [(m.start(), m.end()) for m in regex.finditer(text, timeout=left, concurrent=True)
                if m.end() > m.start()]
    except TimeoutError:
        shown = pattern or regex.pattern
        raise CodeframeError(
            f"the regular expression took longer than the {limits.SEARCH_SECONDS:g} s limit of a search and was "
            "stopped (nested repetition such as (\\w+\\s?)+ can backtrack without end); simplify it",
            [Problem(f"{shown!r}: stopped after {limits.SEARCH_SECONDS:g} s "
                     "(limit CODEFRAME_LIMIT_SEARCH_SECONDS)", field="pattern")]) from None


def highlight(text: str, spans, *, before: str = "**", after: str = "**") -> str:
    """``text`` with each span wrapped (Markdown bold by default).

    >>> highlight("Reform now", [(0, 6)])
    '**Reform** now'
    """
    out, last = [], 0
    for start, end in sorted(spans):
        out += [text[last:start], before, text[start:end], after]
        last = end
    out.append(text[last:])
    return "".join(out)


def nearest(matrix: np.ndarray, query: np.ndarray, *, k: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``matrix`` most similar to ``query`` (cosine), best first: (row indices, similarities).

    >>> idx, sim = nearest(np.array([[1.0, 0], [0, 1.0], [0.6, 0.8]]), np.array([1.0, 0.1]), k=2)
    >>> idx.tolist(), [round(float(s), 2) for s in sim]
    ([0, 2], [1.0, 0.68])
    """
    if k < 1:
        raise CodeframeError(f"k must be at least 1, not {k}")
    if len(matrix) == 0:
        return np.array([], dtype=int), np.array([], dtype=np.float32)
    m = np.asarray(matrix, dtype=np.float32)
    q = np.asarray(query, dtype=np.float32).reshape(-1)
    norms = np.linalg.norm(m, axis=1) * (np.linalg.norm(q) or 1.0)
    sims = (m @ q) / np.where(norms == 0, 1.0, norms)
    k = min(k, len(sims))
    top = np.argpartition(-sims, k - 1)[:k]
    top = top[np.argsort(-sims[top], kind="stable")]
    return top, sims[top]
