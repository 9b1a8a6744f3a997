"""Suggestion scoring with the real packaged model on a small, clearly separated codebook."""

from __future__ import annotations

import numpy as np
import pytest
from topics import BACKGROUND, CODEBOOK, OFF_TOPIC, PARAPHRASES

from coding.codebook import parse_codebook
from coding.embeddings import load_embedder
from coding.suggestions import (
    LabeledExamples,
    SuggestionModel,
    best_f1_threshold,
    code_prototype_texts,
    embed_code_texts,
)


@pytest.fixture(scope="module")
def embedder():
    return load_embedder("all-MiniLM-L6-v2")


@pytest.fixture(scope="module")
def codebook():
    return parse_codebook(CODEBOOK)


@pytest.fixture(scope="module")
def parts(embedder, codebook):
    return embed_code_texts(code_prototype_texts(codebook, "topics"), embedder.encode)


@pytest.fixture(scope="module")
def background(embedder):
    return embedder.encode(BACKGROUND + list(PARAPHRASES.values()) + OFF_TOPIC)


@pytest.fixture(scope="module")
def zero_shot(codebook, parts, background):
    return SuggestionModel().fit(codebook, "topics", parts, background=background)


def test_prototype_texts_keep_kinds_and_exclusions(codebook):
    texts = code_prototype_texts(codebook, "topics")
    assert list(texts) == ["cooking", "football", "weather", "banking", "medicine"]
    cooking = texts["cooking"]
    assert [p.kind for p in cooking.parts] == ["label", "definition", "include", "include", "example"]
    assert cooking.exclusions == ("Restaurant business finances and profits",)


def test_a_paraphrase_of_a_definition_ranks_its_code_first(zero_shot, embedder):
    x = embedder.encode(list(PARAPHRASES.values()))
    scores = zero_shot.score(x)
    assert scores.shape == (5, 5) and ((scores > 0) & (scores < 1)).all()
    assert [zero_shot.codes[j] for j in scores.argmax(axis=1)] == list(PARAPHRASES)


@pytest.mark.parametrize("aggregate", ["max", "mean", "max+mean"])
def test_every_aggregate_ranks_the_paraphrases_right(codebook, parts, background, embedder, aggregate):
    model = SuggestionModel(aggregate=aggregate).fit(codebook, "topics", parts, background=background)
    scores = model.score(embedder.encode(list(PARAPHRASES.values())))
    assert [model.codes[j] for j in scores.argmax(axis=1)] == list(PARAPHRASES)


def test_suggestions_abstain_below_threshold_and_carry_evidence(zero_shot, parts, embedder):
    ids = [f"p{i}" for i in range(5)] + [f"o{i}" for i in range(len(OFF_TOPIC))]
    suggestions = zero_shot.suggest(ids, embedder.encode(list(PARAPHRASES.values()) + OFF_TOPIC))
    by_segment = {s.segment_id: s for s in suggestions}
    assert not any(i.startswith("o") for i in by_segment), "off-topic talk must get no suggestion"
    assert {i: s.code for i, s in by_segment.items()} == {f"p{i}": c for i, c in enumerate(PARAPHRASES)}
    for s in suggestions:
        assert s.score >= s.threshold == 0.5
        assert s.evidence.matched_part.kind in {"label", "definition", "include", "example"}
        assert s.evidence.neighbours == ()  # no coded passages yet
    # the same segments, with impossible thresholds: the model abstains everywhere
    strict = SuggestionModel(zero_shot_k=50).fit_codes(list(parts), parts, exclusive=True,
                                                       background=embedder.encode(BACKGROUND))
    assert strict.suggest(ids, embedder.encode(list(PARAPHRASES.values()) + OFF_TOPIC)) == []


def test_exclusive_frame_gives_at_most_one_suggestion_other_frames_several(parts, background, embedder):
    mixed = embedder.encode(["After football training in the rain I cooked pasta with tomato sauce for dinner."])
    codes = list(parts)
    exclusive = SuggestionModel(zero_shot_k=0.5).fit_codes(codes, parts, exclusive=True, background=background)
    several = SuggestionModel(zero_shot_k=0.5).fit_codes(codes, parts, exclusive=False, background=background)
    assert (several.score(mixed) >= several.thresholds).sum() >= 2  # two codes clear the bar
    assert len(exclusive.suggest(["m"], mixed)) == 1
    many = several.suggest(["m"], mixed, top_k=3)
    assert 2 <= len(many) <= 3 and len({s.code for s in many}) == len(many)
    assert [s.score - s.threshold for s in many] == sorted((s.score - s.threshold for s in many), reverse=True)
    assert len(several.suggest(["m"], mixed, top_k=1)) == 1


