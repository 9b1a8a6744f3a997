"""The facade on both backends: imports all or nothing, codings with history, codebook changes, blind mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from coding import service
from coding.database.tables import Code, Coding, CodingEvent, Document, Segment
from coding.errors import (
    CodeframeError,
    CodingsError,
    DuplicateDocumentError,
    NotFound,
    PermissionDenied,
    TranscriptError,
)

INTERVIEW_1 = """Interviewer: What should change in the civil service?
Respondent: Reform must be systematic. Partial changes do not work.
Interviewer: And training?
Respondent: Training of personnel is weak. Many officials lack competence.
"""

INTERVIEW_2 = """Interviewer: What holds reform back?
Respondent: People resist change. Decisions are not based on evidence.
"""


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _counts(engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            t.__name__: session.exec(select(func.count()).select_from(t)).one()[0]
            for t in (Document, Segment, Coding, CodingEvent, Code)
        }


@pytest.fixture
def project(engine):
    service.create_project(engine, "p")
    for name, role in (("ana", "coder"), ("ben", "coder"), ("sup", "supervisor"), ("consensus", "supervisor")):
        service.ensure_coder(engine, "p", name, role=role)
    return "p"


@pytest.fixture
def two_docs(engine, project, tmp_path):
    attrs = _write(tmp_path, "attrs.csv", "respondent,expert_group\nR1,academia\nR2,private sector\n")
    report = service.import_transcripts(
        engine, project, [_write(tmp_path, "R1.txt", INTERVIEW_1), _write(tmp_path, "R2.txt", INTERVIEW_2)],
        attributes=attrs,
    )
    return report


def _stored_text(engine, project, name):
    """A document's stored text, as the project export gives it."""
    return next(d.text for d in service.export_bundle(engine, project).documents if d.name == name)


def _units(engine, project, name):
    doc = next(d for d in service.list_documents(engine, project) if d.name == name)
    view = service.document_view(engine, project, doc.id, viewer="sup")
    return doc, [s for s in view.segments if s.is_unit]


def test_create_project_loads_the_default_codebook(engine, project):
    codebook = service.project_codebook(engine, project)
    assert {f.id for f in codebook.frames} >= {"oecd_pslc", "reform_directions", "contract_service"}
    principles = [c for c in codebook.codes("oecd_pslc") if c.parent]
    assert len(principles) == 14
    with pytest.raises(CodeframeError, match="already exists"):
        service.create_project(engine, "p")


def test_import_segments_respondent_turns_with_offsets_and_attributes(engine, project, two_docs):
    assert two_docs.documents == ["R1", "R2"]
    docs = {d.name: d for d in service.list_documents(engine, project)}
    assert docs["R1"].attributes == {"expert_group": "academia"}
    assert docs["R2"].respondent == "R2"
    text = _stored_text(engine, project, "R1")
    view = service.document_view(engine, project, docs["R1"].id, viewer="ana")
    units = [s for s in view.segments if s.is_unit]
    assert [s.text for s in units] == [
        "Reform must be systematic.", "Partial changes do not work.",
        "Training of personnel is weak.", "Many officials lack competence.",
    ]
    for segment in view.segments:  # offsets round-trip to the stored original text
        assert text[segment.start:segment.end] == segment.text
    assert all(s.role == "interviewer" for s in view.segments if not s.is_unit)


def test_a_bad_file_in_a_batch_imports_nothing(engine, project, tmp_path):
    before = _counts(engine)
    good = _write(tmp_path, "R1.txt", INTERVIEW_1)
    empty = _write(tmp_path, "R9.txt", "")
    binary = tmp_path / "R8.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    with pytest.raises(TranscriptError) as info:
        service.import_transcripts(engine, project, [good, empty, binary])
    files = {p.file for p in info.value.problems}
    assert {"R9.txt", "R8.txt"} <= {Path(f).name for f in files}
    assert _counts(engine) == before


