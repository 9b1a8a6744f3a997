"""Changes of a codebook made while coding: new ids, pooled examples, what an edit means, the changelog.

Pure module: plain data in, plain data out. The facade (:mod:`coding.service.codebook_edits`)
stores each change as a numbered codebook version; this module words the changelog line,
decides what makes an edit change a code's meaning, fills the gaps a code added in the app
may have before its version is written as ``codebook.yaml`` (which requires a definition and
one to three examples), and counts the changes made after coding began for the methods paragraph.

>>> new_code_key("Lack of trust!", {"lack_of_trust"})
'lack_of_trust_2'
>>> in_vivo_label("  we   simply do not\\ntrust them ")
'we simply do not trust them'
>>> pool_examples(["A", "B"], ["B", "C", "D"])
('A', 'B', 'C')
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from coding.codebook import MAX_EXAMPLES
from coding.refiqda.common import slug_id

#: The kinds of change; each makes a new codebook version.
ACTIONS = ("add", "edit", "move", "merge", "split", "retire", "accept", "undo", "apply")
#: Fields whose change alters what a code means (a relabel or a new example does not).
MEANING_FIELDS = ("definition", "include", "exclude")
#: What a version's YAML says where a code added in the app has no definition or example yet.
NO_DEFINITION = "(no definition yet: added while coding as {label!r})"
NO_EXAMPLE = "(no example yet)"
#: The longest label an in-vivo code takes from the selected words.
MAX_IN_VIVO = 80


def new_code_key(label: str, taken: Iterable[str]) -> str:
    """A codebook id for a new code from its label, not in ``taken`` (a number appended if need be)."""
    taken = set(taken)
    base = slug_id(label, fallback="code")[:50].strip("_") or "code"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}_{number}", number + 1
    return candidate


def in_vivo_label(words: str) -> str:
    """The label of an in-vivo code: the selected words, whitespace collapsed, at most :data:`MAX_IN_VIVO` chars."""
    label = " ".join(str(words).split())
    if len(label) > MAX_IN_VIVO:
        label = label[: MAX_IN_VIVO - 1].rstrip() + "…"
    return label


def pool_examples(target: Iterable[str], source: Iterable[str], limit: int = MAX_EXAMPLES) -> tuple[str, ...]:
    """The examples of a merged code: the target's, then the source's not already there, at most ``limit``
    (the codebook format allows :data:`coding.codebook.MAX_EXAMPLES`)."""
    pooled: list[str] = []
    for example in [*target, *source]:
        if example and example not in pooled:
            pooled.append(example)
    return tuple(pooled[:limit])


def meaning_changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The fields of :data:`MEANING_FIELDS` that differ between two states of a code."""
    def norm(state: Mapping[str, Any], name: str):
        value = state.get(name)
        return (value or "").strip() if name == "definition" else [str(v).strip() for v in value or []]

    return [name for name in MEANING_FIELDS if norm(before, name) != norm(after, name)]


def review_warning(code: str, fields: list[str], other_coders: list[str]) -> str | None:
    """The warning an edit of a code's meaning gives when other coders already applied it, or None."""
    if not fields or not other_coders:
        return None
    return (f"the {', '.join(sorted(fields))} of {code!r} changed after {', '.join(sorted(other_coders))} "
            f"applied it: their earlier codings may need review")


def summary_line(action: str, code: str, **facts: Any) -> str:
    """The changelog line of one change ("what"), e.g. ``merged 'a' into 'b' (3 codings moved)``."""
    if action == "add":
        what = f"added {code!r} to frame {facts.get('frame')!r}"
        return what + (" as a proposal" if facts.get("proposed") else "")
    if action == "edit":
        return f"edited {code!r}: {', '.join(facts.get('fields') or []) or 'nothing'}"
    if action == "move":
        return f"moved {code!r} to frame {facts.get('frame')!r}, parent {facts.get('parent') or '(top level)'}"
    if action == "merge":
        return (f"merged {facts.get('source')!r} into {code!r} ({facts.get('moved', 0)} codings moved, "
                f"{facts.get('dropped', 0)} duplicates dropped)")
    if action == "split":
        return f"split {facts.get('source')!r}: {facts.get('moved', 0)} codings moved to new code {code!r}"
    if action == "retire":
        return f"retired {code!r} (kept with its codings, offered no more)"
    if action == "accept":
        return f"accepted the proposed code {code!r}"
    if action == "undo":
        return f"undid version {facts.get('version')}: {facts.get('what')}"
    raise ValueError(f"unknown codebook change {action!r}; one of {', '.join(ACTIONS)}")


