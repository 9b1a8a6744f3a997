"""The coding page through AppTest: the coding view's data and its decisions (sent as the browser sends
them, through the component's outbox), bound to their units whatever the page shows; undo says where it
acted; "nothing applies" per frame; the address that brings a coder back; memos and key quotes."""

from __future__ import annotations

import itertools
import json

from apptest import APP, ok, texts
from streamlit.testing.v1 import AppTest

from coding import service
from coding.markup import md

PROJECT = "default"
_ids = itertools.count(1)


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


def view(at: AppTest) -> dict:
    """The data the page hands the coding view (the one component of the page)."""
    found = []

    def walk(node):
        for child in (node.children.values() if isinstance(getattr(node, "children", None), dict) else []):
            if getattr(child, "type", "") == "bidi_component":
                found.append(child)
            walk(child)

    walk(at.main)
    assert len(found) == 1
    return json.loads(found[0].proto.json)


def send(at: AppTest, coder: str, *events: dict) -> list[dict]:
    """What the browser does: the unacknowledged events in the outbox; returns the acknowledgements."""
    at.session_state["cf_view"] = {"outbox": {"events": [{"coder": coder, **e} for e in events],
                                              "nonce": str(next(_ids))}}
    ok(at.run())
    return view(at)["acks"]


def event(unit: int, action: str, **more) -> dict:
    n = next(_ids)
    return {"id": f"t-{n}", "seq": n, "unit_id": unit, "action": action, **more}


def units(engine, document: str, coder: str) -> list[int]:
    found = service.document_view(engine, PROJECT, document_id(engine, document), viewer=coder)
    return [s.id for s in found.segments if s.is_unit]


def mine(engine, document: str, coder: str, segment: int) -> dict[str, str | None]:
    found = service.document_view(engine, PROJECT, document_id(engine, document), viewer=coder)
    return {c.code: c.memo for s in found.segments if s.id == segment for c in s.codings if c.coder == coder}


def test_decisions_land_on_their_own_units_and_reruns_never_move_the_selection(app_engine):
    service.ensure_coder(app_engine, PROJECT, "zhanna")
    first, second, third = units(app_engine, "R05", "zhanna")[:3]
    at = code_page(app_engine, "zhanna", "R05")
    data = view(at)
    assert data["select"]["unit"] == first and data["coder"] == "zhanna"
    assert [s["id"] for s in data["segments"] if s["unit"]][:3] == [first, second, third]
    nonce = data["select"]["nonce"]
    # the page thinks the first unit is selected; each event names its own unit
    tick, mark = event(second, "tick", code="rd_delegation"), event(third, "nothing", frames=["reform_directions"])
    acks = send(at, "zhanna", tick, mark)
    assert [(a["unit_id"], a["status"]) for a in acks] == [(second, "applied"), (third, "applied")]
    assert mine(app_engine, "R05", "zhanna", second) == {"rd_delegation": None}
    assert mine(app_engine, "R05", "zhanna", first) == {}
    doc = document_id(app_engine, "R05")
    assert service.unit_marks(app_engine, PROJECT, doc, coder="zhanna") == {third: frozenset({"reform_directions"})}
    # a resend (the reply was lost) changes nothing, and a plain rerun (the warm-up) asks for no move
    send(at, "zhanna", tick, mark)
    ok(at.run())
    assert view(at)["select"]["nonce"] == nonce
    assert len(service.history(app_engine, PROJECT, coder="zhanna")) == 1
    data = view(at)
    assert data["state"][str(second)]["mine"] == ["rd_delegation"]
    assert data["state"][str(third)]["marks"] == ["reform_directions"]
    # an event queued as another coder (the sidebar changed since) is not applied as this one
    assert send(at, "someone_else", event(first, "tick", code="rd_delegation")) == []
    assert mine(app_engine, "R05", "zhanna", first) == {}


def test_undo_says_what_it_undid_and_on_which_unit(app_engine):
    service.ensure_coder(app_engine, PROJECT, "aliya")
    first, second, third = units(app_engine, "R05", "aliya")[:3]
    at = code_page(app_engine, "aliya", "R05")
    send(at, "aliya", event(first, "accept", code="rd_delegation", score=0.9, model_id="m"),
         event(second, "reject", code="rd_delegation", score=0.4, model_id="m"))
    acks = send(at, "aliya", event(third, "undo"))  # pressed on the third unit
    assert acks[-1]["unit_id"] == second and "rejecting rd_delegation" in acks[-1]["message"]
    assert view(at)["rejected"] == {str(second): []}  # the undone rejection: the suggestion may come back
    acks = send(at, "aliya", event(third, "undo"))
    assert acks[-1]["unit_id"] == first and "accepting rd_delegation" in acks[-1]["message"]
    assert mine(app_engine, "R05", "aliya", first) == {}  # the accepted code is gone, on the unit it was on


