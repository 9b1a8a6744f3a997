"""The codebook: code frames, codes, their definitions, and a strict YAML loader.

A codebook holds several *frames* (independent code systems such as the OECD PSLC
principles or the reform directions of the seed article). Each frame holds codes,
optionally nested by ``parent``. Code ids are unique across the whole codebook, so
a coding names a code by its id alone.

The loader is strict on purpose: a codebook is the measuring instrument of a study,
so a typo must not silently become a new code. Every problem in a file is collected
(with its line) and reported at once in one :class:`~coding.errors.CodebookError`;
nothing of an invalid codebook is returned.

Pure module: the standard library and coding.paths; the YAML reader is :mod:`coding.codebook_yaml`.

Examples
--------
>>> cb = parse_codebook('''codebook: 1
... title: Demo
... frames:
...   - id: topics
...     label: Topics
...     codes:
...       - id: pay
...         label: Pay
...         definition: Talk about salaries.
...         include: [salary levels]
...         exclude: []
...         examples: [We are paid too little.]
... ''')
>>> [c.id for c in cb.codes("topics")]
['pay']
>>> cb.code("pay").line
7
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coding import limits
from coding.errors import CodebookError, NotFound, Problem
from coding.paths import package_data, repo_root

__all__ = [
    "FORMAT_VERSION",
    "MAX_CODEBOOK_BYTES",
    "Code",
    "Frame",
    "Codebook",
    "CodebookDiff",
    "parse_codebook",
    "load_codebook",
    "default_codebook_path",
    "diff_codebooks",
    "find_codes",
]

#: The ``codebook:`` format version this module reads and writes.
FORMAT_VERSION = 1
#: Larger files are refused before parsing (a codebook is a few hundred kB at most).
MAX_CODEBOOK_BYTES = int(limits.YAML_MAX_BYTES)  # 5 MB unless CODEFRAME_LIMIT_YAML_MAX_BYTES
#: Frame and code ids: lowercase ASCII, digits and underscores, starting with a letter.
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
#: Allowed number of examples per code.
MIN_EXAMPLES, MAX_EXAMPLES = 1, 3

_DATA_FILE = package_data("codebook.yaml")
_REPO_FILE = repo_root() / "codebook.yaml"


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Code:
    """One code: a category a segment of talk can be assigned to.

    ``line`` is where the code starts in its YAML file (1-based), or None.
    """

    id: str
    label: str
    frame: str
    parent: str | None
    definition: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    expected_share: float | None = None  # optional: share of the frame's units expected to carry it (0-1)
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Frame:
    """A code frame: one independent system of codes.

    If ``mutually_exclusive`` is true, a segment may carry at most one code of this
    frame (per coder).
    """

    id: str
    label: str
    description: str
    mutually_exclusive: bool
    codes: tuple[Code, ...]
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Codebook:
    """Frames of codes, with look-ups by id and along the parent hierarchy.

    Build one with :func:`parse_codebook` or :func:`load_codebook`; constructing it
    directly checks only that ids are unique and parents resolve.
    """

    title: str
    frames: tuple[Frame, ...]
    description: str = ""
    source: str | None = field(default=None, compare=False)
    _frames_by_id: dict[str, Frame] = field(init=False, repr=False, compare=False)
    _codes_by_id: dict[str, Code] = field(init=False, repr=False, compare=False)
    _children: dict[str, list[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        frames_by_id: dict[str, Frame] = {}
        codes_by_id: dict[str, Code] = {}
        problems: list[str] = []
        for frame in self.frames:
            if frame.id in frames_by_id:
                problems.append(f"duplicate frame id {frame.id!r}")
            frames_by_id.setdefault(frame.id, frame)
            for code in frame.codes:
                if code.id in codes_by_id:
                    problems.append(f"duplicate code id {code.id!r}")
                if code.frame != frame.id:
                    problems.append(f"code {code.id!r} says frame {code.frame!r} but sits in {frame.id!r}")
                codes_by_id.setdefault(code.id, code)
        children: dict[str, list[str]] = {code_id: [] for code_id in codes_by_id}
        for code in codes_by_id.values():
            if code.parent is None:
                continue
            parent = codes_by_id.get(code.parent)
            if parent is None or parent.frame != code.frame:
                problems.append(f"code {code.id!r} has parent {code.parent!r}, not a code of frame {code.frame!r}")
            else:
                children[code.parent].append(code.id)
        if not problems:
            problems.extend(f"parent cycle: {' -> '.join(cycle)}" for cycle in _parent_cycles(
                {c.id: c.parent for c in codes_by_id.values()}))
        if problems:
            raise CodebookError(
                "invalid codebook", [Problem(p, file=self.source) for p in problems]
            )
        object.__setattr__(self, "_frames_by_id", frames_by_id)
        object.__setattr__(self, "_codes_by_id", codes_by_id)
        object.__setattr__(self, "_children", children)

    # -- look-ups ----------------------------------------------------------

    def frame(self, frame_id: str) -> Frame:
        """The frame with this id; :class:`~coding.errors.NotFound` if there is none."""
        try:
            return self._frames_by_id[frame_id]
        except KeyError:
            known = ", ".join(self._frames_by_id) or "none"
            raise NotFound(
                f"no frame {frame_id!r} in the codebook (frames: {known})",
                [Problem(f"unknown frame {frame_id!r}", file=self.source, field="frame")],
            ) from None

    def code(self, code_id: str) -> Code:
        """The code with this id; :class:`~coding.errors.NotFound` if there is none."""
        try:
            return self._codes_by_id[code_id]
        except KeyError:
            raise NotFound(
                f"no code {code_id!r} in the codebook",
                [Problem(f"unknown code {code_id!r}", file=self.source, field="code")],
            ) from None

    def __contains__(self, code_id: object) -> bool:
        return code_id in self._codes_by_id

    def codes(self, frame: str | None = None) -> list[Code]:
        """All codes in file order, or those of one frame."""
        if frame is not None:
            return list(self.frame(frame).codes)
        return list(self._codes_by_id.values())

    @property
    def code_ids(self) -> tuple[str, ...]:
        """Every code id in file order."""
        return tuple(self._codes_by_id)

    def frame_of(self, code_id: str) -> Frame:
        """The frame a code belongs to."""
        return self._frames_by_id[self.code(code_id).frame]

    def children(self, code_id: str) -> list[str]:
        """Ids of the direct children of a code, in file order."""
        self.code(code_id)
        return list(self._children[code_id])

    def descendants(self, code_id: str) -> set[str]:
        """Ids of all codes below a code (children, grandchildren, ...), not itself."""
        found: set[str] = set()
        stack = self.children(code_id)
        while stack:
            current = stack.pop()
            if current not in found:
                found.add(current)
                stack.extend(self._children[current])
        return found

    def ancestors(self, code_id: str) -> list[str]:
        """Ids of the codes above a code, nearest first (its parent, grandparent, ...)."""
        chain: list[str] = []
        parent = self.code(code_id).parent
        while parent is not None:
            chain.append(parent)
            parent = self._codes_by_id[parent].parent
        return chain

    def prototype_text(self, code_id: str) -> str:
        """The text that stands for a code when embedding: label, definition,
        inclusion criteria and examples, one per line.

        Exclusion criteria are left out on purpose: they name the confusable codes
        and would pull the prototype toward them.
        """
        code = self.code(code_id)
        return "\n".join([code.label, code.definition, *code.include, *code.examples])

    # -- serialisation -----------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain data in the YAML format; ``parse_codebook(yaml.safe_dump(d))`` gives
        an equal codebook back."""
        return {
            "codebook": FORMAT_VERSION,
            "title": self.title,
            "description": self.description,
            "frames": [
                {
                    "id": frame.id,
                    "label": frame.label,
                    "description": frame.description,
                    "mutually_exclusive": frame.mutually_exclusive,
                    "codes": [
                        {
                            "id": code.id,
                            "label": code.label,
                            "parent": code.parent,
                            "definition": code.definition,
                            "include": list(code.include),
                            "exclude": list(code.exclude),
                            "examples": list(code.examples),
                            **({"expected_share": code.expected_share} if code.expected_share is not None else {}),
                        }
                        for code in frame.codes
                    ],
                }
                for frame in self.frames
            ],
        }


