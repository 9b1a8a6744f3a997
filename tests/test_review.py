"""Issue 14: numbers supervisors can sign, enforced by the library (the pages have their own tests)."""

from __future__ import annotations

import pytest

from coding import review, service
from coding.errors import CodeframeError, PermissionDenied

P = service.DEFAULT_PROJECT
FRAME = "reform_directions"
FIGURE_1 = ["7/24 = 29.2%", "3/24 = 12.5%", "4/24 = 16.7%", "2/24 = 8.3%", "2/24 = 8.3%"]
SAMPLE_DISAGREEMENTS = ["R05", "R06", "R07", "R08", "R11", "R13", "R22"]
PILOT_TEXT = ("Interviewer: What should change first?\n\nRespondent: {0} We need a systematic and comprehensive "
              "approach to reform. Nothing else matters.\n")


def _units(engine, document: str) -> list[int]:
    doc = next(d for d in service.list_documents(engine, P) if d.name == document)
    return [s.id for s in service.document_view(engine, P, doc.id, viewer="supervisor").segments if s.is_unit]


def _pilot_coders(engine) -> None:
    """A third and a fourth coder who code a few units of R01 and R07 (test ticks)."""
    for name in ("pilot", "trainee"):
        service.ensure_coder(engine, P, name)
    r01, r07 = _units(engine, "R01"), _units(engine, "R07")
    service.add_coding(engine, P, segment_id=r01[0], code="rd_systemic_approach", coder="pilot")
    service.add_coding(engine, P, segment_id=r01[1], code="rd_delegation", coder="pilot")
    service.add_coding(engine, P, segment_id=r07[0], code="rd_human_capital", coder="trainee")


def _figure(engine, **kwargs) -> list[str]:
    return service.share_report(engine, P, frame=FRAME, **kwargs).table["display"].tolist()


# --------------------------------------------------------------------------- item 1


def test_disagreements_keep_every_pair_with_a_third_and_fourth_coder(sample_engine):
    fresh = service.disagreement_report(sample_engine, P, frame=FRAME)
    assert [i["document"] for i in fresh.items] == SAMPLE_DISAGREEMENTS
    assert fresh.coders == ["aigerim", "daniyar"] and fresh.compared == 602
    _pilot_coders(sample_engine)
    # The default stays the coders who double-coded the most: the 7 aigerim/daniyar disagreements.
    default = service.disagreement_report(sample_engine, P, frame=FRAME)
    assert default.coders == ["aigerim", "daniyar"]
    assert [i["document"] for i in default.items] == SAMPLE_DISAGREEMENTS
    # All four chosen: every unit two of them covered is compared, not only the units all four saw.
    four = service.disagreement_report(sample_engine, P, frame=FRAME,
                                              coders=["aigerim", "daniyar", "pilot", "trainee"])
    documents = [i["document"] for i in four.items]
    assert set(SAMPLE_DISAGREEMENTS) <= set(documents) and "R01" in documents
    assert four.compared == 602 and four.covered["pilot"] == len(_units(sample_engine, "R01"))
    r01 = next(i for i in four.items if i["document"] == "R01")
    assert set(r01["coders"]) == {"aigerim", "daniyar", "pilot"}  # who covered it, not trainee
    assert "602 units compared" in four.summary() and "pilot (" in four.summary()
    with pytest.raises(CodeframeError, match="two or more"):
        service.disagreement_report(sample_engine, P, frame=FRAME, coders=["aigerim"])
    # The page's old entry point gives the same list.
    assert service.disagreement_details(sample_engine, P, frame=FRAME) == default.items


# --------------------------------------------------------------------------- item 2


def test_a_nothing_applies_adjudication_is_a_decision(sample_engine):
    report = service.disagreement_report(sample_engine, P, frame=FRAME, show="undecided")
    item = report.items[0]
    before = report.decided
    # "Take daniyar's decision" where daniyar applied no code of the frame, or any coder's empty set
    service.adjudicate(sample_engine, P, segment_id=item["segment_id"], frame=FRAME, codes=[], actor="supervisor",
                       reason="took the decision with no code")
    after = service.disagreement_report(sample_engine, P, frame=FRAME)
    decided = next(i for i in after.items if i["segment_id"] == item["segment_id"])
    assert decided["decided"] and decided["consensus"] == {} and decided["reason"] == "took the decision with no code"
    assert after.decided == before + 1
    undecided = service.disagreement_report(sample_engine, P, frame=FRAME, show="undecided").items
    assert item["segment_id"] not in [i["segment_id"] for i in undecided]
    only_decided = service.disagreement_report(sample_engine, P, frame=FRAME, show="decided").items
    assert item["segment_id"] in [i["segment_id"] for i in only_decided]
    assert len(undecided) + len(only_decided) == after.total == 7