def test_nothing_applies_is_marked_per_frame_never_over_a_code(app_engine):
    service.ensure_coder(app_engine, PROJECT, "marat")
    first = units(app_engine, "R05", "marat")[0]
    at = code_page(app_engine, "marat", "R05", frames="reform_directions,contract_service")
    assert view(at)["chosen"] == ["reform_directions", "contract_service"]
    send(at, "marat", event(first, "tick", code="rd_delegation"),
         event(first, "nothing", frames=["reform_directions", "contract_service"]))
    state = view(at)["state"][str(first)]
    assert state["mine"] == ["rd_delegation"] and state["marks"] == ["contract_service"]
    refused = send(at, "marat", event(first, "nothing", frames=["reform_directions"]))[-1]
    assert refused["status"] == "refused" and "carries your codes in reform_directions" in refused["reason"]


def test_the_address_brings_back_coder_transcript_unit_and_frames(app_engine):
    service.ensure_coder(app_engine, PROJECT, "aigerim")
    doc = document_id(app_engine, "R03")
    unit = units(app_engine, "R03", "aigerim")[4]
    at = code_page(app_engine, "aigerim", "R03", coder="aigerim", doc=str(doc), unit=str(unit),
                   frames="contract_service")
    data = view(at)
    assert (data["doc"], data["select"]["unit"], data["chosen"]) == (doc, unit, ["contract_service"])
    assert dict(at.query_params) == {"coder": ["aigerim"], "doc": [str(doc)], "unit": [str(unit)],
                                     "frames": ["contract_service"]} or at.query_params["unit"] == str(unit)
    # the view reports a move (debounced): the address follows
    other = units(app_engine, "R03", "aigerim")[6]
    at.session_state["cf_view"] = {"selected": other}
    ok(at.run())
    assert at.query_params["unit"] == str(other) and at.session_state["seg_id"] == other


def test_a_retrieve_link_opens_its_unit_on_the_coding_page(app_engine):
    from urllib.parse import parse_qs, urlsplit

    row = service.retrieve(app_engine, PROJECT, codes=["rd_systemic_approach"]).iloc[3]
    link = urlsplit(row["link"])
    assert link.path == "/code"
    params = {k: v[0] for k, v in parse_qs(link.query).items()}
    assert params == {"doc": str(row["document_id"]), "unit": str(row["segment_id"])}
    at = code_page(app_engine, "daniyar", row["document"], **params)  # whoever opens it picks themselves
    assert view(at)["select"]["unit"] == row["segment_id"]


def test_a_memo_on_the_unit_and_a_coding_memo_and_a_key_quote(app_engine):
    rows = service.retrieve(app_engine, PROJECT, codes=["rd_delegation"])
    last = rows.iloc[-1]  # without a star, the report (document order here) would quote others first
    seg = int(last["segment_id"])
    if "rd_delegation" not in mine(app_engine, last["document"], "daniyar", seg):
        service.add_coding(app_engine, PROJECT, segment_id=seg, code="rd_delegation", coder="daniyar")
    at = code_page(app_engine, "daniyar", last["document"], doc=str(last["document_id"]), unit=str(seg),
                   coder="daniyar")
    send(at, "daniyar", event(seg, "memo", text="ask the team <b>about</b> this"))
    assert view(at)["state"][str(seg)]["memo"] == "ask the team <b>about</b> this"  # text, escaped by the view
    popover = at.get("popover")[0]
    assert popover.proto.popover.label.startswith("Memos & key quotes · unit ")
    at.session_state["cf_extras"] = True  # open the popover: its content is built only then
    ok(at.run())
    ok(at.button(key=f"_kq_{seg}_rd_delegation").click().run())
    assert "Starred as a key quote." in texts(at)
    found = service.findings_report(app_engine, frame="reform_directions", embedder=False, chart=False)
    delegation = next(f for f in found.findings if f.code == "rd_delegation")
    assert delegation.quotes[0].starred and delegation.quotes[0].text == last["text"].strip()
    ok(at.text_input(key=f"_cm_{seg}_rd_delegation").input("a clear case").run())
    assert mine(app_engine, last["document"], "daniyar", seg)["rd_delegation"] == "a clear case"


