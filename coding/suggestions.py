"""Code suggestions from embeddings: zero-shot from the codebook, few-shot from the project's codings.

Pure: it takes embeddings (float32, L2-normalised rows) and gives scores,
thresholds and suggestions back; it never loads a model or touches the database.

* **Zero-shot.** Each code is represented by the separately embedded *parts* of
  its definition (label, definition, each inclusion criterion, each example). A
  segment's raw score for a code is its cosine similarity to those parts (the
  maximum by default, see :class:`SuggestionModel`), minus a penalty when the
  segment is closer to one of the code's exclusion criteria than to the code
  (``exclusion_weight``; off by default, see :class:`SuggestionModel`).
  Raw cosines are not comparable across codes or models, so each code's score is
  standardised against the project's own segments (``background``) and mapped to
  ``(0, 1)``: a segment ``k`` standard deviations above the code's mean sits at 0.5.
* **Few-shot.** Once a code has coded examples and negatives, a class-balanced
  linear classifier on the embeddings (ridge regression on 0/1 targets, solved in
  closed form so that it retrains in milliseconds after every accept, with exact
  leave-one-out scores for free) is blended in, with a weight that grows with the
  number of examples.
* **Calibration.** Every code has a threshold (0.5 by default, tuned by F1 on
  leave-one-out scores once there are enough examples). Below it the model abstains.
  A mutually exclusive frame gives at most one suggestion per segment.
* **Evidence.** A suggestion says which part of the definition it matched and
  which already-coded passages it is nearest to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Collection, Hashable, Mapping, Sequence

import numpy as np

PART_KINDS = ("label", "definition", "include", "example")
AGGREGATES = ("max", "mean", "max+mean")


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
    rejected counts as applied. Codes of other frames are ignored.
    """

    segment_ids: Sequence[Hashable]
    embeddings: np.ndarray
    positive: Sequence[Collection[str]]
    negative: Sequence[Collection[str]] | None = None
    reviewed: Sequence[bool] | None = None

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


# --------------------------------------------------------------------------- suggestions


@dataclass(frozen=True)
class MatchedPart:
    """The part of a code's definition a segment is most similar to."""

    kind: str
    text: str
    similarity: float


@dataclass(frozen=True)
class Neighbour:
    """An already-coded passage near the segment."""

    segment_id: Hashable
    similarity: float


@dataclass(frozen=True)
class Evidence:
    """Why a code was suggested."""

    matched_part: MatchedPart
    neighbours: tuple[Neighbour, ...] = ()
    exclusion: MatchedPart | None = None  # the exclusion criterion that lowered the score, if any


@dataclass(frozen=True)
class Suggestion:
    """A code suggested for a segment, with its calibrated score and the code's threshold."""

    segment_id: Hashable
    code: str
    score: float
    threshold: float
    evidence: Evidence


@dataclass
class _CodeModel:
    parts: PartsEmbeddings
    center: float = 0.0  # zero-shot raw score that maps to 0.5
    scale: float = 1.0
    classifier: Any = None
    blend: float = 0.0  # weight of the classifier in the score
    threshold: float = 0.5
    threshold_source: str = "default"
    n_positive: int = 0
    n_negative: int = 0


def _unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


def best_f1_threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """The threshold (midway between neighbouring scores) that maximises F1, and that F1.

    >>> best_f1_threshold(np.array([0.9, 0.8, 0.4, 0.3]), np.array([1, 1, 0, 0]))
    (0.6, 1.0)
    """
    scores = np.asarray(scores, dtype=float)
    labels = np.asarray(labels).astype(bool)
    if labels.sum() == 0 or labels.sum() == len(labels):
        raise ValueError("F1 tuning needs both positive and negative examples")
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    tp = np.cumsum(y)
    fp = np.cumsum(~y)
    fn = y.sum() - tp
    f1 = 2 * tp / (2 * tp + fp + fn)
    # a cut is only possible between distinct scores
    cut_ok = np.append(s[:-1] > s[1:], True)
    f1 = np.where(cut_ok, f1, -1.0)
    best = int(np.argmax(f1))
    lower = s[best + 1] if best + 1 < len(s) else s[best] - 0.1
    return round(float((s[best] + lower) / 2), 12), float(f1[best])


