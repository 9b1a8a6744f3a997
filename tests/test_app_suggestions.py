"""Suggestions on the coding page, driven headlessly with AppTest on a copy of the sample database.

The project's embedding model is replaced by a fast word-hashing stand-in (patched into
``coding.service.embedder_for``, which the page's cached loader calls), so the tests run
offline in seconds. What the page shows is compared with what the service computes on the
same data, and every write is checked in the database.
"""

from __future__ import annotations

import numpy as np
import pytest
import streamlit as st
from apptest import APP
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest
from test_app_coding_page import event, send, view
from topics import WordHashing

from coding import service
from coding.database import queries
from coding.database.tables import SuggestionFeedback

PROJECT = "default"
CODER = "newcomer"  # no codings yet: every unit of every transcript is open to suggestions
FRAME = "reform_directions"


@pytest.fixture
def words(monkeypatch):
    """The stand-in model, and how often the app asked for the project's model."""
    model = WordHashing()
    calls = []

    def embedder_for(engine, project=service.DEFAULT_PROJECT):
        calls.append(project)
        return model

    monkeypatch.setattr(service, "embedder_for", embedder_for)
    model.calls = calls
    return model


@pytest.fixture
def suggest_engine(app_engine, words):
    """The app's copy of the sample database with the coder ``newcomer``, caches cleared around it."""
    service.clear_suggestion_cache()
    st.cache_data.clear()
    st.cache_resource.clear()
    service.ensure_coder(app_engine, PROJECT, CODER)
    yield app_engine
    service.clear_suggestion_cache()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    return at


def code_page(document: int, *, suggestions: bool = True, frames: list[str] | None = None,
              coder: str = CODER) -> AppTest:
    """The coding page as ``coder`` on one transcript, suggestions on (or not), narrowed to ``frames``."""
    at = ok(AppTest.from_file(str(APP), default_timeout=60).run())
    ok(at.selectbox(key="_coder_pick").set_value(coder).run())
    ok(at.switch_page("app_pages/code.py").run())
    ok(at.selectbox(key="_doc_pick").set_value(document).run())
    if frames is not None:
        ok(at.multiselect(key="_frames_pick").set_value(frames).run())
    if suggestions:
        ok(at.toggle(key="_suggest_toggle").set_value(True).run())
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.markdown, *at.caption, *at.info, *at.error, *at.success, *at.warning)]
    parts += [e.proto.body for e in at.html]
    return "\n".join(str(p) for p in parts)


def unit_suggestions(at: AppTest, segment: int) -> list[dict]:
    """The suggestions the coding view shows for a unit (its data; the view draws the first one)."""
    return (view(at)["suggestions"] or {}).get(str(segment), [])


def document_id(engine, name: str) -> int:
    return next(d.id for d in service.list_documents(engine, PROJECT) if d.name == name)


def keys(elements, prefix: str) -> list[str]:
    return [w.key for w in elements if (w.key or "").startswith(prefix)]


def expected(engine, words, document: int, frame: str = FRAME, **options):
    """What the service suggests on the same data (the same fitted model the page uses)."""
    return service.suggest(engine, PROJECT, frame=frame, coder=CODER, document_id=document, embedder=words, **options)


def newcomer_codings(engine):
    with Session(engine) as session:
        project = queries.project_by_name(session, PROJECT)
        return queries.codings_frame(session, project.id, coders=[CODER])


# --------------------------------------------------------------------------- tests


def test_suggestions_are_off_by_default_and_load_no_model(suggest_engine, words):
    at = code_page(document_id(suggest_engine, "R05"), suggestions=False)
    assert at.toggle(key="_suggest_toggle").value is False
    assert view(at)["suggestions"] is None
    assert not [e for e in at.expander if "Pre-code" in e.label]
    assert words.calls == []  # opening a transcript never loads the embedding model


def test_a_unit_shows_its_suggestions_with_score_threshold_and_why(suggest_engine, words):
    doc = document_id(suggest_engine, "R05")
    found = expected(suggest_engine, words, doc)
    first = found[0]
    for_unit = [s for s in service.limit_per_unit(found, 3) if s.segment_id == first.segment_id]
    at = code_page(doc, frames=[FRAME])
    assert words.calls  # the model was asked for once suggestions were turned on
    events = len(service.history(suggest_engine, PROJECT))
    shown = unit_suggestions(at, first.segment_id)
    assert [(s["code"], s["label"]) for s in shown] == [(s.code, s.label) for s in for_unit]
    assert [s["score"] for s in shown] == [pytest.approx(s.score, abs=1e-4) for s in for_unit]
    assert [s["threshold"] for s in shown] == [pytest.approx(s.threshold, abs=1e-4) for s in for_unit]
    assert first.evidence.matched_text[:40] in shown[0]["why"]  # why: the matched part of the definition
    assert {s["model_id"] for s in shown} == {"test-word-hashing"}
    # the session remembers the switch across page changes; looking around writes nothing
    ok(at.switch_page("app_pages/overview.py").run())
    ok(at.switch_page("app_pages/code.py").run())
    assert at.toggle(key="_suggest_toggle").value is True and unit_suggestions(at, first.segment_id)
    assert len(service.history(suggest_engine, PROJECT)) == events


