"""Split a transcript into coding units: speaker turns, then sentences within each turn.

Segments are character spans into ``Transcript.text``; every segment satisfies
``transcript.text[s.start:s.end] == s.text`` and has no surrounding whitespace.

Within a turn, text is first cut into pieces at line breaks that end a paragraph,
then each piece is split into sentences by spaCy's rule-based ``sentencizer`` (no
model needed). A line break ends a paragraph when the line is blank, or when the
next line does not start with a lowercase letter and the line before is short
(< 50 characters) or ends with sentence punctuation -- so list items and short
answers on their own lines become separate segments while hard-wrapped prose
(long lines, or a next line starting in lowercase) stays together.

Interviewer turns are returned too, for context, with ``is_unit=False`` unless
``code_interviewer=True``. Text of role "unknown" -- the preamble before the first
speaker label and Markdown headings of a labelled transcript (title, date, a
"synthetic" notice) -- is context too. Respondent turns are the units; a transcript
without any speaker labels is all respondent talk.
"""

from __future__ import annotations

import re
import sys
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from collections.abc import Sequence

    from spacy.language import Language

    from coding.transcripts import Transcript

UNITS = ("sentence", "turn")
BLANK_LANGUAGES = {"kk": "xx"}
"""Languages spaCy has no blank pipeline for, and the pipeline used instead."""

_BATCH_SIZE = 256
_WRAP_LENGTH = 50
_SENTENCE_END = re.compile(r"[.!?…:;»\"')\]]\s*$")


@dataclass
class SegmentSpan:
    """One segment of a transcript: ``text == transcript.text[start:end]``.

    ``position`` is the segment's index in the transcript, ``turn_index`` the index of
    its turn in ``transcript.turns``; ``is_unit`` says whether it is coded (False for
    interviewer context).
    """

    position: int
    turn_index: int
    speaker: str | None
    role: str
    is_unit: bool
    start: int
    end: int
    text: str
    time_start: float | None
    time_end: float | None


