"""Codebook edits on both backends: add, edit, move, merge, split, retire, accept, undo; versions and exports."""

from __future__ import annotations

import pytest
import xmlschema
from sqlmodel import Session, select

from coding import service
from coding.codebook import parse_codebook
from coding.database.tables import Code, Coding, CodingEvent
from coding.errors import CodeframeError, PermissionDenied
from coding.paths import PACKAGE_DIR

CODEBOOK_XSD = xmlschema.XMLSchema(str(PACKAGE_DIR / "schemas" / "Codebook-mrt2019.xsd"))

R1 = """Interviewer: What should change?
Respondent: Reform must be systematic. Partial changes do not work.
Interviewer: And training?
Respondent: Training of personnel is weak. Officials resist every change.
"""
R2 = """Interviewer: What holds reform back?
Respondent: People resist change. Decisions are not based on evidence.
"""
R3 = """Interviewer: Anything else?
Respondent: Nothing else comes to mind.
"""
FRAME = "reform_directions"


@pytest.fixture
def project(engine, tmp_path):
    service.create_project(engine, "p")
    for name, role in (("ana", "coder"), ("ben", "coder"), ("sup", "supervisor"), ("consensus", "supervisor")):
        service.ensure_coder(engine, "p", name, role=role)
    paths = []
    for name, text in (("R1", R1), ("R2", R2), ("R3", R3)):
        path = tmp_path / f"{name}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    service.import_transcripts(engine, "p", paths)
    return "p"


def _units(engine, project):
    """Unit ids by document name, in order."""
    out = {}
    for doc in service.list_documents(engine, project):
        view = service.document_view(engine, project, doc.id, viewer="sup")
        out[doc.name] = [s.id for s in view.segments if s.is_unit]
    return out


def _codings(engine) -> set[tuple[int, str, str]]:
    """(segment, code key, coder name) of every coding in the database."""
    from coding.database.tables import Coder

    with Session(engine) as session:
        rows = session.exec(select(Coding.segment_id, Code.key, Coder.name)
                            .join(Code, Coding.code_id == Code.id).join(Coder, Coding.coder_id == Coder.id)).all()
    return {tuple(r) for r in rows}


def _team(engine, project, editors="supervisors"):
    """An admin makes the project a managed one: the codebook policy applies."""
    service.ensure_coder(engine, project, "boss", role="admin")
    service.set_codebook_editors(engine, project, editors, actor="boss")


def test_add_edit_and_history_with_who_when_why(engine, project):
    added = service.add_code(engine, project, frame=FRAME, label="Trust in leaders", definition="Talk of trust.",
                             examples=["We trust them."], actor="sup", reason="pilot round")
    assert added.code == "trust_in_leaders" and added.version == 1 and not added.proposed
    codebook = service.project_codebook(engine, project)
    assert codebook.code("trust_in_leaders").definition == "Talk of trust."
    edited = service.edit_code(engine, project, code="trust_in_leaders", definition="Talk of trust in managers.",
                               actor="sup", reason="narrower")
    assert edited.version == 2 and edited.warnings == []  # nobody applied it yet: nothing to review
    history = service.codebook_history(engine, project)
    assert list(history["version"]) == [1, 2]
    assert list(history["actor"]) == ["sup", "sup"]
    assert list(history["reason"]) == ["pilot round", "narrower"]
    assert history["summary"].iloc[1] == "edited 'trust_in_leaders': definition"
    assert history["at"].notna().all()
    with pytest.raises(CodeframeError, match="nothing to change"):
        service.edit_code(engine, project, code="trust_in_leaders", definition="Talk of trust in managers.")


def test_edit_after_others_coded_warns_and_refits_suggestions(engine, project):
    from coding.service.agreement import _frame_codes
    from coding.service.suggestions import _code_objects, _codes_fingerprint

    unit = _units(engine, project)["R1"][0]
    service.add_coding(engine, project, segment_id=unit, code="rd_systemic_approach", coder="ana")

    def fingerprint():
        with Session(engine) as session:
            row = service_project_row(session, project)
            return _codes_fingerprint(_code_objects(_frame_codes(session, row, FRAME)[1]))

    before = fingerprint()
    change = service.edit_code(engine, project, code="rd_systemic_approach", definition="Whole-system reform only.",
                               actor="sup")
    assert change.warnings and "ana" in change.warnings[0] and "may need review" in change.warnings[0]
    assert fingerprint() != before
    relabel = service.edit_code(engine, project, code="rd_systemic_approach", label="Systemic reform", actor="sup")
    assert relabel.warnings == []  # a new label does not change what the code means


