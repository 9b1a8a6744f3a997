"""The transcript of the coding page as one html block, and the chips of one unit.

Each unit is one ``cf-seg`` span holding its number, its text and its chips, so a unit's codes
stay with their sentence. The keyboard component (:mod:`app_pages._keys`) finds units by
``id="cf-seg-<segment id>"`` to move the highlight and redraw one unit's chips without
re-sending the transcript.
"""

from __future__ import annotations

import html

from app_pages import _common as common

CSS = """
<style>
.cf-turn{content-visibility:auto;contain-intrinsic-size:auto 120px}
.cf-respondent .cf-seg{display:block;margin:1px 0}
.cf-seg{padding:1px 2px;border-radius:3px;cursor:pointer}
.cf-seg:hover{background:#f4f6f8}
.cf-chips:not(:empty){margin-left:3px}
.cf-chips .cf-chip{font-size:0.66rem;padding:0 6px}
.cf-marked .cf-num{color:#3d8b5a}
.cf-marked .cf-num::after{content:" ∅";font-weight:400}
.cf-seg.cf-selected{background:#fff3c4}
.cf-keys-row{font-size:0.75rem;color:#8a8f98;margin-top:-6px}
</style>
"""


def chips(codings, coder: str) -> str:
    """The chips of one unit: the coder's solid, others' dashed with their name; full label and memo on hover."""
    return "".join(
        common.chip(c.code, c.label, coder=c.coder, own=c.coder == coder,
                    title=f"{c.code}: {c.label} — {c.coder}" + (f" — memo: {c.memo}" if c.memo else ""))
        for c in codings
    )


def unit_classes(segment_id: int, *, selected: int, read: bool, marked: bool) -> str:
    classes = "cf-seg"
    if segment_id == selected:
        classes += " cf-selected"
    if not read:
        classes += " cf-uncoded"
    if marked:
        classes += " cf-marked"
    return classes


def transcript_html(segments, *, coder: str, selected: int, number: dict[int, int], coded: frozenset[int],
                    marks: dict) -> str:
    """The whole conversation: interviewer turns dimmed, units numbered with their chips inside them."""
    turns: list[list] = []
    for s in segments:
        if turns and turns[-1][0].turn_index == s.turn_index:
            turns[-1].append(s)
        else:
            turns.append([s])
    parts = []
    for turn in turns:
        head = turn[0]
        # text before the first speaker label (title, date, a notice) is context, not respondent talk
        role = head.role if head.role in ("interviewer", "respondent") else "note"
        speaker = html.escape(head.speaker or {"interviewer": "Interviewer", "respondent": "Respondent",
                                               "note": "Context"}[role])
        body = []
        for s in turn:
            text = html.escape(s.text).replace("\n", "<br>")
            if not s.is_unit:
                body.append(f"<span>{text}</span>")
                continue
            classes = unit_classes(s.id, selected=selected, read=s.id in coded or s.id in marks,
                                   marked=s.id in marks)
            body.append(
                f'<span class="{classes}" id="cf-seg-{s.id}" data-id="{s.id}" title="Unit {number[s.id]}: click to '
                f'select"><span class="cf-num">{number[s.id]}</span>{text}'
                f'<span class="cf-chips">{chips(s.codings, coder)}</span></span>'
            )
        parts.append(
            f'<div class="cf-turn cf-{role}"><span class="cf-speaker">{speaker}</span>{" ".join(body)}</div>'
        )
    return "".join(parts)
