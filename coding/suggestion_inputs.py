"""What the suggestion model learns from: the texts of each code (its prototype parts, embedded
separately) and the labelled examples of a project's codings. Pure; used by :mod:`coding.suggestions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Collection, Hashable, Mapping, Sequence

import numpy as np

PART_KINDS = ("label", "definition", "include", "example")


def _unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


# --------------------------------------------------------------------------- prototype texts


@dataclass(frozen=True)
class PrototypePart:
    """One embeddable piece of a code's definition."""

    kind: str  # label | definition | include | example
    text: str


@dataclass(frozen=True)
class CodeTexts:
    """What stands for a code when embedding: its parts and its exclusion criteria."""

    code: str
    parts: tuple[PrototypePart, ...]
    exclusions: tuple[str, ...] = ()


def code_texts(code: Any) -> CodeTexts:
    """The :class:`CodeTexts` of one codebook code (anything with ``id``, ``label``,
    ``definition``, ``include``, ``exclude`` and ``examples``); empty texts are left out.

    >>> from types import SimpleNamespace as C
    >>> t = code_texts(C(id="x", label="Trust", definition="", include=["Faith in others"],
    ...                  exclude=["Distrust"], examples=[]))
    >>> [(p.kind, p.text) for p in t.parts], t.exclusions
    ([('label', 'Trust'), ('include', 'Faith in others')], ('Distrust',))
    """
    parts = [PrototypePart("label", code.label), PrototypePart("definition", code.definition)]
    parts += [PrototypePart("include", text) for text in code.include]
    parts += [PrototypePart("example", text) for text in code.examples]
    parts = [p for p in parts if p.text and p.text.strip()]
    if not parts:
        raise ValueError(f"code {code.id!r} has no label, definition, inclusion criterion or example to embed")
    exclusions = tuple(t for t in code.exclude if t and t.strip())
    return CodeTexts(code.id, tuple(parts), exclusions)


def code_prototype_texts(codebook: Any, frame: str) -> dict[str, CodeTexts]:
    """:class:`CodeTexts` of every code of ``frame``, in codebook order."""
    return {code.id: code_texts(code) for code in codebook.codes(frame)}


@dataclass(frozen=True)
class PartsEmbeddings:
    """Embeddings of a code's parts (rows match ``kinds``/``texts``) and of its exclusions."""

    parts: np.ndarray
    kinds: tuple[str, ...]
    texts: tuple[str, ...]
    exclusions: np.ndarray
    exclusion_texts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.exclusion_texts and len(self.exclusion_texts) != self.exclusions.shape[0]:
            raise ValueError("exclusions and exclusion_texts must have the same length")
        if self.parts.ndim != 2 or self.parts.shape[0] == 0:
            raise ValueError("a code needs at least one embedded part")
        if not (self.parts.shape[0] == len(self.kinds) == len(self.texts)):
            raise ValueError("parts, kinds and texts must have the same length")
        if self.exclusions.ndim != 2 or self.exclusions.shape[1] != self.parts.shape[1]:
            raise ValueError("exclusion embeddings must be a 2-d array as wide as the part embeddings")


def embed_code_texts(
    texts: Mapping[str, CodeTexts], encode: Callable[[list[str]], np.ndarray]
) -> dict[str, PartsEmbeddings]:
    """Embed every part and exclusion with one call to ``encode`` (e.g. a cached embedder)."""
    flat: list[str] = []
    for t in texts.values():
        flat += [p.text for p in t.parts] + list(t.exclusions)
    vectors = _unit_rows(np.asarray(encode(flat), dtype=np.float32)) if flat else np.zeros((0, 0), np.float32)
    if vectors.shape[0] != len(flat):
        raise ValueError(f"encode returned {vectors.shape[0]} rows for {len(flat)} texts")
    out: dict[str, PartsEmbeddings] = {}
    row = 0
    for code, t in texts.items():
        n_parts, n_excl = len(t.parts), len(t.exclusions)
        out[code] = PartsEmbeddings(
            parts=vectors[row:row + n_parts],
            kinds=tuple(p.kind for p in t.parts),
            texts=tuple(p.text for p in t.parts),
            exclusions=vectors[row + n_parts:row + n_parts + n_excl].reshape(n_excl, vectors.shape[1]),
            exclusion_texts=tuple(t.exclusions),
        )
        row += n_parts + n_excl
    return out


# --------------------------------------------------------------------------- examples


@dataclass
class LabeledExamples:
    """The project's codings of one frame, as training data.

    ``positive[i]``: codes applied to segment ``i`` (hand codings, accepted
    suggestions, adjudications). ``negative[i]``: codes explicitly rejected for it
    (rejected suggestions). ``reviewed[i]``: the coder went through the segment for
    this frame, so every code not applied is a negative; by default a segment
    counts as reviewed when it carries a code of the frame. A code both applied and
    rejected counts as applied. Codes of other frames are ignored. ``groups[i]``: the
    respondent of segment ``i``, so learning is cross-validated by respondent (default:
    every segment its own group). ``covered[i]``: the segment lies in a document the coder went
    through completely for this frame, so its codings say how common each code is (base rates);
    None: unknown, the base rates come from the codebook.
    """

    segment_ids: Sequence[Hashable]
    embeddings: np.ndarray
    positive: Sequence[Collection[str]]
    negative: Sequence[Collection[str]] | None = None
    reviewed: Sequence[bool] | None = None
    groups: Sequence[Hashable] | None = None
    covered: Sequence[bool] | None = None

    def __post_init__(self) -> None:
        n = len(self.segment_ids)
        self.embeddings = np.asarray(self.embeddings, dtype=np.float32)
        if self.embeddings.ndim != 2 or self.embeddings.shape[0] != n:
            raise ValueError(f"embeddings must have one row per segment ({n}), got shape {self.embeddings.shape}")
        if len(self.positive) != n:
            raise ValueError(f"positive must have one entry per segment ({n}), got {len(self.positive)}")
        if self.negative is not None and len(self.negative) != n:
            raise ValueError(f"negative must have one entry per segment ({n}), got {len(self.negative)}")
        if self.reviewed is not None and len(self.reviewed) != n:
            raise ValueError(f"reviewed must have one entry per segment ({n}), got {len(self.reviewed)}")
        if self.groups is not None and len(self.groups) != n:
            raise ValueError(f"groups must have one entry per segment ({n}), got {len(self.groups)}")
        if self.covered is not None and len(self.covered) != n:
            raise ValueError(f"covered must have one entry per segment ({n}), got {len(self.covered)}")

    def __len__(self) -> int:
        return len(self.segment_ids)

    def label_matrix(self, codes: Sequence[str], *, exclusive: bool) -> np.ndarray:
        """``len(self) × len(codes)`` int8 matrix: 1 applied, 0 not applied, -1 unknown.

        >>> ex = LabeledExamples(["s1", "s2", "s3"], np.eye(3), [{"a"}, set(), set()], [set(), {"b"}, set()])
        >>> ex.label_matrix(["a", "b"], exclusive=False).tolist()
        [[1, 0], [-1, 0], [-1, -1]]
        """
        index = {c: j for j, c in enumerate(codes)}
        labels = np.full((len(self), len(codes)), -1, dtype=np.int8)
        for i in range(len(self)):
            applied = [index[c] for c in self.positive[i] if c in index]
            reviewed = bool(applied) if self.reviewed is None else bool(self.reviewed[i])
            if reviewed or (exclusive and applied):
                labels[i, :] = 0
            if self.negative is not None:
                labels[i, [index[c] for c in self.negative[i] if c in index]] = 0
            labels[i, applied] = 1
        return labels