def service_project_row(session, name):
    from coding.database import queries

    return queries.project_by_name(session, name)


def test_merge_repoints_codings_keeps_one_per_unit_and_undo_restores(engine, project):
    units = _units(engine, project)
    a, b = "rd_resistance_to_change", "rd_evidence_based"
    service.add_coding(engine, project, segment_id=units["R1"][1], code=a, coder="ana")
    service.add_coding(engine, project, segment_id=units["R2"][0], code=a, coder="ana")
    service.add_coding(engine, project, segment_id=units["R2"][0], code=b, coder="ana")  # carries both
    service.add_coding(engine, project, segment_id=units["R2"][1], code=b, coder="ben")
    service.add_coding(engine, project, segment_id=units["R2"][0], code=a, coder="ben")
    before = _codings(engine)
    change = service.merge_codes(engine, project, source=a, into=b, actor="sup", reason="same idea")
    assert (change.moved, change.dropped) == (2, 1)
    after = _codings(engine)
    assert not any(code == a for _, code, _ in after)
    assert after == {(units["R1"][1], b, "ana"), (units["R2"][0], b, "ana"), (units["R2"][1], b, "ben"),
                     (units["R2"][0], b, "ben")}
    with Session(engine) as session:
        events = session.exec(select(CodingEvent).where(CodingEvent.action == "merge")).all()
    assert len(events) == 3 and all("merged rd_resistance_to_change into rd_evidence_based" in e.reason
                                    for e in events)
    assert a not in [c.id for c in service.project_codebook(engine, project).codes()]  # retired
    assert a in [c.id for c in service.project_codebook(engine, project, include_inactive=True).codes()]
    undone = service.undo_codebook_change(engine, project, actor="sup")
    assert undone.moved == 3 and _codings(engine) == before
    assert a in [c.id for c in service.project_codebook(engine, project).codes()]
    history = service.codebook_history(engine, project)
    assert list(history["action"]) == ["merge", "undo"] and history["undone_by"].iloc[0] == 2


def test_merge_pools_examples_and_moves_children(engine, project):
    service.add_code(engine, project, frame=FRAME, label="Old habits", parent="rd_resistance_to_change",
                     definition="Habits.", examples=["Old habits die hard."], actor="sup")
    service.merge_codes(engine, project, source="rd_resistance_to_change", into="rd_evidence_based", actor="sup")
    codebook = service.project_codebook(engine, project)
    merged = codebook.code("rd_evidence_based")
    assert 1 <= len(merged.examples) <= 3
    original = service.codebook_at(engine, project, version=1)
    pooled = [*original.code("rd_evidence_based").examples, *original.code("rd_resistance_to_change").examples]
    assert list(merged.examples) == list(dict.fromkeys(pooled))[:3]
    assert codebook.code("old_habits").parent == "rd_evidence_based"


def test_split_moves_chosen_units_and_undo_puts_them_back(engine, project):
    units = _units(engine, project)
    a = "rd_resistance_to_change"
    for unit in (units["R1"][1], units["R2"][0]):
        service.add_coding(engine, project, segment_id=unit, code=a, coder="ana")
    service.add_coding(engine, project, segment_id=units["R2"][0], code=a, coder="ben")
    listed = service.coded_units(engine, project, code=a)
    assert set(listed["segment_id"]) == {units["R1"][1], units["R2"][0]}
    assert "resist" in listed.set_index("segment_id").loc[units["R2"][0], "text"]
    before = _codings(engine)
    change = service.split_code(engine, project, code=a, label="Resistance of people", segment_ids=[units["R2"][0]],
                                actor="sup")
    assert change.code == "resistance_of_people" and change.moved == 2
    assert _codings(engine) == {(units["R1"][1], a, "ana"), (units["R2"][0], "resistance_of_people", "ana"),
                                (units["R2"][0], "resistance_of_people", "ben")}
    with pytest.raises(CodeframeError, match="not applied to unit"):
        service.split_code(engine, project, code=a, label="X", segment_ids=[units["R3"][0]], actor="sup")
    service.undo_codebook_change(engine, project, version=change.version, actor="sup")
    assert _codings(engine) == before
    assert "resistance_of_people" not in [c.id for c in service.project_codebook(engine, project).codes()]


