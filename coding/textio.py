"""Decode the bytes of a text file: transcripts, attributes and codings tables.

BOM first (UTF-8, UTF-16, UTF-32), then NUL-byte patterns for UTF-16 without a BOM, then
strict UTF-8, then a Russian letter-frequency test choosing between cp1251, KOI8-R and cp866
(charset-normalizer confuses them on short texts), then charset-normalizer for anything else.
Binary files (images, PDF, zip, old Office) are refused with what they look like.
"""

from __future__ import annotations

import codecs
import math
import re
from typing import Callable

from coding.errors import CodeframeError, Problem, TranscriptError

BINARY_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document (save it as .docx or .txt first)"),
    (b"PK\x03\x04", "a zip archive (a .docx or .xlsx with the wrong extension?)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office file (.doc/.xls); save it as .docx"),
    (b"{\\rtf", "an RTF document; save it as .docx or .txt"),
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Letter frequencies of Russian (per letter), for telling cp1251 from KOI8-R.
_RUSSIAN_FREQUENCY = {
    "о": 0.1097, "е": 0.0845, "а": 0.0801, "и": 0.0735, "н": 0.0670, "т": 0.0626,
    "с": 0.0547, "р": 0.0473, "в": 0.0454, "л": 0.0440, "к": 0.0349, "м": 0.0321,
    "д": 0.0298, "п": 0.0281, "у": 0.0262, "я": 0.0201, "ы": 0.0190, "ь": 0.0174,
    "г": 0.0170, "з": 0.0165, "б": 0.0159, "ч": 0.0144, "й": 0.0121, "х": 0.0097,
    "ж": 0.0094, "ш": 0.0073, "ю": 0.0064, "ц": 0.0048, "щ": 0.0036, "э": 0.0032,
    "ф": 0.0026, "ъ": 0.0004, "ё": 0.0004,
}
# Frequent Russian letter pairs: a wrong code page keeps few of them.
_RUSSIAN_BIGRAMS = frozenset(
    "ст но то на ен ов ни ра во ко ро ал ре ли ер пр ор от по ет ос ть го ка ри ан не ла ел ва "
    "ле ол ат ит ин ны ом ес ог ев де та ил ак ое ло ой ам ем за ма ме об од ск мо ди ед ие да "
    "ти се ки че ви ым ия ся ых ми тв из ег ве ля ую ши ку ду ру ту бо бы бе ги ей ий ам аз ас "
    "ар ав ач ая ем ен ер ет ец ею ив ик им ир ис их ич ню ок он оп ос ох оч ра ре ро ру ры сл "
    "см со сп су та те ти то тр ту тс ть уд уж ул ум ус ут ущ че чи чн чт шн щи ые ый ью ют ят".split()
)
_LEGACY_CYRILLIC = ("cp1251", "koi8_r", "cp866")
_SCORE_SAMPLE_BYTES = 256 * 1024
_ENCODING_NAMES = {"cp1251": "cp1251", "koi8_r": "koi8-r", "cp866": "cp866"}
_CONTROL_CHARS = re.compile(r"[\x01-\x08\x0e-\x1f\x7f]")


