"""The coding page's facade: ticks that say what an exclusive frame replaced, "read, nothing applies"
marks, next unread (wrapping, skipping marks), reading progress, the undo list; SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from coding import service
from coding.errors import CodeframeError
from coding.service import coding_page as page

P = "default"
TRANSCRIPT = (
    "Interviewer: How did the reform go?\n"
    "Respondent: We need a systematic approach.\n"
    "Interviewer: And trust?\n"
    "Respondent: Trust in government is low.\n"
    "Interviewer: Contract staff?\n"
    "Respondent: Contracts should cover narrow specialists only.\n"
)


@pytest.fixture
def units(engine):
    service.create_project(engine, P)
    service.import_transcripts(engine, P, [("R01.txt", TRANSCRIPT.encode())], unit="turn")
    service.ensure_coder(engine, P, "ann")
    service.ensure_coder(engine, P, "bob")
    document = service.list_documents(engine, P)[0]
    return document.id, [s.id for s in service.document_view(engine, P, document.id, viewer="ann").segments
                         if s.is_unit]


def _codes(engine, document, coder, segment):
    view = service.document_view(engine, P, document, viewer=coder)
    return {c.code for s in view.segments if s.id == segment for c in s.codings if c.coder == coder}


def test_tick_in_an_exclusive_frame_says_what_it_replaced(engine, units):
    document, (a, b, c) = units
    assert page.tick(engine, P, segment_id=c, code="cs_evolutionary", coder="ann", on=True) == page.TickResult(True)
    result = page.tick(engine, P, segment_id=c, code="cs_progressive", coder="ann", on=True)
    assert result.replaced == ("cs_evolutionary",)
    assert _codes(engine, document, "ann", c) == {"cs_progressive"}
    assert page.tick(engine, P, segment_id=c, code="cs_progressive", coder="ann", on=False).applied is False
    assert _codes(engine, document, "ann", c) == set()


def test_marks_count_as_read_are_skipped_by_next_unread_and_lifted_by_a_code(engine, units):
    document, (a, b, c) = units
    assert page.next_unread(engine, P, document, coder="ann") == page.NextUnit(a, wrapped=False)
    assert page.set_nothing_applies(engine, P, segment_id=a, coder="ann",
                                    frames=["reform_directions", "contract_service"]) == [
        "reform_directions", "contract_service"]
    assert page.unit_marks(engine, P, document, coder="ann") == {
        a: frozenset({"reform_directions", "contract_service"})}
    assert page.unit_marks(engine, P, document, coder="bob") == {}
    service.add_coding(engine, P, segment_id=b, code="rd_delegation", coder="ann")
    assert page.next_unread(engine, P, document, coder="ann") == page.NextUnit(c, wrapped=False)
    # past the last unit: back to the top, and it says so
    service.add_coding(engine, P, segment_id=c, code="cs_progressive", coder="ann")
    assert page.next_unread(engine, P, document, coder="ann", after_position=99) == page.NextUnit(None, False)
    assert page.next_unread(engine, P, document, coder="bob", after_position=99) == page.NextUnit(a, True)
    # within one frame only: a code or a mark of another frame does not count
    assert page.next_unread(engine, P, document, coder="ann", frames=["oecd_pslc"]).segment_id == a

    progress = page.reading_progress(engine, P).set_index("coder")
    assert progress.loc["ann"].to_dict() == {"units_read": 3, "units_coded": 2, "units_total": 3,
                                             "documents_done": 0}
    assert progress.loc["bob", "units_read"] == 0

    result = page.tick(engine, P, segment_id=a, code="rd_delegation", coder="ann", on=True)
    assert result.unmarked
    assert page.unit_marks(engine, P, document, coder="ann") == {a: frozenset({"contract_service"})}
    with pytest.raises(CodeframeError, match="remove them before"):
        page.set_nothing_applies(engine, P, segment_id=a, coder="ann", frames=["reform_directions"])
    assert page.set_nothing_applies(engine, P, segment_id=a, coder="ann", frames=["contract_service"],
                                    on=False) == ["contract_service"]
    assert page.unit_marks(engine, P, document, coder="ann") == {}


def test_a_finished_transcript_counts_every_unit_as_read(engine, units):
    document, _ = units
    service.mark_done(engine, P, document, coder="bob", frames=["reform_directions"])
    progress = page.reading_progress(engine, P).set_index("coder")
    assert progress.loc["bob", "units_read"] == 3
    assert progress.loc["bob", "documents_done"] == 1


def test_the_sample_coders_read_everything(sample_engine):
    progress = page.reading_progress(sample_engine, P).set_index("coder")
    for coder in ("aigerim", "daniyar", "consensus"):
        assert progress.loc[coder, "units_read"] == progress.loc[coder, "units_total"]
        assert progress.loc[coder, "documents_done"] == 24
        assert progress.loc[coder, "units_coded"] < progress.loc[coder, "units_total"]


def test_recent_changes_match_what_undo_reverts(engine, units):
    document, (a, b, c) = units
    page.tick(engine, P, segment_id=a, code="rd_delegation", coder="ann", on=True)
    page.tick(engine, P, segment_id=c, code="cs_evolutionary", coder="ann", on=True)
    page.tick(engine, P, segment_id=c, code="cs_progressive", coder="ann", on=True)
    service.set_memo(engine, P, segment_id=a, code="rd_delegation", coder="ann", memo="why")
    changes = page.recent_changes(engine, P, coder="ann")
    assert [(x.action, x.code, x.segment_id, x.replaced) for x in changes] == [
        ("memo", "rd_delegation", a, ()), ("add", "cs_progressive", c, ("cs_evolutionary",)),
        ("add", "cs_evolutionary", c, ()), ("add", "rd_delegation", a, ())]
    numbers = {s: n for n, s in enumerate((a, b, c), start=1)}  # the three units of R01, in order
    assert {(x.document_id, x.document, x.unit) for x in changes if x.segment_id == c} == {(document, "R01", numbers[c])}
    assert {x.unit for x in changes if x.segment_id == a} == {numbers[a]}
    assert page.undo_changes(engine, P, coder="ann", steps=2) == 2
    assert _codes(engine, document, "ann", c) == {"cs_evolutionary"}
    assert [x.code for x in page.recent_changes(engine, P, coder="ann")] == ["cs_evolutionary", "rd_delegation"]
    assert list(service.history(engine, P)["action"])[-3:] == ["undo", "undo", "undo"]