def test_duplicates_are_refused_whole(engine, project, two_docs, tmp_path):
    before = _counts(engine)
    same_content = _write(tmp_path, "copy.txt", INTERVIEW_1)
    new = _write(tmp_path, "R3.txt", "Respondent: Something new entirely.\n")
    with pytest.raises(DuplicateDocumentError, match="duplicate"):
        service.import_transcripts(engine, project, [new, same_content])
    assert _counts(engine) == before


def test_identical_survey_answers_import_when_allowed_but_names_stay_unique(engine, project, tmp_path):
    answers = [_write(tmp_path, f"S{i}.txt", "Respondent: No.\n") for i in (1, 2, 3)]
    with pytest.raises(DuplicateDocumentError, match="allow-same-content"):
        service.import_transcripts(engine, project, answers)
    assert _counts(engine)["Document"] == 0
    report = service.import_transcripts(engine, project, answers, allow_same_content=True)
    assert sorted(report.documents) == ["S1", "S2", "S3"] and report.units == 3
    (tmp_path / "again").mkdir()
    again = _write(tmp_path / "again", "S1.txt", "Respondent: Something else.\n")
    with pytest.raises(DuplicateDocumentError, match="already in the project"):  # a name is still one document
        service.import_transcripts(engine, project, [again], allow_same_content=True)
    assert _counts(engine)["Document"] == 3


def test_attributes_naming_unknown_respondents_import_nothing(engine, project, tmp_path):
    attrs = _write(tmp_path, "attrs.csv", "respondent,expert_group\nR1,academia\nR7,ngo\n")
    with pytest.raises(CodeframeError, match="R7"):
        service.import_transcripts(engine, project, [_write(tmp_path, "R1.txt", INTERVIEW_1)], attributes=attrs)
    assert _counts(engine)["Document"] == 0


def test_cp1251_transcript_is_decoded_and_segmented_in_russian(engine, project, tmp_path):
    text = "Интервьюер: Что мешает реформе?\nРеспондент: Нет системного подхода. Реформы идут медленно.\n"
    report = service.import_transcripts(engine, project, [_write(tmp_path, "ru.txt", text, "cp1251")], language="ru")
    assert report.units == 2
    doc, units = _units(engine, project, "ru")
    assert [u.text for u in units] == ["Нет системного подхода.", "Реформы идут медленно."]
    assert doc.language == "ru"


def test_add_and_remove_coding_write_history(engine, project, two_docs):
    _, units = _units(engine, project, "R1")
    cid = service.add_coding(engine, project, segment_id=units[0].id, code="rd_systemic_approach", coder="ana",
                             memo="clear case")
    again = service.add_coding(engine, project, segment_id=units[0].id, code="rd_systemic_approach", coder="ana")
    assert again == cid  # no duplicate
    assert service.remove_coding(engine, project, segment_id=units[0].id, code="rd_systemic_approach", coder="ana")
    assert not service.remove_coding(engine, project, segment_id=units[0].id, code="rd_systemic_approach", coder="ana")
    events = service.history(engine, project)
    assert list(events["action"]) == ["add", "remove"]
    assert events.iloc[0]["after"]["memo"] == "clear case"
    assert events.iloc[1]["before"]["memo"] == "clear case"


def test_mutually_exclusive_frame_keeps_one_code_per_segment(engine, project, two_docs):
    _, units = _units(engine, project, "R1")
    seg = units[1].id
    service.add_coding(engine, project, segment_id=seg, code="cs_evolutionary", coder="ana")
    service.add_coding(engine, project, segment_id=seg, code="cs_progressive", coder="ana")
    codes = [c.code for s in service.document_view(engine, project, _units(engine, project, "R1")[0].id,
                                                   viewer="ana").segments if s.id == seg for c in s.codings]
    assert codes == ["cs_progressive"]


