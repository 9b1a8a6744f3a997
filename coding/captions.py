"""Caption files (``.vtt``, ``.srt``) as transcript turns: cues, voices and timings.

Consecutive cues of the same speaker are merged into one turn written as ``"Name: text ..."``;
cues without a speaker stay one line (and one turn) each, so their timestamps are kept. Cue tags
(``<v>``, ``<i>``...) are removed. Used by :func:`coding.transcripts.read_transcript`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from coding.errors import Problem, TranscriptError
from coding.transcripts import Turn, _extra_labels, _match_label, classify_role

_CUE_CLOCK = r"(?:\d+:)?\d{1,2}:\d{1,2}(?:[.,]\d{1,3})?"
_TIMING_RE = re.compile(rf"\s*({_CUE_CLOCK})\s*-->\s*({_CUE_CLOCK})(?:\s.*)?")
_VOICE_RE = re.compile(r"<v(?:\.[^\s>]*)?[ \t]+([^>]+)>")
_TAG_RE = re.compile(r"<[^>\n]*>")
_SRT_STYLE_RE = re.compile(r"\{\\[^}]*\}")


@dataclass
class _Cue:
    start: float
    end: float
    line: int
    payload: list[str]


def _cue_seconds(value: str) -> float | None:
    parts = value.replace(",", ".").split(":")
    if len(parts) == 2:
        parts.insert(0, "0")
    hours, minutes, seconds = int(parts[0]), int(parts[1]), float(parts[2])
    if minutes > 59 or seconds >= 60:
        return None
    return hours * 3600 + minutes * 60 + seconds


def _parse_cues(text: str, *, file: str, kind: str) -> list[_Cue]:
    """Cue timings and text lines, with the line numbers of their timing lines."""

    def fail(line: int, message: str) -> None:
        raise TranscriptError(f"Cannot read {file}", [Problem(message, file=file, line=line)])

    lines = text.split("\n")
    if kind == "vtt":
        if not lines[0].startswith("WEBVTT"):
            fail(1, "a WebVTT file must start with the line 'WEBVTT'")
    else:
        first = next((i for i, line in enumerate(lines) if line.strip()), 0)
        if not (lines[first].strip().isdigit() or "-->" in lines[first]):
            fail(first + 1, "this is not a SubRip (.srt) file: expected a cue number or a timing "
                            "line like '00:00:01,000 --> 00:00:04,000'")
    cues: list[_Cue] = []
    index = 1 if kind == "vtt" else 0
    while index < len(lines):
        line = lines[index]
        if "-->" not in line:
            starts_cue = (
                kind == "srt" and line.strip().isdigit()
                and index + 1 < len(lines) and "-->" in lines[index + 1]
            )
            if kind == "srt" and cues and line.strip() and not starts_cue:
                cues[-1].payload.append(line)  # SRT text after a blank line inside a cue
            index += 1
            continue
        match = _TIMING_RE.fullmatch(line)
        if match is None:
            fail(index + 1, f"cannot read the cue timing line {line.strip()[:60]!r} "
                            "(expected 'start --> end', e.g. 00:00:01.000 --> 00:00:04.000)")
        start, end = _cue_seconds(match.group(1)), _cue_seconds(match.group(2))
        if start is None or end is None:
            fail(index + 1, f"invalid time in the cue timing line {line.strip()[:60]!r}")
        cue = _Cue(start, end, index + 1, [])
        index += 1
        while index < len(lines) and lines[index].strip() and "-->" not in lines[index]:
            if (kind == "srt" and lines[index].strip().isdigit()
                    and index + 1 < len(lines) and "-->" in lines[index + 1]):
                break
            cue.payload.append(lines[index])
            index += 1
        cues.append(cue)
    if not cues:
        fail(1, "the file contains no cues (no 'start --> end' timing lines)")
    return cues


def parse_captions(
    text: str, *, file: str, kind: str, interviewer_labels: set[str] | None
) -> tuple[str, list[Turn]]:
    extra = _extra_labels(interviewer_labels)
    pieces: list[tuple[str | None, str, _Cue]] = []
    for cue in _parse_cues(text, file=file, kind=kind):
        raw = " ".join(line.strip() for line in cue.payload if line.strip())
        speaker = None
        voice = _VOICE_RE.search(raw)
        if voice and not _TAG_RE.sub("", raw[: voice.start()]).strip():
            speaker = " ".join(voice.group(1).split()) or None
        clean = html.unescape(_SRT_STYLE_RE.sub("", _TAG_RE.sub("", raw)))
        clean = " ".join(clean.split())
        if speaker is None:
            label = _match_label(clean, extra)
            if label is not None:
                speaker, clean = label.speaker, clean[label.column:].strip()
        if clean:
            pieces.append((speaker, clean, cue))
    if not pieces:
        raise TranscriptError(f"Cannot read {file}",
                              [Problem("the captions contain no text", file=file)])

    out_lines: list[str] = []
    turns: list[Turn] = []
    offset = 0
    index = 0
    while index < len(pieces):
        speaker, content, first = pieces[index]
        last = first
        index += 1
        if speaker is not None:
            parts = [content]
            while index < len(pieces) and pieces[index][0] == speaker:
                parts.append(pieces[index][1])
                last = pieces[index][2]
                index += 1
            content = " ".join(parts)
        prefix = f"{speaker}: " if speaker is not None else ""
        start = offset + len(prefix)
        role = classify_role(speaker, interviewer_labels=interviewer_labels)
        turns.append(Turn(speaker, role, start, start + len(content), first.start, last.end, first.line))
        out_lines.append(prefix + content)
        offset = start + len(content) + 1
    return "\n".join(out_lines), turns
