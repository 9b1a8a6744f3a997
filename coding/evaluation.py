"""How good are the suggestions? Per-code metrics and respondent-grouped cross-validation.

Pure: labels and embeddings in, numbers out. Cross-validation groups by
respondent (scikit-learn ``GroupKFold``), so a respondent's passages are never in
both the training and the test part of a fold: otherwise a model could learn a
respondent's wording and look better than it will on new interviews.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Collection, Hashable, Sequence

import numpy as np
import pandas as pd

METRIC_COLUMNS = ["code", "support", "predicted", "precision", "recall", "f1", "kappa", "note"]


def label_matrix(labels: Sequence[Collection[str]] | np.ndarray, codes: Sequence[str]) -> np.ndarray:
    """0/1 matrix (segments × codes) from a set of codes per segment, or a 0/1 matrix checked as is.

    >>> label_matrix([{"a"}, {"a", "b"}, set()], ["a", "b"]).tolist()
    [[1, 0], [1, 1], [0, 0]]
    """
    if isinstance(labels, np.ndarray):
        if labels.ndim != 2 or labels.shape[1] != len(codes):
            raise ValueError(f"a label matrix must have {len(codes)} columns, got shape {labels.shape}")
        if not np.isin(labels, (0, 1)).all():
            raise ValueError("a label matrix may only hold 0 and 1")
        return labels.astype(np.int8)
    index = {c: j for j, c in enumerate(codes)}
    out = np.zeros((len(labels), len(codes)), dtype=np.int8)
    for i, row in enumerate(labels):
        if isinstance(row, str):
            raise ValueError(f"segment {i}: give a set of codes, not the string {row!r}")
        unknown = set(row) - set(index)
        if unknown:
            raise ValueError(f"segment {i}: unknown codes {sorted(unknown)}")
        out[i, [index[c] for c in row]] = 1
    return out


def _ratio(num: float, den: float, reason: str) -> tuple[float, str]:
    return (num / den, "") if den else (math.nan, reason)


def _kappa(t: np.ndarray, p: np.ndarray) -> tuple[float, str]:
    from sklearn.metrics import cohen_kappa_score

    if len(t) == 0:
        return math.nan, "no segments"
    if (t == t[0]).all() and (p == p[0]).all():
        return math.nan, "kappa undefined: both raters give one category only"
    return float(cohen_kappa_score(t, p)), ""


def evaluate(
    y_true: Sequence[Collection[str]] | np.ndarray,
    y_pred: Sequence[Collection[str]] | np.ndarray,
    codes: Sequence[str],
) -> pd.DataFrame:
    """Precision, recall, F1 and Cohen's kappa per code, plus micro and macro averages.

    ``y_true`` and ``y_pred``: a set of codes per segment, or 0/1 matrices
    (segments × ``codes``). Kappa compares presence/absence of the code per segment.
    An undefined value is NaN with the reason in ``note`` (e.g. a code never
    predicted has no precision). Macro averages skip NaN; micro pools all
    (segment, code) decisions.
    """
    codes = list(codes)
    if not codes:
        raise ValueError("evaluate needs at least one code")
    t = label_matrix(y_true, codes)
    p = label_matrix(y_pred, codes)
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.shape[0]} segments but y_pred has {p.shape[0]}")
    rows: list[dict[str, Any]] = []
    for j, code in enumerate(codes):
        tp = int(((t[:, j] == 1) & (p[:, j] == 1)).sum())
        support, predicted = int(t[:, j].sum()), int(p[:, j].sum())
        notes = []
        precision, why = _ratio(tp, predicted, "never predicted")
        notes.append(why)
        recall, why = _ratio(tp, support, "never in the gold standard")
        notes.append(why)
        f1, why = _ratio(2 * tp, support + predicted, "")
        kappa, why = _kappa(t[:, j], p[:, j])
        notes.append(why)
        rows.append({"code": code, "support": support, "predicted": predicted, "precision": precision,
                     "recall": recall, "f1": f1, "kappa": kappa, "note": "; ".join(n for n in notes if n)})
    per_code = pd.DataFrame(rows, columns=METRIC_COLUMNS)
    tp = int(((t == 1) & (p == 1)).sum())
    micro_p, why_p = _ratio(tp, int(p.sum()), "nothing predicted")
    micro_r, why_r = _ratio(tp, int(t.sum()), "empty gold standard")
    micro_f1, _ = _ratio(2 * tp, int(t.sum() + p.sum()), "")
    micro_kappa, why_k = _kappa(t.ravel(), p.ravel())
    micro = {"code": "(micro)", "support": int(t.sum()), "predicted": int(p.sum()), "precision": micro_p,
             "recall": micro_r, "f1": micro_f1, "kappa": micro_kappa,
             "note": "; ".join(n for n in (why_p, why_r, why_k) if n)}
    macro = {"code": "(macro)", "support": int(t.sum()), "predicted": int(p.sum()),
             "note": "mean over codes, NaN skipped"}
    for column in ("precision", "recall", "f1", "kappa"):
        values = per_code[column].dropna()
        macro[column] = float(values.mean()) if len(values) else math.nan
    return pd.concat([per_code, pd.DataFrame([micro, macro], columns=METRIC_COLUMNS)], ignore_index=True)


def top_k_accuracy(y_true: Sequence[str | None], scores: np.ndarray, codes: Sequence[str], *, k: int = 1) -> float:
    """Share of coded segments whose gold code is among the ``k`` best scored codes
    (for mutually exclusive frames; segments without a gold code are skipped; NaN if none).

    >>> top_k_accuracy(["a", "b", None], np.array([[.9, .1], [.6, .4], [.5, .5]]), ["a", "b"], k=1)
    0.5
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    scores = np.asarray(scores, dtype=float)
    if scores.shape != (len(y_true), len(codes)):
        raise ValueError(f"scores must have shape ({len(y_true)}, {len(codes)}), got {scores.shape}")
    index = {c: j for j, c in enumerate(codes)}
    hits, total = 0, 0
    for i, gold in enumerate(y_true):
        if gold is None:
            continue
        if gold not in index:
            raise ValueError(f"segment {i}: unknown code {gold!r}")
        top = np.argsort(-scores[i], kind="stable")[:k]
        hits += int(index[gold] in top)
        total += 1
    return hits / total if total else math.nan


