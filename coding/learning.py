"""Learning curves and calibration of suggestions: what a coder is shown, and how it improves with examples.

Pure: embeddings, gold labels and a model factory in, tables out. Everything is measured out of fold
with folds grouped by respondent, so a respondent's passages are never in both the training and the
test part. At every point of the curve the table gives both what :meth:`SuggestionModel.suggest`
shows the coder (after any abstention) and the ranking (top-1, top-k), so the two cannot drift apart
unnoticed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Hashable, Sequence

import numpy as np
import pandas as pd

from coding.evaluation import label_matrix, respondent_folds
from coding.suggestions import LabeledExamples, SuggestionModel

CURVE_POINTS = (0, 2, 4, 8, 16)
CURVE_COLUMNS = ["examples_per_code", "mean_examples_per_code", "shown_kappa", "shown_f1", "abstained", "top1",
                 "top_k", "ece", "units"]
NONE = "(none)"


def categorical_kappa(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Cohen's kappa between two labelings of the same units (NaN when undefined).

    >>> categorical_kappa(["a", "b", "a", "b"], ["a", "b", "a", "a"])
    0.5
    """
    from sklearn.metrics import cohen_kappa_score

    if not len(gold) or (len(set(gold)) == 1 and len(set(predicted)) == 1):
        return math.nan
    return round(float(cohen_kappa_score(list(gold), list(predicted))), 12)


def reliability(confidence: Sequence[float], correct: Sequence[bool], *, bins: int = 10) -> tuple[float, pd.DataFrame]:
    """Expected calibration error and the reliability table (equal-width confidence bins).

    ECE = sum over bins of (share of predictions in the bin) x |accuracy - mean confidence|.

    >>> ece, table = reliability([0.9, 0.9, 0.6, 0.6], [True, True, True, False], bins=5)
    >>> round(ece, 3), table["predictions"].tolist()
    (0.1, [2, 2])
    """
    conf = np.asarray(confidence, dtype=float)
    hit = np.asarray(correct, dtype=bool)
    if conf.shape != hit.shape:
        raise ValueError("one correctness flag per confidence")
    if not len(conf):
        return math.nan, pd.DataFrame(columns=["bin", "predictions", "mean_confidence", "accuracy"])
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        mask = which == b
        if not mask.any():
            continue
        mean_conf, accuracy = float(conf[mask].mean()), float(hit[mask].mean())
        ece += mask.mean() * abs(accuracy - mean_conf)
        rows.append({"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "predictions": int(mask.sum()),
                     "mean_confidence": mean_conf, "accuracy": accuracy})
    return float(ece), pd.DataFrame(rows)


def accuracy_by_confidence(margins: Sequence[float], correct: Sequence[bool], *, bins: int = 10) -> pd.DataFrame:
    """Accuracy by confidence decile: units sorted by margin (least certain first) into ``bins`` groups
    of (nearly) equal size; per group its units, margin range and accuracy, and the accuracy of the
    units at least as certain as the group (``accuracy_from_here``: "the most confident 60 %" reads
    off the row where ``share_from_here`` is 0.6).

    >>> t = accuracy_by_confidence([0.1, 0.2, 0.9, 1.5], [False, True, True, True], bins=2)
    >>> t[["accuracy", "share_from_here", "accuracy_from_here"]].values.tolist()
    [[0.5, 1.0, 0.75], [1.0, 0.5, 1.0]]
    """
    m = np.asarray(margins, dtype=float)
    hit = np.asarray(correct, dtype=bool)
    if m.shape != hit.shape:
        raise ValueError("one correctness flag per margin")
    columns = ["decile", "units", "margin_min", "margin_max", "accuracy", "share_from_here", "accuracy_from_here"]
    if not len(m):
        return pd.DataFrame(columns=columns)
    order = np.argsort(m, kind="stable")
    rows, start = [], 0
    for b, part in enumerate(np.array_split(order, min(bins, len(m))), start=1):
        tail = order[start:]
        start += len(part)
        rows.append({"decile": b, "units": len(part), "margin_min": float(m[part].min()),
                     "margin_max": float(m[part].max()), "accuracy": float(hit[part].mean()),
                     "share_from_here": len(tail) / len(m), "accuracy_from_here": float(hit[tail].mean())})
    return pd.DataFrame(rows, columns=columns)


def _sample(train: np.ndarray, y: np.ndarray, n: int, exclusive: bool, rng: np.random.Generator) -> np.ndarray:
    """``n`` positive rows per code from ``train`` (all there are if fewer); in a non-exclusive frame
    also as many rows without any code as positives were drawn, as reviewed negatives."""
    chosen: set[int] = set()
    for j in range(y.shape[1]):
        rows = [int(i) for i in train if y[i, j] == 1 and int(i) not in chosen]
        chosen.update(rng.permutation(rows)[:n].tolist())
    if not exclusive:
        empty = [int(i) for i in train if y[i].sum() == 0]
        chosen.update(rng.permutation(empty)[:len(chosen)].tolist())
    return np.array(sorted(chosen), dtype=np.intp)


