"""The "Retrieve & report" page driven with AppTest on a copy of the sample database."""

from __future__ import annotations

import io
import json

from apptest import APP, ok, shown, texts
from docx import Document
from streamlit.testing.v1 import AppTest

from coding import service

PROJECT = "default"


def retrieve_page(coder: str = "supervisor") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.session_state["coder"] = coder
    ok(at.run())
    ok(at.switch_page("app_pages/retrieve.py").run())
    assert at.title[0].value == "Retrieve & report"
    return at


def test_retrieve_quotes_of_one_code_for_one_expert_group(app_engine):
    at = retrieve_page()
    at.multiselect(key="rt_codes").set_value(["rd_systemic_approach"]).run()
    ok(at)
    everyone = service.retrieve(app_engine, PROJECT, codes=["rd_systemic_approach"])
    assert f"**{len(everyone)}** segment(s) from **7** respondent(s)" in texts(at)
    at.selectbox(key="rt_attr").set_value("expert_group").run()
    at.multiselect(key="rt_values_expert_group").set_value(["academia and research"]).run()
    ok(at)
    page = texts(at)
    assert "from **2** respondent(s)" in page and "expert_group = academia and research" in page
    expected = service.retrieve(app_engine, PROJECT, codes=["rd_systemic_approach"],
                                         where=["expert_group=academia and research"])
    assert f"**{len(expected)}** segment(s)" in page
    for text in expected["text"]:
        assert text in page
    assert {b.label for b in at.get("download_button")} >= {"CSV", "XLSX", "DOCX", "MD", "Report (DOCX)"}
    open_buttons = [b for b in at.button if (b.key or "").startswith("rt_open_")]
    assert len(open_buttons) == len(expected)
    open_buttons[0].click().run()
    ok(at)
    assert at.title[0].value == "Code a transcript"
    assert at.session_state["seg_id"] == int(expected["segment_id"].iloc[0])


def test_blind_coder_sees_only_their_own_codings(app_engine):
    at = retrieve_page("daniyar")
    at.multiselect(key="rt_codes").set_value(["rd_systemic_approach"]).run()
    ok(at)
    page = texts(at)
    assert "coder: daniyar" in page and "consensus ·" not in page
    at.selectbox(key="rt_coder").set_value("aigerim").run()
    assert "only their own codings" in "\n".join(shown(e.value) for e in at.error)


def test_search_then_code_all_hits_and_undo(app_engine):
    at = retrieve_page("aigerim")
    at.text_input(key="sr_pattern").set_value("strategic planning").run()
    ok(at)
    hits = service.search(app_engine, PROJECT, pattern="strategic planning")
    assert f"**{len(hits)}** hit(s)" in texts(at) and len(hits) > 0
    at.selectbox(key="sr_code").set_value("rd_evidence_based").run()
    preview = service.preview_code_hits(app_engine, PROJECT, segment_ids=hits["segment_id"],
                                                 code="rd_evidence_based", coder="aigerim")
    assert preview.apply
    ok(at.button(key="sr_apply").click().run())
    assert f"Coded {len(preview.apply)} unit(s)" in "\n".join(shown(e.value) for e in at.success)
    coded = service.retrieve(app_engine, PROJECT, codes=["rd_evidence_based"], coder="aigerim")
    assert set(preview.apply) <= set(coded["segment_id"])
    assert service.history(app_engine, PROJECT)["reason"].iloc[-1].startswith("batch ")
    ok(at.button(key="sr_undo").click().run())
    left = service.retrieve(app_engine, PROJECT, codes=["rd_evidence_based"], coder="aigerim")
    assert not set(preview.apply) & set(left["segment_id"])


def test_cooccurrence_heatmap_cell_and_memos_and_report_download(app_engine):
    at = retrieve_page()
    assert not [c for c in at.get("vega_lite_chart") if "Co-occurrence" in c.proto.spec]  # only on request
    ok(at.toggle(key="co_on").set_value(True).run())
    heatmap = next(json.loads(c.proto.spec) for c in at.get("vega_lite_chart")
                   if "Co-occurrence" in json.dumps(json.loads(c.proto.spec).get("title", "")))
    assert heatmap["params"][0]["name"] == "cell"
    at.selectbox(key="co_a").set_value("rd_systemic_approach").run()
    at.selectbox(key="co_b").set_value("rd_human_capital").run()
    ok(at)
    behind = at.dataframe[0].value  # the units behind the cell (the memo table comes after it)
    table = service.cooccurrence(app_engine, PROJECT, frames=["reform_directions"])
    assert len(behind) == len(service.cooccurrence_members(table, "rd_systemic_approach",
                                                                    "rd_human_capital"))
    at.text_area(key="mm_text").set_value("Check the pace quotes again").run()
    ok(at.button(key="mm_save").click().run())
    memos = at.dataframe[-1].value
    assert "Check the pace quotes again" in memos["text"].tolist()
    report = next(b for b in at.get("download_button") if b.label == "Report (DOCX)")
    assert report.proto.label == "Report (DOCX)"
    from coding import report as rp

    found = service.findings_report(app_engine, PROJECT, frame="reform_directions", embedder=False)
    text = "\n".join(p.text for p in Document(io.BytesIO(rp.to_docx(found))).paragraphs)
    assert "7 of 24 respondents (29.2%" in text


def test_a_blind_coders_report_preview_names_nobody_else_and_warns_of_partial_coverage(app_engine):
    """Issue 27, item 2, on the page: the report a blind coder previews (and downloads) is their own."""
    service.update_settings(app_engine, PROJECT, blind_mode=True)
    at = retrieve_page("aigerim")
    at.session_state["rp_frame"] = "oecd_pslc"  # aigerim covered this frame for some respondents only
    at.toggle(key="rp_preview").set_value(True).run()
    shown = texts(ok(at))
    assert "only your own codings (aigerim)" in shown and "Partial coverage: aigerim coded this frame for" in shown
    for hidden in ("daniyar", "consensus", "α", "Krippendorff"):
        assert hidden not in shown, hidden
    assert "## Table 1" in shown
