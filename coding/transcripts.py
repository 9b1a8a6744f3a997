"""Read interview transcripts into plain text and speaker turns.

Supported formats are plain text (``.txt``), Markdown (``.md``), Word (``.docx``)
and caption files (``.vtt``, ``.srt``). Every reader gives back a
:class:`Transcript`: the stored text plus a list of :class:`Turn`, each turn
pointing at its content (speaker label excluded) by character offsets into that
text, so ``transcript.text[turn.start:turn.end]`` is what the speaker said.

The stored text
    * ``.txt`` / ``.md``: the decoded file, with newlines normalised to ``"\\n"``
      and a byte-order mark removed. Nothing else is stripped.
    * ``.docx``: the body paragraphs (and table rows) in document order, joined
      by ``"\\n"``; a two-cell table row ``Name | text`` becomes ``"Name: text"``.
    * ``.vtt`` / ``.srt``: one line per turn. Consecutive cues of the same
      speaker are merged into one turn written as ``"Name: text text ..."``;
      cues without a speaker stay one line (and one turn) each, so their
      timestamps are kept. Cue tags (``<v>``, ``<i>``...) are removed.

Speaker labels
    A label is a short name at the start of a line followed by a colon:
    ``Interviewer:``, ``Q:``, ``Respondent 3:``, ``Dr. Aigerim Sultanova:``,
    ``[00:01:02] Name:``, ``**Name:**``, ``Интервьюер:``. To avoid reading
    ``Note: ...`` or ``Table 1: ...`` as speakers, the text before the colon must
    be at most 40 characters and 5 words of letters, digits, spaces and
    ``. - ' # ( )``; it must not be a known non-speaker word (``Note``,
    ``Date``, ``Table``... see ``NOT_SPEAKERS``); and unless it is a known label
    (``KNOWN_LABELS``, any case) every word must be capitalised (or be a number
    or a name particle such as ``van``). A colon mid-sentence is never a label.
    Lines without a label continue the current turn. Text with no labels at all
    becomes one turn per paragraph (blank-line separated; one per paragraph in
    .docx), speaker ``None``, role ``"respondent"``. In a labelled transcript,
    text before the first label (a title, a date line) is a turn with role
    ``"unknown"``. In Markdown, ``#`` headings end the current turn and belong to
    no turn.

Roles
    ``"interviewer"`` for the labels in ``INTERVIEWER_LABELS`` (Interviewer, Q,
    I, Moderator, Интервьюер, Вопрос..., with or without a number), otherwise
    ``"respondent"``. ``read_transcript(..., interviewer_labels={"Aigerim"})``
    replaces the default list (matched case-insensitively, with or without a
    trailing number).

Encodings
    See :mod:`coding.textio`: BOMs, UTF-16 without a BOM, UTF-8, the legacy Cyrillic code
    pages (cp1251, KOI8-R, cp866), then charset-normalizer. Caption files: :mod:`coding.captions`.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from coding import limits
from coding.errors import Problem, TranscriptError
from coding.textio import BINARY_SIGNATURES, decode_bytes

SUPPORTED_FORMATS = (".txt", ".md", ".docx", ".vtt", ".srt")
MAX_FILE_BYTES = int(limits.TEXT_MAX_BYTES)  # 50 MB unless CODEFRAME_LIMIT_TEXT_MAX_BYTES
"""Files larger than this (50 MB) are refused before they are read."""

ROLES = ("interviewer", "respondent", "unknown")

INTERVIEWER_LABELS = frozenset(
    {
        "interviewer", "interviewers", "int", "i", "q", "question", "moderator", "mod",
        "facilitator", "host", "researcher",
        "интервьюер", "интервьюэр", "вопрос", "в", "и", "модератор", "ведущий", "исследователь",
        "сұрақ", "сұхбат алушы",
    }
)
"""Label bases (casefolded, number removed) read as the interviewer by default."""

RESPONDENT_LABELS = frozenset(
    {
        "respondent", "r", "a", "answer", "expert", "interviewee", "participant", "p",
        "ответ", "респондент", "эксперт", "о", "р", "участник", "опрашиваемый",
        "жауап", "сарапшы",
    }
)
KNOWN_LABELS = INTERVIEWER_LABELS | RESPONDENT_LABELS
"""Labels accepted in any letter case."""

NOT_SPEAKERS = frozenset(
    {
        "note", "notes", "nb", "n.b", "example", "e.g", "comment", "comments", "remark",
        "summary", "source", "sources", "date", "time", "duration", "location", "place",
        "venue", "topic", "subject", "title", "re", "fw", "fwd", "p.s", "ps", "interview",
        "transcript", "transcription", "participants", "attendees", "tags", "keywords",
        "translation", "table", "figure", "fig", "appendix", "section", "part", "chapter",
        "page", "step", "warning", "important", "caution", "tip", "todo", "update", "edit",
        "link", "url", "email", "e-mail", "phone", "tel", "address", "language", "recording",
        "audio", "video", "file", "day", "session", "total", "result", "results",
        "примечание", "прим", "дата", "время", "место", "тема", "продолжительность",
        "таблица", "рисунок", "интервью", "транскрипт", "ключевые слова", "участники",
        "комментарий", "итого", "ескерту", "күні", "уақыты", "тақырыбы",
    }
)
"""Words that are followed by a colon at a line start but are not speakers."""

_NAME_PARTICLES = frozenset(
    {"de", "da", "di", "del", "della", "van", "von", "der", "den", "la", "le", "du", "dos",
     "al", "el", "bin", "ibn", "ben", "y", "e", "и"}
)
_NAME_CHARS = re.compile(r"[^\W_][\w .'’#()-]*")
_MAX_LABEL_CHARS = 40
_MAX_LABEL_WORDS = 5

_CLOCK = r"\d{1,2}(?::\d{1,2}){1,2}(?:[.,]\d{1,3})?"
_LABEL_RE = re.compile(
    r"[ \t]*"
    rf"(?:(?:\[(?P<ts1>{_CLOCK})\]|\((?P<ts2>{_CLOCK})\)|(?P<ts3>{_CLOCK}))[ \t]+)?"
    r"(?:(?P<md>\*\*|__)[ \t]*(?P<mdname>[^\n*_:]{1,60}?)[ \t]*(?::(?P=md)|(?P=md)[ \t]*:)"
    r"|(?P<name>[^\W\d_][^\n:]{0,60}?)[ \t]*:)"
    r"(?![/\\\d:])"
)
_MD_HEADING_RE = re.compile(r"[ \t]{0,3}#{1,6}(?:[ \t]|$)")


@dataclass
class Turn:
    """One speaker turn: its content is ``transcript.text[start:end]`` (label excluded).

    ``role`` is ``"interviewer"``, ``"respondent"`` or ``"unknown"``; ``time_start`` and
    ``time_end`` are seconds (captions, or a ``[hh:mm:ss]`` label); ``line`` is the
    1-based line where the turn starts in the source file (paragraph in .docx).
    """

    speaker: str | None
    role: str
    start: int
    end: int
    time_start: float | None = None
    time_end: float | None = None
    line: int | None = None


@dataclass
class Transcript:
    """A read transcript: stored text, format, encoding used, turns and content hash.

    ``sha256`` is the hash of the text after NFC normalisation and stripping trailing
    whitespace of each line and of the whole, so the same interview saved in another
    encoding or format hashes the same (duplicate detection).
    """

    name: str
    text: str
    format: str
    encoding: str
    turns: list[Turn]
    sha256: str


@dataclass(frozen=True)
class _Label:
    speaker: str
    column: int  # where the content starts on the line
    time: float | None = None


# --------------------------------------------------------------------------- labels and roles


@lru_cache(maxsize=8192)
def _label_base(label: str) -> str:
    """``"Respondent 3"`` -> ``"respondent"``, ``"Q1"`` -> ``"q"``, ``"Interviewer (Aigerim)"`` -> ``"interviewer"``."""
    base = re.sub(r"\([^)]*\)", " ", label.casefold()).strip()
    base = re.sub(r"[\s#.()\d-]+$", "", base)
    return base or label.casefold().strip()


def classify_role(speaker: str | None, *, interviewer_labels: set[str] | None = None) -> str:
    """Role of a speaker label: ``"interviewer"`` or ``"respondent"`` (``"respondent"`` for None).

    >>> classify_role("Interviewer 2"), classify_role("Q"), classify_role("Dr. Aigerim Sultanova")
    ('interviewer', 'interviewer', 'respondent')
    >>> classify_role("Aigerim", interviewer_labels={"aigerim"})
    'interviewer'
    """
    if speaker is None:
        return "respondent"
    if interviewer_labels is not None:
        wanted = {label.casefold().strip() for label in interviewer_labels}
        hit = speaker.casefold().strip() in wanted or _label_base(speaker) in wanted
        return "interviewer" if hit else "respondent"
    return "interviewer" if _label_base(speaker) in INTERVIEWER_LABELS else "respondent"


def _name_shape_ok(name: str) -> bool:
    """Short, name-like characters, not a known non-speaker word."""
    if not name or len(name) > _MAX_LABEL_CHARS or len(name.split()) > _MAX_LABEL_WORDS:
        return False
    if not _NAME_CHARS.fullmatch(name) or not any(ch.isalpha() for ch in name):
        return False
    return _label_base(name) not in NOT_SPEAKERS


def looks_like_speaker(name: str, *, extra_labels: set[str] | None = None) -> bool:
    """Whether ``name`` (the text before a line-leading colon) reads as a speaker label.

    >>> [looks_like_speaker(n) for n in ("Respondent 3", "Dr. Aigerim Sultanova", "Note", "The main point")]
    [True, True, False, False]
    """
    if extra_labels and not isinstance(extra_labels, frozenset):
        extra_labels = frozenset(extra_labels)
    return _looks_like_speaker(name.strip(), extra_labels or None)


@lru_cache(maxsize=8192)
def _looks_like_speaker(name: str, extra_labels: frozenset[str] | None) -> bool:
    """:func:`looks_like_speaker`, remembered: a transcript repeats the same few labels on every turn."""
    if not _name_shape_ok(name):
        return False
    base = _label_base(name)
    if base in KNOWN_LABELS or (extra_labels and (base in extra_labels or name.casefold() in extra_labels)):
        return True
    words = name.split()
    if not words[0][0].isupper():
        return False
    for word in words[1:]:
        first = word[0]
        if not (first.isupper() or first.isdigit() or first in "#(" or word.casefold() in _NAME_PARTICLES):
            return False
    return True


def _clock_seconds(value: str | None) -> float | None:
    if not value:
        return None
    parts = value.replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def _match_label(line: str, extra_labels: set[str] | None = None) -> _Label | None:
    """The speaker label at the start of ``line``, if any."""
    match = _LABEL_RE.match(line)
    if match is None:
        return None
    name = (match.group("mdname") or match.group("name") or "").strip()
    if not looks_like_speaker(name, extra_labels=extra_labels):
        return None
    column = match.end()
    while column < len(line) and line[column] in " \t":
        column += 1
    time = _clock_seconds(match.group("ts1") or match.group("ts2") or match.group("ts3"))
    return _Label(speaker=name, column=column, time=time)


# --------------------------------------------------------------------------- turns from lines


class _OpenTurn:
    __slots__ = ("speaker", "role", "line", "time", "start", "end")

    def __init__(self, speaker: str | None, role: str, line: int, time: float | None = None):
        self.speaker, self.role, self.line, self.time = speaker, role, line, time
        self.start: int | None = None
        self.end: int | None = None

    def add(self, offset: int, piece: str) -> None:
        stripped = piece.strip()
        if not stripped:
            return
        if self.start is None:
            self.start = offset + (len(piece) - len(piece.lstrip()))
        self.end = offset + len(piece.rstrip())

    def close(self, turns: list[Turn]) -> None:
        if self.start is not None and self.end is not None:
            turns.append(Turn(self.speaker, self.role, self.start, self.end, self.time, None, self.line))


def _turns_from_lines(
    text: str,
    labels: list[_Label | None],
    *,
    headings: set[int] = frozenset(),
    paragraph_starts: set[int] | None = None,
    interviewer_labels: set[str] | None = None,
    line_numbers: list[int] | None = None,
) -> list[Turn]:
    """Group the lines of ``text`` into turns, given each line's label (or None).

    ``headings`` are line indexes that belong to no turn; ``paragraph_starts`` marks lines
    that start a new paragraph in unlabelled text (besides blank lines); ``line_numbers``
    maps line index to the number reported in ``Turn.line`` (default: index + 1).
    """
    lines = text.split("\n")
    labelled = any(label is not None for label in labels)
    turns: list[Turn] = []
    current: _OpenTurn | None = None
    offset = 0
    for index, line in enumerate(lines):
        line_start = offset
        offset += len(line) + 1
        number = line_numbers[index] if line_numbers else index + 1
        if index in headings:
            if current:
                current.close(turns)
            current = None
            continue
        label = labels[index]
        if label is not None:
            if current:
                current.close(turns)
            role = classify_role(label.speaker, interviewer_labels=interviewer_labels)
            current = _OpenTurn(label.speaker, role, number, label.time)
            current.add(line_start + label.column, line[label.column:])
            continue
        if not line.strip():
            if not labelled and current:
                current.close(turns)
                current = None
            continue
        if current is not None and not labelled and paragraph_starts and index in paragraph_starts:
            current.close(turns)
            current = None
        if current is None:
            current = _OpenTurn(None, "unknown" if labelled else "respondent", number)
        current.add(line_start, line)
    if current:
        current.close(turns)
    return turns


def _extra_labels(interviewer_labels: set[str] | None) -> frozenset[str] | None:
    """The project's own interviewer labels, casefolded, as the hashable set the label cache needs."""
    return frozenset(label.casefold() for label in interviewer_labels) if interviewer_labels else None