def test_blind_mode_hides_other_coders_until_turned_off(engine, project, two_docs):
    doc, units = _units(engine, project, "R1")
    service.add_coding(engine, project, segment_id=units[0].id, code="rd_systemic_approach", coder="ana")
    service.add_coding(engine, project, segment_id=units[0].id, code="rd_human_capital", coder="ben")

    def seen(viewer):
        view = service.document_view(engine, project, doc.id, viewer=viewer)
        return sorted((c.coder, c.code) for s in view.segments for c in s.codings)

    assert seen("ana") == [("ana", "rd_systemic_approach")]
    assert seen("sup") == [("ana", "rd_systemic_approach"), ("ben", "rd_human_capital")]
    service.update_settings(engine, project, blind_mode=False)
    assert seen("ana") == [("ana", "rd_systemic_approach"), ("ben", "rd_human_capital")]


def test_coders_cannot_edit_others_or_adjudicate(engine, project, two_docs):
    _, units = _units(engine, project, "R1")
    service.add_coding(engine, project, segment_id=units[0].id, code="rd_systemic_approach", coder="ben")
    with pytest.raises(PermissionDenied):
        service.add_coding(engine, project, segment_id=units[0].id, code="rd_human_capital", coder="ben", actor="ana")
    with pytest.raises(PermissionDenied):
        service.remove_coding(engine, project, segment_id=units[0].id, code="rd_systemic_approach", coder="ben",
                              actor="ana")
    with pytest.raises(PermissionDenied):
        service.add_coding(engine, project, segment_id=units[0].id, code="rd_systemic_approach", coder="consensus",
                           actor="ana", source="adjudication")
    with pytest.raises(PermissionDenied, match="written only by adjudication"):  # issue 14: not even a supervisor
        service.add_coding(engine, project, segment_id=units[0].id, code="rd_systemic_approach", coder="consensus",
                           actor="sup", source="adjudication", reason="both coders saw it")
    service.adjudicate(engine, project, segment_id=units[0].id, frame="reform_directions",
                       codes=["rd_systemic_approach"], actor="sup", reason="both coders saw it")


def test_next_uncoded_and_progress(engine, project, two_docs):
    doc, units = _units(engine, project, "R1")
    assert service.next_uncoded_segment(engine, project, doc.id, coder="ana") == units[0].id
    service.add_coding(engine, project, segment_id=units[0].id, code="rd_systemic_approach", coder="ana")
    assert service.next_uncoded_segment(engine, project, doc.id, coder="ana") == units[1].id
    service.mark_done(engine, project, doc.id, coder="ana")
    progress = service.progress_by_coder(engine, project).set_index("coder")
    assert progress.loc["ana", "segments_coded"] == 1
    assert progress.loc["ana", "segments_total"] == 6
    assert progress.loc["ana", "documents_done"] == 1


def test_import_codings_by_quote_segment_and_span(engine, project, two_docs, tmp_path):
    csv_text = (
        "document,coder,code,quote,segment,start,end,memo\n"
        "R1,ana,rd_systemic_approach,Reform must be systematic.,,,,\n"
        "R1,ben,rd_human_capital,,3,,,weak training\n"
        "R2,ana,rd_resistance_to_change,,,,,\n"
    )
    with pytest.raises(CodingsError, match=r"c\.csv:4: no segment"):
        service.import_codings(engine, project, _write(tmp_path, "c.csv", csv_text))
    assert _counts(engine)["Coding"] == 0
    text = _stored_text(engine, project, "R2")
    start = text.index("People resist")
    fixed = csv_text.replace("R2,ana,rd_resistance_to_change,,,,,",
                             f"R2,ana,rd_resistance_to_change,,,{start},{len(text.rstrip())},")
    report = service.import_codings(engine, project, _write(tmp_path, "c.csv", fixed))
    assert report.codings == 4  # the R2 span covers two sentences
    assert any("several segments" in n for n in report.notes)
    events = service.history(engine, project)
    assert set(events["action"]) == {"add"} and len(events) == 4


