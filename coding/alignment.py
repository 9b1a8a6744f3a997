"""Map character spans and quotes onto segments: how external codings find their units.

Pure functions over offsets; used by the codings-CSV import and the REFI-QDA import,
whose spans need not match our segmentation.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence


def overlapping(segments: Sequence[tuple[int, int]], start: int, end: int) -> list[int]:
    """Indices of ``segments`` (sorted, non-overlapping ``(start, end)``) that overlap ``[start, end)``.

    >>> overlapping([(0, 10), (11, 20), (21, 30)], 5, 15)
    [0, 1]
    >>> overlapping([(0, 10), (11, 20)], 10, 11)
    []
    """
    if end <= start:
        raise ValueError(f"empty span [{start}, {end})")
    starts = [s for s, _ in segments]
    ends = [e for _, e in segments]
    first = bisect_right(ends, start)
    last = bisect_left(starts, end)
    return [i for i in range(first, last) if segments[i][0] < end and segments[i][1] > start]


def locate_quote(text: str, quote: str) -> list[int]:
    """Every start offset where ``quote`` occurs in ``text`` (exact match).

    >>> locate_quote("a b a b", "a b")
    [0, 4]
    """
    if not quote:
        raise ValueError("empty quote")
    found, position = [], text.find(quote)
    while position != -1:
        found.append(position)
        position = text.find(quote, position + 1)
    return found


def span_is_aligned(segments: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    """True when ``[start, end)`` covers exactly whole segments (no partial overlap).

    >>> span_is_aligned([(0, 10), (11, 20)], 0, 20)
    True
    >>> span_is_aligned([(0, 10), (11, 20)], 2, 20)
    False
    """
    hits = overlapping(segments, start, end)
    if not hits:
        return False
    return segments[hits[0]][0] >= start and segments[hits[-1]][1] <= end


def offset_map(original: str, stored: str) -> list[int]:
    """For each offset of ``original``, the offset in ``stored`` (which dropped \\r, a BOM, ...)."""
    mapping, j = [], 0
    for ch in original:
        mapping.append(j)
        if j < len(stored) and (stored[j] == ch or (ch == "\r" and stored[j] == "\n")):
            j += 1
    mapping.append(j)
    return mapping