def _plain_labels(text: str, *, markdown: bool, extra: set[str] | None) -> tuple[list[_Label | None], set[int]]:
    labels: list[_Label | None] = []
    headings: set[int] = set()
    for index, line in enumerate(text.split("\n")):
        if markdown and _MD_HEADING_RE.match(line):
            headings.add(index)
            labels.append(None)
        else:
            labels.append(_match_label(line, extra))
    return labels, headings


# --------------------------------------------------------------------------- formats


def _parse_plain(text: str, *, markdown: bool, interviewer_labels: set[str] | None) -> list[Turn]:
    extra = _extra_labels(interviewer_labels)
    labels, headings = _plain_labels(text, markdown=markdown, extra=extra)
    return _turns_from_lines(text, labels, headings=headings, interviewer_labels=interviewer_labels)


def _is_bold(run) -> bool:
    if run.bold is not None:
        return bool(run.bold)
    style = run.style
    return bool(style is not None and style.font is not None and style.font.bold)


def _docx_paragraph_label(paragraph, text: str, extra: set[str] | None) -> tuple[_Label | None, bool]:
    """Label from bold formatting at the paragraph start: ``(label, whole_paragraph_bold)``."""
    from docx.text.run import Run

    bold_length = 0
    for item in paragraph.iter_inner_content():
        piece = item.text
        if isinstance(item, Run) and _is_bold(item):
            bold_length += len(piece)
        elif not piece.strip():
            bold_length += len(piece)
        else:
            break
    first_line = text.split("\n", 1)[0]
    bold = first_line[:bold_length]
    if not bold.strip():
        return None, False
    lead = len(first_line) - len(first_line.lstrip())
    colon = bold.find(":")
    if colon < 0 and first_line[bold_length:].lstrip(" \t").startswith(":"):
        colon = first_line.index(":", bold_length)
    if colon >= 0:
        name = first_line[lead:colon].strip().strip("*").strip()
        column = colon + 1
    elif bold_length >= len(first_line.rstrip()) and "\n" not in text.strip():
        name = first_line.strip()
        column = len(first_line)
    else:
        return None, False
    if not (_name_shape_ok(name) if colon >= 0 else looks_like_speaker(name, extra_labels=extra)):
        return None, False  # a bold sentence is not a speaker; "name:" in bold is
    while column < len(first_line) and first_line[column] in " \t":
        column += 1
    return _Label(speaker=name, column=column), colon < 0