def exportable(codebook: dict[str, Any]) -> dict[str, Any]:
    """A version's codebook (``Codebook.to_dict`` form) that ``codeframe codebook check`` accepts.

    A code added in the app may have no definition or example yet; the YAML format requires both,
    so the gap is filled with a marked placeholder (:data:`NO_DEFINITION`, :data:`NO_EXAMPLE`),
    never with invented content. A frame left without codes is left out (the format needs one).
    """
    data = copy.deepcopy(dict(codebook))
    frames = []
    for frame in data.get("frames", []):
        for code in frame.get("codes", []):
            if not (code.get("definition") or "").strip():
                code["definition"] = NO_DEFINITION.format(label=code.get("label"))
            examples = [e for e in code.get("examples") or [] if str(e).strip()][:MAX_EXAMPLES]
            code["examples"] = examples or [NO_EXAMPLE]
            code["include"] = [e for e in code.get("include") or [] if str(e).strip()]
            code["exclude"] = [e for e in code.get("exclude") or [] if str(e).strip()]
        if frame.get("codes"):
            frames.append(frame)
    data["frames"] = frames
    return data


@dataclass(frozen=True)
class VersionFact:
    """What the methods paragraph and the notes read of one codebook version."""

    number: int
    action: str
    code: str
    summary: str
    at: datetime
    undone: bool = False


def changes_after(versions: Iterable[VersionFact], start: datetime | None) -> dict[str, int]:
    """How many codes were added, merged and split at or after ``start`` (when coding began), undone ones not
    counted; all zero when coding has not begun."""
    counts = {"added": 0, "merged": 0, "split": 0}
    if start is None:
        return counts
    names = {"add": "added", "merge": "merged", "split": "split"}
    for version in versions:
        if version.action in names and not version.undone and _naive(version.at) >= _naive(start):
            counts[names[version.action]] += 1
    return counts


def restructure_note(versions: Iterable[VersionFact], start: datetime | None,
                     codes: Iterable[str] | None = None) -> str | None:
    """A note for agreement and shares tables: which codes were merged or split during coding (after ``start``),
    limited to ``codes`` when given; None when none were."""
    if start is None:
        return None
    wanted = set(codes) if codes is not None else None
    lines = [f"{v.summary} (codebook version {v.number}, {_naive(v.at):%Y-%m-%d})" for v in versions
             if v.action in ("merge", "split") and not v.undone and _naive(v.at) >= _naive(start)
             and (wanted is None or v.code in wanted or any(f"'{c}'" in v.summary for c in wanted))]
    if not lines:
        return None
    return ("Codes were restructured during coding, so earlier codings were re-pointed: " + "; ".join(lines) + ".")


def methods_sentence(version: int | None, counts: Mapping[str, int]) -> str:
    """The methods paragraph's sentence on the codebook version the figures rest on."""
    if version is None:
        return "The figures rest on the codebook as loaded; it was not changed in Codeframe."
    changed = ", ".join(f"{counts.get(k, 0)} {word}" for k, word in
                        (("added", "added"), ("merged", "merged"), ("split", "split")))
    return (f"The figures rest on codebook version {version}; after coding began, codes were changed as follows: "
            f"{changed}.")


def _naive(moment: datetime) -> datetime:
    """Compare stored times whether or not the database kept their time zone (SQLite does not)."""
    return moment if moment.tzinfo is None else moment.astimezone(timezone.utc).replace(tzinfo=None)