@pytest.mark.parametrize(
    "row, message",
    [
        ("R1,ana,no_such_code,Reform must be systematic.", "unknown code"),
        ("R1,zed,rd_human_capital,Reform must be systematic.", "unknown coder"),
        ("R5,ana,rd_human_capital,Reform must be systematic.", "unknown document"),
        ("R1,ana,rd_human_capital,Not in the text.", "found 0 times"),
    ],
)
def test_codings_csv_errors_name_the_line_and_import_nothing(engine, project, two_docs, tmp_path, row, message):
    good = "R1,ana,rd_systemic_approach,Reform must be systematic."
    path = _write(tmp_path, "c.csv", f"document,coder,code,quote\n{good}\n{row}\n")
    with pytest.raises(CodingsError) as info:
        service.import_codings(engine, project, path)
    assert info.value.problems[0].line == 3
    assert message in str(info.value)
    assert _counts(engine)["Coding"] == 0


def test_changing_the_codebook_keeps_codings_and_reports_removed_codes(engine, project, two_docs, tmp_path):
    from coding.codebook import default_codebook_path

    _, units = _units(engine, project, "R1")
    service.add_coding(engine, project, segment_id=units[0].id, code="rd_delegation", coder="ana")
    service.add_coding(engine, project, segment_id=units[1].id, code="rd_evidence_based", coder="ana")
    original = default_codebook_path().read_text(encoding="utf-8")
    assert "id: rd_delegation" in original and "id: rd_evidence_based" in original
    changed = original.replace("id: rd_delegation\n", "id: rd_delegation_of_powers\n")
    path = _write(tmp_path, "cb.yaml", changed)

    report = service.apply_codebook(engine, project, path=path)
    assert report.removed == ["rd_delegation"] and report.kept_inactive["rd_delegation"] == 1
    assert "rd_delegation_of_powers" in report.added
    assert _counts(engine)["Coding"] == 2  # nothing dropped
    assert any("rd_delegation" in line and "kept" in line for line in report.lines())
    with pytest.raises(CodeframeError, match="inactive"):
        service.add_coding(engine, project, segment_id=units[2].id, code="rd_delegation", coder="ana")

    renamed = service.apply_codebook(engine, project, path=path, renames={"rd_delegation": "rd_delegation_of_powers"})
    assert renamed.renamed == {"rd_delegation": "rd_delegation_of_powers"}
    assert renamed.moved_codings == {"rd_delegation": 1}
    usage = service.code_usage(engine, project).set_index("code")
    assert usage.loc["rd_delegation_of_powers", "codings"] == 1
    assert "rd_delegation" not in usage.index


def test_unknown_project_is_a_clear_error(engine):
    with pytest.raises(NotFound, match="codeframe init"):
        service.status(engine, "nope")


def test_status_counts(engine, project, two_docs):
    _, units = _units(engine, project, "R2")
    service.add_coding(engine, project, segment_id=units[0].id, code="rd_resistance_to_change", coder="ben")
    st = service.status(engine, project)
    assert (st.documents, st.respondents, st.units) == (2, 2, 6)
    assert st.segments == 9
    assert st.codings_by_coder["ben"] == 1 and st.codings_by_coder["ana"] == 0
    assert st.frames["oecd_pslc"] == 17


def test_sample_corpus_loads_with_every_quote_on_one_segment(sample_engine):
    import csv

    rows = list(csv.DictReader((service.sample_corpus_dir() / "codings.csv").open(encoding="utf-8")))
    st = service.status(sample_engine)
    assert (st.documents, st.respondents) == (24, 24)
    assert sum(st.codings_by_coder.values()) == len(rows)  # one coding per row: no quote spanned two segments
    for coder in ("aigerim", "daniyar", "consensus"):
        assert st.codings_by_coder[coder] == sum(r["coder"] == coder for r in rows)
    languages = {d.name: d.language for d in service.list_documents(sample_engine)}
    assert {n for n, lang in languages.items() if lang == "ru"} == {"R04", "R10", "R16", "R21"}
    groups = {d.attributes["expert_group"] for d in service.list_documents(sample_engine)}
    assert "public administration" in groups and len(groups) == 6


