"""Suggestion scoring with the real packaged model on a small, clearly separated codebook."""

from __future__ import annotations

import numpy as np
import pytest
from topics import BACKGROUND, CODEBOOK, OFF_TOPIC, PARAPHRASES

from coding.anchored import best_f1_threshold
from coding.codebook import parse_codebook
from coding.suggestions import (
    LabeledExamples,
    SuggestionModel,
    code_prototype_texts,
    embed_code_texts,
)


@pytest.fixture(scope="module")
def codebook():
    return parse_codebook(CODEBOOK)


@pytest.fixture(scope="module")
def parts(minilm, codebook):
    return embed_code_texts(code_prototype_texts(codebook, "topics"), minilm.encode)


@pytest.fixture(scope="module")
def background(minilm):
    return minilm.encode(BACKGROUND + list(PARAPHRASES.values()) + OFF_TOPIC)


@pytest.fixture(scope="module")
def zero_shot(codebook, parts, background):
    return SuggestionModel().fit(codebook, "topics", parts, background=background)


def test_prototype_texts_keep_kinds_and_exclusions(codebook):
    texts = code_prototype_texts(codebook, "topics")
    assert list(texts) == ["cooking", "football", "weather", "banking", "medicine"]
    cooking = texts["cooking"]
    assert [p.kind for p in cooking.parts] == ["label", "definition", "include", "include", "example"]
    assert cooking.exclusions == ("Restaurant business finances and profits",)


def test_a_paraphrase_of_a_definition_ranks_its_code_first(zero_shot, minilm):
    x = minilm.encode(list(PARAPHRASES.values()))
    scores = zero_shot.score(x)
    assert scores.shape == (5, 5) and ((scores >= 0) & (scores <= 1)).all()
    assert [zero_shot.codes[j] for j in scores.argmax(axis=1)] == list(PARAPHRASES)


@pytest.mark.parametrize("aggregate", ["max", "mean", "max+mean"])
def test_every_aggregate_ranks_the_paraphrases_right(codebook, parts, background, minilm, aggregate):
    model = SuggestionModel(aggregate=aggregate).fit(codebook, "topics", parts, background=background)
    scores = model.score(minilm.encode(list(PARAPHRASES.values())))
    assert [model.codes[j] for j in scores.argmax(axis=1)] == list(PARAPHRASES)


def test_an_exclusive_frame_forces_a_choice_and_abstains_only_when_none_is_allowed(zero_shot, parts, minilm,
                                                                                  background):
    ids = [f"p{i}" for i in range(5)] + [f"o{i}" for i in range(len(OFF_TOPIC))]
    x = minilm.encode(list(PARAPHRASES.values()) + OFF_TOPIC)
    scores = zero_shot.score(x)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-6)  # probabilities over the frame's codes
    forced = zero_shot.suggest(ids, x)
    assert [s.segment_id for s in forced] == ids  # every unit gets exactly its best code
    assert all(s.threshold == 0.0 and s.score == scores[i].max() for i, s in enumerate(forced))
    assert {s.segment_id: s.code for s in forced if s.segment_id.startswith("p")} == {
        f"p{i}": c for i, c in enumerate(PARAPHRASES)}
    # off-topic talk gets a low-confidence forced guess, shown as such
    assert max(s.score for s in forced if s.segment_id.startswith("o")) < min(
        s.score for s in forced if s.segment_id.startswith("p"))
    # "nothing applies" turned on: a unit gets nothing below the base-rate threshold of the frame's units;
    # the codebook says each code is on ~3 % of them, so off-topic talk gets nothing
    sparse = SuggestionModel().fit_codes(list(parts), parts, exclusive=True, background=background,
                                         expected_shares={c: 0.03 for c in parts})
    assert sparse.coded_share == pytest.approx(0.15) and sparse.none_source == "prior"
    best = sparse.standardised(background).max(axis=1)
    assert (best >= sparse.none_threshold).mean() == pytest.approx(0.15, abs=1 / len(background))
    by_segment = {s.segment_id: s for s in sparse.suggest(ids, x, allow_none=True)}
    assert not any(i.startswith("o") for i in by_segment), "with 'nothing applies' on, off-topic talk gets nothing"
    # without shares in the codebook the stated default: half the frame's units carry a code
    assert zero_shot.coded_share == 0.5
    assert len(zero_shot.suggest(list(range(len(background))), background, allow_none=True)) == pytest.approx(
        len(background) / 2, abs=1)
    assert {i: s.code for i, s in by_segment.items()} == {f"p{i}": c for i, c in enumerate(PARAPHRASES)}
    for s in by_segment.values():
        assert s.threshold == 0.5
        assert s.evidence.matched_part.kind in {"label", "definition", "include", "example"}
        assert s.evidence.neighbours == ()  # no coded passages yet
    # a rejected code gives way to the next best
    [again] = zero_shot.suggest(["p0"], x[:1], rejected={("p0", "cooking")})
    assert again.code != "cooking" and again.code == zero_shot.codes[int(np.argsort(-scores[0])[1])]


