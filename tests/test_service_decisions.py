"""Decisions of the coding view (coding.service.decisions): applied once by their id, ordered by seq,
refused with a reason, exclusive frames, "nothing applies" per frame, undo of the coder's last decision;
SQLite and PostgreSQL."""

from __future__ import annotations

import itertools

import pytest

from coding import service
from coding.errors import NotFound

P = "default"
TRANSCRIPT = (
    "Interviewer: How did the reform go?\n"
    "Respondent: We need a systematic approach.\n"
    "Interviewer: And trust?\n"
    "Respondent: Trust in government is low.\n"
    "Interviewer: Contract staff?\n"
    "Respondent: Contracts should cover narrow specialists only.\n"
)
_ids = itertools.count(1)


@pytest.fixture
def units(engine):
    service.create_project(engine, P)
    service.import_transcripts(engine, P, [("R01.txt", TRANSCRIPT.encode())], unit="turn")
    service.ensure_coder(engine, P, "ann")
    service.ensure_coder(engine, P, "bob")
    document = service.list_documents(engine, P)[0]
    return [s.id for s in service.document_view(engine, P, document.id, viewer="ann").segments if s.is_unit]


def event(unit, action, *, seq=None, **more):
    n = next(_ids)
    return {"id": f"ev-{n}", "seq": n if seq is None else seq, "unit_id": unit, "action": action, **more}


def apply(engine, raw, actor="ann", **kw):
    return service.apply_decision(engine, P, actor, raw, **kw)


def history_rows(engine):
    return len(service.history(engine, P))


def test_a_tick_is_applied_once_and_a_resend_is_a_no_op(engine, units):
    a, b, c = units
    tick = event(a, "tick", code="rd_delegation")
    first = apply(engine, tick)
    assert (first.status, first.unit_id, first.codes, first.repeated) == ("applied", a, ("rd_delegation",), False)
    events = history_rows(engine)
    apply(engine, event(a, "untick", code="rd_delegation"))
    again = apply(engine, tick)  # the resend of the first tick, after the untick: changes nothing
    assert again.repeated and again.status == "applied" and again.codes == ()
    assert history_rows(engine) == events + 1  # only the untick wrote history


def test_an_older_event_on_the_same_unit_is_refused_as_superseded(engine, units):
    a, b, c = units
    apply(engine, event(a, "tick", code="rd_delegation", seq=10))
    late = apply(engine, event(a, "untick", code="rd_delegation", seq=5))  # sent before an F5, landed after
    assert late.status == "refused" and "superseded" in late.reason
    assert late.codes == ("rd_delegation",)
    # another unit is not affected by that order
    assert apply(engine, event(b, "tick", code="rd_delegation", seq=6)).status == "applied"


def test_refusals_carry_the_reason_change_nothing_and_stay_refused_on_resend(engine, units):
    a, b, c = units
    unknown = event(a, "tick", code="no_such_code")
    ack = apply(engine, unknown)
    assert ack.status == "refused" and "no_such_code" in ack.reason and ack.codes == ()
    assert apply(engine, unknown).status == "refused"
    others = apply(engine, event(a, "tick", code="rd_delegation"), actor="ann", coder="bob")
    assert others.status == "refused" and "may not change codings of bob" in others.reason
    assert service.document_view(engine, P, service.list_documents(engine, P)[0].id,
                                 viewer="bob").segments[1].codings == []
    with pytest.raises(NotFound):
        apply(engine, event(10**6, "tick", code="rd_delegation"))
    acks = service.apply_decisions(engine, P, "ann", [event(10**6, "tick", code="rd_delegation")])
    assert acks[0].status == "refused" and "no segment" in acks[0].reason


def test_exclusive_frame_replaces_and_undo_brings_the_old_code_back(engine, units):
    a, b, c = units
    apply(engine, event(c, "tick", code="cs_evolutionary"))
    ack = apply(engine, event(c, "tick", code="cs_progressive"))
    assert ack.codes == ("cs_progressive",)
    assert [r["code"] for r in ack.changes["removed"]] == ["cs_evolutionary"]
    undo = apply(engine, event(a, "undo"))  # pressed on another unit: says where it acted
    assert (undo.status, undo.unit_id, undo.codes) == ("applied", c, ("cs_evolutionary",))
    assert "cs_progressive" in undo.message


def test_nothing_applies_marks_only_the_frames_without_a_code_and_a_code_lifts_its_mark(engine, units):
    a, b, c = units
    apply(engine, event(a, "tick", code="rd_delegation"))
    ack = apply(engine, event(a, "nothing", frames=["reform_directions", "contract_service"]))
    assert ack.status == "applied" and ack.marks == ("contract_service",)
    assert ack.codes == ("rd_delegation",)
    refused = apply(engine, event(a, "nothing", frames=["reform_directions"]))
    assert refused.status == "refused" and "carries your codes" in refused.reason
    lifted = apply(engine, event(a, "tick", code="cs_progressive"))
    assert lifted.marks == () and lifted.changes["unmarked"] == ["contract_service"]
    assert apply(engine, event(a, "undo")).marks == ("contract_service",)


def test_undo_walks_back_this_coders_decisions_and_says_which_unit(engine, units):
    a, b, c = units
    apply(engine, event(a, "tick", code="rd_delegation"))
    apply(engine, event(b, "nothing", frames=["reform_directions"]))
    apply(engine, event(b, "tick", code="rd_delegation"), actor="bob")  # bob's decisions are not ann's to undo
    first = apply(engine, event(c, "undo"))
    assert (first.unit_id, first.marks) == (b, ())
    assert "nothing applies" in first.message
    second = apply(engine, event(c, "undo"))
    assert (second.unit_id, second.codes) == (a, ())
    assert apply(engine, event(c, "undo")).reason == "nothing to undo"
    document = service.list_documents(engine, P)[0].id
    bob = service.document_view(engine, P, document, viewer="bob").segments
    assert [c.code for s in bob if s.id == b for c in s.codings if c.coder == "bob"] == ["rd_delegation"]


def test_accept_and_reject_record_feedback_and_undo_of_reject_forgets_it(engine, units):
    a, b, c = units
    accepted = apply(engine, event(a, "accept", code="rd_delegation", score=0.8, model_id="m1"))
    assert accepted.codes == ("rd_delegation",)
    rows = service.history(engine, P)
    assert list(rows["source"]) == ["suggestion"] and list(rows["reason"]) == ["accepted suggestion"]
    apply(engine, event(b, "reject", code="rd_delegation", score=0.4, model_id="m1"))
    assert apply(engine, event(b, "undo")).unit_id == b
    assert apply(engine, event(b, "undo")).codes == ()  # the accept on a is undone, not b's rejection again


def test_memo_on_a_code_and_on_the_unit_and_its_undo(engine, units):
    a, b, c = units
    apply(engine, event(a, "tick", code="rd_delegation"))
    assert apply(engine, event(a, "memo", code="rd_delegation", text="clear case")).status == "applied"
    assert apply(engine, event(a, "memo", text="ask the team")).status == "applied"
    memos = service.own_memos(engine, P, coder="ann", segment_id=a, document_id=0)
    assert memos[("segment", str(a))][1] == "ask the team"
    apply(engine, event(a, "undo"))
    assert ("segment", str(a)) not in service.own_memos(engine, P, coder="ann", segment_id=a, document_id=0)
    apply(engine, event(a, "undo"))
    history = service.history(engine, P)
    assert history.iloc[-1]["after"]["memo"] is None  # the code's memo is back to none