def _parse_docx(data: bytes, *, file: str, interviewer_labels: set[str] | None) -> tuple[str, list[Turn]]:
    def fail(message: str) -> None:
        raise TranscriptError(f"Cannot read {file}", [Problem(message, file=file)])

    if not data:
        fail("the file is empty (0 bytes)")
    if not data.startswith(b"PK"):
        for signature, kind in BINARY_SIGNATURES:
            if data.startswith(signature):
                fail(f"this is {kind}, not a .docx Word document")
        fail("this is not a .docx Word document (a .docx is a zip archive)")
    from coding.zipguard import check_zip

    check_zip(data, file, error=TranscriptError)  # member sizes and ratios, before anything is inflated
    try:
        import docx
        from docx.table import Table

        document = docx.Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
    except Exception as exc:  # BadZipFile, KeyError, PackageNotFoundError, XML errors
        fail(f"this .docx is corrupt or truncated and cannot be opened ({type(exc).__name__}: {exc})")

    extra = _extra_labels(interviewer_labels)
    lines: list[str] = []
    labels: list[_Label | None] = []
    numbers: list[int] = []
    headings: set[int] = set()
    paragraph_starts: set[int] = set()

    def add_block(block_text: str, first_label: _Label | None, number: int, heading: bool) -> None:
        for k, sub in enumerate(block_text.split("\n")):
            index = len(lines)
            lines.append(sub)
            numbers.append(number)
            if k == 0:
                paragraph_starts.add(index)
            if heading:
                headings.add(index)
                labels.append(None)
            elif k == 0 and first_label is not None:
                labels.append(first_label)
            else:
                labels.append(_match_label(sub, extra))

    for number, block in enumerate(blocks, start=1):
        if isinstance(block, Table):
            for row in block.rows:
                seen, cells = set(), []
                for cell in row.cells:
                    if id(cell._tc) not in seen:
                        seen.add(id(cell._tc))
                        cells.append(" ".join(cell.text.split()))
                filled = [c for c in cells if c]
                if not filled:
                    continue
                if len(cells) == 2 and all(cells) and _name_shape_ok(cells[0]):
                    row_text = f"{cells[0]}: {cells[1]}"
                    add_block(row_text, _Label(cells[0], len(cells[0]) + 2), number, False)
                else:
                    add_block("\t".join(filled), None, number, False)
            continue
        text = block.text
        try:
            style_name = (block.style.name or "") if block.style is not None else ""
        except Exception:  # a style the document does not define
            style_name = ""
        heading = style_name.startswith("Heading") or style_name in ("Title", "Subtitle")
        label = None
        if not heading and text.strip():
            label, _ = _docx_paragraph_label(block, text, extra)
        add_block(text, label, number, heading)

    stored = "\n".join(lines)
    if not stored.strip():
        fail("the document contains no text")
    turns = _turns_from_lines(
        stored, labels, headings=headings, paragraph_starts=paragraph_starts,
        interviewer_labels=interviewer_labels, line_numbers=numbers,
    )
    return stored, turns