def test_move_and_retire_and_their_undo(engine, project):
    service.move_code(engine, project, code="rd_delegation", parent="rd_systemic_approach", actor="sup")
    assert service.project_codebook(engine, project).code("rd_delegation").parent == "rd_systemic_approach"
    with pytest.raises(CodeframeError, match="own ancestor"):
        service.move_code(engine, project, code="rd_systemic_approach", parent="rd_delegation", actor="sup")
    with pytest.raises(CodeframeError, match="still has active codes"):
        service.retire_code(engine, project, code="rd_systemic_approach", actor="sup")
    service.retire_code(engine, project, code="rd_delegation", actor="sup")
    assert "rd_delegation" not in [c.id for c in service.project_codebook(engine, project).codes()]
    with pytest.raises(CodeframeError, match="inactive"):
        service.add_coding(engine, project, segment_id=_units(engine, project)["R1"][0], code="rd_delegation",
                           coder="ana")
    with pytest.raises(CodeframeError, match="later changes"):
        service.undo_codebook_change(engine, project, version=1, actor="sup")
    service.undo_codebook_change(engine, project, actor="sup")  # the retire
    service.undo_codebook_change(engine, project, actor="sup")  # the move
    assert service.project_codebook(engine, project).code("rd_delegation").parent is None


def test_a_move_into_an_exclusive_frame_may_not_double_code_a_unit(engine, project):
    unit = _units(engine, project)["R1"][0]
    service.add_coding(engine, project, segment_id=unit, code="rd_delegation", coder="ana")
    service.add_coding(engine, project, segment_id=unit, code="cs_progressive", coder="ana")
    with pytest.raises(CodeframeError, match="would carry two of its codes"):
        service.move_code(engine, project, code="rd_delegation", frame="contract_service", actor="sup")
    change = service.move_code(engine, project, code="rd_evidence_based", frame="contract_service", actor="sup")
    assert service.project_codebook(engine, project).code("rd_evidence_based").frame == "contract_service"
    service.undo_codebook_change(engine, project, version=change.version, actor="sup")
    assert service.project_codebook(engine, project).code("rd_evidence_based").frame == FRAME


def test_create_and_apply_code_in_vivo_is_one_step(engine, project):
    unit = _units(engine, project)["R2"][1]
    change = service.create_and_apply_code(engine, project, frame=FRAME, segment_id=unit, coder="ana",
                                           words="not based on   evidence")
    assert change.code == "not_based_on_evidence" and change.coding_id is not None
    code = service.project_codebook(engine, project).code("not_based_on_evidence")
    assert code.label == "not based on evidence" and code.examples == ("not based on evidence",)
    assert (unit, "not_based_on_evidence", "ana") in _codings(engine)
    with pytest.raises(Exception, match="no segment"):
        service.create_and_apply_code(engine, project, frame=FRAME, segment_id=999999, coder="ana", label="Zed")
    assert "zed" not in [c.id for c in service.project_codebook(engine, project, include_inactive=True).codes()]


def test_coder_proposal_hidden_in_blind_mode_until_accepted(engine, project):
    _team(engine, project, "propose")
    unit = _units(engine, project)["R1"][0]
    change = service.create_and_apply_code(engine, project, frame=FRAME, segment_id=unit, coder="ana",
                                           label="Career paths")
    assert change.proposed
    key = change.code
    assert key in [c.id for c in service.project_codebook(engine, project, viewer="ana").codes()]
    assert key not in [c.id for c in service.project_codebook(engine, project, viewer="ben").codes()]
    assert key in [c.id for c in service.project_codebook(engine, project, viewer="sup").codes()]
    assert key not in [c.id for c in service.project_codebook(engine, project).codes()]
    assert service.proposed_codes(engine, project, viewer="ben") == []
    assert key not in set(service.codebook_history(engine, project, viewer="ben")["code"])
    assert key in set(service.codebook_history(engine, project, viewer="sup")["code"])
    assert service.coded_units(engine, project, code=key, viewer="ben").empty  # ana's coding stays hers
    assert list(service.coded_units(engine, project, code=key, viewer="ana")["segment_id"]) == [unit]
    assert [p["key"] for p in service.proposed_codes(engine, project, viewer="sup")] == [key]
    with pytest.raises(PermissionDenied, match="coder"):
        service.accept_code(engine, project, code=key, actor="ben")
    service.accept_code(engine, project, code=key, actor="sup")
    assert key in [c.id for c in service.project_codebook(engine, project, viewer="ben").codes()]