# --------------------------------------------------------------------------- agreement, adjudication, shares


def test_agreement_at_respondent_level_counts_every_covered_respondent(sample_engine):
    report = service.agreement_report(sample_engine, frame="reform_directions", unit="respondent", n_boot=0)
    table = report.table.set_index("code")
    assert report.coders == ["aigerim", "daniyar"]
    assert set(table["n_units"]) == {24}  # all 24 respondents, including those nobody coded
    segment = service.agreement_report(sample_engine, frame="reform_directions", unit="segment", n_boot=0)
    assert set(segment.table["n_units"]) == {service.status(sample_engine).units - _interviewer_free_gap(sample_engine)}
    pslc = service.agreement_report(sample_engine, frame="oecd_pslc", unit="respondent", n_boot=0)
    assert set(pslc.table["n_units"]) == {10}  # only the double-coded part of the frame


def _interviewer_free_gap(engine) -> int:
    """Units of documents outside the reform-directions coverage: none in the sample."""
    return 0


def test_uncovered_document_is_not_a_silent_zero(engine, project, two_docs):
    doc1, units1 = _units(engine, project, "R1")
    doc2, _ = _units(engine, project, "R2")
    service.add_coding(engine, project, segment_id=units1[0].id, code="rd_systemic_approach", coder="ana")
    service.add_coding(engine, project, segment_id=units1[0].id, code="rd_systemic_approach", coder="ben")
    report = service.agreement_report(engine, project, frame="reform_directions", unit="respondent", n_boot=0)
    assert report.table.set_index("code").loc["rd_systemic_approach", "n_units"] == 1
    for coder in ("ana", "ben"):  # both finish the frame on R2 without applying anything
        service.mark_done(engine, project, doc2.id, coder=coder, frames=["reform_directions"])
    report = service.agreement_report(engine, project, frame="reform_directions", unit="respondent", n_boot=0)
    row = report.table.set_index("code").loc["rd_systemic_approach"]
    assert row["n_units"] == 2 and row["percent_agreement"] == 1.0


def test_blind_double_coding_assignment_and_release(engine, project, two_docs):
    service.update_settings(engine, project, blind_mode=False)
    with pytest.raises(PermissionDenied):
        service.assign_double_coding(engine, project, coders=["ana", "ben"], documents=["R1"], actor="ana")
    assert service.assign_double_coding(engine, project, coders=["ana", "ben"], documents=["R1"], actor="sup") == ["R1"]
    doc, units = _units(engine, project, "R1")
    service.add_coding(engine, project, segment_id=units[0].id, code="rd_human_capital", coder="ben")
    hidden = service.document_view(engine, project, doc.id, viewer="ana")
    assert not [c for s in hidden.segments for c in s.codings]  # blind, although blind mode is off
    assert service.release_double_coding(engine, project, actor="sup") == 2
    shown = service.document_view(engine, project, doc.id, viewer="ana")
    assert [c.coder for s in shown.segments for c in s.codings] == ["ben"]


def test_random_double_coding_sample_is_seeded(engine, project, two_docs):
    first = service.assign_double_coding(engine, project, coders=["ana", "ben"], fraction=0.5, actor="sup", seed=3)
    assert len(first) == 1
    assert len(service.list_assignments(engine, project)) == 2