# --------------------------------------------------------------------------- entry point


KAZAKH_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")


def detect_language(text: str) -> str:
    """Guess a transcript's language from its script: ``kk``, ``ru`` or ``en``.

    Cyrillic text with Kazakh-specific letters (ә ғ қ ң ө ұ ү һ і) is Kazakh, other
    Cyrillic text Russian, anything else English (the project default for Latin script).

    >>> detect_language("Реформа должна быть системной."), detect_language("Реформа жүйелі болуы керек.")
    ('ru', 'kk')
    >>> detect_language("Reform must be systematic.")
    'en'
    """
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "en"
    cyrillic = [c for c in letters if "\u0400" <= c <= "\u04ff"]
    if len(cyrillic) / len(letters) <= 0.5:
        return "en"
    kazakh = sum(1 for c in cyrillic if c in KAZAKH_LETTERS)
    return "kk" if kazakh / len(cyrillic) >= 0.01 else "ru"


def content_hash(text: str) -> str:
    """SHA-256 of ``text`` after NFC normalisation and trailing-whitespace stripping.

    >>> content_hash("Hi  \\nthere\\n") == content_hash("Hi\\nthere")
    True
    """
    normal = unicodedata.normalize("NFC", text)
    normal = "\n".join(line.rstrip() for line in normal.split("\n")).strip()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def read_transcript(
    path: str | Path,
    *,
    name: str | None = None,
    data: bytes | None = None,
    interviewer_labels: set[str] | None = None,
) -> Transcript:
    """Read one transcript file (or uploaded ``data``) into text and speaker turns.

    Parameters
    ----------
    path
        The file to read; with ``data`` only its name (extension) is used.
    name
        Name to report and store (default: the file name of ``path``).
    data
        The file's bytes, e.g. from an upload; then ``path`` is not opened.
    interviewer_labels
        Speaker labels that are the interviewer, replacing ``INTERVIEWER_LABELS``.

    Raises
    ------
    TranscriptError
        Unknown extension, too large, empty, binary, undecodable, corrupt .docx or
        unreadable captions; the problem names the file (and line where it helps).
    """
    path = Path(path)
    name = name or path.name
    suffix = path.suffix.lower() or Path(name).suffix.lower()
    if suffix not in SUPPORTED_FORMATS:
        shown = f"'{suffix}'" if suffix else "no extension"
        raise TranscriptError(
            f"Cannot read {name}",
            [Problem(f"unsupported file type ({shown}); supported: {', '.join(SUPPORTED_FORMATS)}", file=name)],
        )
    size_limit = f"the file is larger than the {MAX_FILE_BYTES // (1024 * 1024)} MB limit"
    if data is None:
        try:
            size = path.stat().st_size
            if path.is_dir():
                raise IsADirectoryError(str(path))
        except FileNotFoundError:
            raise TranscriptError(f"Cannot read {name}", [Problem("file not found", file=name)]) from None
        except OSError as exc:
            raise TranscriptError(f"Cannot read {name}", [Problem(f"cannot open the file: {exc}", file=name)]) from None
        if size > MAX_FILE_BYTES:
            raise TranscriptError(f"Cannot read {name}", [Problem(f"{size_limit} ({size:,} bytes)", file=name)])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise TranscriptError(f"Cannot read {name}", [Problem(f"cannot open the file: {exc}", file=name)]) from None
    if len(data) > MAX_FILE_BYTES:
        raise TranscriptError(f"Cannot read {name}", [Problem(f"{size_limit} ({len(data):,} bytes)", file=name)])

    fmt = suffix.lstrip(".")
    if fmt == "docx":
        text, turns = _parse_docx(data, file=name, interviewer_labels=interviewer_labels)
        encoding = "utf-8"
    else:
        text, encoding = decode_bytes(data, file=name)
        if fmt in ("vtt", "srt"):
            from coding.captions import parse_captions

            text, turns = parse_captions(text, file=name, kind=fmt, interviewer_labels=interviewer_labels)
        else:
            turns = _parse_plain(text, markdown=fmt == "md", interviewer_labels=interviewer_labels)
    if not turns:
        raise TranscriptError(f"Cannot read {name}", [Problem("the file contains no transcript text", file=name)])
    return Transcript(name=name, text=text, format=fmt, encoding=encoding, turns=turns, sha256=content_hash(text))
