"""The keyboard-driven coding page through AppTest: "read, nothing applies", next unread, undo in the page,
memos on applied codes, the address that brings a coder back, and what an exclusive frame says."""

from __future__ import annotations

from apptest import APP, by_prefix, ok, texts
from streamlit.testing.v1 import AppTest

from coding import service

PROJECT = "default"


def document_id(engine, name: str) -> int:
    return next(d.id for d in service.list_documents(engine, PROJECT) if d.name == name)


def code_page(engine, who: str, document: str, **params) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    ok(at.run())
    if "coder" not in params:
        ok(at.selectbox(key="_coder_pick").set_value(who).run())
    ok(at.switch_page("app_pages/code.py").run())
    if "doc" not in params:
        ok(at.selectbox(key="_doc_pick").set_value(document_id(engine, document)).run())
    return at


def units(engine, document: str, coder: str) -> list[int]:
    view = service.document_view(engine, PROJECT, document_id(engine, document), viewer=coder)
    return [s.id for s in view.segments if s.is_unit]


def mine(engine, document: str, coder: str, segment: int) -> dict[str, str | None]:
    view = service.document_view(engine, PROJECT, document_id(engine, document), viewer=coder)
    return {c.code: c.memo for s in view.segments if s.id == segment for c in s.codings if c.coder == coder}


def test_nothing_applies_moves_on_next_unread_skips_it_and_undo_lifts_it(app_engine):
    service.ensure_coder(app_engine, PROJECT, "zhanna")
    first, second, third = units(app_engine, "R05", "zhanna")[:3]
    at = code_page(app_engine, "zhanna", "R05")
    assert at.session_state["seg_id"] == first
    assert "0 of " in texts(at) and "units read" in texts(at)
    ok(at.button(key="cf_nothing").click().run())
    assert at.session_state["seg_id"] == second  # marked, and on to the next unit
    doc = document_id(app_engine, "R05")
    frames = {f.id for f in service.project_codebook(app_engine, PROJECT).frames}
    assert service.unit_marks(app_engine, PROJECT, doc, coder="zhanna") == {first: frozenset(frames)}
    assert "**1 of " in texts(at)
    ok(at.button(key="cf_prev").click().run())
    ok(at.button(key="cf_next_unread").click().run())
    assert at.session_state["seg_id"] == second  # the marked unit is skipped
    ok(at.button(key="cf_undo").click().run())  # undo the mark
    assert service.unit_marks(app_engine, PROJECT, doc, coder="zhanna") == {}
    assert at.session_state["seg_id"] == first and "Undid the “nothing applies” mark." in texts(at)
    assert third


def test_a_memo_added_after_ticking_is_saved_and_undo_reverts_the_last_change(app_engine):
    at = code_page(app_engine, "daniyar", "R06")
    seg = at.session_state["seg_id"]
    ok(by_prefix(at.button_group, f"_p_{seg}_reform_directions_").select("rd_delegation").run())
    assert mine(app_engine, "R06", "daniyar", seg) == {"rd_delegation": None}
    memo = next(w for w in at.text_input if (w.key or "").startswith(f"_cm_{seg}_rd_delegation_"))
    ok(memo.input("delegation, said twice").run())  # typed after ticking: kept (it used to be dropped)
    assert mine(app_engine, "R06", "daniyar", seg) == {"rd_delegation": "delegation, said twice"}
    ok(at.button(key="cf_undo").click().run())  # undo the memo ...
    assert mine(app_engine, "R06", "daniyar", seg) == {"rd_delegation": None}
    ok(at.button(key="cf_undo").click().run())  # ... then the tick
    assert mine(app_engine, "R06", "daniyar", seg) == {}
    history = service.history(app_engine, PROJECT, coder="daniyar")
    assert list(history["action"])[-4:] == ["add", "memo", "undo", "undo"]


def test_an_exclusive_frame_says_which_code_it_replaced(app_engine):
    at = code_page(app_engine, "aigerim", "R07")
    seg = at.session_state["seg_id"]
    ok(by_prefix(at.button_group, f"_p_{seg}_contract_service_").set_value("cs_evolutionary").run())
    ok(by_prefix(at.button_group, f"_p_{seg}_contract_service_").set_value("cs_progressive").run())
    shown = texts(at)
    assert "replaced" in shown and "takes one code per unit" in shown
    seg = at.session_state["seg_id"]
    assert set(mine(app_engine, "R07", "aigerim", seg)) >= {"cs_progressive"}
    assert "cs_evolutionary" not in mine(app_engine, "R07", "aigerim", seg)