def test_coder_cannot_merge_or_edit_and_default_policy_refuses_coder_proposals(engine, project):
    _team(engine, project)
    with pytest.raises(PermissionDenied, match="ana is a coder"):
        service.merge_codes(engine, project, source="rd_delegation", into="rd_evidence_based", actor="ana")
    with pytest.raises(PermissionDenied):
        service.edit_code(engine, project, code="rd_delegation", definition="x", actor="ana")
    with pytest.raises(PermissionDenied):
        service.add_code(engine, project, frame=FRAME, label="New", actor="ana")
    with pytest.raises(PermissionDenied, match="say who you are"):
        service.add_code(engine, project, frame=FRAME, label="New")
    service.set_codebook_editors(engine, project, "admins", actor="boss")
    with pytest.raises(PermissionDenied, match="only admins"):
        service.add_code(engine, project, frame=FRAME, label="New", actor="sup")
    assert service.add_code(engine, project, frame=FRAME, label="New", actor="boss").code == "new"
    with pytest.raises(PermissionDenied):
        service.set_codebook_editors(engine, project, "propose", actor="sup")


def test_every_version_exports_as_checked_yaml_and_valid_qdc(engine, project, tmp_path):
    from coding.cli import main

    service.add_code(engine, project, frame=FRAME, label="Bare code", actor="sup")  # no definition, no example
    service.merge_codes(engine, project, source="rd_delegation", into="rd_evidence_based", actor="sup")
    for version in (1, 2):
        text = service.export_codebook_version(engine, project, version=version, fmt="yaml")
        path = tmp_path / f"v{version}.yaml"
        path.write_bytes(text)
        assert main(["codebook", "check", str(path)]) == 0
        codebook = parse_codebook(text.decode("utf-8"))
        assert "bare_code" in [c.id for c in codebook.codes()]
        assert ("rd_delegation" in [c.id for c in codebook.codes()]) == (version == 1)
        CODEBOOK_XSD.validate(service.export_codebook_version(engine, project, version=version, fmt="qdc"))
    assert "(no definition yet" in parse_codebook(
        service.export_codebook_version(engine, project, version=1).decode()).code("bare_code").definition


def test_shares_after_merge_equal_shares_by_hand_and_say_so(engine, project):
    units = _units(engine, project)
    a, b = "rd_resistance_to_change", "rd_evidence_based"
    service.add_coding(engine, project, segment_id=units["R1"][1], code=a, coder="ana")
    service.add_coding(engine, project, segment_id=units["R2"][1], code=b, coder="ana")
    service.add_coding(engine, project, segment_id=units["R2"][0], code=a, coder="ana")
    service.merge_codes(engine, project, source=a, into=b, actor="sup")
    merged = {(s, c) for s, c, who in _codings(engine) if who == "ana"}
    respondent_of = {u: doc for doc, ids in units.items() for u in ids}
    by_hand = len({respondent_of[s] for s, c in merged if c == b}) / 3  # R1 and R2 of the three respondents
    report = service.share_report(engine, project, frame=FRAME, coder="ana", with_agreement=False)
    row = report.table.set_index("code").loc[b]
    assert (row["count"], row["n"]) == (2, 3) and row["count"] / row["n"] == pytest.approx(by_hand)
    assert any("merged 'rd_resistance_to_change' into 'rd_evidence_based'" in n for n in report.notes)
    assert "codebook version 1" in service.codebook_methods_sentence(engine, project)
    assert "1 merged" in service.codebook_methods_sentence(engine, project)


def test_agreement_notes_a_split_during_coding(engine, project):
    units = _units(engine, project)
    a = "rd_resistance_to_change"
    for coder in ("ana", "ben"):
        for unit in (units["R1"][1], units["R2"][0]):
            service.add_coding(engine, project, segment_id=unit, code=a, coder=coder)
    service.split_code(engine, project, code=a, label="People resist", segment_ids=[units["R2"][0]], actor="sup")
    report = service.agreement_report(engine, project, frame=FRAME, n_boot=0)
    assert any("split 'rd_resistance_to_change'" in n for n in report.notes)


def test_methods_sentence_before_any_change(engine, project):
    assert "not changed in Codeframe" in service.codebook_methods_sentence(engine, project)
    assert service.codebook_version(engine, project) is None


def test_versions_survive_a_fresh_engine(any_db_url, tmp_path):
    from coding.database.engine import make_engine

    engine = make_engine(any_db_url)
    service.create_project(engine, "q")
    service.add_code(engine, "q", frame=FRAME, label="Kept")
    engine.dispose()
    engine = make_engine(any_db_url)
    assert service.codebook_version(engine, "q") == 1
    assert "kept" in [c.id for c in service.codebook_at(engine, "q", version=1).codes()]
    engine.dispose()