def _parent_cycles(parent_of: dict[str, str | None]) -> list[list[str]]:
    """Each cycle in a child -> parent map once, as ``[a, b, ..., a]``, in map order."""
    cycles: list[list[str]] = []
    settled: set[str] = set()
    for start in parent_of:
        path: list[str] = []
        on_path: set[str] = set()
        current: str | None = start
        while current is not None and current not in settled and current in parent_of:
            if current in on_path:
                loop = path[path.index(current):]
                cycles.append([*loop, current])
                break
            path.append(current)
            on_path.add(current)
            current = parent_of[current]
        settled.update(path)
    return cycles


# --------------------------------------------------------------------------- loading


def default_codebook_path() -> Path:
    """The default codebook: the checkout's ``codebook.yaml`` if present (a symbolic link to the
    packaged file, so there is one copy), else the file shipped in the package (``coding/data/codebook.yaml``)."""
    return _REPO_FILE if _REPO_FILE.is_file() else _DATA_FILE


def load_codebook(path: str | Path) -> Codebook:
    """Read and validate a codebook YAML file; see :func:`coding.codebook_yaml.load_codebook`."""
    from coding.codebook_yaml import load_codebook as load

    return load(path)


def parse_codebook(text: str, *, source: str = "<string>") -> Codebook:
    """Parse and validate codebook YAML text; see :func:`coding.codebook_yaml.parse_codebook`."""
    from coding.codebook_yaml import parse_codebook as parse

    return parse(text, source=source)


# --------------------------------------------------------------------------- diff