class _NoTorchInThisThread:
    """A meta-path finder that makes ``import torch`` fail in one thread only (see :func:`_import_spacy`)."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()

    def find_spec(self, name, path=None, target=None):
        if (name == "torch" or name.startswith("torch.")) and threading.get_ident() == self.thread:
            raise ModuleNotFoundError(f"No module named {name!r} (spaCy is imported without torch)", name=name)
        return None


def _import_spacy():
    """``import spacy`` without letting thinc import torch, when torch is not loaded yet.

    thinc (under spaCy) imports torch if it can, only to offer torch-backed layers; the rule-based
    sentencizer never uses them, and importing torch costs 3-4 s of CPU, most of a first start's
    sample import. The block applies to this thread only, for the duration of the import, so another
    thread importing torch meanwhile (the embedding model) is not affected; torch imports normally
    afterwards (thinc then simply reports no torch support).
    """
    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy

        return spacy
    finder = _NoTorchInThisThread()
    sys.meta_path.insert(0, finder)
    try:
        import spacy
    finally:
        sys.meta_path.remove(finder)
    return spacy


@lru_cache(maxsize=8)
def blank_pipeline(language: str) -> "Language":
    """A cached spaCy pipeline that splits sentences, for a language code or installed pipeline.

    ``"en"``, ``"ru"`` and other spaCy language codes give ``spacy.blank(code)`` with a
    ``sentencizer``; ``"kk"`` (no blank pipeline in spaCy 3.8) uses the multilingual
    ``"xx"``. A name such as ``"en_core_web_sm"`` loads that pipeline if it is installed
    (never downloaded); its parser or senter then sets the sentences.

    >>> [s.text for s in blank_pipeline("en")("One. Two.").sents]
    ['One.', 'Two.']
    """
    spacy = _import_spacy()

    if not isinstance(language, str) or not language.strip():
        raise ValueError(f"language must be a language code such as 'en', got {language!r}")
    language = language.strip()
    if "_" in language:
        if not spacy.util.is_package(language):
            raise ValueError(
                f"spaCy pipeline {language!r} is not installed; use a language code "
                "('en', 'ru', 'kk', ...) or install the pipeline"
            )
        nlp = spacy.load(language)
        if not (nlp.has_pipe("parser") or nlp.has_pipe("senter") or nlp.has_pipe("sentencizer")):
            nlp.add_pipe("sentencizer")
        return nlp
    code = BLANK_LANGUAGES.get(language.lower(), language.lower())
    try:
        nlp = spacy.blank(code)
    except ImportError:
        raise ValueError(
            f"spaCy has no language {language!r}; use a code such as 'en', 'ru', 'kk' or 'xx' "
            "(multilingual)"
        ) from None
    nlp.add_pipe("sentencizer")
    return nlp


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink ``[start, end)`` of ``text`` to exclude surrounding whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _ends_paragraph(line: str, next_line: str) -> bool:
    if not line.strip() or not next_line.strip():
        return True
    first = next_line.lstrip()[0]
    if first.isalpha() and first.islower():
        return False
    stripped = line.rstrip()
    return len(stripped) < _WRAP_LENGTH or bool(_SENTENCE_END.search(stripped))


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Paragraph pieces of ``text[start:end]`` (see the module docstring), stripped, non-empty."""
    pieces: list[tuple[int, int]] = []
    piece_start = start
    line_start = start
    while True:
        newline = text.find("\n", line_start, end)
        if newline < 0:
            break
        line = text[line_start:newline]
        next_end = text.find("\n", newline + 1, end)
        next_line = text[newline + 1: end if next_end < 0 else next_end]
        if _ends_paragraph(line, next_line):
            pieces.append((piece_start, newline))
            piece_start = newline + 1
        line_start = newline + 1
    pieces.append((piece_start, end))
    out = []
    for a, b in pieces:
        a, b = _strip_span(text, a, b)
        if a < b:
            out.append((a, b))
    return out


def _chunks(text: str, start: int, end: int, limit: int) -> Iterable[tuple[int, int]]:
    """Cut an over-long piece below spaCy's ``max_length``, at a newline or space if possible."""
    while end - start > limit:
        cut = text.rfind("\n", start + 1, start + limit)
        if cut < 0:
            cut = text.rfind(" ", start + 1, start + limit)
        if cut < 0:
            cut = start + limit
        yield start, cut
        start = cut
    yield start, end


def _sentences(text: str, pieces: list[tuple[int, int]], language: str) -> list[list[tuple[int, int]]]:
    """Sentence spans (absolute offsets) for each piece, batched through ``nlp.pipe``."""
    return _sentences_of_texts([(text, piece) for piece in pieces], language)


def _sentences_of_texts(pieces: list[tuple[str, tuple[int, int]]], language: str) -> list[list[tuple[int, int]]]:
    """Sentence spans for ``(text, (start, end))`` pieces of any number of texts, in ONE ``nlp.pipe``.

    One call for a whole import instead of one per transcript: spaCy batches across
    documents, and the per-call cost (generator, batching) is paid once.
    """
    nlp = blank_pipeline(language)
    limit = max(1000, nlp.max_length - 1)
    owners: list[int] = []
    spans: list[tuple[str, int, int]] = []
    for number, (text, (a, b)) in enumerate(pieces):
        for chunk_start, chunk_end in _chunks(text, a, b, limit):
            owners.append(number)
            spans.append((text, chunk_start, chunk_end))
    result: list[list[tuple[int, int]]] = [[] for _ in pieces]
    docs = nlp.pipe((text[a:b] for text, a, b in spans), batch_size=_BATCH_SIZE)
    for owner, (text, a, _), doc in zip(owners, spans, docs):
        for sent in doc.sents:
            s, e = _strip_span(text, a + sent.start_char, a + sent.end_char)
            if s < e:
                result[owner].append((s, e))
    return result