def test_migration_0010_upgrades_a_0009_database_and_its_codes_can_be_merged(any_db_url):
    import migrations_helper as seed
    import sqlalchemy as sa

    from coding.database.engine import make_engine, migrate

    engine = make_engine(any_db_url, migrate_schema=False)
    try:
        migrate(engine, "0009")
        with engine.begin() as conn:
            seed.coded_project(conn)
        migrate(engine)
        with engine.begin() as conn:
            assert "codebook_version" in sa.inspect(conn).get_table_names()
            assert conn.execute(sa.text("SELECT codebook_editors FROM project")).scalar() == "supervisors"
            assert conn.execute(sa.text("SELECT proposed_by FROM code")).scalar() is None
        service.add_code(engine, "old", frame="f", label="Other", definition="o")
        service.merge_codes(engine, "old", source="c", into="other")
        assert {code for _, code, _ in _codings(engine)} == {"other"}
        assert service.codebook_history(engine, "old")["action"].tolist() == ["add", "merge"]
    finally:
        engine.dispose()


def test_suggestions_follow_a_new_code_at_once(engine, project):
    from topics import WordHashing

    from coding.service.suggestions import fitted_suggester

    hashing = WordHashing()
    service.clear_suggestion_cache()
    first = fitted_suggester(engine, project, frame=FRAME, coder="ana", embedder=hashing)
    assert fitted_suggester(engine, project, frame=FRAME, coder="ana", embedder=hashing) is first  # cached
    service.add_code(engine, project, frame=FRAME, label="Mind", definition="Nothing else comes to mind.",
                     examples=["Nothing else comes to mind."])
    refit = fitted_suggester(engine, project, frame=FRAME, coder="ana", embedder=hashing)
    assert refit is not first and "mind" in refit.labels
    unit = _units(engine, project)["R3"][0]
    found = [s for s in service.suggest(engine, project, frame=FRAME, coder="ana", embedder=hashing)
             if s.segment_id == unit]
    assert found and found[0].code == "mind"
    service.clear_suggestion_cache()


def test_a_project_export_keeps_codings_of_a_proposal(engine, project):
    _team(engine, project, "propose")
    unit = _units(engine, project)["R1"][0]
    service.create_and_apply_code(engine, project, frame=FRAME, segment_id=unit, coder="ana", label="Pending")
    bundle = service.export_bundle(engine, project)
    assert "pending" in [c.id for c in bundle.codebook.codes()]
    assert any(c.code == "pending" for c in bundle.codings)


def test_findings_report_names_the_version_and_counts_on_the_merged_codings(sample_engine):
    before = service.findings_report(sample_engine, frame="reform_directions", embedder=False, chart=False)
    assert "not changed in Codeframe" in before.methods
    service.merge_codes(sample_engine, source="rd_delegation", into="rd_evidence_based", reason="overlap")
    found = service.findings_report(sample_engine, frame="reform_directions", embedder=False, chart=False)
    assert "The figures rest on codebook version 1" in found.methods and "0 added, 1 merged, 0 split" in found.methods
    consensus = {(s, c) for s, c, who in _codings(sample_engine) if who == "consensus"}
    with Session(sample_engine) as session:
        from coding.database.tables import Segment

        units = {s: session.get(Segment, s).document_id for s, _ in consensus}
    documents = {d.id: d.respondent for d in service.list_documents(sample_engine)}
    by_hand = len({documents[units[s]] for s, c in consensus if c == "rd_evidence_based"})
    merged = next(f for f in found.findings if f.code == "rd_evidence_based")
    assert (merged.count, merged.n) == (by_hand, 24)
    assert any("merged 'rd_delegation' into 'rd_evidence_based'" in n for n in found.notes)


def test_applying_a_codebook_file_is_a_version_that_blocks_older_undos(engine, project, tmp_path):
    service.retire_code(engine, project, code="rd_delegation", actor="sup")
    path = tmp_path / "v1.yaml"
    path.write_bytes(service.export_codebook_version(engine, project, version=1))
    text = path.read_text(encoding="utf-8").replace("label: Delegation", "label: Delegation of authority", 1)
    path.write_text(text, encoding="utf-8")
    service.apply_codebook(engine, project, path=path)
    history = service.codebook_history(engine, project)
    assert history["action"].tolist() == ["retire", "apply"] and history["summary"].iloc[1].startswith("applied v1.yaml")
    with pytest.raises(CodeframeError, match="applied a codebook file"):
        service.undo_codebook_change(engine, project)
    with pytest.raises(CodeframeError, match="later changes"):
        service.undo_codebook_change(engine, project, version=1)