def test_the_matched_part_is_the_closest_part_of_the_definition(zero_shot, embedder):
    [s] = zero_shot.suggest(["x"], embedder.encode(["The bank raised the interest rate on my mortgage again."]))
    assert s.code == "banking"
    assert s.evidence.matched_part.kind == "example"
    assert s.evidence.matched_part.text == "The bank raised the interest rate on my mortgage."
    assert s.evidence.matched_part.similarity > 0.9


def test_exclusion_criteria_lower_the_score(codebook, parts, background, embedder):
    x = embedder.encode(["The restaurant business made less profit and its finances are in trouble."])
    with_exclusions = SuggestionModel(exclusion_weight=1.0).fit(codebook, "topics", parts, background=background)
    without = SuggestionModel(exclusion_weight=0.0).fit(codebook, "topics", parts, background=background)
    j = with_exclusions.codes.index("cooking")
    assert with_exclusions.raw_scores(x)[0, j] < without.raw_scores(x)[0, j]
    other = with_exclusions.codes.index("banking")  # a code without exclusions is untouched
    assert with_exclusions.raw_scores(x)[0, other] == pytest.approx(without.raw_scores(x)[0, other])


def _few_shot_examples(embedder):
    """Coded passages: 'banking' includes talk about pensions (which the definition does not say)."""
    positives = ["My pension savings are managed by a state fund.", "I worry my pension will be too small.",
                 "The pension fund invests our contributions.", "Retirement savings grow slowly.",
                 "I moved my pension to a private fund.", "We pay pension contributions every month."]
    negatives = ["Our team won the derby.", "It snowed all night.", "I bake bread on Fridays.",
                 "The doctor gave me antibiotics.", "We watched the cup final.", "The forecast says frost.",
                 "I cook rice with vegetables.", "The nurse measured my blood pressure."]
    codes_of_negatives = ["football", "weather", "cooking", "medicine", "football", "weather", "cooking", "medicine"]
    texts = positives + negatives
    return LabeledExamples(
        segment_ids=[f"e{i}" for i in range(len(texts))],
        embeddings=embedder.encode(texts),
        positive=[{"banking"}] * len(positives) + [{c} for c in codes_of_negatives],
    )


def test_few_shot_examples_teach_a_code_and_give_neighbours_as_evidence(codebook, parts, background, embedder,
                                                                        zero_shot):
    examples = _few_shot_examples(embedder)
    model = SuggestionModel().fit(codebook, "topics", parts, examples, background=background)
    info = {row["code"]: row for row in model.describe()}
    assert info["banking"]["positives"] == 6 and info["banking"]["negatives"] == 8
    assert info["banking"]["classifier_weight"] > 0 and info["banking"]["threshold_source"] == "f1"
    assert info["weather"]["classifier_weight"] == 0  # 2 positives: below min_positive
    new = embedder.encode(["How much will my pension be when I retire?"])
    j = model.codes.index("banking")
    assert model.score(new)[0, j] > zero_shot.score(new)[0, j]
    [s] = model.suggest(["new"], new)
    assert s.code == "banking"
    assert len(s.evidence.neighbours) == 3
    assert all(n.segment_id in {f"e{i}" for i in range(6)} for n in s.evidence.neighbours)
    sims = [n.similarity for n in s.evidence.neighbours]
    assert sims == sorted(sims, reverse=True)


def test_label_matrix_uses_reviews_rejections_and_exclusivity():
    ex = LabeledExamples(
        segment_ids=["a", "b", "c", "d"], embeddings=np.eye(4),
        positive=[{"x"}, set(), set(), {"x", "other-frame"}],
        negative=[set(), {"y"}, set(), {"x"}],
        reviewed=[False, False, True, False],
    )
    assert ex.label_matrix(["x", "y"], exclusive=True).tolist() == [[1, 0], [-1, 0], [0, 0], [1, 0]]
    assert ex.label_matrix(["x", "y"], exclusive=False).tolist() == [[1, -1], [-1, 0], [0, 0], [1, -1]]
    with pytest.raises(ValueError, match="one entry per segment"):
        LabeledExamples(["a"], np.eye(1), [set(), set()])