def test_the_temperature_comes_from_the_codebook_or_from_the_codings(zero_shot, codebook, parts, background,
                                                                     minilm):
    assert zero_shot.temperature_source == "codebook" and 0.003 <= zero_shot.temperature <= 1.0
    texts = list(PARAPHRASES.values()) * 3
    examples = LabeledExamples([f"e{i}" for i in range(len(texts))], minilm.encode(texts),
                               [{c} for c in PARAPHRASES] * 3, groups=[i % 5 for i in range(len(texts))])
    learned = SuggestionModel().fit(codebook, "topics", parts, examples, background=background)
    assert learned.temperature_source == "codings"
    fixed = SuggestionModel(temperature=0.2).fit(codebook, "topics", parts, background=background)
    assert fixed.temperature_source == "fixed"
    flat, sharp = fixed.score(minilm.encode(OFF_TOPIC)), zero_shot.score(minilm.encode(OFF_TOPIC))
    assert (flat.max(axis=1) < sharp.max(axis=1)) .all() == (0.2 > zero_shot.temperature)


def test_exclusive_frame_gives_at_most_one_suggestion_other_frames_several(parts, background, minilm):
    mixed = minilm.encode(["After football training in the rain I cooked pasta with tomato sauce for dinner."])
    codes = list(parts)
    exclusive = SuggestionModel(zero_shot_k=0.5).fit_codes(codes, parts, exclusive=True, background=background)
    several = SuggestionModel(zero_shot_k=0.5).fit_codes(codes, parts, exclusive=False, background=background)
    assert (several.score(mixed) >= several.thresholds).sum() >= 2  # two codes clear the bar
    assert len(exclusive.suggest(["m"], mixed)) == 1
    many = several.suggest(["m"], mixed, top_k=3)
    assert 2 <= len(many) <= 3 and len({s.code for s in many}) == len(many)
    assert [s.score for s in many] == sorted((s.score for s in many), reverse=True)  # by probability
    assert len(several.suggest(["m"], mixed, top_k=1)) == 1


def test_the_matched_part_is_the_closest_part_of_the_definition(zero_shot, minilm):
    [s] = zero_shot.suggest(["x"], minilm.encode(["The bank raised the interest rate on my mortgage again."]))
    assert s.code == "banking"
    assert s.evidence.matched_part.kind == "example"
    assert s.evidence.matched_part.text == "The bank raised the interest rate on my mortgage."
    assert s.evidence.matched_part.similarity > 0.9


def test_exclusion_criteria_lower_the_score(codebook, parts, background, minilm):
    x = minilm.encode(["The restaurant business made less profit and its finances are in trouble."])
    with_exclusions = SuggestionModel(exclusion_weight=1.0).fit(codebook, "topics", parts, background=background)
    without = SuggestionModel(exclusion_weight=0.0).fit(codebook, "topics", parts, background=background)
    j = with_exclusions.codes.index("cooking")
    assert with_exclusions.raw_scores(x)[0, j] < without.raw_scores(x)[0, j]
    other = with_exclusions.codes.index("banking")  # a code without exclusions is untouched
    assert with_exclusions.raw_scores(x)[0, other] == pytest.approx(without.raw_scores(x)[0, other])


def _few_shot_examples(minilm):
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
        embeddings=minilm.encode(texts),
        positive=[{"banking"}] * len(positives) + [{c} for c in codes_of_negatives],
        groups=[f"r{i % 7}" for i in range(len(texts))],
    )


def test_anchored_learning_moves_a_prototype_toward_its_examples(codebook, parts, background, minilm, zero_shot):
    examples = _few_shot_examples(minilm)
    model = SuggestionModel(shrinkage=2.0).fit(codebook, "topics", parts, examples, background=background)
    info = {row["code"]: row for row in model.describe()}
    assert info["banking"]["positives"] == 6 and info["banking"]["negatives"] == 8
    assert info["banking"]["shrinkage"] == 2.0 and info["banking"]["threshold_source"] == "forced choice"
    new = minilm.encode(["How much will my pension be when I retire?"])
    j = model.codes.index("banking")
    assert model.raw_scores(new)[0, j] > zero_shot.raw_scores(new)[0, j]
    [s] = model.suggest(["new"], new)
    assert s.code == "banking"
    assert 1 <= len(s.evidence.neighbours) <= 3
    assert all(n.segment_id in {f"e{i}" for i in range(6)} for n in s.evidence.neighbours)
    assert all(n.similarity >= model.min_evidence_similarity for n in s.evidence.neighbours)
    sims = [n.similarity for n in s.evidence.neighbours]
    assert sims == sorted(sims, reverse=True)
    picky = SuggestionModel(shrinkage=2.0, min_evidence_similarity=0.99).fit(codebook, "topics", parts, examples,
                                                                             background=background)
    assert picky.suggest(["new"], new)[0].evidence.neighbours == ()  # weak evidence is hidden