@dataclass(frozen=True)
class RidgeScorer:
    """A fitted linear scorer: ``predict(x)`` is ``x @ weights + bias`` clipped to [0, 1].

    ``weights`` of shape ``(d,)`` with a float ``bias`` scores one code; ``(d, k)`` with ``k``
    biases scores ``k`` codes at once (columns of the result).
    """

    weights: np.ndarray
    bias: float | np.ndarray

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.clip(np.asarray(x, dtype=np.float64) @ self.weights + self.bias, 0.0, 1.0)


def fit_balanced_ridge(x: np.ndarray, y: np.ndarray, *, alpha: float = 1.0) -> tuple[RidgeScorer, np.ndarray]:
    """Class-balanced ridge regression of 0/1 labels on embeddings, and its leave-one-out scores.

    Each class gets half the total weight, so a rare code is not swamped by its
    negatives. The closed form needs one ``d × d`` solve, and the hat-matrix
    identity gives each example's exact leave-one-out prediction, so thresholds
    can be tuned without refitting.

    >>> x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    >>> scorer, loo = fit_balanced_ridge(x, np.array([1, 1, 0, 0]), alpha=0.1)
    >>> scorer.predict(np.array([[1.0, 0.0], [0.0, 1.0]])).round(2).tolist(), bool(loo[0] > loo[2])
    ([1.0, 0.0], True)
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if alpha <= 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    n_pos, n_neg = (y == 1).sum(), (y == 0).sum()
    if n_pos == 0 or n_neg == 0 or n_pos + n_neg != len(y):
        raise ValueError("ridge needs 0/1 labels with both classes present")
    weight = np.where(y == 1, len(y) / (2 * n_pos), len(y) / (2 * n_neg))
    xa = np.hstack([x, np.ones((len(x), 1))])
    penalty = np.full(xa.shape[1], alpha)
    penalty[-1] = 1e-6 * alpha  # the intercept is (almost) not shrunk
    gram = xa.T @ (xa * weight[:, None]) + np.diag(penalty)
    inverse = np.linalg.inv(gram)
    beta = inverse @ (xa.T @ (weight * y))
    fitted = xa @ beta
    leverage = weight * ((xa @ inverse) * xa).sum(axis=1)
    loo = y - (y - fitted) / np.maximum(1.0 - leverage, 1e-9)
    return RidgeScorer(beta[:-1], float(beta[-1])), np.clip(loo, 0.0, 1.0)


class SuggestionModel:
    """Scores segments against the codes of one frame and turns scores into suggestions.

    Parameters
    ----------
    aggregate
        How part similarities combine into a code score: ``"max"`` (the best
        matching part), ``"mean"`` (all parts equally) or ``"max+mean"`` (their
        average). ``"mean"`` ranked best on the sample corpus with both measured
        models (see models/README.md).
    exclusion_weight
        How much of the excess of exclusion similarity over the best part similarity
        is subtracted from the raw score. Off by default: on the sample corpus every
        weight tried (0.5, 1) lowered top-1 accuracy, because exclusion criteria
        written as "Do not confuse with X: ..." describe the confusable code.
    zero_shot_k
        A segment this many standard deviations above a code's mean background
        score gets zero-shot score 0.5, the default threshold.
    raw_threshold
        Without background segments: the raw cosine that maps to 0.5 (model
        dependent; 0.35 suits all-MiniLM-L6-v2).
    blend_half
        Number of positive examples at which the classifier gets half the weight.
    min_positive, min_negative
        Examples a code needs before a classifier is trained for it.
    min_tuning
        Positives and negatives a code needs before its threshold is tuned by F1.
    threshold_prior
        Pseudo-count pulling a tuned threshold toward the default 0.5.
    ridge_alpha
        L2 penalty of the few-shot classifier (see :func:`fit_balanced_ridge`).
    neighbours
        Coded passages given as evidence per suggestion.
    """

    def __init__(
        self,
        *,
        aggregate: str = "mean",
        exclusion_weight: float = 0.0,
        zero_shot_k: float = 1.5,
        raw_threshold: float = 0.35,
        blend_half: float = 8.0,
        max_blend: float = 0.85,
        min_positive: int = 3,
        min_negative: int = 3,
        min_tuning: int = 5,
        threshold_prior: float = 5.0,
        ridge_alpha: float = 1.0,
        neighbours: int = 3,
        random_state: int = 0,
    ) -> None:
        if aggregate not in AGGREGATES:
            raise ValueError(f"aggregate must be one of {AGGREGATES}, got {aggregate!r}")
        if exclusion_weight < 0:
            raise ValueError("exclusion_weight must be >= 0")
        if blend_half <= 0 or not 0 <= max_blend <= 1:
            raise ValueError("blend_half must be > 0 and max_blend within [0, 1]")
        if min_positive < 1 or min_negative < 1:
            raise ValueError("min_positive and min_negative must be >= 1")
        self.aggregate = aggregate
        self.exclusion_weight = exclusion_weight
        self.zero_shot_k = zero_shot_k
        self.raw_threshold = raw_threshold
        self.blend_half = blend_half
        self.max_blend = max_blend
        self.min_positive = min_positive
        self.min_negative = min_negative
        self.min_tuning = max(min_tuning, 2)
        self.threshold_prior = threshold_prior
        self.ridge_alpha = ridge_alpha
        self.n_neighbours = neighbours
        self.random_state = random_state
        self.codes: list[str] = []
        self.exclusive = False
        self._models: list[_CodeModel] = []
        self._examples: LabeledExamples | None = None
        self._labels: np.ndarray | None = None
        self._dim: int | None = None

    # -- fitting -----------------------------------------------------------

    def fit(
        self,
        codebook: Any,
        frame: str,
        code_embeddings: Mapping[str, PartsEmbeddings],
        examples: LabeledExamples | None = None,
        *,
        background: np.ndarray | None = None,
    ) -> "SuggestionModel":
        """Fit to the codes of ``frame`` of ``codebook`` (see :meth:`fit_codes`)."""
        codes = [code.id for code in codebook.codes(frame)]
        exclusive = bool(codebook.frame(frame).mutually_exclusive)
        return self.fit_codes(codes, code_embeddings, exclusive=exclusive, examples=examples, background=background)

    def fit_codes(
        self,
        codes: Sequence[str],
        code_embeddings: Mapping[str, PartsEmbeddings],
        *,
        exclusive: bool,
        examples: LabeledExamples | None = None,
        background: np.ndarray | None = None,
    ) -> "SuggestionModel":
        """Fit to ``codes`` given their part embeddings.

        ``background``: embeddings of the project's segments (coded or not), used to
        standardise the zero-shot scores; at least 20 rows, else ``raw_threshold`` is used.
        ``examples``: the project's codings of this frame, for the few-shot part.
        """
        codes = list(codes)
        if not codes:
            raise ValueError("a frame needs at least one code to suggest")
        missing = [c for c in codes if c not in code_embeddings]
        if missing:
            raise ValueError(f"no embeddings for codes: {', '.join(missing)}")
        dims = {code_embeddings[c].parts.shape[1] for c in codes}
        if len(dims) != 1:
            raise ValueError(f"code embeddings have different widths: {sorted(dims)}")
        self._dim = dims.pop()
        self.codes = codes
        self.exclusive = exclusive
        self._models = [_CodeModel(parts=code_embeddings[c]) for c in codes]
        self._stack_parts()
        self._calibrate_zero_shot(background)
        self._examples = examples
        self._labels = None
        if examples is not None and len(examples):
            self._check_width(examples.embeddings)
            self._labels = examples.label_matrix(codes, exclusive=exclusive)
            self._fit_few_shot(examples.embeddings, self._labels)
        self._stack_classifiers()
        return self

    def _check_width(self, x: np.ndarray) -> np.ndarray:
        if self._dim is None:
            raise ValueError("the model is not fitted yet")
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self._dim:
            raise ValueError(f"expected segment embeddings of shape (n, {self._dim}), got {x.shape}")
        return x

    def _calibrate_zero_shot(self, background: np.ndarray | None) -> None:
        if background is not None and len(background) >= 20:
            raw = self.raw_scores(self._check_width(background))
            mean, sd = raw.mean(axis=0), raw.std(axis=0)
            for j, m in enumerate(self._models):
                m.scale = float(max(sd[j], 1e-3))
                m.center = float(mean[j] + self.zero_shot_k * m.scale)
        else:
            for m in self._models:
                m.center, m.scale = self.raw_threshold, 0.05
        self._center = np.array([m.center for m in self._models], dtype=np.float32)
        self._scale = np.array([m.scale for m in self._models], dtype=np.float32)

    def _fit_few_shot(self, x: np.ndarray, labels: np.ndarray) -> None:
        for j, m in enumerate(self._models):
            known = labels[:, j] >= 0
            y = labels[known, j]
            m.n_positive, m.n_negative = int((y == 1).sum()), int((y == 0).sum())
            if m.n_positive < self.min_positive or m.n_negative < self.min_negative:
                continue
            xj = x[known]
            m.classifier, loo = fit_balanced_ridge(xj, y, alpha=self.ridge_alpha)
            m.blend = min(self.max_blend, m.n_positive / (m.n_positive + self.blend_half))
            if m.n_positive >= self.min_tuning and m.n_negative >= self.min_tuning:
                oof = (1 - m.blend) * self._zero_shot_prob(xj)[:, j] + m.blend * loo
                tuned, _ = best_f1_threshold(oof, y)
                w = m.n_positive + m.n_negative
                m.threshold = float((w * tuned + self.threshold_prior * 0.5) / (w + self.threshold_prior))
                m.threshold_source = "f1"

    # -- scoring -----------------------------------------------------------

    def _stack_parts(self) -> None:
        """Stack every code's parts into matrices once, so scoring is a few GEMMs, not one per code.

        ``_part_matrix`` holds all parts (rows of code ``j`` start at ``_part_offsets[j]``);
        ``_mean_parts`` each code's mean part, so the "mean" score is one ``x @ M.T``
        (the mean of the cosines equals the cosine with the mean of the unit parts).
        """
        parts = [m.parts.parts.astype(np.float32) for m in self._models]
        self._part_matrix = np.ascontiguousarray(np.vstack(parts))
        self._part_offsets = np.cumsum([0] + [len(p) for p in parts[:-1]])
        self._mean_parts = np.ascontiguousarray(np.vstack([p.mean(axis=0) for p in parts]))
        excluded = [j for j, m in enumerate(self._models) if len(m.parts.exclusions)]
        self._excluded_codes = np.array(excluded, dtype=np.intp)
        self._exclusion_matrix = (np.vstack([self._models[j].parts.exclusions for j in excluded]).astype(np.float32)
                                  if excluded else np.zeros((0, self._part_matrix.shape[1]), np.float32))
        self._exclusion_offsets = np.cumsum([0] + [len(self._models[j].parts.exclusions) for j in excluded[:-1]])

    def _stack_classifiers(self) -> None:
        """The few-shot classifiers as one :class:`RidgeScorer` with a weight column per code, so
        they score all their codes in one GEMM."""
        classified = [j for j, m in enumerate(self._models) if m.classifier is not None]
        self._classified_codes = np.array(classified, dtype=np.intp)
        self._classifiers = RidgeScorer(
            np.column_stack([self._models[j].classifier.weights for j in classified]),
            np.array([self._models[j].classifier.bias for j in classified]),
        ) if classified else None
        self._classifier_blend = np.array([self._models[j].blend for j in classified])

    def _max_part_similarity(self, x: np.ndarray) -> np.ndarray:
        return np.maximum.reduceat(x @ self._part_matrix.T, self._part_offsets, axis=1)

    def raw_scores(self, segment_embeddings: np.ndarray) -> np.ndarray:
        """Uncalibrated zero-shot scores (``n_segments × n_codes``): cosine to the code's
        parts, minus the exclusion penalty."""
        x = self._check_width(segment_embeddings)
        penalised = bool(self.exclusion_weight and len(self._excluded_codes))
        best = self._max_part_similarity(x) if self.aggregate != "mean" or penalised else None
        if self.aggregate == "mean":
            out = x @ self._mean_parts.T
        elif self.aggregate == "max":
            out = best.copy()
        else:
            out = 0.5 * (best + x @ self._mean_parts.T)
        out = np.asarray(out, dtype=np.float32)
        if penalised:
            excl = np.maximum.reduceat(x @ self._exclusion_matrix.T, self._exclusion_offsets, axis=1)
            out[:, self._excluded_codes] -= self.exclusion_weight * np.maximum(
                0.0, excl - best[:, self._excluded_codes])
        return out

    def _zero_shot_prob(self, x: np.ndarray) -> np.ndarray:
        return _sigmoid((self.raw_scores(x) - self._center) / self._scale)

    def score(self, segment_embeddings: np.ndarray) -> np.ndarray:
        """Calibrated scores in (0, 1), ``n_segments × n_codes`` (columns follow :attr:`codes`)."""
        x = self._check_width(segment_embeddings)
        scores = self._zero_shot_prob(x).astype(float)
        if self._classifiers is not None:
            j = self._classified_codes
            blend = self._classifier_blend
            scores[:, j] = (1 - blend) * scores[:, j] + blend * self._classifiers.predict(x)
        return scores

    @property
    def thresholds(self) -> np.ndarray:
        """Each code's threshold; a score below it means the model abstains for that code."""
        return np.array([m.threshold for m in self._models])

    def describe(self) -> list[dict[str, Any]]:
        """Per code: threshold and where it came from, examples seen, classifier weight."""
        return [
            {"code": c, "threshold": m.threshold, "threshold_source": m.threshold_source,
             "positives": m.n_positive, "negatives": m.n_negative, "classifier_weight": m.blend}
            for c, m in zip(self.codes, self._models)
        ]

    def suggest(
        self, segment_ids: Sequence[Hashable], segment_embeddings: np.ndarray, *, top_k: int = 3
    ) -> list[Suggestion]:
        """Suggestions above threshold, best first per segment: at most one per segment in a
        mutually exclusive frame, at most ``top_k`` otherwise."""
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        x = self._check_width(segment_embeddings)
        if len(segment_ids) != len(x):
            raise ValueError(f"{len(segment_ids)} segment ids for {len(x)} embeddings")
        scores = self.score(x)
        thresholds = self.thresholds
        limit = 1 if self.exclusive else top_k
        rows, cols = np.nonzero(scores >= thresholds)
        margins = scores[rows, cols] - thresholds[cols]
        order = np.lexsort((cols, -margins, rows))  # per segment: largest margin first, ties by code order
        rows, cols = rows[order], cols[order]
        first_of_row = np.searchsorted(rows, rows, side="left")
        keep = np.arange(len(rows)) - first_of_row < limit
        rows, cols = rows[keep], cols[keep]
        evidence = self._evidence_many(x, rows, cols, segment_ids)
        return [
            Suggestion(segment_id=segment_ids[i], code=self.codes[j], score=float(scores[i, j]),
                       threshold=float(thresholds[j]), evidence=e)
            for i, j, e in zip(rows.tolist(), cols.tolist(), evidence)
        ]

    def _evidence_many(self, x: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                       segment_ids: Sequence[Hashable], *, block: int = 4096) -> list[Evidence]:
        """Evidence for the suggested (segment row, code column) pairs, a few GEMMs per code."""
        out: list[Evidence | None] = [None] * len(rows)
        for j in np.unique(cols).tolist():
            picks = np.flatnonzero(cols == j)
            xi = x[rows[picks]]
            parts = self._models[j].parts
            part_sims = xi @ parts.parts.T
            best = part_sims.argmax(axis=1)
            best_sim = part_sims[np.arange(len(picks)), best]
            if len(parts.exclusions):
                excl_sims = xi @ parts.exclusions.T
                worst = excl_sims.argmax(axis=1)
                worst_sim = excl_sims[np.arange(len(picks)), worst]
            neighbours = self._neighbours_many(xi, j, [segment_ids[i] for i in rows[picks].tolist()], block=block)
            for n, p in enumerate(picks.tolist()):
                matched = MatchedPart(parts.kinds[best[n]], parts.texts[best[n]], float(best_sim[n]))
                exclusion = None
                if len(parts.exclusions) and worst_sim[n] > best_sim[n]:
                    text = parts.exclusion_texts[worst[n]] if parts.exclusion_texts else ""
                    exclusion = MatchedPart("exclude", text, float(worst_sim[n]))
                out[p] = Evidence(matched, neighbours[n], exclusion)
        return out  # type: ignore[return-value]

    def _neighbours_many(self, xi: np.ndarray, j: int, ids: list[Hashable], *,
                         block: int) -> list[tuple[Neighbour, ...]]:
        """The coded passages of code ``j`` nearest each row of ``xi`` (never the segment itself)."""
        if self._examples is None or self._labels is None or not self.n_neighbours:
            return [()] * len(xi)
        positive = np.flatnonzero(self._labels[:, j] == 1)
        if not len(positive):
            return [()] * len(xi)
        example_ids = [self._examples.segment_ids[p] for p in positive.tolist()]
        where = {}
        for column, sid in enumerate(example_ids):
            where.setdefault(sid, []).append(column)
        vectors = self._examples.embeddings[positive]
        found: list[tuple[Neighbour, ...]] = []
        for start in range(0, len(xi), block):
            sims = xi[start:start + block] @ vectors.T
            chunk_ids = ids[start:start + block]
            for r, sid in enumerate(chunk_ids):
                if sid in where:
                    sims[r, where[sid]] = -np.inf  # a segment is not its own evidence
            order = np.argsort(-sims, axis=1, kind="stable")[:, : self.n_neighbours]
            for r in range(len(chunk_ids)):
                found.append(tuple(
                    Neighbour(example_ids[o], float(sims[r, o])) for o in order[r].tolist() if sims[r, o] > -np.inf
                ))
        return found

    def uncertainty(self, segment_embeddings: np.ndarray) -> np.ndarray:
        """How undecided the model is per segment, in [0, 1] (1 = most): closeness of some
        code's score to its threshold and, in an exclusive frame, of the top two codes
        when the best is above threshold. Sort descending for an "uncertain first" queue."""
        scores = self.score(segment_embeddings)
        gap = np.abs(scores - self.thresholds[None, :]).min(axis=1) * 2
        if self.exclusive and scores.shape[1] > 1:
            order = np.argsort(-scores, axis=1)
            rows = np.arange(len(scores))
            top, second = scores[rows, order[:, 0]], scores[rows, order[:, 1]]
            above = top >= self.thresholds[order[:, 0]]
            gap = np.where(above, np.minimum(gap, top - second), gap)
        return np.clip(1.0 - gap, 0.0, 1.0)