def test_uncertainty_is_highest_near_the_threshold(zero_shot, embedder):
    x = embedder.encode([PARAPHRASES["weather"], "Could you repeat the question, please?",
                         "I had a cold and also my bank account was blocked."])
    u = zero_shot.uncertainty(x)
    assert u.shape == (3,) and ((u >= 0) & (u <= 1)).all()
    scores, t = zero_shot.score(x), zero_shot.thresholds
    closeness = np.abs(scores - t).min(axis=1)
    assert np.argmax(u) == np.argmin(closeness) or u.max() == pytest.approx(1 - 2 * closeness.min())


def test_best_f1_threshold_and_input_checks(zero_shot):
    threshold, f1 = best_f1_threshold(np.array([0.9, 0.7, 0.6, 0.2]), np.array([1, 0, 1, 0]))
    assert threshold == pytest.approx(0.4) and f1 == pytest.approx(0.8)
    with pytest.raises(ValueError, match="both positive and negative"):
        best_f1_threshold(np.array([0.1, 0.2]), np.array([1, 1]))
    with pytest.raises(ValueError, match="shape"):
        zero_shot.score(np.zeros((2, 10), dtype=np.float32))
    with pytest.raises(ValueError, match="top_k"):
        zero_shot.suggest(["a"], np.zeros((1, 384), dtype=np.float32), top_k=0)
    with pytest.raises(ValueError, match="no embeddings"):
        SuggestionModel().fit_codes(["ghost"], {}, exclusive=False)
    with pytest.raises(ValueError, match="aggregate"):
        SuggestionModel(aggregate="median")


def test_ridge_leave_one_out_scores_equal_refitting_without_each_example():
    from coding.suggestions import fit_balanced_ridge

    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 6))
    y = (x[:, 0] + 0.5 * rng.normal(size=30) > 0).astype(int)
    _, loo = fit_balanced_ridge(x, y, alpha=2.0)
    # the class weights of the full fit are kept when refitting, as the hat-matrix identity assumes
    weight = np.where(y == 1, len(y) / (2 * y.sum()), len(y) / (2 * (1 - y).sum()))
    xa = np.hstack([x, np.ones((30, 1))])
    penalty = np.diag(np.r_[np.full(6, 2.0), 2e-6])
    for i in range(30):
        keep = np.arange(30) != i
        beta = np.linalg.solve(xa[keep].T @ (xa[keep] * weight[keep, None]) + penalty,
                               xa[keep].T @ (weight[keep] * y[keep]))
        assert np.clip(xa[i] @ beta, 0, 1) == pytest.approx(loo[i], abs=1e-6)


@pytest.mark.parametrize("aggregate", ["mean", "max", "max+mean"])
def test_stacked_scoring_equals_scoring_each_code_on_its_own(codebook, parts, background, embedder, aggregate):
    # scoring stacks every code's parts into one matrix; it must give what the definition says,
    # code by code: cosine to each part, combined, minus the exclusion penalty, then calibrated
    model = SuggestionModel(aggregate=aggregate, exclusion_weight=0.5).fit(codebook, "topics", parts,
                                                                           background=background)
    x = embedder.encode(list(PARAPHRASES.values()) + OFF_TOPIC)
    for j, code in enumerate(model.codes):
        sims = x @ parts[code].parts.T
        combined = {"mean": sims.mean(axis=1), "max": sims.max(axis=1),
                    "max+mean": 0.5 * (sims.max(axis=1) + sims.mean(axis=1))}[aggregate]
        if len(parts[code].exclusions):
            excl = (x @ parts[code].exclusions.T).max(axis=1)
            combined = combined - 0.5 * np.maximum(0.0, excl - sims.max(axis=1))
        np.testing.assert_allclose(model.raw_scores(x)[:, j], combined, atol=1e-6)
    suggestions = model.suggest(list(range(len(x))), x, top_k=5)
    scores = model.score(x)
    for s in suggestions:  # each suggestion's evidence is its code's closest part for that segment
        code_parts = parts[s.code]
        best = int(np.argmax(code_parts.parts @ x[s.segment_id]))
        assert s.evidence.matched_part.text == code_parts.texts[best]
        assert s.score == pytest.approx(scores[s.segment_id, model.codes.index(s.code)])
