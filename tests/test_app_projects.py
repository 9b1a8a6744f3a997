"""The sidebar's project picker, driven with AppTest: the projects of the database, kept in the address, and
which ones a signed-in user is offered in team mode (decided by ``service.projects_to_offer``)."""

from __future__ import annotations

from apptest import APP, ok, texts
from streamlit.testing.v1 import AppTest
from test_refiqda_paths import maxqda_shape

from coding import service

P = "default"
PASSWORD = "correct horse battery"


def start() -> AppTest:
    return ok(AppTest.from_file(str(APP), default_timeout=90).run())


def caption_project(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Project **"))


def test_a_project_imported_on_the_import_page_opens_from_the_sidebar(app_engine):
    at = ok(start().switch_page("app_pages/import_data.py").run())
    upload = next(u for u in at.file_uploader if (u.key or "").startswith("_imp_refi_upload"))
    ok(upload.set_value(("maxqda_project.qdpx", maxqda_shape().data(), "application/zip")).run())
    assert at.text_input(key="_imp_refi_target").value == "maxqda_project"  # a new project: default has documents
    ok(at.button(key="_imp_refi_import_qdpx").click().run())
    assert "Imported maxqda_project.qdpx into project 'maxqda_project'. Open it from **Project**" in texts(at)
    picker = at.selectbox(key="_project_pick")
    assert picker.options == ["default", "maxqda_project"] and picker.value == "default"
    ok(picker.set_value("maxqda_project").run())
    ok(at.switch_page("app_pages/overview.py").run())
    assert at.query_params["project"] == "maxqda_project"  # kept in the address across pages
    assert caption_project(at).startswith("Project **maxqda_project**")
    assert at.metric[0].value == "2"  # its two interviews, not the sample's 24
    ok(at.selectbox(key="_project_pick").set_value("default").run())
    assert caption_project(at).startswith("Project **default**") and at.metric[0].value == "24"
    assert "project" not in at.query_params


def test_the_address_names_the_project_and_an_unknown_one_falls_back(app_engine):
    service.initialize(app_engine, "second")
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params["project"] = "second"
    ok(at.run())
    assert caption_project(at).startswith("Project **second**") and at.metric[0].value == "0"
    again = AppTest.from_file(str(APP), default_timeout=90)
    again.query_params["project"] = "no such project"
    ok(again.run())
    assert caption_project(again).startswith("Project **default**")


def test_team_mode_offers_only_the_projects_where_the_user_has_an_account(app_engine):
    service.create_user(app_engine, P, "ada", role="admin", password=PASSWORD)
    service.set_password(app_engine, P, "aigerim", PASSWORD, actor="ada")
    service.set_team_mode(app_engine, P, True, actor="ada")
    for name, member in (("theirs", "aigerim"), ("others", "bob")):
        service.initialize(app_engine, name)
        service.create_user(app_engine, name, member, role="admin", password=PASSWORD)
        service.set_team_mode(app_engine, name, True, actor=member)
    service.initialize(app_engine, "solo")
    offered = service.projects_to_offer(app_engine, current=P, user="aigerim")
    assert [p["name"] for p in offered] == ["default", "solo", "theirs"]
    assert {p["name"] for p in service.projects_to_offer(app_engine, current=P)} == {"default", "solo", "theirs",
                                                                                     "others"}
    at = start()
    at.text_input(key="_signin_name").input("aigerim")
    at.text_input(key="_signin_password").input(PASSWORD)
    ok(at.button[0].click().run())
    picker = at.selectbox(key="_project_pick")
    assert picker.options == ["default", "solo", "theirs (team: sign in)"]
    ok(picker.set_value("theirs").run())
    assert [t.value for t in at.title] == ["Sign in to Codeframe"]  # her account there asks its own sign-in
    assert "Project **theirs**" in texts(at)