# --------------------------------------------------------------------------- item 3


def test_add_coding_never_writes_the_consensus(sample_engine):
    unit = _units(sample_engine, "R02")[0]
    service.create_user(sample_engine, P, "root", role="admin", password="a long passphrase")
    for actor in (None, "aigerim", "supervisor", "root", "consensus"):
        with pytest.raises(PermissionDenied, match="written only by adjudication"):
            service.add_coding(sample_engine, P, segment_id=unit, code="rd_delegation", coder="consensus",
                               actor=actor, source="adjudication", reason="x")
    consensus_unit = next(s.id for s in service.document_view(
        sample_engine, P, service.list_documents(sample_engine, P)[0].id, viewer="supervisor").segments
        if any(c.coder == "consensus" for c in s.codings))
    code = next(c.code for s in service.document_view(
        sample_engine, P, service.list_documents(sample_engine, P)[0].id, viewer="supervisor").segments
        if s.id == consensus_unit for c in s.codings if c.coder == "consensus")
    with pytest.raises(PermissionDenied, match="written only by adjudication"):
        service.remove_coding(sample_engine, P, segment_id=consensus_unit, code=code, coder="consensus",
                              actor="supervisor")
    # Adjudication writes it, by a supervisor with a reason, into the history.
    with pytest.raises(PermissionDenied):
        service.adjudicate(sample_engine, P, segment_id=unit, frame=FRAME, codes=["rd_delegation"], actor="aigerim",
                           reason="mine")
    with pytest.raises(CodeframeError, match="reason"):
        service.adjudicate(sample_engine, P, segment_id=unit, frame=FRAME, codes=["rd_delegation"],
                           actor="supervisor", reason=" ")
    service.adjudicate(sample_engine, P, segment_id=unit, frame=FRAME, codes=["rd_delegation"], actor="supervisor",
                       reason="both coders saw it")
    last = service.history(sample_engine, P, coder="consensus").iloc[-1]
    assert (last["actor"], last["source"], last["reason"]) == ("supervisor", "adjudication", "both coders saw it")


def test_importing_adjudicated_codings_is_logged_as_an_import(sample_engine):
    history = service.history(sample_engine, P, coder="consensus")
    assert set(history["source"]) == {"import"} and len(history) == 111  # the sample's consensus
    csv = b"document,coder,code,segment\nR02,consensus,rd_delegation,1\n"
    with pytest.raises(PermissionDenied):
        service.import_codings(sample_engine, P, ("c.csv", csv), actor="aigerim")
    service.import_codings(sample_engine, P, ("c.csv", csv), actor="supervisor")
    last = service.history(sample_engine, P, coder="consensus").iloc[-1]
    assert (last["actor"], last["source"], last["reason"]) == ("supervisor", "import", "imported from c.csv")


# --------------------------------------------------------------------------- item 4 (library side)


def test_blind_mode_shares_and_quotes_show_only_the_viewers_codings(sample_engine):
    service.update_settings(sample_engine, P, blind_mode=True)
    assert service.visible_coders(sample_engine, P, "aigerim") == ["aigerim"]
    assert service.visible_coders(sample_engine, P, "supervisor") is None
    mine = service.share_report(sample_engine, P, frame=FRAME, viewer="aigerim")
    assert mine.coder == "aigerim" and set(mine.quotes["coder"]) == {"aigerim"}
    assert "coder_min" not in mine.table or mine.table["coder_min"].isna().all()
    assert "agreement" not in mine.table
    with pytest.raises(PermissionDenied):
        service.share_report(sample_engine, P, frame=FRAME, viewer="aigerim", coder="consensus")
    quotes = service.quotes_by_code(sample_engine, P, coders=["aigerim"])
    assert {q["coder"] for qs in quotes.values() for q in qs} == {"aigerim"}
    assert service.share_report(sample_engine, P, frame=FRAME, viewer="supervisor").coder == "consensus"