@dataclass(frozen=True)
class Fold:
    """One cross-validation fold: row indices and the respondents on each side."""

    number: int
    train: np.ndarray
    test: np.ndarray
    train_respondents: frozenset[Hashable]
    test_respondents: frozenset[Hashable]


def respondent_folds(respondents: Sequence[Hashable], *, n_splits: int = 5, seed: int = 0) -> list[Fold]:
    """``GroupKFold`` folds by respondent; raises if a respondent ever lands on both sides.

    Respondents are shuffled with ``seed`` before grouping, so folds differ by seed
    but never mix a respondent's passages.
    """
    from sklearn.model_selection import GroupKFold

    respondents = list(respondents)
    distinct = sorted(set(respondents), key=str)
    if n_splits < 2:
        raise ValueError(f"n_splits must be >= 2, got {n_splits}")
    if len(distinct) < n_splits:
        raise ValueError(f"{n_splits} folds need at least {n_splits} respondents, got {len(distinct)}")
    rng = np.random.default_rng(seed)
    group_of = {r: int(g) for r, g in zip(distinct, rng.permutation(len(distinct)))}
    groups = np.array([group_of[r] for r in respondents])
    folds = []
    for number, (train, test) in enumerate(GroupKFold(n_splits=n_splits).split(np.zeros(len(groups)), groups=groups)):
        train_r = frozenset(respondents[i] for i in train)
        test_r = frozenset(respondents[i] for i in test)
        leaked = train_r & test_r
        if leaked:  # never expected from GroupKFold; the guarantee matters enough to check
            raise AssertionError(f"fold {number}: respondents in both train and test: {sorted(leaked, key=str)}")
        folds.append(Fold(number, train, test, train_r, test_r))
    return folds


def cross_validate_by_respondent(
    embeddings: np.ndarray,
    labels: Sequence[Collection[str]] | np.ndarray,
    respondents: Sequence[Hashable],
    *,
    codes: Sequence[str],
    make_model: Callable[[np.ndarray, np.ndarray], Callable[[np.ndarray], np.ndarray]],
    n_splits: int = 5,
    seed: int = 0,
) -> tuple[pd.DataFrame, np.ndarray, list[Fold]]:
    """Out-of-fold predictions with respondent-grouped folds, and their :func:`evaluate` table.

    ``make_model(train_embeddings, train_label_matrix)`` trains on one fold's
    training rows and returns ``predict(test_embeddings) -> 0/1 matrix``.
    Returns (metrics, out-of-fold 0/1 predictions, folds).
    """
    x = np.asarray(embeddings, dtype=np.float32)
    y = label_matrix(labels, codes)
    if x.ndim != 2 or len(x) != len(y) or len(respondents) != len(y):
        raise ValueError(
            f"embeddings ({x.shape}), labels ({len(y)}) and respondents ({len(respondents)}) must have the same rows"
        )
    folds = respondent_folds(respondents, n_splits=n_splits, seed=seed)
    predicted = np.zeros_like(y)
    for fold in folds:
        predict = make_model(x[fold.train], y[fold.train])
        out = np.asarray(predict(x[fold.test]))
        if out.shape != (len(fold.test), len(codes)):
            raise ValueError(f"fold {fold.number}: the model predicted shape {out.shape}, "
                             f"expected ({len(fold.test)}, {len(codes)})")
        predicted[fold.test] = out
    return evaluate(y, predicted, codes), predicted, folds