@dataclass(frozen=True)
class CodebookDiff:
    """What changed between two versions of a codebook, by code id.

    ``removed`` codes are reported so their existing codings can be kept (marked
    inactive) and shown, never silently dropped.
    """

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    relabelled: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    redefined: list[str] = field(default_factory=list)
    frames_added: list[str] = field(default_factory=list)
    frames_removed: list[str] = field(default_factory=list)
    frames_changed: list[str] = field(default_factory=list)
    _old: Codebook | None = field(default=None, repr=False, compare=False)
    _new: Codebook | None = field(default=None, repr=False, compare=False)

    @property
    def is_empty(self) -> bool:
        """True if the two codebooks define the same frames and codes."""
        return not any(
            (self.added, self.removed, self.relabelled, self.moved, self.redefined,
             self.frames_added, self.frames_removed, self.frames_changed)
        )

    def describe(self) -> list[str]:
        """One human-readable line per change."""
        old, new = self._old, self._new
        lines: list[str] = []
        for frame_id in self.frames_added:
            lines.append(f"frame added: {frame_id}")
        for frame_id in self.frames_removed:
            lines.append(f"frame removed: {frame_id}")
        for frame_id in self.frames_changed:
            detail = ""
            if old is not None and new is not None:
                before, after = old.frame(frame_id), new.frame(frame_id)
                if before.mutually_exclusive != after.mutually_exclusive:
                    detail = (" (now mutually exclusive)" if after.mutually_exclusive
                              else " (no longer mutually exclusive)")
            lines.append(f"frame changed: {frame_id}{detail}")
        for code_id in self.added:
            where = f" in frame {new.code(code_id).frame}" if new is not None else ""
            lines.append(f"code added: {code_id}{where}")
        for code_id in self.removed:
            lines.append(f"code removed: {code_id} (its codings are kept and reported, not dropped)")
        for code_id in self.relabelled:
            if old is not None and new is not None:
                lines.append(f"code relabelled: {code_id}: {old.code(code_id).label!r} -> {new.code(code_id).label!r}")
            else:
                lines.append(f"code relabelled: {code_id}")
        for code_id in self.moved:
            if old is not None and new is not None:
                before, after = old.code(code_id), new.code(code_id)
                lines.append(
                    f"code moved: {code_id}: {before.frame}/{before.parent or '-'} -> "
                    f"{after.frame}/{after.parent or '-'}")
            else:
                lines.append(f"code moved: {code_id}")
        for code_id in self.redefined:
            lines.append(f"code redefined: {code_id} (definition, criteria or examples changed)")
        return lines


def diff_codebooks(old: Codebook, new: Codebook) -> CodebookDiff:
    """Compare two codebooks by id.

    ``moved`` means the frame or the parent changed; ``redefined`` means the
    definition, inclusion/exclusion criteria or examples changed; ``frames_changed``
    means a frame's label, description or exclusivity changed.
    """
    old_ids, new_ids = set(old.code_ids), set(new.code_ids)
    both = [code_id for code_id in new.code_ids if code_id in old_ids]
    relabelled, moved, redefined = [], [], []
    for code_id in both:
        before, after = old.code(code_id), new.code(code_id)
        if before.label != after.label:
            relabelled.append(code_id)
        if (before.frame, before.parent) != (after.frame, after.parent):
            moved.append(code_id)
        if (before.definition, before.include, before.exclude, before.examples) != (
            after.definition, after.include, after.exclude, after.examples
        ):
            redefined.append(code_id)
    old_frames = {frame.id: frame for frame in old.frames}
    new_frames = {frame.id: frame for frame in new.frames}
    frames_changed = [
        frame_id for frame_id, frame in new_frames.items()
        if frame_id in old_frames
        and (frame.label, frame.description, frame.mutually_exclusive)
        != (old_frames[frame_id].label, old_frames[frame_id].description, old_frames[frame_id].mutually_exclusive)
    ]
    return CodebookDiff(
        added=[code_id for code_id in new.code_ids if code_id not in old_ids],
        removed=[code_id for code_id in old.code_ids if code_id not in new_ids],
        relabelled=relabelled,
        moved=moved,
        redefined=redefined,
        frames_added=[frame_id for frame_id in new_frames if frame_id not in old_frames],
        frames_removed=[frame_id for frame_id in old_frames if frame_id not in new_frames],
        frames_changed=frames_changed,
        _old=old,
        _new=new,
    )


def find_codes(codebook, query: str = "", *, frames: Iterable[str] | None = None) -> list:
    """Codes of ``codebook`` in the given frames whose id, label or definition hold every word of ``query``.

    Matching is case-insensitive; an empty query keeps every code of the frames (all
    frames when ``frames`` is None). Codebook order is kept.

    >>> cb = Codebook(title="t", frames=(Frame("f", "F", "", False, (
    ...     Code("merit", "Merit-based recruitment", "f", None, "Hiring by competence."),
    ...     Code("pay", "Reward", "f", None, "Salaries and bonuses."))),))
    >>> [c.id for c in find_codes(cb, "hiring")], [c.id for c in find_codes(cb, "")]
    (['merit'], ['merit', 'pay'])
    """
    wanted = None if frames is None else set(frames)
    words = query.casefold().split()
    found = []
    for frame in codebook.frames:
        if wanted is not None and frame.id not in wanted:
            continue
        for code in frame.codes:
            haystack = f"{code.id} {code.label} {code.definition}".casefold()
            if all(word in haystack for word in words):
                found.append(code)
    return found