# --------------------------------------------------------------------------- item 5


def test_a_pilot_coder_does_not_move_reliability_and_can_be_excluded(sample_engine):
    fresh = service.agreement_report(sample_engine, P, frame=FRAME, n_boot=0).table.set_index("code")
    fresh_shares = service.share_report(sample_engine, P, frame=FRAME).table.set_index("code")
    _pilot_coders(sample_engine)
    default = service.agreement_report(sample_engine, P, frame=FRAME, n_boot=0)
    assert default.coders == ["aigerim", "daniyar"]
    assert default.table.set_index("code")["alpha"].round(3).tolist() == fresh["alpha"].round(3).tolist()
    assert round(default.table.set_index("code").loc["rd_systemic_approach", "alpha"], 3) == 0.901
    # Chosen explicitly, the pilot is compared over the units it covered, and the table says so.
    chosen = service.agreement_report(sample_engine, P, frame=FRAME, n_boot=0,
                                      coders=["aigerim", "daniyar", "pilot"])
    coverage = chosen.coverage.set_index("coder")
    assert coverage.loc["pilot", "units"] == len(_units(sample_engine, "R01"))
    assert (coverage.loc["pilot", "respondents"], coverage.loc["pilot", "codings"]) == (1, 2)
    assert (coverage.loc["aigerim", "units"], coverage.loc["aigerim", "respondents"]) == (602, 24)
    # The share spread is over coders who covered everyone: the pilot's 1/24 does not become "coders min".
    shares = service.share_report(sample_engine, P, frame=FRAME)
    assert shares.spread_coders == ["aigerim", "daniyar"]
    assert shares.table["coder_min"].tolist() == fresh_shares["coder_min"].tolist()
    # Excluded from reliability: nothing deleted, recorded in the history, left out even when all are asked.
    assert service.set_excluded(sample_engine, P, kind="coder", name="pilot", actor="supervisor",
                                       reason="training coder")
    assert not service.set_excluded(sample_engine, P, kind="coder", name="pilot", actor="supervisor")
    four = service.disagreement_report(sample_engine, P, frame=FRAME)
    assert "pilot" not in four.coders
    event = service.project_history(sample_engine, P).iloc[-1]
    assert (event["action"], event["kind"], event["target"], event["actor"], event["reason"]) == (
        "exclude", "coder", "pilot", "supervisor", "training coder")
    assert service.status(sample_engine, P).codings_by_coder["pilot"] == 2
    with pytest.raises(PermissionDenied):
        service.set_excluded(sample_engine, P, kind="coder", name="trainee", actor="aigerim")


# --------------------------------------------------------------------------- item 6


def test_shares_state_the_coverage_and_offer_the_covered_denominator(sample_engine):
    report = service.share_report(sample_engine, P, frame="oecd_pslc")
    assert report.coverage == "consensus coded this frame for 10 of 24 respondents" and report.partial
    pillar = report.table.iloc[0]
    assert pillar["display"].endswith("/24 = 33.3%") and pillar["coverage"] == report.coverage
    covered = service.share_report(sample_engine, P, frame="oecd_pslc", denominator="covered")
    assert covered.n == 10 and covered.table.iloc[0]["display"].endswith("/10 = 80.0%")
    assert covered.coverage == report.coverage
    full = service.share_report(sample_engine, P, frame=FRAME)
    assert not full.partial and full.table["display"].tolist() == FIGURE_1
    with pytest.raises(CodeframeError, match="denominator"):
        service.share_report(sample_engine, P, frame=FRAME, denominator="some")


# --------------------------------------------------------------------------- item 7


def _pilot_documents(engine, tmp_path) -> None:
    files = []
    for name in ("P01", "P02"):
        path = tmp_path / f"{name}.txt"
        path.write_text(PILOT_TEXT.format(name), encoding="utf-8")
        files.append(path)
    service.import_transcripts(engine, P, files)
    for name in ("P01", "P02"):
        service.add_coding(engine, P, segment_id=_units(engine, name)[0], code="rd_systemic_approach",
                           coder="pilot")


