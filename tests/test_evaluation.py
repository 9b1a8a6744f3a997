"""Evaluation metrics on hand-computed examples, and respondent-grouped cross-validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coding.evaluation import cross_validate_by_respondent, evaluate, label_matrix, respondent_folds, top_k_accuracy


def test_metrics_match_a_hand_computed_example():
    # 6 segments, codes a and b
    gold = [{"a"}, {"a"}, {"a", "b"}, set(), {"b"}, set()]
    pred = [{"a"}, set(), {"a"}, {"a"}, {"b"}, set()]
    table = evaluate(gold, pred, ["a", "b"]).set_index("code")
    # a: tp=2 (s0,s2), fp=1 (s3), fn=1 (s1) -> P=2/3, R=2/3, F1=2/3
    # kappa a: gold 1,1,1,0,0,0 / pred 1,0,1,1,0,0: po=4/6, pe=.5*.5+.5*.5=.5 -> (2/3-.5)/.5=1/3
    assert table.loc["a", ["precision", "recall", "f1"]].tolist() == pytest.approx([2 / 3] * 3)
    assert table.loc["a", "kappa"] == pytest.approx(1 / 3)
    # b: tp=1 (s4), fp=0, fn=1 (s2) -> P=1, R=.5, F1=2/3;
    # kappa b: gold 0,0,1,0,1,0 / pred 0,0,0,0,1,0: po=5/6, pe=(2/6)(1/6)+(4/6)(5/6)=22/36 -> (30/36-22/36)/(14/36)=8/14
    assert table.loc["b", ["precision", "recall", "f1"]].tolist() == pytest.approx([1.0, 0.5, 2 / 3])
    assert table.loc["b", "kappa"] == pytest.approx(8 / 14)
    # micro: tp=3, predicted=4, gold=5 -> P=3/4, R=3/5, F1=6/9
    assert table.loc["(micro)", ["precision", "recall", "f1"]].tolist() == pytest.approx([0.75, 0.6, 6 / 9])
    assert table.loc["(macro)", "precision"] == pytest.approx((2 / 3 + 1) / 2)
    assert table.loc["(macro)", "kappa"] == pytest.approx((1 / 3 + 8 / 14) / 2)


def test_matrix_input_gives_the_same_table():
    gold = [{"a"}, set(), {"b"}]
    pred = [{"a"}, {"b"}, {"b"}]
    as_sets = evaluate(gold, pred, ["a", "b"])
    as_matrix = evaluate(np.array([[1, 0], [0, 0], [0, 1]]), np.array([[1, 0], [0, 1], [0, 1]]), ["a", "b"])
    assert as_sets.equals(as_matrix)


def test_undefined_values_are_nan_with_a_reason():
    table = evaluate([{"a"}, {"a"}], [set(), set()], ["a", "b"]).set_index("code")
    assert math.isnan(table.loc["a", "precision"]) and "never predicted" in table.loc["a", "note"]
    assert table.loc["a", "recall"] == 0.0
    assert math.isnan(table.loc["b", "recall"]) and "never in the gold standard" in table.loc["b", "note"]
    assert math.isnan(table.loc["b", "kappa"])


def test_bad_labels_are_rejected():
    with pytest.raises(ValueError, match="unknown codes"):
        label_matrix([{"zzz"}], ["a"])
    with pytest.raises(ValueError, match="not the string"):
        label_matrix(["a"], ["a"])
    with pytest.raises(ValueError, match="only hold 0 and 1"):
        label_matrix(np.array([[2]]), ["a"])
    with pytest.raises(ValueError, match="segments"):
        evaluate([{"a"}], [{"a"}, set()], ["a"])


def test_top_k_accuracy_for_exclusive_frames():
    scores = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.3, 0.3, 0.4]])
    gold = ["b", "b", "c", None]
    assert top_k_accuracy(gold, scores, ["a", "b", "c"], k=1) == pytest.approx(2 / 3)
    assert top_k_accuracy(gold, scores, ["a", "b", "c"], k=2) == 1.0
    assert math.isnan(top_k_accuracy([None], scores[:1], ["a", "b", "c"]))


def test_cross_validation_never_puts_a_respondent_on_both_sides():
    rng = np.random.default_rng(1)
    respondents = [f"r{i % 7}" for i in range(70)]
    x = rng.normal(size=(70, 8)).astype(np.float32)
    labels = [{"a"} if v[0] > 0 else set() for v in x]
    seen_test: list[str] = []
    trained_on: list[set[int]] = []

    def make_model(train_x, train_y):
        trained_on.append({tuple(row) for row in train_x.round(5)})
        return lambda test_x: (test_x[:, :1] > 0).astype(int)  # a perfect rule on the first feature

    table, predicted, folds = cross_validate_by_respondent(
        x, labels, respondents, codes=["a"], make_model=make_model, n_splits=5, seed=3)
    assert len(folds) == 5 == len(trained_on)
    for fold in folds:
        assert not fold.train_respondents & fold.test_respondents
        assert {respondents[i] for i in fold.test} == set(fold.test_respondents)
        seen_test += sorted(fold.test_respondents)
        assert not {tuple(row) for row in x[fold.test].round(5)} & trained_on[fold.number]
    assert sorted(seen_test) == sorted(set(respondents))  # every respondent tested exactly once
    assert sorted(np.concatenate([f.test for f in folds]).tolist()) == list(range(70))
    assert table.set_index("code").loc["a", "f1"] == 1.0
    assert predicted.shape == (70, 1)


def test_folds_depend_on_the_seed_and_need_enough_respondents():
    respondents = [f"r{i}" for i in range(10) for _ in range(3)]
    a = [sorted(f.test_respondents) for f in respondent_folds(respondents, n_splits=5, seed=0)]
    b = [sorted(f.test_respondents) for f in respondent_folds(respondents, n_splits=5, seed=1)]
    assert a != b
    with pytest.raises(ValueError, match="at least 5 respondents"):
        respondent_folds(["r1", "r2", "r3"], n_splits=5)


def test_cross_validation_with_the_suggestion_model_runs_end_to_end():
    from coding.suggestions import LabeledExamples, PartsEmbeddings, SuggestionModel

    rng = np.random.default_rng(0)
    centers = np.eye(4, 16, dtype=np.float32) * 3
    codes = ["a", "b", "c", "d"]
    y = rng.integers(0, 4, size=80)
    x = centers[y] + rng.normal(scale=0.5, size=(80, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    parts = {c: PartsEmbeddings(np.eye(4, 16, dtype=np.float32)[[j]], ("label",), (c,), np.zeros((0, 16), np.float32))
             for j, c in enumerate(codes)}

    def make_model(train_x, train_y):
        ex = LabeledExamples(list(range(len(train_x))), train_x, [{codes[j] for j in np.flatnonzero(r)} for r in train_y])
        model = SuggestionModel().fit_codes(codes, parts, exclusive=True, examples=ex, background=train_x)
        return lambda test_x: (model.score(test_x) == model.score(test_x).max(axis=1, keepdims=True)).astype(int)

    table, _, _ = cross_validate_by_respondent(
        x, [{codes[j]} for j in y], [f"r{i % 8}" for i in range(80)], codes=codes, make_model=make_model)
    assert table.set_index("code").loc["(micro)", "f1"] > 0.9
