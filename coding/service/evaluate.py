"""How well suggestions reproduce a gold coder (respondent-grouped cross-validation)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from coding.database import queries
from coding.errors import CodeframeError
from coding.service.agreement import _coder_universes, _frame_codes
from coding.service.common import CONSENSUS, DEFAULT_PROJECT
from coding.service.suggestions import (
    _code_objects,
    _code_part_embeddings,
    default_embedder,
    embed_units,
    frame_background_rows,
    frame_documents,
)


@dataclass
class SuggestionEvaluation:
    """How well suggestions reproduce a gold coder in one frame (see :func:`evaluate_suggestions`)."""

    frame: str
    gold: str
    model_id: str
    exclusive: bool
    units: int
    respondents: int
    gold_codings: int
    zero_shot: Any  # DataFrame, coding.evaluation.METRIC_COLUMNS
    few_shot: Any  # DataFrame, out-of-fold predictions of respondent-grouped cross-validation
    ranking: Any  # DataFrame: setting, k, accuracy, segments, note
    folds: Any  # DataFrame: fold, train/test units and respondents
    fold_respondents: list[tuple[frozenset, frozenset]]  # (train, test) respondents per fold
    seconds: dict[str, float] = field(default_factory=dict)
    curve: Any = None  # DataFrame, coding.learning.CURVE_COLUMNS: shown and ranking at 0, 2, 4, 8, 16 examples
    calibration: Any = None  # DataFrame: setting, ece, predictions
    reliability: Any = None  # DataFrame: setting, bin, predictions, mean_confidence, accuracy
    allow_none: bool = False
    confidence: Any = None  # DataFrame: setting + coding.learning.accuracy_by_confidence (deciles of the margin)
    notes: list = field(default_factory=list)  # what the scores are standardised over; warnings about it

    def table(self) -> Any:
        """Zero-shot and few-shot metrics in one frame, with a ``setting`` column first."""
        import pandas as pd

        return pd.concat(
            [self.zero_shot.assign(setting="zero-shot"), self.few_shot.assign(setting="few-shot (CV)")],
            ignore_index=True,
        )[["setting", *self.zero_shot.columns]]


def _by_confidence(single: list, keys: list[str], settings: dict) -> Any:
    """Accuracy of the top code by decile of its margin, per setting, on the units with one gold code."""
    import numpy as np
    import pandas as pd

    from coding.learning import accuracy_by_confidence

    gold = np.array([keys.index(s) if s is not None else -1 for s in single])
    one = gold >= 0
    table = pd.concat([
        accuracy_by_confidence(margins[one], scores[one].argmax(axis=1) == gold[one]).assign(setting=name)
        for name, (scores, margins) in settings.items()], ignore_index=True)
    return table[["setting", *[c for c in table.columns if c != "setting"]]]


def evaluate_suggestions(
    engine: Engine,
    project: str = DEFAULT_PROJECT,
    *,
    frame: str,
    gold: str = CONSENSUS,
    n_splits: int = 5,
    seed: int = 0,
    top_k: int = 3,
    allow_none: bool = False,
    curve_points: Sequence[int] | None = (0, 2, 4, 8, 16),
    embedder=None,
) -> SuggestionEvaluation:
    """How well suggestions reproduce ``gold``'s coding of ``frame``.

    Units: every unit of the documents the gold coder covered in the frame (coded there or
    finished it, see :func:`mark_done`). Zero-shot: the codebook alone. Few-shot: trained on
    the gold codings of the other respondents under ``n_splits``-fold cross-validation grouped
    by respondent, so an interview is never in both the training and the test part. Each
    setting predicts what :func:`suggest` would (codes at or above threshold, at most
    ``top_k`` per segment, one in an exclusive frame). Per code: precision, recall, F1 and
    Cohen's kappa on presence, plus micro and macro rows; top-1/top-3 accuracy of the ranking
    on segments with exactly one gold code. Calibration: expected calibration error and the
    reliability table of both settings (top probability in an exclusive frame, every code's
    probability otherwise). The learning curve (:func:`coding.learning.learning_curve`) at
    ``curve_points`` coded examples per code (``None``: skipped) gives what the coder is shown and
    the ranking side by side. ``allow_none``: "nothing applies" turned on in an exclusive frame.
    Confidence: accuracy of the top code by decile of its margin over the next (units with one gold
    code). ``notes``: the units the scores are standardised over, and warnings when they are too few
    or dominated by one code.
    """
    import numpy as np
    import pandas as pd

    from coding.base_rates import background_notes
    from coding.evaluation import evaluate, respondent_folds, top_k_accuracy
    from coding.learning import learning_curve, reliability
    from coding.suggestions import LabeledExamples, SuggestionModel

    started = time.perf_counter()
    embedder = embedder or default_embedder(engine, project)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        queries.coder_by_name(session, row.id, gold)
        frame_row, code_rows = _frame_codes(session, row, frame)
        code_objects = _code_objects(code_rows)
        if not code_objects:
            raise CodeframeError(f"frame {frame!r} has no active codes to evaluate")
        codings = queries.codings_frame(session, row.id, frame=frame, coders=[gold])
        all_units = queries.units_frame(session, row.id)
        universe = _coder_universes(session, row, frame_row, [gold], all_units)[gold]
        background_rows, background_note = frame_background_rows(frame_documents(session, row, frame_row),
                                                                 all_units, frame)
    if not universe:
        raise CodeframeError(f"{gold} has not coded frame {frame!r} on any document: nothing to evaluate against")
    loaded = time.perf_counter()
    units, matrix = embed_units(engine, project, embedder=embedder)
    background_ids = {int(all_units["segment_id"].iat[i]) for i in background_rows}
    parts = _code_part_embeddings(engine, embedder, code_objects)
    embedded = time.perf_counter()
    keys = [c.id for c in code_objects]
    exclusive = bool(frame_row.mutually_exclusive)
    rows = [i for i, s in enumerate(units["segment_id"]) if int(s) in universe]
    ids = [int(units["segment_id"].iat[i]) for i in rows]
    x = matrix[rows]
    respondents = [str(units["respondent"].iat[i]) for i in rows]
    gold_sets: dict[int, set[str]] = defaultdict(set)
    for segment_id, code in zip(codings["segment_id"], codings["code"]):
        if code in keys:
            gold_sets[int(segment_id)].add(code)
    y = [gold_sets.get(s, set()) for s in ids]
    background = matrix[[i for i, s in enumerate(units["segment_id"]) if int(s) in background_ids]]
    shares = {c.id: c.expected_share for c in code_objects}
    distinct = len(set(respondents))
    if not 2 <= n_splits <= distinct:
        raise CodeframeError(
            f"cross-validation by respondent needs 2 to {distinct} folds here ({distinct} respondents "
            f"covered in frame {frame!r}), not {n_splits}")

    def predict(model, test_ids, test_x) -> list[set[str]]:
        chosen: dict[int, set[str]] = defaultdict(set)
        for s in model.suggest(test_ids, test_x, top_k=top_k, allow_none=allow_none):
            chosen[int(s.segment_id)].add(s.code)
        return [chosen.get(s, set()) for s in test_ids]

    zero = SuggestionModel().fit_codes(keys, parts, exclusive=exclusive, background=background,
                                       expected_shares=shares)
    zero_pred = predict(zero, ids, x)
    zero_scores, zero_margins = zero.score(x), zero.margins(x)

    folds = respondent_folds(respondents, n_splits=n_splits, seed=seed)
    few_pred: list[set[str]] = [set() for _ in ids]
    few_scores, few_margins = np.zeros_like(zero_scores), np.zeros_like(zero_margins)
    fold_rows = []
    for fold in folds:
        train, test = fold.train, fold.test
        examples = LabeledExamples(
            segment_ids=[ids[i] for i in train], embeddings=x[train], positive=[y[i] for i in train],
            reviewed=[True] * len(train), groups=[respondents[i] for i in train], covered=[True] * len(train),
        )
        model = SuggestionModel().fit_codes(keys, parts, exclusive=exclusive, examples=examples,
                                            background=background, expected_shares=shares)
        for i, codes_i in zip(test, predict(model, [ids[i] for i in test], x[test])):
            few_pred[i] = codes_i
        few_scores[test], few_margins[test] = model.score(x[test]), model.margins(x[test])
        fold_rows.append({
            "fold": fold.number, "train_units": len(train), "test_units": len(test),
            "train_positives": int(sum(len(y[i]) for i in train)), "test_positives": int(sum(len(y[i]) for i in test)),
            "train_respondents": ", ".join(sorted(fold.train_respondents)),
            "test_respondents": ", ".join(sorted(fold.test_respondents)),
        })
    finished = time.perf_counter()

    single = [next(iter(codes)) if len(codes) == 1 else None for codes in y]
    n_single = sum(s is not None for s in single)
    note = "" if exclusive else "segments with exactly one gold code"
    ranking = pd.DataFrame(
        [{"setting": name, "k": k, "accuracy": top_k_accuracy(single, scores, keys, k=k), "segments": n_single,
          "note": note}
         for name, scores in (("zero-shot", zero_scores), ("few-shot (CV)", few_scores)) for k in (1, 3)],
        columns=["setting", "k", "accuracy", "segments", "note"],
    )
    gold_matrix = np.array([[code in codes_i for code in keys] for codes_i in y], dtype=bool).reshape(len(y), len(keys))
    by_confidence = _by_confidence(single, keys, {"zero-shot": (zero_scores, zero_margins),
                                                  "few-shot (CV)": (few_scores, few_margins)})
    calibration_rows, reliability_rows = [], []
    for name, scores in (("zero-shot", zero_scores), ("few-shot (CV)", few_scores)):
        if exclusive:
            coded = gold_matrix.any(axis=1)
            confidence = scores.max(axis=1)[coded]
            correct = gold_matrix[coded][np.arange(int(coded.sum())), scores[coded].argmax(axis=1)]
        else:
            confidence, correct = scores.ravel(), gold_matrix.ravel()
        ece, table = reliability(confidence, correct)
        calibration_rows.append({"setting": name, "ece": ece, "predictions": len(confidence)})
        reliability_rows.append(table.assign(setting=name))
    curve = None
    if curve_points:
        def make(examples):
            return SuggestionModel().fit_codes(keys, parts, exclusive=exclusive, examples=examples,
                                               background=background, expected_shares=shares)
        curve, _ = learning_curve(x, y, respondents, codes=keys, exclusive=exclusive, make_model=make,
                                  points=curve_points, n_splits=n_splits, seed=seed, top_k=top_k,
                                  allow_none=allow_none)
    return SuggestionEvaluation(
        curve=curve, calibration=pd.DataFrame(calibration_rows), allow_none=allow_none, confidence=by_confidence,
        notes=[background_note, *background_notes(len(background), gold_matrix.astype(np.int8), keys)],
        reliability=pd.concat(reliability_rows, ignore_index=True)[
            ["setting", "bin", "predictions", "mean_confidence", "accuracy"]],
        frame=frame, gold=gold, model_id=embedder.model_id, exclusive=exclusive, units=len(ids),
        respondents=distinct, gold_codings=int(sum(len(s) for s in y)),
        zero_shot=evaluate(y, zero_pred, keys), few_shot=evaluate(y, few_pred, keys), ranking=ranking,
        folds=pd.DataFrame(fold_rows), fold_respondents=[(f.train_respondents, f.test_respondents) for f in folds],
        seconds={"read": loaded - started, "embed": embedded - loaded, "fit_and_score": finished - embedded,
                 "learning_curve": time.perf_counter() - finished},
    )