def test_the_address_brings_back_coder_transcript_unit_frames_and_filter(app_engine):
    doc = document_id(app_engine, "R08")
    unit = units(app_engine, "R08", "aigerim")[4]
    at = code_page(app_engine, "aigerim", "R08", coder="aigerim", doc=str(doc), unit=str(unit),
                   frames="oecd_pslc", filter="merit")
    assert at.session_state["coder"] == "aigerim" and at.selectbox(key="_coder_pick").value == "aigerim"
    assert at.session_state["doc_id"] == doc and at.session_state["seg_id"] == unit
    assert at.multiselect(key="_frames_pick").value == ["oecd_pslc"]
    assert at.text_input(key="_code_filter").value == "merit"
    assert [w.key.split("_")[-2] for w in at.button_group] == ["pslc"]  # only the chosen frame
    assert all("erit" in o for o in at.button_group[0].options)  # filtered: "merit"
    assert "unit 5 of" in texts(at)
    assert dict(at.query_params) == {"coder": "aigerim", "doc": str(doc), "unit": str(unit), "frames": "oecd_pslc",
                                     "filter": "merit"}


def test_analytic_memos_on_the_unit_the_transcript_and_an_applied_code(app_engine):
    at = code_page(app_engine, "daniyar", "R09")
    seg = at.session_state["seg_id"]
    doc = document_id(app_engine, "R09")
    ok(by_prefix(at.button_group, f"_p_{seg}_reform_directions_").select("rd_human_capital").run())
    ok(by_prefix(at.text_area, f"_am_segment_{seg}_").input("a turning point").run())
    ok(by_prefix(at.text_area, f"_am_document_{doc}_").input("speaks for the ministry").run())
    ok(by_prefix(at.text_area, "_am_code_rd_human_capital_").input("often paired with pay").run())
    ok(by_prefix(at.text_area, f"_am_segment_{seg}_").input("a turning point, said twice").run())  # edited
    table = service.memos(app_engine, PROJECT, coder="daniyar")
    table = table[table["kind"] != "coding"]
    assert sorted(zip(table["kind"], table["text"])) == [
        ("code", "often paired with pay"), ("document", "speaks for the ministry"),
        ("segment", "a turning point, said twice")]
    assert any(getattr(b.proto, "popover", None) and b.proto.popover.label == "Memos on the unit, transcript, codes (3)"
               for b in at.get("popover"))


def test_a_retrieve_link_opens_its_unit_on_the_coding_page(app_engine):
    from urllib.parse import parse_qs, urlsplit

    row = service.retrieve(app_engine, PROJECT, codes=["rd_systemic_approach"]).iloc[3]
    link = urlsplit(row["link"])
    assert link.path == "/code"
    params = {k: v[0] for k, v in parse_qs(link.query).items()}
    assert params == {"doc": str(row["document_id"]), "unit": str(row["segment_id"])}
    at = code_page(app_engine, "daniyar", row["document"], **params)  # whoever opens it picks themselves
    assert at.session_state["seg_id"] == row["segment_id"]
    assert f"unit {row['unit']} of " in texts(at)


def test_a_coder_stars_a_key_quote_that_the_findings_report_quotes_first(app_engine):
    rows = service.retrieve(app_engine, PROJECT, codes=["rd_delegation"])
    last = rows.iloc[-1]  # without a star, the report (document order here) would quote others first
    seg = int(last["segment_id"])
    if "rd_delegation" not in mine(app_engine, last["document"], "daniyar", seg):
        service.add_coding(app_engine, PROJECT, segment_id=seg, code="rd_delegation", coder="daniyar")
    at = code_page(app_engine, "daniyar", last["document"], doc=str(last["document_id"]), unit=str(seg),
                   coder="daniyar")
    assert at.session_state["seg_id"] == seg
    ok(at.button(key=f"_kq_{seg}_rd_delegation").click().run())
    assert "Starred as a key quote." in texts(at)
    assert at.button(key=f"_kq_{seg}_rd_delegation").proto.type == "primary"  # drawn as starred
    found = service.findings_report(app_engine, frame="reform_directions", embedder=False, chart=False)
    delegation = next(f for f in found.findings if f.code == "rd_delegation")
    assert delegation.quotes[0].starred and delegation.quotes[0].text == last["text"].strip()
    history = service.history(app_engine, PROJECT, coder="daniyar")
    assert history.iloc[-1]["action"] == "key_quote"
    ok(at.button(key=f"_kq_{seg}_rd_delegation").click().run())  # unstar
    assert "No longer a key quote." in texts(at)
    found = service.findings_report(app_engine, frame="reform_directions", embedder=False, chart=False)
    assert not next(f for f in found.findings if f.code == "rd_delegation").quotes[0].starred
