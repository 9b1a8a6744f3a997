"""Retrieve, search, code all hits (one undoable batch), co-occurrence, memos and key quotes: pure modules
and the facade on both backends; the migration 0007 on both backends."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from coding import cooccurrence as co
from coding import retrieve as rt
from coding import search as sr
from coding import service
from coding.errors import CodeframeError, NotFound, PermissionDenied

INTERVIEW_1 = """Interviewer: What should change in the civil service?
Respondent: Reform must be systematic. Partial changes do not work.
Interviewer: And training? Is reform of training needed?
Respondent: Training of personnel is weak. Many officials lack competence.
"""

INTERVIEW_2 = """Interviewer: What holds reform back?
Respondent: People resist change. Decisions are not based on evidence. Reforms stall.
"""

INTERVIEW_3 = """Interviewer: Anything else?
Respondent: Pay is low. The reform of pay is overdue.
"""


@pytest.fixture
def project(engine, tmp_path):
    service.create_project(engine, "p")
    for name, role in (("ana", "coder"), ("ben", "coder"), ("sup", "supervisor"), ("consensus", "supervisor")):
        service.ensure_coder(engine, "p", name, role=role)
    attrs = tmp_path / "attrs.csv"
    attrs.write_text("respondent,expert_group\nR1,academia\nR2,private sector\nR3,public administration\n",
                     encoding="utf-8")
    paths = []
    for name, text in (("R1.txt", INTERVIEW_1), ("R2.txt", INTERVIEW_2), ("R3.txt", INTERVIEW_3)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(tmp_path / name)
    service.import_transcripts(engine, "p", paths, attributes=attrs)
    return "p"


def _unit(engine, project, document, text):
    doc = next(d for d in service.list_documents(engine, project) if d.name == document)
    view = service.document_view(engine, project, doc.id, viewer="sup")
    return next(s.id for s in view.segments if s.is_unit and s.text.startswith(text))


def _code(engine, project, document, text, code, coder="consensus", actor="sup"):
    segment = _unit(engine, project, document, text)
    if coder == service.CONSENSUS:  # the consensus is written only by adjudication (issue 14)
        frame = service.project_codebook(engine, project).frame_of(code).id
        doc = next(d.id for d in service.list_documents(engine, project) if d.name == document)
        view = service.document_view(engine, project, doc, viewer=actor)
        have = {c.code for s in view.segments if s.id == segment for c in s.codings
                if c.coder == coder and c.frame == frame}
        service.adjudicate(engine, project, segment_id=segment, frame=frame, codes=sorted(have | {code}),
                           actor=actor, reason="test")
        return segment
    service.add_coding(engine, project, segment_id=segment, code=code, coder=coder, actor=actor)
    return segment


# --------------------------------------------------------------------------- pure


def test_parse_where_accepts_several_values_and_not_equal_and_refuses_the_rest():
    one, two = rt.parse_where(["expert_group=academia, private sector", "gender!=male"])
    assert one.values == ("academia", "private sector") and not one.negate
    assert two.negate and two.holds({"gender": "female"}) and not two.holds({"gender": "Male"})
    assert one.holds({"expert_group": "Private  Sector"})  # case and spacing do not matter
    with pytest.raises(CodeframeError, match="invalid attribute filter"):
        rt.parse_where(["expert_group"])
    with pytest.raises(CodeframeError, match="no respondent attribute 'grop'"):
        rt.check_attributes(rt.parse_where(["grop=a"]), {"R1": {"group": "a"}})


def test_select_segments_any_all_none_and_rollup():
    codings = pd.DataFrame({"segment_id": [1, 2, 2, 3], "coder": "c", "code": ["child", "a", "b", "a"],
                            "memo": [None, "why", None, None]})
    units = pd.DataFrame({"segment_id": [1, 2, 3, 4]})
    hierarchy = {"parent": {"child"}}
    assert rt.select_segments(codings, ["a", "b"], mode="any")["segment_id"].tolist() == [2, 3]
    both = rt.select_segments(codings, ["a", "b"], mode="all")
    assert both["segment_id"].tolist() == [2] and both["codes"].tolist() == ["a, b"] and both["memo"][0] == "why"
    assert rt.select_segments(codings, ["a"], mode="none", units=units)["segment_id"].tolist() == [1, 4]
    assert rt.select_segments(codings, ["parent"], hierarchy=hierarchy)["segment_id"].tolist() == [1]
    assert rt.select_segments(codings, ["parent"], hierarchy=hierarchy, rollup=False).empty
    with pytest.raises(CodeframeError, match="mode must be"):
        rt.select_segments(codings, ["a"], mode="some")


def test_search_modes_and_nearest():
    segments = pd.DataFrame({
        "segment_id": [1, 2, 3], "document_id": 1, "document": "R1", "respondent": "R1", "position": [0, 1, 2],
        "role": ["interviewer", "respondent", "respondent"], "speaker": ["I", "R", "R"],
        "text": ["Reform?", "Reforms of pay. REFORM now.", "No change."], "is_unit": [False, True, True]})
    assert sr.search(segments, "reform")["hits"].tolist() == [2]
    assert sr.search(segments, "reform", mode="word")["hits"].tolist() == [1]
    assert sr.search(segments, "reform", case_sensitive=True).empty
    assert sr.search(segments, r"refor\w+", mode="regex")["hits"].tolist() == [2]
    assert sr.search(segments, "reform", include_interviewer=True)["segment_id"].tolist() == [1, 2]
    hit = sr.search(segments, "pay").iloc[0]
    assert hit["before"] == "I: Reform?" and hit["after"] == "R: No change."
    with pytest.raises(CodeframeError, match="not a valid regular expression"):
        sr.compile_pattern("(", mode="regex")
    index, sims = sr.nearest(__import__("numpy").eye(3), [0, 1, 0.1], k=2)
    assert index.tolist() == [1, 2] and sims[0] > sims[1]


def test_cooccurrence_counts_and_jaccard_at_both_levels():
    codings = pd.DataFrame({"segment_id": [1, 1, 2, 3, 4], "respondent": ["r1", "r1", "r1", "r2", "r2"],
                            "code": ["a", "b", "b", "a", "b"]})
    seg = co.cooccurrence(codings, ["a", "b"], unit="segment").set_index(["code_a", "code_b"])
    assert seg.loc[("a", "b"), "count"] == 1 and seg.loc[("a", "b"), "jaccard"] == pytest.approx(1 / 4)
    assert seg.loc[("a", "a"), "count"] == 2
    resp = co.cooccurrence(codings, ["a", "b"], unit="respondent").set_index(["code_a", "code_b"])
    assert resp.loc[("a", "b"), "count"] == 2 and resp.loc[("a", "b"), "jaccard"] == 1.0
    assert co.members(codings, "a", "b", unit="segment") == [1]
    wide = co.wide(co.cooccurrence(codings, ["a"], ["b"], labels={"a": "A", "b": "B"}))
    assert wide.loc["A", "B"] == 1


# --------------------------------------------------------------------------- facade, both backends


def test_retrieve_filters_by_code_attributes_coder_and_gives_context(engine, project):
    systemic = _code(engine, project, "R1", "Reform must", "rd_systemic_approach")
    _code(engine, project, "R1", "Reform must", "rd_human_capital")
    _code(engine, project, "R2", "Reforms stall", "rd_systemic_approach")
    _code(engine, project, "R1", "Training", "rd_human_capital", coder="ana", actor="ana")
    rows = service.retrieve(engine, project, codes=["rd_systemic_approach"])
    assert rows["respondent"].tolist() == ["R1", "R2"] and set(rows["coder"]) == {"consensus"}
    first = rows.iloc[0]
    assert first["segment_id"] == systemic and first["unit"] == 1
    assert first["before"].endswith("What should change in the civil service?")
    assert first["after"] == "Respondent: Partial changes do not work."
    assert first["expert_group"] == "academia"
    academia = service.retrieve(engine, project, codes=["rd_systemic_approach"],
                                         where=["expert_group=academia"])
    assert academia["respondent"].tolist() == ["R1"]
    assert service.retrieve(engine, project, codes=["rd_systemic_approach"],
                                     where=["expert_group!=academia"])["respondent"].tolist() == ["R2"]
    assert len(service.retrieve(engine, project, codes=["rd_systemic_approach"],
                                         where=["expert_group=academia,private sector"])) == 2
    both = service.retrieve(engine, project, codes=["rd_systemic_approach", "rd_human_capital"], mode="all")
    assert both["segment_id"].tolist() == [systemic]
    assert service.retrieve(engine, project, codes=["rd_human_capital"], coder="ana")["text"].tolist() == [
        "Training of personnel is weak."]
    everyone = service.retrieve(engine, project, codes=["rd_human_capital"],
                                         coder=service.ALL_CODERS)
    assert sorted(everyone["coder"]) == ["ana", "consensus"]
    with pytest.raises(NotFound, match="no code 'nope'"):
        service.retrieve(engine, project, codes=["nope"])


def test_blind_coder_retrieves_only_their_own_codings(engine, project):
    assert service.get_project(engine, project).blind_mode
    _code(engine, project, "R1", "Training", "rd_human_capital", coder="ana", actor="ana")
    _code(engine, project, "R1", "Many officials", "rd_human_capital", coder="ben", actor="ben")
    mine = service.retrieve(engine, project, codes=["rd_human_capital"], viewer="ben",
                                     coder=service.ALL_CODERS)
    assert mine["coder"].tolist() == ["ben"]
    assert service.retrieve(engine, project, codes=["rd_human_capital"], viewer="ben")["coder"].tolist() \
        == ["ben"]  # the default (consensus) becomes the blind coder's own
    with pytest.raises(PermissionDenied, match="only their own"):
        service.retrieve(engine, project, codes=["rd_human_capital"], viewer="ben", coder="ana")
    seen = service.retrieve(engine, project, codes=["rd_human_capital"], viewer="sup",
                                     coder=service.ALL_CODERS)
    assert sorted(seen["coder"]) == ["ana", "ben"]
    with pytest.raises(PermissionDenied):
        service.cooccurrence(engine, project, frames=["reform_directions"], viewer="ben", coder="ana")


def test_code_all_hits_is_one_batch_undone_in_one_step(engine, project):
    hits = service.search(engine, project, pattern="reform", mode="word")
    assert hits["respondent"].tolist() == ["R1", "R3"]  # respondent turns only; "Reforms" is not the word
    assert len(service.search(engine, project, pattern="reform", mode="word",
                                       include_interviewer=True)) == 4
    with_interviewer = service.search(engine, project, pattern="reform", include_interviewer=True)
    already = _code(engine, project, "R1", "Reform must", "rd_systemic_approach", coder="ana", actor="ana")
    preview = service.preview_code_hits(engine, project, segment_ids=with_interviewer["segment_id"],
                                                 code="rd_systemic_approach", coder="ana")
    assert preview.already == [already] and len(preview.not_units) == 2 and len(preview.apply) == 2
    before = len(service.history(engine, project))
    result = service.code_hits(engine, project, segment_ids=with_interviewer["segment_id"],
                                        code="rd_systemic_approach", coder="ana", label="search 'reform'")
    assert (result.applied, result.already, result.not_units) == (2, 1, 2)
    log = service.history(engine, project)
    batch = log.iloc[before:]
    assert len(batch) == 2 and set(batch["reason"]) == {result.batch} and result.batch.startswith("batch ")
    coded = service.retrieve(engine, project, codes=["rd_systemic_approach"], coder="ana")
    assert len(coded) == 3
    assert service.undo(engine, project, coder="ana") == 1  # the whole batch is one step
    left = service.retrieve(engine, project, codes=["rd_systemic_approach"], coder="ana")
    assert left["segment_id"].tolist() == [already]
    assert len(service.history(engine, project)) == before + 4  # history is appended to, never rewritten
    with pytest.raises(PermissionDenied):
        service.code_hits(engine, project, segment_ids=hits["segment_id"], code="rd_systemic_approach",
                                   coder="ana", actor="ben")


def test_cooccurrence_from_the_database_with_members(engine, project):
    s1 = _code(engine, project, "R1", "Reform must", "rd_systemic_approach")
    _code(engine, project, "R1", "Reform must", "rd_human_capital")
    _code(engine, project, "R1", "Training", "rd_human_capital")
    _code(engine, project, "R2", "Reforms stall", "rd_systemic_approach")
    _code(engine, project, "R2", "People resist", "rd_resistance_to_change")
    seg = service.cooccurrence(engine, project, frames=["reform_directions"], unit="segment")
    cell = seg.set_index(["code_a", "code_b"]).loc[("rd_systemic_approach", "rd_human_capital")]
    assert cell["count"] == 1 and cell["jaccard"] == pytest.approx(1 / 3)
    behind = service.cooccurrence_members(seg, "rd_systemic_approach", "rd_human_capital")
    assert behind["segment_id"].tolist() == [s1] and behind["respondent"].tolist() == ["R1"]
    resp = service.cooccurrence(engine, project, frames=["reform_directions"], unit="respondent")
    assert service.cooccurrence_members(resp, "rd_systemic_approach", "rd_resistance_to_change")[
        "respondent"].tolist() == ["R2"]
    two = service.cooccurrence(engine, project, frames=["reform_directions", "contract_service"])
    assert set(two["code_b"]) == {"cs_evolutionary", "cs_progressive"}


def test_excluded_documents_and_coders_are_left_out_of_retrieve_search_and_cooccurrence(engine, project):
    _code(engine, project, "R1", "Reform must", "rd_systemic_approach")
    _code(engine, project, "R2", "Reforms stall", "rd_systemic_approach")
    _code(engine, project, "R2", "People resist", "rd_resistance_to_change")
    _code(engine, project, "R1", "Training", "rd_human_capital", coder="ana", actor="ana")
    _code(engine, project, "R1", "Many officials", "rd_human_capital", coder="ben", actor="ben")
    assert service.set_excluded(engine, project, kind="document", name="R2", actor="sup", reason="pilot")
    assert service.set_excluded(engine, project, kind="coder", name="ben", actor="sup", reason="training")
    rows = service.retrieve(engine, project, codes=["rd_systemic_approach"])
    assert rows["respondent"].tolist() == ["R1"]
    assert "1 document(s) excluded from analysis" in rows.attrs["filters"]
    everyone = service.retrieve(engine, project, codes=["rd_human_capital"], coder=service.ALL_CODERS, viewer="sup")
    assert everyone["coder"].tolist() == ["ana"]  # the excluded coder's codings are not counted
    assert service.retrieve(engine, project, codes=["rd_resistance_to_change"]).empty
    hits = service.search(engine, project, pattern="reform", include_interviewer=True)
    assert set(hits["respondent"]) == {"R1", "R3"}  # R2's "Reforms stall" and its question are gone
    for plain in ("People", "сопротивление"):  # the database pre-filter and the regex path
        assert service.search(engine, project, pattern=plain).empty
    table = service.cooccurrence(engine, project, frames=["reform_directions"], unit="respondent")
    assert table.attrs["excluded"] == ["1 document(s) excluded from analysis",
                                       "excluded coders not counted: ben"]
    assert service.cooccurrence_members(table, "rd_systemic_approach", "rd_resistance_to_change").empty
    with pytest.raises(CodeframeError, match="ben is excluded from analysis"):
        service.cooccurrence(engine, project, frames=["reform_directions"], coder="ben")
    service.set_excluded(engine, project, kind="document", name="R2", excluded=False, actor="sup")
    assert service.retrieve(engine, project, codes=["rd_systemic_approach"])["respondent"].tolist() == ["R1", "R2"]


def test_memos_on_codings_units_documents_codes_and_key_quotes(engine, project):
    segment = _code(engine, project, "R1", "Reform must", "rd_systemic_approach", coder="ana", actor="ana")
    service.set_memo(engine, project, segment_id=segment, code="rd_systemic_approach", coder="ana",
                     memo="clear case")
    service.add_memo(engine, project, kind="segment", target=segment, coder="ana", text="a strong sentence")
    doc_memo = service.add_memo(engine, project, kind="document", target="R2", coder="ben",
                                       text="short interview")
    service.add_memo(engine, project, kind="code", target="rd_systemic_approach", coder="sup",
                            text="merge with pace?")
    table = service.memos(engine, project)
    assert sorted(table["kind"]) == ["code", "coding", "document", "segment"]
    assert service.memos(engine, project, document="R1")["kind"].tolist() in (["segment", "coding"],
                                                                                     ["coding", "segment"])
    assert set(service.memos(engine, project, code="rd_systemic_approach")["kind"]) == {"coding", "code"}
    assert service.memos(engine, project, viewer="ana")["coder"].unique().tolist() == ["ana"]  # blind
    assert len(service.memos(engine, project, viewer="sup")) == 4
    with pytest.raises(PermissionDenied):
        service.edit_memo(engine, project, memo_id=doc_memo, text="x", actor="ana")
    service.edit_memo(engine, project, memo_id=doc_memo, text="short interview, 3 turns", actor="ben")
    assert "short interview, 3 turns" in service.memos(engine, project)["text"].tolist()
    with pytest.raises(NotFound):
        service.add_memo(engine, project, kind="document", target="R9", coder="ana", text="x")
    service.set_key_quote(engine, project, segment_id=segment, code="rd_systemic_approach", coder="ana")
    log = service.history(engine, project)
    assert log.iloc[-1]["action"] == "key_quote" and log.iloc[-1]["after"] == {"key_quote": True}
    with pytest.raises(PermissionDenied):
        service.set_key_quote(engine, project, segment_id=segment, code="rd_systemic_approach", coder="ana",
                                     actor="ben")
    with pytest.raises(NotFound, match="only a coded unit"):
        service.set_key_quote(engine, project, segment_id=segment, code="rd_human_capital", coder="ana")


def test_migration_0007_adds_memos_and_the_key_quote_star_keeping_codings(any_db_url):
    import migrations_helper as seed

    from coding.database.engine import make_engine, migrate

    engine = make_engine(any_db_url, migrate_schema=False)
    migrate(engine, "0003")
    with engine.begin() as conn:
        assert "memo" not in sa.inspect(conn).get_table_names()
        seed.coded_project(conn, coder_name="ana", memo="kept")
    migrate(engine)
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT memo, key_quote FROM coding")).one() == ("kept", False)
        conn.execute(sa.text(
            "INSERT INTO memo (project_id, target_kind, target_id, coder_id, text, created, updated) "
            "SELECT p.id, 'document', d.id, k.id, 'a memo', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP "
            "FROM project p, document d, coder k"))
        assert conn.execute(sa.text("SELECT text FROM memo")).scalar() == "a memo"
    engine.dispose()
