"""Positions as the exporting tool meant them.

QDA-XML says ``startPosition`` and ``endPosition`` count characters of the plain text,
but tools count differently: Python and Codeframe count code points, NVivo and ATLAS.ti
(.NET, Java) count UTF-16 units (an emoji is two), and a tool that read the text with
universal newlines counts a CRLF as one character. Per source, :func:`detect` tries each
convention that gives different numbers for that text and picks the one under which

1. the most selections fit the text (both ends on a character, start before end),
2. the most selections whose ``name`` is their text (ATLAS.ti, Codeframe) match it,
3. the most selection ends fall on word boundaries (a coder selects words, not halves of them);

ties go to code points with CRLF as two characters (the text as stored in the file).
The decision and its evidence are reported; :meth:`Convention.span` gives ``None`` for a
span that does not fit, which the reader reports with its source and position.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from itertools import accumulate

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_SPACE = re.compile(r"\s+")


class Convention:
    """One way of counting positions in ``text``: code points or UTF-16 units, CRLF as one or two."""

    def __init__(self, text: str, *, utf16: bool, crlf_one: bool):
        self.text = text
        self.utf16 = utf16
        self.crlf_one = crlf_one
        self._cum: list[int] | None = None
        if utf16 or crlf_one:
            n = len(text)
            weights = [1] * n
            if utf16:
                for match in _ASTRAL.finditer(text):
                    weights[match.start()] = 2
            if crlf_one:
                start = text.find("\r\n")
                while start != -1:
                    weights[start] = 0  # the pair counts once, for its "\n"
                    start = text.find("\r\n", start + 2)
            self._cum = list(accumulate(weights, initial=0))  # units before code point i

    @property
    def label(self) -> str:
        units = "UTF-16 units" if self.utf16 else "code points"
        crlf = "CRLF as one character" if self.crlf_one else "CRLF as two characters"
        return f"{units}, {crlf}"

    def index(self, position: int) -> int | None:
        """The code point index of a position, or None if it is outside the text or inside a character."""
        if self._cum is None:
            return position if 0 <= position <= len(self.text) else None
        if position < 0 or position > self._cum[-1]:
            return None
        i = bisect_left(self._cum, position)
        return i if self._cum[i] == position else None

    def span(self, start: int, end: int) -> tuple[int, int] | None:
        """``(start, end)`` as code point indices into the text, or None if the span does not fit."""
        a, b = self.index(start), self.index(end)
        if a is None or b is None or not a < b:
            return None
        return a, b

    def position(self, index: int) -> int:
        """The inverse of :meth:`index`: the position of code point ``index`` in this convention."""
        return index if self._cum is None else self._cum[index]


@dataclass
class Decision:
    """How one source's positions were read, and why."""

    convention: Convention
    evidence: str
    alternatives: int  # conventions that give different numbers for this text (1: no choice to make)
    text_checked: bool  # True if selection names carried their text and were compared

    def describe(self) -> str:
        return f"{self.convention.label} ({self.evidence})"


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def text_matches(text: str, span: tuple[int, int], name: str | None) -> bool | None:
    """Does a selection's ``name`` equal (or, truncated with an ellipsis, begin) its text? None: no text to check."""
    wanted = _norm(name or "")
    if not wanted:
        return None
    truncated = wanted.endswith(("…", "..."))
    wanted = wanted.rstrip(".…").rstrip() if truncated else wanted
    got = _norm(text[span[0]:span[1]])
    return got.startswith(wanted) if truncated else got == wanted or got.startswith(wanted)


def _boundary(text: str, i: int) -> bool:
    return i <= 0 or i >= len(text) or not (text[i - 1].isalnum() and text[i].isalnum())


def conventions(text: str) -> list[Convention]:
    """The conventions that differ on this text, the default (code points, CRLF as two) first."""
    astral = _ASTRAL.search(text) is not None
    crlf = "\r\n" in text
    options = [(False, False)]
    if astral:
        options.append((True, False))
    if crlf:
        options.append((False, True))
    if astral and crlf:
        options.append((True, True))
    return [Convention(text, utf16=u, crlf_one=c) for u, c in options]


def detect(text: str, selections: list[tuple[int, int, str | None]]) -> Decision:
    """Pick the convention for one source from its selections ``(start, end, name)``."""
    candidates = conventions(text)
    if len(candidates) == 1:
        why = "no CRLF and no characters beyond U+FFFF: every convention gives the same numbers"
        return Decision(candidates[0], why, 1, False)
    if not selections:
        return Decision(candidates[0], "no selections to decide on; the default", len(candidates), False)
    scores = []
    for number, convention in enumerate(candidates):
        fits = matches = checked = boundaries = 0
        for start, end, name in selections:
            span = convention.span(start, end)
            if span is None:
                continue
            fits += 1
            matched = text_matches(text, span, name)
            if matched is not None:
                checked += 1
                matches += matched
            boundaries += _boundary(text, span[0]) + _boundary(text, span[1])
        scores.append(((fits, matches, boundaries, -number), convention, fits, matches, checked, boundaries))
    scores.sort(key=lambda item: item[0], reverse=True)
    _, best, fits, matches, checked, boundaries = scores[0]
    n = len(selections)
    if checked and matches:
        evidence = f"{matches} of {checked} selection texts match"
    else:
        evidence = f"{boundaries} of {2 * n} selection ends on word boundaries"
    others = "; ".join(f"{c.label}: {f} fit, " + (f"{m} texts match" if checked and matches else f"{b} on boundaries")
                       for _, c, f, m, _, b in scores[1:])
    evidence += f", {fits} of {n} fit; {others}"
    return Decision(best, evidence, len(candidates), bool(checked and matches))
