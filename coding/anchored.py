"""Learning anchored on the zero-shot prior, and calibration of its scores.

Pure numpy (scikit-learn only for the grouped folds). The pieces :class:`coding.suggestions.SuggestionModel`
is made of:

* **Shrunk prototypes.** A code's prototype starts as the mean of its embedded definition parts and
  moves toward the mean of its coded examples: ``(n0 * definition + sum of examples) / (n0 + n)``.
  The pseudo-count ``n0`` is chosen by cross-validation grouped by respondent, among candidates that
  include "never move" (``inf``, the zero-shot model), and a tie keeps the larger ``n0``: learning
  only moves away from the codebook when held-out respondents say it helps.
* **Temperature.** In a mutually exclusive frame the scores of a unit's codes become probabilities by
  a softmax with one temperature, fitted by likelihood on the project's codings, or on the codebook
  alone (each definition part scored against the other codes and the rest of its own code).
* **Platt scaling** with a pull toward the zero-shot mapping, and F1 thresholds shrunk toward the
  prior, for codes of non-exclusive frames.
"""

from __future__ import annotations

import math
from typing import Hashable, Sequence

import numpy as np

SHRINKAGE_CANDIDATES = (math.inf, 64.0, 32.0, 16.0, 8.0, 4.0, 2.0, 1.0, 0.5)
MIN_HITS, MIN_SHARE, MIN_AUC_GAIN = 2.0, 0.2, 0.05  # how clearly learning must beat the codebook in CV
MIN_POSITIVES = 3  # examples a code needs before its prototype moves
MAX_CV_BACKGROUND = 2000  # background rows used to standardise inside the cross-validation


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, numerically safe.

    >>> softmax(np.array([[0.0, 0.0], [10.0, 0.0]])).round(3).tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    """
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(x, dtype=np.float64), -50, 50)))


def fit_temperature(scores: np.ndarray, gold: np.ndarray, *, low: float = 0.003, high: float = 1.0) -> float:
    """The softmax temperature minimising the negative log-likelihood of the gold columns.

    ``scores``: raw scores (units × codes); ``gold``: the gold column per unit. A golden-section
    search on ``log T`` within ``[low, high]``.

    >>> s = np.array([[0.5, 0.3], [0.2, 0.4], [0.6, 0.55]])
    >>> t = fit_temperature(s, np.array([0, 1, 1]))
    >>> 0.003 <= t <= 1.0
    True
    """
    s = np.asarray(scores, dtype=np.float64)
    g = np.asarray(gold, dtype=np.intp)
    if s.ndim != 2 or len(s) != len(g) or not len(g):
        raise ValueError("temperature fitting needs a score row per gold label")
    rows = np.arange(len(g))

    def nll(log_t: float) -> float:
        z = s / math.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        return float(-(z[rows, g] - np.log(np.exp(z).sum(axis=1))).mean())

    a, b = math.log(low), math.log(high)
    ratio = (math.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = nll(c), nll(d)
    for _ in range(60):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = nll(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = nll(d)
    return float(math.exp((a + b) / 2))


def codebook_temperature(parts: Sequence[np.ndarray]) -> float | None:
    """A temperature from the codebook alone: each definition part of a code with two or more parts
    is scored against the mean of its code's *other* parts and the mean parts of every other code,
    and the temperature that best picks its own code is fitted. None if no code has two parts."""
    means = np.vstack([p.mean(axis=0) for p in parts])
    rows, gold = [], []
    for j, p in enumerate(parts):
        if len(p) < 2:
            continue
        total = p.sum(axis=0)
        for r in range(len(p)):
            own = (total - p[r]) / (len(p) - 1)
            row = p[r] @ means.T
            row[j] = p[r] @ own
            rows.append(row)
            gold.append(j)
    if not rows or len(parts) < 2:
        return None
    return fit_temperature(np.vstack(rows), np.array(gold))


def fit_platt(scores: np.ndarray, labels: np.ndarray, *, prior: float = 4.0,
              iterations: int = 50) -> tuple[float, float]:
    """``(a, b)`` of ``P(y=1) = sigmoid(a * s + b)``, by penalised Newton steps pulled toward the
    zero-shot mapping ``(1, 0)`` with weight ``prior`` (pseudo-observations), so a code with few
    examples keeps roughly the prior mapping.

    >>> a, b = fit_platt(np.array([-2.0, -1.0, 1.0, 2.0]), np.array([0, 0, 1, 1]), prior=0.1)
    >>> a > 1.0
    True
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    theta = np.array([1.0, 0.0])
    for _ in range(iterations):
        p = sigmoid(theta[0] * s + theta[1])
        w = p * (1 - p)
        grad = np.array([((p - y) * s).sum(), (p - y).sum()]) + prior * (theta - np.array([1.0, 0.0]))
        hess = np.array([[(w * s * s).sum(), (w * s).sum()], [(w * s).sum(), w.sum()]]) + prior * np.eye(2)
        step = np.linalg.solve(hess, grad)
        theta = theta - step
        if np.abs(step).max() < 1e-8:
            break
    return float(theta[0]), float(theta[1])


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
    cut_ok = np.append(s[:-1] > s[1:], True)  # a cut is only possible between distinct scores
    f1 = np.where(cut_ok, f1, -1.0)
    best = int(np.argmax(f1))
    lower = s[best + 1] if best + 1 < len(s) else s[best] - 0.1
    return round(float((s[best] + lower) / 2), 12), float(f1[best])


