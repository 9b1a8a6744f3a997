"""The instruments through the facade and the CLI, on SQLite and PostgreSQL; the sample's published shapes."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from coding import service
from coding.database.engine import make_engine, migrate
from coding.errors import CodeframeError

SURVEY = (b"respondent,body,satisfaction,integrity,why\n"
          b"S1,central,yes,8,Less paperwork.\n"
          b"S2,local,no,9,\n"
          b"S3,local,,10,No.\n"
          b"S4,central,yes,8,No.\n")


@pytest.fixture
def project(engine):
    service.create_project(engine, "p")
    return engine


def test_survey_import_makes_open_answers_documents_with_closed_answers_on_them(project):
    report = service.import_survey(project, "p", ("staff.csv", SURVEY), closed=["satisfaction", "integrity=1-10"],
                              open=["why"])
    assert report.name == "staff" and report.respondents == 4
    assert report.documents == ["staff/S1", "staff/S3", "staff/S4"]  # S2 left it blank; S3 and S4 both say "No."
    documents = {d.name: d for d in service.list_documents(project, "p")}
    assert documents["staff/S3"].units == 1 and documents["staff/S3"].respondent == "S3"
    assert documents["staff/S3"].attributes == {"body": "local", "satisfaction": "", "integrity": "10",
                                                "survey": "staff", "question": "why"}
    # the closed answers are respondent attributes, so the share tables' crosstab works by them
    shares = service.share_report(project, "p", frame="reform_directions", by="satisfaction")
    assert shares.n == 3 and set(shares.crosstab["group"]) == {"yes", "(missing)"}
    table = service.closed_question_table(project, "p", survey="staff", questions=["integrity"]).set_index("answer")
    assert list(table.index) == [str(v) for v in range(1, 11)]  # the declared range 1-10, in order
    assert table.loc["1", "display"] == "0/4 = 0.0%"
    assert table.loc["8", "display"] == "2/4 = 50.0%"
    by = service.closed_question_table(project, "p", by="body", questions=["satisfaction"])
    assert by.set_index(["answer", "group"]).loc[("yes", "central"), "display"] == "2/2 = 100.0%"


def test_survey_import_is_all_or_nothing(project):
    bad = SURVEY + b"S5,local,yes,11,x\nS1,local,no,5,y\n"
    with pytest.raises(CodeframeError) as info:
        service.import_survey(project, "p", ("staff.csv", bad), closed=["satisfaction", "integrity=1-10"], open=["why"])
    where = {(p.file, p.line, p.field) for p in info.value.problems}
    assert ("staff.csv", 6, "integrity") in where and ("staff.csv", 7, "respondent") in where
    assert service.list_instruments(project, "p") == [] and service.list_documents(project, "p") == []
    service.import_survey(project, "p", ("staff.csv", SURVEY), closed=["satisfaction"], open=["why"])
    with pytest.raises(CodeframeError, match="already has an instrument named 'staff'"):
        service.import_survey(project, "p", ("staff.csv", SURVEY), closed=["satisfaction"], open=["why"])
    assert len(service.list_documents(project, "p")) == 3  # the refused second import added nothing
    service.import_survey(project, "p", ("staff.csv", SURVEY), name="wave2", closed=["satisfaction"], open=["why"])
    assert len(service.list_documents(project, "p")) == 6
    with pytest.raises(CodeframeError, match="no single survey instrument"):
        service.closed_question_table(project, "p")


def test_ocai_and_scales_round_trip_and_delete(project, tmp_path):
    ocai_csv = tmp_path / "ocai.csv"
    lines = ["respondent,body,view,dimension,A,B,C,D"]
    for view, row in (("now", "10,10,20,60"), ("preferred", "30,30,20,20")):
        for dimension in si_dimensions():
            lines.append(f"r1,central,{view},{dimension},{row}")
    lines[1] = "r1,central,now,dominant_characteristics,10,10,20,59"  # 99 points
    ocai_csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(CodeframeError) as info:
        service.import_ocai(project, "p", ocai_csv)
    assert info.value.problems[0].line == 2 and "sum to 99" in info.value.problems[0].message
    report = service.import_ocai(project, "p", ocai_csv, mode="rescale")
    assert report.respondents == 1 and report.notes == [
        "Validation: rescale. 1 dimension(s) that did not sum to 100 were scaled to 100 at import; "
        "every other answer is scored as given."]
    ocai = service.ocai_report(project, "p", by="body")
    assert ocai.mode == "rescale" and ocai.rescaled[0]["sum"] == 99
    assert ocai.dominant.set_index("view").loc["now", "dominant"] == "hierarchy"
    assert any("ipsative" in n for n in ocai.notes)
    folder = service.instruments_sample_dir()
    service.import_scale(project, "p", folder / "sectors.yaml", folder / "sector_ratings.csv", name="sectors")
    sectors = service.scale_report(project, "p").table.set_index("sector")
    assert sectors.loc["management", "bottleneck"] and sectors["n"].eq(30).all()
    assert {i["kind"] for i in service.list_instruments(project, "p")} == {"ocai", "scale"}
    service.delete_project(project, "p")
    with project.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM instrument_response")).scalar() == 0


def si_dimensions():
    from coding.ocai import DIMENSIONS

    return DIMENSIONS


def test_the_sample_reproduces_the_published_shapes(sample_engine):
    assert len(service.list_documents(sample_engine)) == 24  # the survey's open answers are not documents here
    ocai = service.ocai_report(sample_engine)
    assert ocai.n == 30
    overall = ocai.dominant.set_index("view")
    assert overall.loc["now", "dominant"] == "hierarchy" and overall.loc["preferred", "dominant"] == "clan"
    per_dimension = ocai.dominant_per_dimension[ocai.dominant_per_dimension["view"] == "now"].set_index("dimension")
    assert (per_dimension["dominant"] == "hierarchy").sum() == 4
    assert per_dimension.loc["dominant_characteristics", "dominant"] == "market"
    assert per_dimension.loc["organizational_leadership", "dominant"] == "market"
    discrepancy = ocai.discrepancy.set_index("type")["difference"]
    assert discrepancy["clan"] > 10 and discrepancy["adhocracy"] > 10 and discrepancy["hierarchy"] < -10
    sectors = service.scale_report(sample_engine).table.set_index("sector")
    assert list(sectors.index[sectors["bottleneck"]]) == ["management"]
    closed = service.closed_question_table(sample_engine).set_index("code")
    assert closed.loc["mission_satisfaction: more satisfied than dissatisfied", "display"] == "4180/11000 = 38.0%"
    assert closed.loc["integrity: high", "display"] == "7370/11000 = 67.0%"
    assert closed.loc["initiative: high", "display"] == "4840/11000 = 44.0%"


def test_downgrading_0006_drops_only_the_instrument_tables(db_url):
    engine = make_engine(db_url)
    service.create_project(engine, "p")
    from alembic import command
    from alembic.config import Config

    import coding.database.engine as engine_module

    config = Config()
    config.set_main_option("script_location", str(Path(engine_module.__file__).parent / "migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")  # below 0006: the instrument tables go, nothing older
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        assert "instrument" not in names and "instrument_response" not in names
        assert {"project", "document", "frame_coverage"} <= names
        assert conn.execute(sa.text("SELECT name FROM project")).scalars().all() == ["p"]
    migrate(engine)
    with engine.connect() as conn:
        assert "instrument_response" in set(sa.inspect(conn).get_table_names())
    engine.dispose()


def run(*args: str, db: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "coding", "--db", db, *args], capture_output=True, text=True,
                          env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}, timeout=300)


def test_cli_import_survey_and_tables(tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert run("init", db=db).returncode == 0
    survey = tmp_path / "staff.csv"
    survey.write_bytes(SURVEY)
    out = run("import", "survey", str(survey), "--closed", "satisfaction,integrity=1-10", "--open", "why", db=db)
    assert out.returncode == 0, out.stderr
    assert "4 respondent(s), 3 open answer document(s)" in out.stdout
    table = run("survey", "--by", "body", "--question", "satisfaction", db=db)
    assert table.returncode == 0 and "2/2 = 100.0%" in table.stdout and "Wilson" in table.stdout
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"respondent,q\nA,1\nA,2\n")
    refused = run("import", "survey", str(bad), "--closed", "q", db=db)
    assert refused.returncode == 2 and "bad.csv:3 [respondent]" in refused.stderr
    xlsx = tmp_path / "closed.xlsx"
    assert run("survey", "--format", "xlsx", "--output", str(xlsx), db=db).returncode == 0
    book = load_workbook(io.BytesIO(xlsx.read_bytes()))
    assert book.sheetnames == ["closed questions"] and book.active["A1"].value == "question"
    chart = tmp_path / "c.svg"
    assert run("survey", "--chart", str(chart), "--format", "csv", db=db).returncode == 0
    assert "<svg" in chart.read_text()


def test_cli_ocai_and_scales_on_the_sample(tmp_path, sample_db_template):
    import shutil

    path = tmp_path / "s.sqlite"
    shutil.copy(sample_db_template, path)
    db = f"sqlite:///{path}"
    out = run("ocai", "--table", "discrepancy", "--chart", str(tmp_path / "kite.png"), db=db)
    assert out.returncode == 0, out.stderr
    assert "rule of thumb" in out.stdout and "ipsative" in out.stdout
    assert (tmp_path / "kite.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    grid = run("ocai", "--table", "dominant", "--dimension", "all", "--chart", str(tmp_path / "grid.svg"), db=db)
    assert grid.returncode == 0 and "<svg" in (tmp_path / "grid.svg").read_text()
    by_body = run("ocai", "--by", "body", "--table", "dominant", "--chart", str(tmp_path / "k.svg"), db=db)
    assert by_body.returncode == 2 and "add --group G" in by_body.stderr
    central = run("ocai", "--by", "body", "--group", "central", "--table", "dominant", "--chart",
                  str(tmp_path / "k.svg"), db=db)
    assert central.returncode == 0 and "central" in central.stdout
    scales = run("scales", "--chart", str(tmp_path / "sectors.svg"), db=db)
    assert scales.returncode == 0 and "decadent state" in scales.stdout and "True" in scales.stdout
    check = run("scales", "--check", str(service.instruments_sample_dir() / "sectors.yaml"), db=db)
    assert check.returncode == 0 and "4 sectors, 16 statements" in check.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nsectors:\n  - id: a\n    statements: []\n")
    refused = run("scales", "--check", str(broken), db=db)
    assert refused.returncode == 2 and "broken.yaml:4" in refused.stderr


def test_ocai_and_ratings_from_xlsx(project):
    from openpyxl import Workbook

    def xlsx(rows) -> bytes:
        book = Workbook()
        for row in rows:
            book.active.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()

    rows = [["respondent", "view", "dimension", "A", "B", "C", "D"]]
    for view in ("now", "preferred"):
        for dimension in si_dimensions():
            rows.append(["x1", view, dimension, 25, 25, 25, 25 if view == "now" else 24])
    with pytest.raises(CodeframeError) as info:
        service.import_ocai(project, "p", ("ocai.xlsx", xlsx(rows)))
    assert len(info.value.problems) == 6 and {p.line for p in info.value.problems} == set(range(8, 14))
    assert all(p.file == "ocai.xlsx" and "sum to 99" in p.message for p in info.value.problems)
    service.import_ocai(project, "p", ("ocai.xlsx", xlsx(rows)), mode="rescale")
    report = service.ocai_report(project, "p")
    assert report.dominant.set_index("view").loc["now", "dominant"] == "clan+adhocracy+market+hierarchy"
    preferred = report.profiles[report.profiles["view"] == "preferred"].set_index("type")["mean"]
    assert preferred["clan"] == pytest.approx(2500 / 99) and preferred["hierarchy"] == pytest.approx(2400 / 99)