def test_the_why_cites_at_most_two_nearby_passages_the_coder_coded(suggest_engine, words, monkeypatch):
    import coding.suggestions

    monkeypatch.setattr(coding.suggestions, "MIN_EVIDENCE_SIMILARITY", 0.0)  # the stand-in model's cosines are low
    service.clear_suggestion_cache()
    # she finished the frame, so her base rates keep suggestions few: take a shown suggestion that cites 3+
    found = service.suggest(suggest_engine, PROJECT, frame="oecd_pslc", coder="aigerim", embedder=words)
    shown_codes = {(s.segment_id, s.code) for s in service.limit_per_unit(found, 3)}
    cited = next(s for s in found if len(s.evidence.neighbours) > 2 and (s.segment_id, s.code) in shown_codes)
    doc = cited.document_id
    at = code_page(doc, frames=["oecd_pslc"], coder="aigerim")
    why = next(s["why"] for s in unit_suggestions(at, cited.segment_id) if s["code"] == cited.code)
    first, second, third = cited.evidence.neighbours[:3]
    for n in (first, second):
        assert f"closest coded: {n.document} ({n.similarity:.2f}): “{n.text[:30]}" in why
    assert f"closest coded: {third.document} ({third.similarity:.2f}): “{third.text[:30]}" not in why
    service.clear_suggestion_cache()  # the next tests see the default minimum similarity again


def test_a_unit_without_suggestions_says_the_model_abstains(suggest_engine, words):
    doc = document_id(suggest_engine, "R05")
    suggested = {s.segment_id for s in expected(suggest_engine, words, doc)}
    units = service.document_view(suggest_engine, PROJECT, doc, viewer=CODER)
    quiet = next(s.id for s in units.segments if s.is_unit and s.id not in suggested)
    at = code_page(doc, frames=[FRAME])
    assert unit_suggestions(at, quiet) == []
    assert "the model abstains" in view(at)["suggestions_note"]


def test_an_exclusive_frame_names_its_best_code_until_the_coder_allows_nothing_applies(suggest_engine, words):
    exclusive = "contract_service"
    assert service.project_codebook(suggest_engine, PROJECT).frame(exclusive).mutually_exclusive
    doc = document_id(suggest_engine, "R05")
    forced = expected(suggest_engine, words, doc, frame=exclusive)
    allowed = {s.segment_id for s in expected(suggest_engine, words, doc, frame=exclusive, allow_none=True)}
    units = [s.id for s in service.document_view(suggest_engine, PROJECT, doc, viewer=CODER).segments if s.is_unit]
    assert {s.segment_id for s in forced} == set(units)  # forced choice: every unit gets its best code
    unit = next(u for u in units if u not in allowed)  # the stand-in model is unsure here
    at = code_page(doc, frames=[exclusive])
    best = next(s for s in forced if s.segment_id == unit)
    assert [s["code"] for s in unit_suggestions(at, unit)] == [best.code]
    assert at.toggle(key="_suggest_allow_none_pick").value is False
    ok(at.toggle(key="_suggest_allow_none_pick").set_value(True).run())
    assert unit_suggestions(at, unit) == []
    ok(at.run())  # the choice holds on the next runs
    assert at.toggle(key="_suggest_allow_none_pick").value is True


def test_accept_saves_a_suggestion_coding_with_score_and_model(suggest_engine, words):
    doc = document_id(suggest_engine, "R05")
    take = expected(suggest_engine, words, doc)[0]
    at = code_page(doc, frames=[FRAME])
    shown = unit_suggestions(at, take.segment_id)[0]
    assert shown["code"] == take.code
    acks = send(at, CODER, event(take.segment_id, "accept", code=shown["code"], score=shown["score"],
                                 model_id=shown["model_id"]))  # what "a" sends
    assert acks[-1]["status"] == "applied"
    saved = newcomer_codings(suggest_engine)
    assert list(zip(saved["segment_id"], saved["code"])) == [(take.segment_id, take.code)]
    row = saved.iloc[0]
    assert row["source"] == "suggestion" and row["model_id"] == "test-word-hashing"
    assert row["score"] == pytest.approx(take.score, abs=1e-4)
    assert view(at)["state"][str(take.segment_id)]["mine"] == [take.code]  # the view draws it as the coder's