def evaluate_predictions(y: np.ndarray, scores: np.ndarray, shown: np.ndarray, *, exclusive: bool,
                         top_k: int = 3) -> dict:
    """Shown kappa and F1, abstentions, top-1/top-k and ECE of pooled out-of-fold predictions.

    ``y`` and ``shown``: 0/1 (units x codes); ``scores``: the model's probabilities. Exclusive frame:
    kappa over each unit's single code, ``(none)`` for no code; ECE of the top probability.
    Otherwise: kappa over every (unit, code) decision; ECE of every code's probability.
    """
    tp = int(((y == 1) & (shown == 1)).sum())
    f1 = 2 * tp / (y.sum() + shown.sum()) if (y.sum() + shown.sum()) else math.nan
    coded = y.sum(axis=1) > 0
    abstained = int((coded & (shown.sum(axis=1) == 0)).sum())
    single = y.sum(axis=1) == 1
    order = np.argsort(-scores, axis=1, kind="stable")
    gold = y.argmax(axis=1)
    top1 = float((order[single, 0] == gold[single]).mean()) if single.any() else math.nan
    topk = float((order[single, :top_k] == gold[single, None]).any(axis=1).mean()) if single.any() else math.nan
    if exclusive:
        def name(row: np.ndarray) -> str:
            return str(int(row.argmax())) if row.sum() else NONE
        kappa = categorical_kappa([name(r) for r in y], [name(r) for r in shown])
        ece, _ = reliability(scores.max(axis=1)[coded], (order[:, 0] == gold)[coded])
    else:
        from sklearn.metrics import cohen_kappa_score

        kappa = float(cohen_kappa_score(y.ravel(), shown.ravel())) if y.any() or shown.any() else math.nan
        ece, _ = reliability(scores.ravel(), y.ravel() == 1)
    return {"shown_kappa": kappa, "shown_f1": f1, "abstained": abstained, "top1": top1, "top_k": topk, "ece": ece}


def learning_curve(
    embeddings: np.ndarray,
    labels: Sequence[Collection[str]],
    respondents: Sequence[Hashable],
    *,
    codes: Sequence[str],
    exclusive: bool,
    make_model: Callable[[LabeledExamples | None], SuggestionModel],
    points: Sequence[int] = CURVE_POINTS,
    n_splits: int = 5,
    seed: int = 0,
    top_k: int = 3,
    allow_none: bool = False,
) -> tuple[pd.DataFrame, dict[int, tuple[np.ndarray, np.ndarray]]]:
    """κ, F1 and top-1 at each number of coded examples per code, out of fold by respondent.

    For each fold and point, ``n`` examples per code are drawn from the training respondents (all
    there are if fewer) and ``make_model(examples)`` is fitted on them (``None`` at 0 examples: the
    codebook alone); the test respondents are scored. Returns the curve and, per point, the pooled
    (probabilities, shown 0/1) matrices.
    """
    codes = list(codes)
    x = np.asarray(embeddings, dtype=np.float32)
    y = label_matrix(labels, codes)
    ids = list(range(len(y)))
    folds = respondent_folds(respondents, n_splits=n_splits, seed=seed)
    rows, pooled = [], {}
    for n in points:
        scores = np.zeros(y.shape, dtype=float)
        shown = np.zeros(y.shape, dtype=np.int8)
        drawn = []
        rng = np.random.default_rng(seed + n)
        for fold in folds:
            examples = None
            if n > 0:
                pick = _sample(fold.train, y, n, exclusive, rng)
                drawn.append(y[pick].sum(axis=0).mean())
                examples = LabeledExamples(
                    segment_ids=[ids[i] for i in pick], embeddings=x[pick],
                    positive=[{codes[j] for j in np.flatnonzero(y[i])} for i in pick],
                    reviewed=[True] * len(pick), groups=[respondents[i] for i in pick])
            model = make_model(examples)
            test = fold.test
            scores[test] = model.score(x[test])
            for s in model.suggest([ids[i] for i in test], x[test], top_k=top_k, allow_none=allow_none):
                shown[s.segment_id, codes.index(s.code)] = 1
        result = evaluate_predictions(y, scores, shown, exclusive=exclusive, top_k=top_k)
        rows.append({"examples_per_code": n, "mean_examples_per_code": float(np.mean(drawn)) if drawn else 0.0,
                     **result, "units": len(y)})
        pooled[n] = (scores, shown)
    return pd.DataFrame(rows, columns=CURVE_COLUMNS), pooled