def segment_text(text: str, *, language: str = "en") -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` of plain text, stripped of surrounding whitespace.

    >>> text = "It works. Really!\\n\\nNew paragraph"
    >>> [text[a:b] for a, b in segment_text(text)]
    ['It works.', 'Really!', 'New paragraph']
    """
    pieces = _pieces(text, 0, len(text))
    return [span for spans in _sentences(text, pieces, language) for span in spans]


def segment_transcript(
    transcript: "Transcript",
    *,
    language: str = "en",
    unit: str = "sentence",
    code_interviewer: bool = False,
) -> list[SegmentSpan]:
    """Segments of a transcript: its turns, split into sentences (``unit="sentence"``) or whole.

    Parameters
    ----------
    transcript
        A transcript from :func:`coding.transcripts.read_transcript`.
    language
        Language code (``"en"``, ``"ru"``, ``"kk"``...) or an installed spaCy pipeline name.
    unit
        ``"sentence"`` or ``"turn"``.
    code_interviewer
        Make interviewer turns coding units too (they are context only by default).
    """
    return segment_transcripts([transcript], language=language, unit=unit, code_interviewer=code_interviewer)[0]


def segment_transcripts(
    transcripts: "Sequence[Transcript]",
    *,
    language: str = "en",
    unit: str = "sentence",
    code_interviewer: bool = False,
) -> list[list[SegmentSpan]]:
    """Segments of several transcripts of one language, one list per transcript.

    The same result as :func:`segment_transcript` on each, but every transcript's
    paragraph pieces go through a single ``nlp.pipe`` call, which is faster for an import
    of many files.

    >>> from coding.transcripts import read_transcript
    >>> a = read_transcript("a.txt", data=b"Respondent: One. Two.")
    >>> b = read_transcript("b.txt", data=b"Respondent: Three.")
    >>> [[s.text for s in spans] for spans in segment_transcripts([a, b])]
    [['One.', 'Two.'], ['Three.']]
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
    per_turn_of: list[list[list[tuple[int, int]]]] = []
    if unit == "turn":
        for transcript in transcripts:
            per_turn = []
            for turn in transcript.turns:
                a, b = _strip_span(transcript.text, turn.start, turn.end)
                per_turn.append([(a, b)] if a < b else [])
            per_turn_of.append(per_turn)
    else:
        pieces: list[tuple[str, tuple[int, int]]] = []
        owners: list[tuple[int, int]] = []  # (transcript number, turn index) of each piece
        for number, transcript in enumerate(transcripts):
            per_turn_of.append([[] for _ in transcript.turns])
            for index, turn in enumerate(transcript.turns):
                for piece in _pieces(transcript.text, turn.start, turn.end):
                    pieces.append((transcript.text, piece))
                    owners.append((number, index))
        if pieces:
            for (number, index), spans in zip(owners, _sentences_of_texts(pieces, language)):
                per_turn_of[number][index].extend(spans)
    return [
        _segment_spans(transcript, per_turn, code_interviewer)
        for transcript, per_turn in zip(transcripts, per_turn_of)
    ]


def _segment_spans(
    transcript: "Transcript", per_turn: list[list[tuple[int, int]]], code_interviewer: bool
) -> list[SegmentSpan]:
    text = transcript.text
    segments: list[SegmentSpan] = []
    for index, (turn, spans) in enumerate(zip(transcript.turns, per_turn)):
        is_unit = turn.role == "respondent" or (code_interviewer and turn.role == "interviewer")
        for a, b in spans:
            segments.append(
                SegmentSpan(
                    position=len(segments), turn_index=index, speaker=turn.speaker, role=turn.role,
                    is_unit=is_unit, start=a, end=b, text=text[a:b],
                    time_start=turn.time_start, time_end=turn.time_end,
                )
            )
    return segments