def test_reject_records_feedback_and_the_suggestion_disappears(suggest_engine, words):
    doc = document_id(suggest_engine, "R05")
    drop = expected(suggest_engine, words, doc)[0]
    at = code_page(doc, frames=[FRAME])
    send(at, CODER, event(drop.segment_id, "reject", code=drop.code, score=round(drop.score, 4),
                          model_id="test-word-hashing"))  # what "x" sends
    with Session(suggest_engine) as session:
        [feedback] = session.exec(select(SuggestionFeedback)).all()
    assert (feedback.segment_id, feedback.decision) == (drop.segment_id, "reject")
    assert feedback.model_id == "test-word-hashing"
    assert feedback.score == pytest.approx(drop.score, abs=1e-4)
    assert newcomer_codings(suggest_engine).empty  # a reject codes nothing
    assert view(at)["rejected"] == {str(drop.segment_id): [drop.code]}  # the view no longer shows it
    assert (drop.segment_id, drop.code) not in {(s.segment_id, s.code) for s in expected(suggest_engine, words, doc)}


def test_bulk_accept_takes_exactly_the_suggestions_at_or_above_the_minimum(suggest_engine, words):
    doc = document_id(suggest_engine, "R05")
    review = service.precode_document(suggest_engine, PROJECT, frame=FRAME, coder=CODER, document_id=doc, embedder=words)
    min_score = round(float(np.median([s.score for s in review])), 2)
    chosen = [s for s in review if s.score >= min_score]
    assert 0 < len(chosen) < len(review)
    at = code_page(doc)
    ok(at.selectbox(key="_precode_frame").set_value(FRAME).run())
    ok(at.slider(key="_precode_min").set_value(min_score).run())
    table = at.dataframe[0].value
    assert len(table) == len(chosen) and (table["score"] >= min_score).all()
    assert at.button(key="_bulk_accept").label == f"Bulk accept ≥ {min_score:.2f} ({len(chosen)})"
    assert newcomer_codings(suggest_engine).empty  # choosing the frame and the score wrote nothing
    ok(at.button(key="_bulk_accept").click().run())
    saved = newcomer_codings(suggest_engine)
    assert sorted(zip(saved["segment_id"], saved["code"])) == sorted((s.segment_id, s.code) for s in chosen)
    assert set(saved["source"]) == {"suggestion"}
    assert f"Accepted {len(chosen)} suggestions scoring {min_score:.2f} or more." in texts(at)


def test_the_uncertain_first_queue_jumps_to_a_unit(suggest_engine, words):
    doc = document_id(suggest_engine, "R05")
    queue = service.uncertain_first(suggest_engine, PROJECT, frame=FRAME, coder=CODER, document_id=doc, limit=10,
                                    embedder=words)
    at = code_page(doc, frames=[FRAME])
    [box] = [w for w in at.selectbox if (w.key or "").startswith("_uncertain_")]
    assert box.options and len(box.options) == len(queue) and box.value is None
    target = queue[-1].segment_id
    assert target != view(at)["select"]["unit"]
    ok(box.set_value(target).run())
    assert at.session_state["seg_id"] == target
    assert view(at)["select"]["unit"] == target  # the view is asked to move there (a new nonce)


def test_the_view_orders_units_from_least_to_most_certain_and_shows_margins_and_notes(suggest_engine, words):
    doc = document_id(suggest_engine, "R05")
    shown = service.limit_per_unit(expected(suggest_engine, words, doc), 3)
    at = code_page(doc, frames=[FRAME])
    data = view(at)
    order = list(dict.fromkeys(s.segment_id for s in service.confidence_order(shown)))
    assert data["doubtful"] == order and len(order) > 1
    margins = [max(s.margin for s in shown if s.segment_id == unit) for unit in order]
    assert margins == sorted(margins)  # least certain first
    first = shown[0]
    card = next(s for s in unit_suggestions(at, first.segment_id) if s["code"] == first.code)
    assert card["margin"] == pytest.approx(first.margin, abs=1e-3)
    notes = service.suggestion_notes(suggest_engine, PROJECT, frame=FRAME, coder=CODER, embedder=words)
    assert notes and data["suggestions_status"] == " · ".join(notes)