def test_adjudication_sets_consensus_with_reason_and_history(engine, project, two_docs):
    _, units = _units(engine, project, "R1")
    seg = units[0].id
    service.add_coding(engine, project, segment_id=seg, code="rd_systemic_approach", coder="ana", memo="systemic")
    service.add_coding(engine, project, segment_id=seg, code="rd_resistance_to_change", coder="ben")
    details = service.disagreement_details(engine, project, frame="reform_directions")
    assert [d["segment_id"] for d in details] == [seg]
    assert details[0]["coders"] == {"ana": {"rd_systemic_approach": "systemic"}, "ben": {"rd_resistance_to_change": None}}
    with pytest.raises(PermissionDenied):
        service.adjudicate(engine, project, segment_id=seg, frame="reform_directions",
                           codes=["rd_systemic_approach"], actor="ana", reason="mine")
    with pytest.raises(CodeframeError, match="reason"):
        service.adjudicate(engine, project, segment_id=seg, frame="reform_directions",
                           codes=["rd_systemic_approach"], actor="sup", reason=" ")
    service.adjudicate(engine, project, segment_id=seg, frame="reform_directions",
                       codes=["rd_systemic_approach"], actor="sup", reason="ana's reading fits the definition")
    service.adjudicate(engine, project, segment_id=seg, frame="reform_directions",
                       codes=["rd_resistance_to_change"], actor="sup", reason="on reflection, ben")
    details = service.disagreement_details(engine, project, frame="reform_directions")
    assert details[0]["consensus"] == {"rd_resistance_to_change": None}
    events = service.history(engine, project, coder="consensus")
    assert list(events["action"]) == ["add", "remove", "add"]
    assert set(events["source"]) == {"adjudication"} and events.iloc[-1]["reason"] == "on reflection, ben"
    drift = service.coder_drift(engine, project, frame="reform_directions").set_index("coder")
    assert list(drift.index) == ["ana", "ben"]
    # 4 units x 5 codes = 20 presence decisions each; ben matches the consensus everywhere,
    # ana differs on two (her code is not the consensus's, and the consensus's is not hers)
    assert drift.loc["ben", "percent_agreement"] == 1.0 and drift.loc["ben", "cohen_kappa"] == 1.0
    assert drift.loc["ana", "percent_agreement"] == pytest.approx(18 / 20)
    assert (drift["units"] == 4).all()


def test_share_report_reproduces_figure_1(sample_engine):
    report = service.share_report(sample_engine, frame="reform_directions", by="expert_group")
    assert report.coder == "consensus" and report.n == 24
    displays = dict(zip(report.table["code"], report.table["display"]))
    assert displays == {
        "rd_systemic_approach": "7/24 = 29.2%", "rd_resistance_to_change": "3/24 = 12.5%",
        "rd_human_capital": "4/24 = 16.7%", "rd_delegation": "2/24 = 8.3%", "rd_evidence_based": "2/24 = 8.3%",
    }
    assert report.table["agreement"].notna().all()  # respondent-level alpha beside each share
    assert (report.matrix.sum(axis=1) == 0).sum() >= 8  # respondents with no direction stay in the matrix
    assert set(report.crosstab["group"]) >= {"public administration", "academia and research"}
    assert set(report.crosstab["attribute"]) == {"expert_group"}


def test_share_report_needs_a_coder_without_consensus(engine, project, two_docs):
    _, units = _units(engine, project, "R1")
    service.add_coding(engine, project, segment_id=units[0].id, code="rd_systemic_approach", coder="ana")
    single = service.share_report(engine, project, frame="reform_directions")
    assert single.coder == "ana" and single.n == 2
    assert dict(zip(single.table["code"], single.table["count"]))["rd_systemic_approach"] == 1
    service.add_coding(engine, project, segment_id=units[1].id, code="rd_delegation", coder="ben")
    with pytest.raises(CodeframeError, match="choose a coder"):
        service.share_report(engine, project, frame="reform_directions")


# --------------------------------------------------------------------------- exchange


def _project_snapshot(engine, project):
    bundle = service.export_bundle(engine, project)
    docs = sorted((d.name, d.text, d.respondent, tuple(sorted(d.attributes.items()))) for d in bundle.documents)
    codings = sorted((c.document, c.start, c.end, c.code, c.coder, c.memo or "") for c in bundle.codings)
    return bundle.codebook, docs, codings


