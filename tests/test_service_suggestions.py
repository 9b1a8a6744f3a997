"""The suggestion facade: embedding cache, suggest / accept / reject, pre-coding, active learning, evaluation.

DB behaviour runs on both backends with a small project (a five-topic codebook and the real
packaged model; vectors are memoised per process so each text is encoded once). Tests on the
24-interview sample corpus use a word-hashing embedder: they check structure (folds, limits,
queues), not model quality, and stay fast.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
from sqlmodel import Session, select
from topics import BACKGROUND, CODEBOOK, OFF_TOPIC, PARAPHRASES, WordHashing

from coding import service
from coding.database import queries
from coding.database.embedding_store import SqlEmbeddingStore
from coding.database.tables import CodeFrame, Coding, CodingEvent, SuggestionFeedback
from coding.errors import CodeframeError, NotFound, PermissionDenied
from coding.service.agreement import model_codings
from coding.service.suggestions import fitted_suggester, frame_background_rows, frame_documents

_MEMO: dict[tuple[str, str], np.ndarray] = {}


class Recording:
    """Wraps an embedder, counting the texts it is asked to encode; vectors are memoised per process."""

    def __init__(self, inner, model_id: str | None = None):
        self.inner = inner
        self.model_id = model_id or inner.model_id
        self.dim = inner.dim
        self.encoded = 0

    def encode(self, texts, *, batch_size=64):
        self.encoded += len(texts)
        missing = [t for t in dict.fromkeys(texts) if (self.inner.model_id, t) not in _MEMO]
        if missing:
            for t, v in zip(missing, self.inner.encode(missing, batch_size=batch_size)):
                _MEMO[(self.inner.model_id, t)] = v
        return np.vstack([_MEMO[(self.inner.model_id, t)] for t in texts])


@pytest.fixture(autouse=True)
def fresh_process_cache():
    service.clear_suggestion_cache()
    yield
    service.clear_suggestion_cache()


@pytest.fixture
def real(minilm):
    return Recording(minilm)


@pytest.fixture
def topics(engine, tmp_path):
    """Project 't': the topics codebook and one interview whose 29 units are the texts above."""
    codebook = tmp_path / "topics.yaml"
    codebook.write_text(CODEBOOK, encoding="utf-8")
    service.create_project(engine, "t", codebook_path=codebook)
    for name, role in (("ann", "coder"), ("bob", "coder"), ("sup", "supervisor"), ("consensus", "supervisor")):
        service.ensure_coder(engine, "t", name, role=role)
    turns = ["Interviewer: Tell me about your week."]
    turns += [f"Respondent: {s}" for s in BACKGROUND[:10] + list(PARAPHRASES.values()) + OFF_TOPIC + BACKGROUND[10:]]
    transcript = tmp_path / "T1.txt"
    transcript.write_text("\n\n".join(turns) + "\n", encoding="utf-8")
    service.import_transcripts(engine, "t", [transcript], language="en")
    return "t"


def _segment_ids(engine, project) -> dict[str, int]:
    with Session(engine) as session:
        units = queries.units_frame(session, queries.project_by_name(session, project).id)
    return dict(zip(units["text"], units["segment_id"]))


# --------------------------------------------------------------------------- real model, both backends


def test_a_paraphrase_of_a_definition_ranks_its_code_first_through_the_facade(engine, topics, real):
    ids = _segment_ids(engine, topics)
    found = service.suggest(engine, topics, frame="topics", coder="ann", embedder=real)
    by_segment = {s.segment_id: s for s in found}
    for code, text in PARAPHRASES.items():
        assert by_segment[ids[text]].code == code, text
    first = by_segment[ids[PARAPHRASES["banking"]]]
    assert first.model_id == "all-MiniLM-L6-v2" and first.document == "T1" and first.label == "Banking and loans"
    assert first.evidence.matched_kind in {"label", "definition", "include", "example"}
    assert first.evidence.matched_text in CODEBOOK


def test_an_exclusive_frame_answers_every_unit_and_nothing_applies_only_when_turned_on(engine, topics, real,
                                                                                      tmp_path):
    ids = _segment_ids(engine, topics)
    forced = service.suggest(engine, topics, frame="topics", coder="ann", embedder=real)
    assert sorted(s.segment_id for s in forced) == sorted(ids.values())  # forced choice: one code per unit
    off_topic = {ids[t] for t in OFF_TOPIC}
    assert all(0 < s.score <= 1 and s.threshold == 0 for s in forced)
    # "nothing applies" on, no base rates in the codebook: the stated default, half the units carry a code
    found = service.suggest(engine, topics, frame="topics", coder="ann", embedder=real, allow_none=True)
    assert abs(len(found) - len(ids) / 2) <= 1 and all(s.score >= s.threshold for s in found)
    assert {ids[t] for t in PARAPHRASES.values()} <= {s.segment_id for s in found}
    # the codebook says each code is on ~3 % of the units: off-topic talk gets nothing
    rare = tmp_path / "rare.yaml"
    rare.write_text(re.sub(r"(\n(\s+)examples: .*)", r"\1\n\2expected_share: 0.03", CODEBOOK), encoding="utf-8")
    service.apply_codebook(engine, topics, path=rare)
    found = service.suggest(engine, topics, frame="topics", coder="ann", embedder=real, allow_none=True)
    assert not {s.segment_id for s in found} & off_topic
    assert all(s.score >= s.threshold for s in found)
    assert len(found) < len(ids) / 4  # with "nothing applies" on and rare codes, abstention is the rule


def test_embed_units_reuses_the_database_cache_and_a_new_model_misses_it(engine, topics, real):
    units, first = service.embed_units(engine, topics, embedder=real)
    assert real.encoded == len(units) == len(BACKGROUND) + len(PARAPHRASES) + len(OFF_TOPIC)
    assert SqlEmbeddingStore(engine).count("all-MiniLM-L6-v2") == len(units)

    service.clear_suggestion_cache()  # as after re-opening the project in a new process
    again = Recording(real.inner)
    units_again, second = service.embed_units(engine, topics, embedder=again)
    assert again.encoded == 0
    assert units_again["segment_id"].tolist() == units["segment_id"].tolist()
    np.testing.assert_array_equal(first, second)

    other = Recording(real.inner, model_id="another-model")
    service.embed_units(engine, topics, embedder=other)
    assert other.encoded == len(units)
    assert SqlEmbeddingStore(engine).count("another-model") == len(units)

    one_document = service.list_documents(engine, topics)[0].id
    _, subset = service.embed_units(engine, topics, embedder=again, document_ids=[one_document])
    assert again.encoded == 0 and subset.shape == first.shape
    with pytest.raises(NotFound):
        service.embed_units(engine, topics, embedder=again, document_ids=[one_document + 999])


def test_accept_and_reject_are_logged_with_model_and_score(engine, topics, real):
    ids = _segment_ids(engine, topics)
    found = {s.segment_id: s for s in service.suggest(engine, topics, frame="topics", coder="ann", embedder=real)}
    take, drop = found[ids[PARAPHRASES["weather"]]], found[ids[PARAPHRASES["football"]]]
    assert (take.code, drop.code) == ("weather", "football")
    coding_id = service.accept_suggestion(engine, topics, segment_id=take.segment_id, code="weather", coder="ann",
                                          score=take.score, model_id=take.model_id)
    service.reject_suggestion(engine, topics, segment_id=drop.segment_id, code="football", coder="ann",
                              score=drop.score, model_id=drop.model_id)
    with Session(engine) as session:
        coding = session.get(Coding, coding_id)
        assert (coding.segment_id, coding.source, coding.model_id) == (take.segment_id, "suggestion", "all-MiniLM-L6-v2")
        assert coding.score == pytest.approx(take.score)
        [event] = session.exec(select(CodingEvent).where(CodingEvent.segment_id == take.segment_id)).all()
        assert (event.action, event.source, event.after["model_id"]) == ("add", "suggestion", "all-MiniLM-L6-v2")
        assert event.after["score"] == pytest.approx(take.score)
        feedback = {f.segment_id: f for f in session.exec(select(SuggestionFeedback)).all()}
        assert feedback[take.segment_id].decision == "accept"
        assert feedback[drop.segment_id].decision == "reject"
        assert feedback[drop.segment_id].score == pytest.approx(drop.score)
        assert feedback[drop.segment_id].model_id == "all-MiniLM-L6-v2"
        assert session.exec(select(Coding).where(Coding.segment_id == drop.segment_id)).all() == []


def test_a_rejected_suggestion_is_not_offered_again_to_that_coder(engine, topics, real):
    ids = _segment_ids(engine, topics)
    segment = ids[PARAPHRASES["medicine"]]
    before = [s for s in service.suggest(engine, topics, frame="topics", coder="ann", embedder=real)
              if s.segment_id == segment]
    assert [s.code for s in before] == ["medicine"]
    service.reject_suggestion(engine, topics, segment_id=segment, code="medicine", coder="ann")
    after = service.suggest(engine, topics, frame="topics", coder="ann", embedder=real, include_coded=True)
    assert ("medicine", segment) not in {(s.code, s.segment_id) for s in after}
    others = service.suggest(engine, topics, frame="topics", coder="bob", embedder=real)
    assert ("medicine", segment) in {(s.code, s.segment_id) for s in others}  # remembered per coder


def test_accepted_segments_are_skipped_unless_asked_and_permissions_apply(engine, topics, real):
    ids = _segment_ids(engine, topics)
    segment = ids[PARAPHRASES["cooking"]]
    with pytest.raises(PermissionDenied):
        service.accept_suggestion(engine, topics, segment_id=segment, code="cooking", coder="ann", actor="bob",
                                  score=0.9, model_id="all-MiniLM-L6-v2")
    with pytest.raises(PermissionDenied):
        service.reject_suggestion(engine, topics, segment_id=segment, code="cooking", coder="ann", actor="bob")
    with pytest.raises(CodeframeError):
        service.accept_suggestion(engine, topics, segment_id=segment, code="cooking", coder="ann", score=1.5,
                                  model_id="all-MiniLM-L6-v2")
    service.accept_suggestion(engine, topics, segment_id=segment, code="cooking", coder="ann", actor="sup",
                              score=0.9, model_id="all-MiniLM-L6-v2")
    skipped = service.suggest(engine, topics, frame="topics", coder="ann", embedder=real)
    assert segment not in {s.segment_id for s in skipped}
    shown = service.suggest(engine, topics, frame="topics", coder="ann", embedder=real, include_coded=True)
    assert [s.code for s in shown if s.segment_id == segment] == ["cooking"]


# --------------------------------------------------------------------------- sample corpus, fast model


@pytest.fixture
def words():
    return WordHashing()


def _document_id(engine, name: str) -> int:
    return next(d.id for d in service.list_documents(engine) if d.name == name)


def test_patching_embedder_for_reaches_every_internal_fallback(sample_engine, words, monkeypatch):
    # The package looks the default embedder up on coding.service at call time (one seam), so
    # replacing it there reaches the fallbacks in every submodule, as it did in the one-file facade.
    asked = []

    def embedder_for(engine, project=service.DEFAULT_PROJECT):
        asked.append(project)
        return words

    monkeypatch.setattr(service, "embedder_for", embedder_for)
    units, matrix = service.embed_units(sample_engine)
    assert len(asked) == 1 and matrix.shape == (len(units), words.dim)
    found = service.suggest(sample_engine, frame="reform_directions", coder="daniyar")
    assert len(asked) == 2 and found and {s.model_id for s in found} == {words.model_id}
    service.uncertain_first(sample_engine, frame="reform_directions", coder="daniyar", limit=3)
    assert len(asked) == 3
    result = service.evaluate_suggestions(sample_engine, frame="reform_directions", n_splits=2)
    assert len(asked) == 4 and result.model_id == words.model_id
    assert asked == ["default"] * 4


def test_cross_validation_never_puts_a_respondent_in_train_and_test(sample_engine, words):
    result = service.evaluate_suggestions(sample_engine, frame="reform_directions", gold="consensus",
                                          n_splits=5, seed=3, embedder=words)
    respondents = {d.respondent for d in service.list_documents(sample_engine)}
    assert len(result.fold_respondents) == 5 and result.respondents == len(respondents) == 24
    tested = Counter()
    for train, test in result.fold_respondents:
        assert not train & test
        assert train | test == respondents
        tested.update(test)
    assert tested == Counter({r: 1 for r in respondents})  # every interview is tested exactly once
    assert result.folds["test_units"].sum() == result.units
    assert (result.folds["train_units"] + result.folds["test_units"] == result.units).all()
    for row in result.folds.itertuples():
        assert not set(row.train_respondents.split(", ")) & set(row.test_respondents.split(", "))
    other_seed = service.evaluate_suggestions(sample_engine, frame="reform_directions", n_splits=5, seed=4,
                                              embedder=words)
    assert other_seed.fold_respondents != result.fold_respondents


def test_evaluation_reports_both_settings_on_the_units_the_gold_coder_covered(sample_engine, words):
    result = service.evaluate_suggestions(sample_engine, frame="oecd_pslc", embedder=words)
    with Session(sample_engine) as session:
        project = queries.project_by_name(session, "default")
        pslc = queries.codings_frame(session, project.id, frame="oecd_pslc", coders=["consensus"])
        covered = queries.units_frame(session, project.id, document_ids=sorted(set(pslc["document_id"])))
    assert result.units == len(covered) and result.respondents == 10
    assert result.gold_codings == len(pslc)
    codes = [c.id for c in service.project_codebook(sample_engine).codes("oecd_pslc")]
    for table in (result.zero_shot, result.few_shot):
        assert table["code"].tolist() == codes + ["(micro)", "(macro)"]
        assert table.loc[table["code"] == "(micro)", "support"].item() == len(pslc)
    combined = result.table()
    assert set(combined["setting"]) == {"zero-shot", "few-shot (CV)"} and len(combined) == 2 * (len(codes) + 2)
    assert set(result.ranking["k"]) == {1, 3}
    assert result.curve["examples_per_code"].tolist() == [0, 2, 4, 8, 16]
    top1_zero = result.ranking.set_index(["setting", "k"])["accuracy"][("zero-shot", 1)]
    assert result.curve.iloc[0]["top1"] == pytest.approx(top1_zero)  # the curve's 0 is the zero-shot ranking
    assert set(result.calibration["setting"]) == {"zero-shot", "few-shot (CV)"}
    assert ((result.calibration["ece"] >= 0) & (result.calibration["ece"] <= 1)).all()
    assert result.reliability.groupby("setting")["predictions"].sum().tolist() == result.calibration[
        "predictions"].tolist()
    top1 = result.ranking.set_index(["setting", "k"])["accuracy"]
    assert (top1.xs(3, level="k") >= top1.xs(1, level="k")).all()
    with pytest.raises(CodeframeError, match="folds"):
        service.evaluate_suggestions(sample_engine, frame="oecd_pslc", n_splits=11, embedder=words)
    with pytest.raises(CodeframeError, match="nothing to evaluate"):
        service.evaluate_suggestions(sample_engine, frame="cs_values", embedder=words)


def test_an_exclusive_frame_gives_at_most_one_suggestion_per_segment(sample_engine, words):
    several = service.suggest(sample_engine, frame="oecd_pslc", coder="aigerim", top_k=3, include_coded=True,
                              embedder=words)
    per_segment = Counter(s.segment_id for s in several)
    assert max(per_segment.values()) > 1 and max(per_segment.values()) <= 3
    with Session(sample_engine) as session:  # the same frame, now declared mutually exclusive
        frame = session.exec(select(CodeFrame).where(CodeFrame.key == "oecd_pslc")).one()
        frame.mutually_exclusive = True
        session.add(frame)
        session.commit()
    one_each = service.suggest(sample_engine, frame="oecd_pslc", coder="aigerim", top_k=3, include_coded=True,
                               embedder=words)
    assert max(Counter(s.segment_id for s in one_each).values()) == 1
    assert {s.segment_id for s in one_each} >= set(per_segment)  # forced choice: every unit gets its best code
    every = service.suggest_frames(sample_engine, frames=["reform_directions", "oecd_pslc", "cs_values"],
                                   coder="aigerim", top_k=2, include_coded=True, embedder=words)
    per_unit: dict = {}
    for s in every:
        per_unit.setdefault(s.segment_id, []).append(s.score)
    assert max(len(v) for v in per_unit.values()) <= 2  # K across frames, not per frame
    assert all(v == sorted(v, reverse=True) for v in per_unit.values())  # by probability, not by frame
    contract = service.suggest(sample_engine, frame="contract_service", coder="daniyar", include_coded=True,
                               embedder=words)
    assert contract and max(Counter(s.segment_id for s in contract).values()) == 1


def test_suggestions_skip_coded_segments_and_cite_coded_passages(sample_engine, words):
    r01 = _document_id(sample_engine, "R01")
    with Session(sample_engine) as session:
        project = queries.project_by_name(session, "default")
        mine = queries.codings_frame(session, project.id, frame="reform_directions", coders=["aigerim"])
    # she finished the frame everywhere, so her base rates are low and few units pass: take a document
    # where a suggestion cites her coded passages
    everywhere = service.suggest(sample_engine, frame="reform_directions", coder="aigerim", embedder=words)
    document = next(s.document for s in everywhere if s.evidence.neighbours)
    found = service.suggest(sample_engine, frame="reform_directions", coder="aigerim",
                            document_id=_document_id(sample_engine, document), embedder=words)
    assert found and {s.document for s in found} == {document}
    assert not {s.segment_id for s in found} & set(mine["segment_id"])
    own_passages = set(zip(mine["document"], mine["text"]))  # blind mode: only her own codings teach her
    cited = [n for s in found for n in s.evidence.neighbours]
    assert cited and all((n.document, n.text) in own_passages for n in cited)
    assert all(n.segment_id != s.segment_id for s in found for n in s.evidence.neighbours)
    with pytest.raises(NotFound):
        service.suggest(sample_engine, frame="reform_directions", coder="aigerim", document_id=99999, embedder=words)
    assert r01
    with pytest.raises(NotFound):
        service.suggest(sample_engine, frame="no_such_frame", coder="aigerim", embedder=words)


def test_precode_then_bulk_accept_above_a_minimum_score(sample_engine, words):
    service.ensure_coder(sample_engine, name="newcomer")
    r05 = _document_id(sample_engine, "R05")
    review = service.precode_document(sample_engine, frame="reform_directions", coder="newcomer",
                                      document_id=r05, embedder=words)
    assert review and {s.document for s in review} == {"R05"}
    min_score = float(np.median([s.score for s in review]))
    expected = [s for s in review if s.score >= min_score]
    assert 0 < len(expected) < len(review)
    assert service.precode_document(sample_engine, frame="reform_directions", coder="newcomer", document_id=r05,
                                    min_score=min_score, embedder=words) == expected
    accepted = service.bulk_accept(sample_engine, frame="reform_directions", coder="newcomer", document_id=r05,
                                   min_score=min_score, embedder=words)
    assert accepted == len(expected)
    with Session(sample_engine) as session:
        project = queries.project_by_name(session, "default")
        saved = queries.codings_frame(session, project.id, coders=["newcomer"])
        decisions = session.exec(select(SuggestionFeedback.decision)).all()
    assert sorted(zip(saved["segment_id"], saved["code"])) == sorted((s.segment_id, s.code) for s in expected)
    assert set(saved["source"]) == {"suggestion"} and set(saved["model_id"]) == {"test-word-hashing"}
    assert decisions == ["accept"] * len(expected)
    left = service.precode_document(sample_engine, frame="reform_directions", coder="newcomer", document_id=r05,
                                    embedder=words)
    assert not {s.segment_id for s in left} & set(saved["segment_id"])


def test_uncertain_first_queues_unlabelled_units_most_uncertain_first(sample_engine, words):
    service.ensure_coder(sample_engine, name="newcomer")
    queue = service.uncertain_first(sample_engine, frame="reform_directions", coder="newcomer", limit=15,
                                    embedder=words)
    assert len(queue) == 15
    values = [q.uncertainty for q in queue]
    assert values == sorted(values, reverse=True) and all(0 <= v <= 1 for v in values)
    codes = {c.id for c in service.project_codebook(sample_engine).codes("reform_directions")}
    assert all(q.best_code in codes for q in queue)
    # aigerim finished this frame on every document: nothing is left for her to label
    assert service.uncertain_first(sample_engine, frame="reform_directions", coder="aigerim", embedder=words) == []
    r02 = _document_id(sample_engine, "R02")
    only = service.uncertain_first(sample_engine, frame="reform_directions", coder="newcomer", document_id=r02,
                                   limit=500, embedder=words)
    assert only and {q.document for q in only} == {"R02"}


def test_every_suggestion_carries_its_margin_and_the_confidence_order_puts_doubtful_units_first(sample_engine,
                                                                                                 words):
    service.ensure_coder(sample_engine, name="newcomer")
    found = service.suggest(sample_engine, frame="contract_service", coder="newcomer", embedder=words)
    fitted = fitted_suggester(sample_engine, "default", frame="contract_service", coder="newcomer", embedder=words)
    row = {s: i for i, s in enumerate(fitted.columns["segment_id"])}
    z = fitted.model.standardised(fitted.matrix[[row[s.segment_id] for s in found]])
    assert len(z[0]) == 2  # two codes: the margin is the gap between their standardised scores
    np.testing.assert_allclose([s.margin for s in found], np.abs(z[:, 0] - z[:, 1]), atol=1e-3)
    ordered = service.suggest(sample_engine, frame="contract_service", coder="newcomer", order="uncertain",
                              embedder=words)
    assert [s.margin for s in ordered] == sorted(s.margin for s in found)
    assert ordered == service.confidence_order(found)
    queue = service.uncertain_first(sample_engine, frame="contract_service", coder="newcomer", limit=5,
                                    embedder=words)
    assert [q.segment_id for q in queue] == [s.segment_id for s in ordered[:5]]
    with pytest.raises(CodeframeError, match="order must be one of document, uncertain"):
        service.suggest(sample_engine, frame="contract_service", coder="newcomer", order="random", embedder=words)
    notes = service.suggestion_notes(sample_engine, frame="contract_service", coder="newcomer", embedder=words)
    assert notes[0] == "standardised over the 177 units of the 7 documents frame 'contract_service' is coded on"


def test_the_background_is_the_frame_s_documents_and_small_or_lopsided_ones_are_flagged(engine, topics, real):
    from coding.base_rates import background_notes

    with Session(engine) as session:
        row = queries.project_by_name(session, topics)
        frame_row = session.exec(select(CodeFrame).where(CodeFrame.key == "topics")).one()
        units = queries.units_frame(session, row.id)
        rows, note = frame_background_rows(frame_documents(session, row, frame_row), units, "topics")
    assert rows == list(range(len(units))) and note == f"standardised over the {len(units)} units of the documents in scope"
    import pandas as pd

    made = pd.DataFrame({"document_id": [1] * 10 + [2] * 60 + [3] * 30})  # 1 excluded, frame coded on 2
    rows, note = frame_background_rows(({1}, {1, 2}), made, "f")
    assert rows == list(range(10, 70)) and note == "standardised over the 60 units of the 1 document frame 'f' is coded on"
    rows, _ = frame_background_rows(({1}, {3}), made, "f")  # 30 units where it is coded: too few, so all in scope
    assert rows == list(range(10, 100))
    [small] = service.suggestion_notes(engine, topics, frame="topics", coder="ann", embedder=real)[1:]
    assert f"standardised on only {len(units)} units" in small  # 29 units: fewer than 50
    assert "only 5 units to standardise" in background_notes(5, None, ["a", "b"])[0]
    lopsided = np.array([[1, 0]] * 9 + [[0, 1]] * 2 + [[0, 0]] * 5)
    assert "one code dominates the coded units (a: 82% of 11)" in background_notes(200, lopsided, ["a", "b"])[0]


def test_the_fitted_model_is_reused_until_the_coder_changes_something(sample_engine, words):
    fitted = fitted_suggester(sample_engine, "default", frame="contract_service", coder="daniyar", embedder=words)
    again = fitted_suggester(sample_engine, "default", frame="contract_service", coder="daniyar", embedder=words)
    assert again is fitted
    found = service.suggest(sample_engine, frame="contract_service", coder="daniyar", embedder=words)
    unlabelled = [s for s in found if s.document_id not in fitted.covered_documents]
    assert unlabelled, "some suggestion falls in a document nobody has coded in this frame"
    candidate = unlabelled[0]
    service.reject_suggestion(sample_engine, segment_id=candidate.segment_id, code=candidate.code, coder="daniyar",
                              score=candidate.score, model_id=candidate.model_id)
    refitted = fitted_suggester(sample_engine, "default", frame="contract_service", coder="daniyar",
                                  embedder=words)
    assert refitted is not fitted
    assert (candidate.segment_id, candidate.code) in refitted.rejected
    before = {row["code"]: row["negatives"] for row in fitted.model.describe()}
    after = {row["code"]: row["negatives"] for row in refitted.model.describe()}
    assert after == {**before, candidate.code: before[candidate.code] + 1}  # the reject became a negative


def test_in_blind_mode_the_consensus_neither_teaches_nor_shows_through_evidence(sample_engine, words):
    with Session(sample_engine) as session:
        project = queries.project_by_name(session, "default")
        consensus = queries.codings_frame(session, project.id, frame="reform_directions", coders=["consensus"])
        mine = queries.codings_frame(session, project.id, frame="reform_directions", coders=["aigerim"])
    only_consensus = set(zip(consensus["document"], consensus["text"])) - set(zip(mine["document"], mine["text"]))
    assert only_consensus  # the adjudication kept passages aigerim did not code

    def cited(coder):
        found = service.suggest(sample_engine, frame="reform_directions", coder=coder, embedder=words, top_k=5)
        return {(n.document, n.text) for s in found for n in s.evidence.neighbours}

    def positives():
        fitted = fitted_suggester(sample_engine, "default", frame="reform_directions", coder="aigerim",
                                  embedder=words)
        return sum(row["positives"] for row in fitted.model.describe())

    assert not cited("aigerim") & only_consensus
    blind = positives()
    service.update_settings(sample_engine, blind_mode=False)
    service.clear_suggestion_cache()
    assert positives() > blind  # once others' codings are visible, the consensus teaches too


@pytest.mark.parametrize("unit", ["segment", "respondent"])
def test_the_suggestion_model_can_be_a_coder_in_the_agreement_tables(sample_engine, words, monkeypatch, unit):
    import coding.embeddings

    monkeypatch.setattr(coding.embeddings, "load_embedder", lambda model_id, **_: words)
    with Session(sample_engine) as session:
        before = len(session.exec(select(Coding)).all())
    report = service.agreement_report(sample_engine, frame="contract_service", unit=unit, n_boot=0,
                                      coders=["aigerim", "consensus", "model:test-word-hashing"])
    assert report.coders == ["aigerim", "consensus", "model:test-word-hashing"]
    codes = [c.id for c in service.project_codebook(sample_engine).codes("contract_service")]
    assert set(codes) <= set(report.table["code"])
    with Session(sample_engine) as session:
        assert len(session.exec(select(Coding)).all()) == before  # the model never writes codings
    shown = model_codings(sample_engine, "default", frame="contract_service", model_id="test-word-hashing")
    assert shown["unit"].is_unique  # forced choice: one code per unit in an exclusive frame
    with pytest.raises(CodeframeError, match="name the model"):
        model_codings(sample_engine, "default", frame="contract_service", model_id="")