def _convention_examples(minilm):
    """A coder's convention the codebook does not state: delayed trains and buses count as 'weather'."""
    travel = ["The train was cancelled and I waited an hour on the platform.", "My bus was late again this morning.",
              "The tram broke down between two stops.", "Our flight was delayed by three hours.",
              "The metro line was closed for repairs.", "The commuter train skipped my station.",
              "There was a huge queue for the airport shuttle.", "The night bus never came."]
    others = ["Our team won the derby.", "I bake bread on Fridays.", "The doctor gave me antibiotics.",
              "My bank raised the fees.", "We watched the cup final.", "I cook rice with vegetables.",
              "The nurse measured my blood pressure.", "I took a loan for the car."]
    codes = ["football", "cooking", "medicine", "banking"] * 2
    texts = travel + others
    return LabeledExamples([f"e{i}" for i in range(len(texts))], minilm.encode(texts),
                           [{"weather"}] * len(travel) + [{c} for c in codes],
                           groups=[f"r{i % 8}" for i in range(len(texts))])


def test_the_amount_of_learning_is_chosen_by_grouped_cross_validation(codebook, parts, background, minilm,
                                                                      zero_shot):
    from coding.anchored import choose_shrinkage

    examples = _convention_examples(minilm)
    chosen = SuggestionModel().fit(codebook, "topics", parts, examples, background=background)
    assert np.isfinite(chosen.shrinkage)  # the convention is not in the codebook: learning clearly helps
    new = minilm.encode(["The regional train was late and overcrowded."])
    assert chosen.suggest(["n"], new)[0].code == "weather"
    assert zero_shot.suggest(["n"], new)[0].code != "weather"
    # examples whose labels are noise never move the model away from the codebook
    rng = np.random.default_rng(1)
    x = minilm.encode(BACKGROUND)
    labels = np.zeros((len(x), 5), dtype=np.int8)
    labels[np.arange(len(x)), rng.integers(0, 5, len(x))] = 1
    definition = np.vstack([parts[c].parts.mean(axis=0) for c in chosen.codes])
    n0, oof = choose_shrinkage(definition, x, labels, [i % 6 for i in range(len(x))], exclusive=True)
    assert n0 == np.inf and oof.shape == labels.shape
    assert choose_shrinkage(definition, x, labels, [0] * len(x), exclusive=True) == (np.inf, None)  # one group


def test_thresholds_of_a_non_exclusive_frame_are_fitted_by_grouped_cv(parts, background, minilm):
    texts = ([f"I took a loan from the bank number {i}." for i in range(6)]
             + [f"The bank charges interest on my card, month {i}." for i in range(6)] + BACKGROUND[:12])
    positive = [{"banking"}] * 12 + [set()] * 12
    examples = LabeledExamples([f"s{i}" for i in range(24)], minilm.encode(texts), positive,
                               reviewed=[True] * 24, groups=[i % 6 for i in range(24)])
    model = SuggestionModel().fit_codes(list(parts), parts, exclusive=False, examples=examples, background=background)
    info = {row["code"]: row for row in model.describe()}
    assert info["banking"]["threshold_source"] == "cv" and info["weather"]["threshold_source"] == "prior"
    assert info["weather"]["threshold"] == 0.5 and 0 < info["banking"]["threshold"] < 1


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


def test_uncertainty_is_highest_where_the_choice_is_closest(zero_shot, parts, background, minilm):
    x = minilm.encode([PARAPHRASES["weather"], "Could you repeat the question, please?",
                         "I had a cold and also my bank account was blocked."])
    u = zero_shot.uncertainty(x)
    assert u.shape == (3,) and ((u > 0) & (u <= 1)).all()
    z = np.sort(zero_shot.standardised(x), axis=1)
    np.testing.assert_allclose(u, np.exp(-(z[:, -1] - z[:, -2])), atol=1e-6)  # the margin of the best code
    assert u[0] < u[1], "a paraphrase of a definition is more certain than a request to repeat the question"
    several = SuggestionModel().fit_codes(list(parts), parts, exclusive=False, background=background)
    np.testing.assert_allclose(several.uncertainty(x), np.exp(-several.margins(x)), atol=1e-9)


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


def test_fitted_temperature_recovers_the_one_that_made_the_labels():
    from coding.anchored import fit_temperature, softmax

    rng = np.random.default_rng(0)
    scores = rng.normal(size=(4000, 4)) * 0.1
    p = softmax(scores / 0.05)
    gold = np.array([rng.choice(4, p=row) for row in p])
    assert fit_temperature(scores, gold) == pytest.approx(0.05, rel=0.1)


@pytest.mark.parametrize("aggregate", ["mean", "max", "max+mean"])
def test_stacked_scoring_equals_scoring_each_code_on_its_own(codebook, parts, background, minilm, aggregate):
    # scoring stacks every code's parts into one matrix; it must give what the definition says,
    # code by code: cosine to each part, combined, minus the exclusion penalty, then calibrated
    model = SuggestionModel(aggregate=aggregate, exclusion_weight=0.5).fit(codebook, "topics", parts,
                                                                           background=background)
    x = minilm.encode(list(PARAPHRASES.values()) + OFF_TOPIC)
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