def test_refi_qda_round_trip_into_an_empty_project(engine, project, two_docs):
    from coding import refiqda

    _, units = _units(engine, project, "R1")
    service.add_coding(engine, project, segment_id=units[0].id, code="rd_systemic_approach", coder="ana", memo="m")
    service.add_coding(engine, project, segment_id=units[3].id, code="pslc_05_identify_skills", coder="ben")
    data = refiqda.export_qdpx(service.export_bundle(engine, project))
    bundle, report = refiqda.import_qdpx(data)
    service.import_bundle(engine, "copy", bundle, report)
    original, copy = _project_snapshot(engine, project), _project_snapshot(engine, "copy")
    assert copy[1] == original[1] and copy[2] == original[2]
    assert [c.id for c in copy[0].codes()] == [c.id for c in original[0].codes()]
    assert copy[0].frames == original[0].frames  # every code with definition, criteria and examples
    with pytest.raises(CodeframeError, match="already has documents"):
        service.import_bundle(engine, "copy", bundle, report)


def test_bundle_spans_that_cut_segments_are_mapped_and_reported(engine, project):
    from coding.bundle import Bundle, BundleCoding, BundleDocument

    text = "Respondent: First point here. Second point there.\r\nThird one.\r\n"
    bundle = Bundle(
        codebook=service.project_codebook(engine, project),
        documents=[BundleDocument(name="X", text=text, respondent="X")],
        codings=[BundleCoding(document="X", start=text.index("point here"), end=text.index("Second") + 6,
                              code="rd_delegation", coder="zoe")],
        coders=["zoe"],
    )
    report = service.import_bundle(engine, "spans", bundle)
    assert any("did not align" in n for n in report.notes)
    doc = service.list_documents(engine, "spans")[0]
    coded = [s.text for s in service.document_view(engine, "spans", doc.id, viewer="zoe").segments if s.codings]
    assert coded == ["First point here.", "Second point there."]


def test_exported_codings_csv_reimports_identically(engine, project, two_docs, tmp_path):
    _, units = _units(engine, project, "R2")
    service.add_coding(engine, project, segment_id=units[1].id, code="rd_evidence_based", coder="ana", memo="x")
    frame = service.export_codings_frame(engine, project)
    assert list(frame[["document", "segment", "coder", "code", "memo"]].itertuples(index=False, name=None)) == [
        ("R2", 2, "ana", "rd_evidence_based", "x")]
    path = tmp_path / "codings.csv"
    frame.to_csv(path, index=False)
    service.remove_coding(engine, project, segment_id=units[1].id, code="rd_evidence_based", coder="ana")
    service.import_codings(engine, project, path)
    again = service.export_codings_frame(engine, project)
    assert list(again[["document", "segment", "coder", "code", "memo"]].itertuples(index=False, name=None)) == [
        ("R2", 2, "ana", "rd_evidence_based", "x")]


def test_a_failed_first_sample_load_leaves_no_project_behind(tmp_path, monkeypatch, sqlite_engine):
    import shutil

    broken = tmp_path / "corpus"
    shutil.copytree(service.sample_corpus_dir(), broken)
    (broken / "transcripts" / "R05.txt").write_bytes(b"")  # one bad file: the import refuses the batch
    monkeypatch.setenv("CODEFRAME_CORPUS", str(broken))
    with pytest.raises(TranscriptError, match="R05"):
        service.initialize(sqlite_engine, sample=True)
    assert not service.project_exists(sqlite_engine)
    monkeypatch.delenv("CODEFRAME_CORPUS")
    report = service.initialize(sqlite_engine, sample=True)  # the next start loads it cleanly
    assert len(report.documents) == 24


def test_delete_project_removes_everything_and_leaves_others(engine, project, two_docs):
    _, units = _units(engine, project, "R1")
    service.add_coding(engine, project, segment_id=units[0].id, code="rd_systemic_approach", coder="ana")
    service.create_project(engine, "keep")
    service.delete_project(engine, project)
    assert not service.project_exists(engine, project)
    assert service.project_exists(engine, "keep")
    counts = _counts(engine)
    assert counts["Document"] == counts["Segment"] == counts["Coding"] == counts["CodingEvent"] == 0
    assert counts["Code"] == len(service.project_codebook(engine, "keep").code_ids)