def test_the_address_keeps_the_project_the_sidebar_put_there(app_engine):
    service.initialize(app_engine, "second")
    service.import_transcripts(app_engine, "second", [("S01.txt", b"Interviewer: Why?\n\nRespondent: Because of "
                                                      b"the rules.\n\nInterviewer: And?\n\nRespondent: Money.\n")])
    service.ensure_coder(app_engine, "second", "dana")
    doc = service.list_documents(app_engine, "second")[0].id
    found = service.document_view(app_engine, "second", doc, viewer="dana")
    first, second = [s.id for s in found.segments if s.is_unit]
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(project="second", coder="dana", doc=str(doc), unit=str(first))
    ok(at.run())
    ok(at.switch_page("app_pages/code.py").run())
    assert view(at)["project"] == "second" and at.query_params["project"] == "second"
    at.session_state["cf_view"] = {"selected": second}  # the coder moves: the view rewrites the address
    ok(at.run())
    assert at.query_params["unit"] == str(second) and at.query_params["project"] == "second"
    send(at, "dana", event(second, "memo", text="kept"))
    assert at.query_params["project"] == "second" and view(at)["state"][str(second)]["memo"] == "kept"


def test_a_coder_sees_their_own_proposed_code_and_blind_mode_hides_it_from_others(app_engine):
    service.ensure_coder(app_engine, PROJECT, "boss", role="admin")
    service.set_codebook_editors(app_engine, PROJECT, "propose", actor="boss")
    service.update_settings(app_engine, PROJECT, blind_mode=True)
    for name in ("ana", "ben"):
        service.ensure_coder(app_engine, PROJECT, name, role="coder")
    unit = units(app_engine, "R05", "ana")[0]
    change = service.create_and_apply_code(app_engine, PROJECT, frame="reform_directions", segment_id=unit,
                                           coder="ana", label="Career paths")
    assert change.proposed

    def codes(data):
        return {c["key"] for f in data["frames"] for c in f["codes"]}

    data = view(code_page(app_engine, "ana", "R05"))
    assert change.code in codes(data) and change.code in data["state"][str(unit)]["mine"]
    assert change.code not in codes(view(code_page(app_engine, "ben", "R05")))


def test_new_code_from_the_view_is_created_and_applied_to_the_selected_unit(app_engine):
    service.ensure_coder(app_engine, PROJECT, "zarina")
    first, second = units(app_engine, "R05", "zarina")[:2]
    at = code_page(app_engine, "zarina", "R05")
    at.session_state["cf_view"] = {"selected": second}  # the coder selected the second unit
    ok(at.run())
    ok(at.selectbox(key="_nc_frame").set_value("reform_directions").run())
    at.text_input(key="_nc_label").input("Career <b>paths</b> *now*")
    ok(next(b for b in at.button if b.label == "New code").click().run())
    (key,) = mine(app_engine, "R05", "zarina", second)  # one coding, on the selected unit
    assert mine(app_engine, "R05", "zarina", first) == {}
    data = view(at)
    listed = {c["key"]: c["label"] for f in data["frames"] if f["key"] == "reform_directions" for c in f["codes"]}
    assert listed[key] == "Career <b>paths</b> *now*"  # the view sets it as text
    assert data["state"][str(second)]["mine"] == [key]
    shown = "\n".join(s.value for s in at.success)
    assert md("Career <b>paths</b> *now*") in shown and "<b>" not in shown and "unit 2" in shown  # as text
    assert at.text_input(key="_nc_label").value == ""
    # in-vivo: the selected words become the label
    at.text_input(key="_nc_words").input("the   rules of the game")
    ok(next(b for b in at.button if b.label == "New code").click().run())
    assert service.project_codebook(app_engine, PROJECT).code("the_rules_of_the_game").label == "the rules of the game"
    assert "the_rules_of_the_game" in view(at)["state"][str(second)]["mine"]
    # neither a label nor words: a clear error, nothing written
    ok(next(b for b in at.button if b.label == "New code").click().run())
    assert "give a label" in "\n".join(e.value for e in at.error)
    assert len(mine(app_engine, "R05", "zarina", second)) == 2


def test_new_code_is_refused_when_the_project_lets_only_supervisors_edit_the_codebook(app_engine):
    service.ensure_coder(app_engine, PROJECT, "boss", role="admin")
    service.set_codebook_editors(app_engine, PROJECT, "supervisors", actor="boss")
    service.ensure_coder(app_engine, PROJECT, "coco", role="coder")
    first = units(app_engine, "R05", "coco")[0]
    at = code_page(app_engine, "coco", "R05")
    at.text_input(key="_nc_label").input("Sneaky")
    ok(next(b for b in at.button if b.label == "New code").click().run())
    assert "may not" in at.error[0].value or "supervisor" in at.error[0].value, at.error[0].value
    assert mine(app_engine, "R05", "coco", first) == {}
    assert "sneaky" not in {c.id for c in service.project_codebook(app_engine, PROJECT, include_proposed=True).codes()}