def decode_bytes(
    data: bytes, *, file: str | None = None, error: type[CodeframeError] = TranscriptError
) -> tuple[str, str]:
    """Decode a text file's bytes; return ``(text, encoding)``.

    The text has its BOM removed and newlines normalised to ``"\\n"``. Raises ``error``
    (naming ``file``) for empty, whitespace-only, binary or undecodable data.

    >>> decode_bytes("Привет, мир".encode("koi8_r"), file="a.txt")
    ('Привет, мир', 'koi8-r')
    >>> decode_bytes(b"\\xef\\xbb\\xbfHi\\r\\nthere")
    ('Hi\\nthere', 'utf-8-sig')
    """
    label = file or "the file"

    def fail(message: str) -> None:
        raise error(f"Cannot read {label}", [Problem(message, file=file)])

    if not data:
        fail("the file is empty (0 bytes)")
    for signature, kind in BINARY_SIGNATURES:
        if data.startswith(signature):
            fail(f"this is {kind}, not a text file")
    text, encoding = _decode(data, fail)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        fail("the file contains NUL characters: it is a binary file, not text")
    controls = len(_CONTROL_CHARS.findall(text))
    if controls > max(2, len(text) // 100):
        fail(f"the file contains {controls} control characters: it is a binary file, not text")
    if not text.strip():
        fail("the file contains only whitespace")
    return text, encoding


def _decode(data: bytes, fail: Callable[[str], None]) -> tuple[str, str]:
    """Pick the encoding: BOM, UTF-16 by NUL pattern, UTF-8, Russian legacy, charset-normalizer."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding.removesuffix("-sig")), encoding
            except UnicodeDecodeError as exc:
                fail(f"starts with a {encoding} byte-order mark but byte {exc.start + len(bom)} "
                     f"is not valid {encoding}")
    if b"\x00" in data:
        encoding = _utf16_by_nul_pattern(data)
        if encoding:
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                pass
        fail("the file contains NUL bytes: it is a binary file, not text")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        why = _broken_utf8(data, exc)
        if why:
            fail(f"invalid UTF-8 at byte offset {exc.start} ({data[exc.start:exc.start + 4]!r}: {why}); "
                 "save the file as UTF-8")
    legacy = _guess_legacy_cyrillic(data)
    if legacy is not None:
        return legacy
    import charset_normalizer  # lazy: only for files that are neither UTF nor Russian

    match = charset_normalizer.from_bytes(data).best()
    if match is None:
        fail("the text is not UTF-8 and its encoding could not be recognised; save it as UTF-8")
    return str(match), match.encoding


def _broken_utf8(data: bytes, exc: UnicodeDecodeError) -> str | None:
    """Why ``data`` is UTF-8 gone wrong rather than a legacy encoding, or None.

    An encoded UTF-16 surrogate (``ED A0..BF ..``) is never valid text in any encoding we guess; and a
    file whose text before the bad byte already holds non-ASCII UTF-8 was meant to be UTF-8.

    >>> _broken_utf8(b"ab\\xed\\xa0\\x80", UnicodeDecodeError("utf-8", b"ab\\xed\\xa0\\x80", 2, 3, "x"))
    'a lone surrogate (U+D800-U+DFFF) encoded as UTF-8'
    """
    start = exc.start
    if data[start] == 0xED and start + 1 < len(data) and 0xA0 <= data[start + 1] <= 0xBF:
        return "a lone surrogate (U+D800-U+DFFF) encoded as UTF-8"
    if not data[:start].isascii():
        try:
            data[:start].decode("utf-8")
        except UnicodeDecodeError:
            return None
        return "the text before it is UTF-8"
    return None


def _utf16_by_nul_pattern(data: bytes) -> str | None:
    """UTF-16 without BOM: NUL high bytes (ASCII characters) all fall on one parity."""
    if len(data) < 2 or len(data) % 2:
        return None
    pairs = len(data) // 2
    nul_even = data[0::2].count(0)
    nul_odd = data[1::2].count(0)
    if nul_odd >= 0.05 * pairs and nul_even <= 0.01 * pairs:
        return "utf-16-le"
    if nul_even >= 0.05 * pairs and nul_odd <= 0.01 * pairs:
        return "utf-16-be"
    return None


def _guess_legacy_cyrillic(data: bytes) -> tuple[str, str] | None:
    """Choose cp1251, KOI8-R or cp866 by how Russian the decoded letters look.

    Wrong choices swap letter case and scramble letters, so the right one has the most
    frequent Russian letters, mostly lowercase letters and no ``аБв`` case breaks inside
    words. Returns None when no candidate looks like Cyrillic text.
    """
    sample = data[:_SCORE_SAMPLE_BYTES]  # single-byte code pages: any cut is safe
    best: tuple[float, str] | None = None
    for encoding in _LEGACY_CYRILLIC:
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        score = _cyrillic_score(text)
        if score is not None and (best is None or score > best[0]):
            best = (score, encoding)
    if best is None:
        return None
    try:
        return data.decode(best[1]), _ENCODING_NAMES[best[1]]
    except UnicodeDecodeError:  # an undefined byte after the sample
        return None


_CYRILLIC_LETTER = re.compile(r"[а-яёА-ЯЁ]")
_CASE_BREAK = re.compile(r"[а-яё][А-ЯЁ]")
_WORD = re.compile(r"[^\W\d_]+")


def _cyrillic_score(text: str) -> float | None:
    """Plausibility of ``text`` as Russian; None when it is not plausibly Cyrillic at all."""
    letters = _CYRILLIC_LETTER.findall(text)
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    if not letters or len(letters) < 0.7 * non_ascii:
        return None
    cyrillic_words = mixed_words = 0
    for word in _WORD.findall(text):
        if _CYRILLIC_LETTER.search(word):
            cyrillic_words += 1
            if re.search(r"[A-Za-z]", word):
                mixed_words += 1
    if mixed_words > 0.2 * cyrillic_words:
        return None
    n = len(letters)
    lower = sum(1 for ch in letters if ch.islower()) / n
    frequency = sum(math.log(_RUSSIAN_FREQUENCY.get(ch.lower(), 1e-4)) for ch in letters) / n
    case_breaks = len(_CASE_BREAK.findall(text)) / n
    pairs = common = 0
    for word in _WORD.findall(text.lower()):
        for a, b in zip(word, word[1:]):
            pairs += 1
            common += a + b in _RUSSIAN_BIGRAMS
    bigrams = common / pairs if pairs else 0.0
    return frequency + 3.0 * bigrams + 0.3 * lower - 20.0 * case_breaks


def check_storable(text: str | None, what: str) -> None:
    """Refuse text no database stores: a NUL character, or a lone surrogate (half of an emoji, from a
    broken copy and paste). Raises a CodeframeError naming ``what`` and the position; nothing is saved."""
    if not text:
        return
    for position, char in enumerate(text):
        if char == "\x00" or "\ud800" <= char <= "\udfff":
            kind = "a NUL character" if char == "\x00" else f"a broken character (lone surrogate U+{ord(char):04X})"
            raise CodeframeError(f"the {what} contains {kind} at position {position + 1}; remove it and save again "
                                 "(nothing was saved)", [Problem(kind, field=what)])