def shrunk_prototypes(definition: np.ndarray, x: np.ndarray, labels: np.ndarray, n0: float, *,
                      min_positives: int = MIN_POSITIVES) -> np.ndarray:
    """Prototypes (codes × d) moved from ``definition`` toward each code's positive rows of ``x``
    (``labels`` 1) with pseudo-count ``n0`` (``inf``: the definitions unchanged). A code with fewer
    than ``min_positives`` examples keeps its definition: two examples say too little."""
    if math.isinf(n0) or not len(x):
        return definition.copy()
    positive = (labels == 1).astype(np.float64)
    sums = positive.T @ np.asarray(x, dtype=np.float64)
    counts = positive.sum(axis=0)[:, None]
    moved = (n0 * definition + sums) / (n0 + counts)
    return np.where(counts >= min_positives, moved, definition).astype(np.float32)


def group_folds(groups: Sequence[Hashable], *, max_splits: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) row indices grouped by ``groups`` (at most ``max_splits``; none below 3 groups)."""
    from sklearn.model_selection import GroupKFold

    distinct = sorted(set(groups), key=str)
    if len(distinct) < 3:
        return []
    index = {g: i for i, g in enumerate(distinct)}
    codes = np.array([index[g] for g in groups])
    splitter = GroupKFold(n_splits=min(max_splits, len(distinct)))
    return list(splitter.split(np.zeros(len(codes)), groups=codes))


def _exclusive_quality(scores: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 hits on units with exactly one positive code."""
    single = (labels == 1).sum(axis=1) == 1
    if not single.any():
        return 0.0
    gold = labels[single].argmax(axis=1)
    return float((scores[single].argmax(axis=1) == gold).sum())


def _presence_quality(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mean per-code AUC over codes with known positives and negatives."""
    from sklearn.metrics import roc_auc_score

    values = []
    for j in range(labels.shape[1]):
        known = labels[:, j] >= 0
        y = labels[known, j]
        if (y == 1).any() and (y == 0).any():
            values.append(roc_auc_score(y, scores[known, j]))
    return float(np.mean(values)) if values else 0.0


def choose_shrinkage(
    definition: np.ndarray,
    x: np.ndarray,
    labels: np.ndarray,
    groups: Sequence[Hashable],
    *,
    exclusive: bool,
    candidates: Sequence[float] = SHRINKAGE_CANDIDATES,
    min_hits: float | None = None,
    min_share: float | None = None,
    min_auc_gain: float | None = None,
    background: np.ndarray | None = None,
    max_splits: int = 5,
) -> tuple[float, np.ndarray | None]:
    """The pseudo-count ``n0`` with the best grouped-CV quality, and the out-of-fold raw scores at it.

    Quality: top-1 hits on units with one code (exclusive frames) or mean per-code AUC (others).
    Candidates are tried from the most conservative (``inf``, the codebook alone), and a smaller
    ``n0`` is taken only if it beats the best so far clearly: by at least ``min_hits`` hits and
    ``min_share`` of the units (exclusive), or by ``min_auc_gain`` (others); defaults: the module's
    ``MIN_HITS``, ``MIN_SHARE``, ``MIN_AUC_GAIN``. With few examples
    one lucky hit is noise, and the acceptance rule is never to do worse than the codebook.
    ``background``: the frame's units; quality is then judged on scores standardised over them
    (each fold's prototypes), as the model scores. ``max_splits``: folds (``len(groups)``: leave one out).
    Returns ``(inf, None)`` when there are too few groups to cross-validate.
    """
    folds = group_folds(groups, max_splits=max_splits)
    if background is not None and len(background) > MAX_CV_BACKGROUND:  # a strided sample: the mean and sd only
        background = background[:: int(math.ceil(len(background) / MAX_CV_BACKGROUND))]
    if not folds:
        return math.inf, None
    min_hits = MIN_HITS if min_hits is None else min_hits
    min_share = MIN_SHARE if min_share is None else min_share
    min_auc_gain = MIN_AUC_GAIN if min_auc_gain is None else min_auc_gain
    if exclusive:
        n_single = int(((labels == 1).sum(axis=1) == 1).sum())
        quality, margin = _exclusive_quality, max(min_hits, min_share * n_single) - 1e-9
    else:
        quality, margin = _presence_quality, min_auc_gain
    best_n0, best_q, best_oof = math.inf, -math.inf, None
    for n0 in sorted(candidates, reverse=True):
        oof = np.zeros(labels.shape, dtype=np.float64)
        judged = np.zeros(labels.shape, dtype=np.float64)
        for train, test in folds:
            protos = shrunk_prototypes(definition, x[train], labels[train], n0)
            oof[test] = x[test] @ protos.T
            judged[test] = oof[test]
            if background is not None:
                bg = background @ protos.T
                judged[test] = (oof[test] - bg.mean(axis=0)) / np.maximum(bg.std(axis=0), 1e-3)
        q = quality(judged, labels)
        if best_oof is None or q >= best_q + margin:
            best_n0, best_q, best_oof = n0, q, oof
    return best_n0, best_oof