def test_pilot_documents_and_coder_can_be_excluded_or_removed(sample_engine, tmp_path):
    fresh_alpha = service.agreement_report(sample_engine, P, frame=FRAME, n_boot=0).table["alpha"].round(6).tolist()
    fresh_shares = service.share_report(sample_engine, P, frame=FRAME).table
    service.ensure_coder(sample_engine, P, "pilot")
    _pilot_documents(sample_engine, tmp_path)
    assert _figure(sample_engine)[0] == "7/26 = 26.9%"
    service.set_excluded(sample_engine, P, kind="document", name="P01", actor="supervisor")
    service.set_excluded(sample_engine, P, kind="document", name="P02", actor="supervisor")
    service.set_excluded(sample_engine, P, kind="coder", name="pilot", actor="supervisor")
    assert _figure(sample_engine) == FIGURE_1
    assert service.exclusions(sample_engine, P) == {"document": ["P01", "P02"], "coder": ["pilot"]}
    # Brought back, then removed for good: the removal asks first and says what goes with it.
    service.set_excluded(sample_engine, P, kind="document", name="P01", excluded=False, actor="supervisor")
    assert _figure(sample_engine)[0] == "7/25 = 28.0%"
    with pytest.raises(CodeframeError, match=r"not removed: removing P01 deletes its 3 segments, 1 codings "
                                             r"\(pilot 1\) and their 1 history events"):
        service.remove_document(sample_engine, P, document="P01", actor="supervisor")
    assert len(service.list_documents(sample_engine, P)) == 26
    gone = service.remove_document(sample_engine, P, document="P01", actor="supervisor", confirm=True)
    service.remove_document(sample_engine, P, document="P02", actor="supervisor", confirm=True)
    assert gone["codings"] == 1 and len(service.list_documents(sample_engine, P)) == 24
    assert _figure(sample_engine) == FIGURE_1
    report = service.share_report(sample_engine, P, frame=FRAME).table
    assert report["ci_low"].tolist() == fresh_shares["ci_low"].tolist()
    assert report["agreement"].round(6).tolist() == fresh_shares["agreement"].round(6).tolist()
    alpha = service.agreement_report(sample_engine, P, frame=FRAME, n_boot=0).table["alpha"].round(6).tolist()
    assert alpha == fresh_alpha
    actions = service.project_history(sample_engine, P)[["action", "kind", "target"]].values.tolist()
    assert actions == [["exclude", "document", "P01"], ["exclude", "document", "P02"], ["exclude", "coder", "pilot"],
                       ["include", "document", "P01"], ["remove", "document", "P01"], ["remove", "document", "P02"]]


def test_in_team_mode_only_admins_change_what_is_analysed(sample_engine):
    service.create_user(sample_engine, P, "root", role="admin", password="a long passphrase")
    service.set_team_mode(sample_engine, P, True, actor="root")
    with pytest.raises(PermissionDenied, match="only admins"):
        service.set_excluded(sample_engine, P, kind="document", name="R01", actor="supervisor")
    with pytest.raises(PermissionDenied, match="only admins"):
        service.remove_document(sample_engine, P, document="R01", actor="supervisor", confirm=True)
    assert service.set_excluded(sample_engine, P, kind="document", name="R01", actor="root")
    assert service.share_report(sample_engine, P, frame=FRAME, viewer="root").n == 23


# --------------------------------------------------------------------------- pure rules


def test_default_coders_are_those_who_double_coded_most():
    assert review.default_coders({"a": {1, 2}, "b": {1, 2}, "c": {1, 2}, "p": {1}}) == ["a", "b", "c"]
    assert review.default_coders({"a": {1}, "b": {2}}) == ["a", "b"]
    compared, differing = review.unit_disagreements({1: {"a": {"x"}}}, {"a": {1, 2}, "b": {1}}, ["a", "b"])
    assert compared == [1] and differing == [(1, ["a", "b"])]
    assert review.coverage_line("c", 1, 1) == "c coded this frame for 1 of 1 respondent"


# --------------------------------------------------------------------------- both databases


def test_decisions_exclusions_and_removal_on_sqlite_and_postgresql(engine, tmp_path):
    """The new tables on both backends: a 'nothing applies' decision, an exclusion, a removal with
    its codings, history and decision, and deleting the whole project afterwards."""
    service.create_project(engine, "p")
    for name, role in (("ana", "coder"), ("ben", "coder"), ("sup", "supervisor")):
        service.ensure_coder(engine, "p", name, role=role)
    files = []
    for name in ("R1", "R2"):
        path = tmp_path / f"{name}.txt"
        path.write_text("Interviewer: Why?\n\nRespondent: We need a systematic approach. Salaries matter.\n")
        files.append(path)
    service.import_transcripts(engine, "p", files, allow_same_content=True)
    doc = service.list_documents(engine, "p")[0]
    unit = next(s.id for s in service.document_view(engine, "p", doc.id, viewer="sup").segments if s.is_unit)
    service.add_coding(engine, "p", segment_id=unit, code="rd_systemic_approach", coder="ana")
    service.mark_done(engine, "p", doc.id, coder="ben", frames=[FRAME])
    report = service.disagreement_report(engine, "p", frame=FRAME)
    assert [i["segment_id"] for i in report.items] == [unit] and report.compared == 2
    service.adjudicate(engine, "p", segment_id=unit, frame=FRAME, codes=[], actor="sup", reason="not a direction")
    assert service.disagreement_report(engine, "p", frame=FRAME).decided == 1
    assert service.set_excluded(engine, "p", kind="document", name="R2", actor="sup")
    assert service.share_report(engine, "p", frame=FRAME, coder="ana").n == 1
    gone = service.remove_document(engine, "p", document=doc.name, actor="sup", confirm=True)
    assert gone["codings_by_coder"] == {"ana": 1}
    assert [d.name for d in service.list_documents(engine, "p")] == ["R2"]
    assert service.project_history(engine, "p")["action"].tolist() == ["exclude", "remove"]
    service.delete_project(engine, "p")
    assert not service.project_exists(engine, "p")


def test_a_test_coder_is_removed_only_after_confirmation(sample_engine):
    _pilot_coders(sample_engine)
    service.add_memo(sample_engine, P, kind="document", target="R01", coder="pilot", text="pilot note")
    service.add_memo(sample_engine, P, kind="document", target="R02", coder="aigerim", text="kept")
    with pytest.raises(CodeframeError, match=r"not removed: removing coder pilot deletes their 2 codings on 1 "
                                             r"documents and their 2 history events"):
        service.remove_coder(sample_engine, P, coder="pilot", actor="supervisor")
    assert service.status(sample_engine, P).codings_by_coder["pilot"] == 2
    with pytest.raises(PermissionDenied):
        service.remove_coder(sample_engine, P, coder="pilot", actor="aigerim", confirm=True)
    with pytest.raises(CodeframeError, match="consensus cannot be"):
        service.remove_coder(sample_engine, P, coder="consensus", actor="supervisor", confirm=True)
    gone = service.remove_coder(sample_engine, P, coder="pilot", actor="supervisor", confirm=True)
    assert gone["codings"] == 2 and "pilot" not in [c["name"] for c in service.list_coders(sample_engine, P)]
    assert "pilot" not in set(service.history(sample_engine, P)["coder"])
    event = service.project_history(sample_engine, P).iloc[-1]
    assert (event["action"], event["kind"], event["target"]) == ("remove", "coder", "pilot")
    assert _figure(sample_engine) == FIGURE_1
    texts = service.memos(sample_engine, P)["text"].tolist()
    assert "kept" in texts and "pilot note" not in texts


def test_a_nothing_applies_mark_counts_as_coverage(sample_engine):
    """A coder who read a unit and marked 'nothing applies' covered its document: their silence there
    is a decision that can disagree with another coder's code."""
    service.ensure_coder(sample_engine, P, "reader")
    r05 = _units(sample_engine, "R05")
    service.set_nothing_applies(sample_engine, P, segment_id=r05[0], coder="reader", frames=[FRAME])
    report = service.disagreement_report(sample_engine, P, frame=FRAME, coders=["aigerim", "reader"])
    assert report.covered["reader"] == len(r05)
    aigerim_r05 = {i["segment_id"] for i in service.disagreement_report(
        sample_engine, P, frame=FRAME, coders=["aigerim", "daniyar"]).items if i["document"] == "R05"}
    assert aigerim_r05 and {i["document"] for i in report.items} == {"R05"}
