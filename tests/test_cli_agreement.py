"""`codeframe agreement` in CSV mode: published worked examples through the command line."""

from __future__ import annotations

import io
import json
import math

import pandas as pd
import pytest

from coding.cli import main

nan = float("nan")

# Krippendorff (2011) p. 8, 4 observers x 12 units (published alpha: nominal .743, ordinal .815,
# interval .849, ratio .797; irrCAC README on the same data: AC1 0.77544, percent agreement 0.8181818).
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
]

# Fleiss (1971): 30 patients x 6 psychiatrists (irr `diagnoses`, kappa 0.430).
FLEISS_1971 = ("444444 222555 233335 555555 222444 113333 333355 113334 114444 555555 "
               "144444 124444 222333 144444 224445 333335 111455 111112 224444 133555 "
               "555555 244444 224555 114444 144445 222224 111155 224444 133333 555555").split()

# Wikipedia "Fleiss' kappa": 10 subjects x 14 raters, counts per category (kappa 0.210).
WIKIPEDIA_FLEISS_COUNTS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


def write_csv(path, rows, header=("unit", "coder", "code")):
    buffer = io.StringIO()
    pd.DataFrame(rows, columns=list(header)).to_csv(buffer, index=False)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return str(path)


@pytest.fixture
def k2011_csv(tmp_path):
    rows = [(f"u{j + 1}", "ABCD"[i], int(v)) for i, row in enumerate(K2011)
            for j, v in enumerate(row) if not math.isnan(v)]
    return write_csv(tmp_path / "k2011.csv", rows)


def run_json(capsys, *argv):
    assert main(["agreement", *argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("level,published", [("nominal", 0.743), ("ordinal", 0.815),
                                             ("interval", 0.849), ("ratio", 0.797)])
def test_krippendorff_2011_through_the_cli(capsys, k2011_csv, level, published):
    report = run_json(capsys, k2011_csv, "--level", level, "--bootstrap", "200")
    assert round(report["overall"]["alpha"]["value"], 3) == published
    assert report["overall"]["gwet_ac1"]["value"] == pytest.approx(0.77544, abs=5e-6)
    assert report["overall"]["percent_agreement"]["value"] == pytest.approx(0.8181818, abs=1e-7)
    low, high = report["overall"]["alpha_low"]["value"], report["overall"]["alpha_high"]["value"]
    assert low < report["overall"]["alpha"]["value"] <= high
    assert report["level"] == level and report["coders"] == ["A", "B", "C", "D"]
    assert [row["code"] for row in report["codes"]] == ["1", "2", "3", "4", "5"]


def test_table_output_is_aligned_with_three_decimals(capsys, k2011_csv):
    assert main(["agreement", k2011_csv, "--bootstrap", "100"]) == 0
    out = capsys.readouterr().out
    alpha_line = next(line for line in out.splitlines() if "Krippendorff's alpha" in line)
    assert "0.743" in alpha_line and "95% CI [" in alpha_line and alpha_line.rstrip().endswith("tentative")
    assert "Gwet's AC1" in out and "0.775" in out
    header = next(line for line in out.splitlines() if line.startswith("code"))
    first_row = out.splitlines()[out.splitlines().index(header) + 2]
    assert first_row.index("0.188") == header.index("prevalence")  # columns line up


def test_fleiss_1971_through_the_cli(capsys, tmp_path):
    rows = [(f"p{i + 1}", f"rater{r + 1}", diagnosis)
            for i, patient in enumerate(FLEISS_1971) for r, diagnosis in enumerate(patient)]
    report = run_json(capsys, write_csv(tmp_path / "fleiss.csv", rows), "--bootstrap", "0")
    assert round(report["overall"]["fleiss_kappa"]["value"], 3) == 0.430
    assert report["overall"]["alpha_low"]["value"] is None
    assert report["overall"]["alpha_low"]["reason"] == "bootstrap not requested"


def test_wikipedia_fleiss_through_the_cli(capsys, tmp_path):
    rows = []
    for subject, counts in enumerate(WIKIPEDIA_FLEISS_COUNTS, 1):
        labels = [category for category, count in enumerate(counts, 1) for _ in range(count)]
        rows += [(f"s{subject}", f"r{rater}", label) for rater, label in enumerate(labels, 1)]
    report = run_json(capsys, write_csv(tmp_path / "wiki.csv", rows), "--bootstrap", "0")
    assert round(report["overall"]["fleiss_kappa"]["value"], 3) == 0.210


def test_wikipedia_cohen_through_the_cli(capsys, tmp_path):
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    rows = [(f"p{i}", "A", label) for i, label in enumerate(a)] + [(f"p{i}", "B", label) for i, label in enumerate(b)]
    report = run_json(capsys, write_csv(tmp_path / "cohen.csv", rows), "--bootstrap", "0")
    assert report["overall"]["cohen_kappa"]["value"] == pytest.approx(0.4)
    assert report["overall"]["percent_agreement"]["value"] == pytest.approx(0.7)


def test_csv_output_starts_with_the_overall_row(capsys, k2011_csv):
    assert main(["agreement", k2011_csv, "--format", "csv", "--bootstrap", "0"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype={"code": str})
    assert table["code"].tolist() == ["(overall)", "(overall: pooled presence alpha)", "(overall: MASI alpha)",
                                      "1", "2", "3", "4", "5"]
    assert round(table.loc[0, "alpha"], 3) == 0.743


def test_undefined_values_print_a_dash_with_reason(capsys, tmp_path):
    path = write_csv(tmp_path / "one.csv", [("s1", "ann", "x"), ("s2", "ann", "y")])
    assert main(["agreement", path, "--bootstrap", "10"]) == 0
    out = capsys.readouterr().out
    assert "Krippendorff's alpha" in out and "— (only one coder)" in out
    assert "— (1)" in out and "(1) only one coder" in out
    assert "NaN" not in out and "None" not in out


def test_coders_filter_and_respondent_level(capsys, tmp_path):
    rows = [("s1", "A", "X", "r1"), ("s2", "A", "X", "r1"), ("s3", "B", "X", "r1"),
            ("s4", "A", "Y", "r2"), ("s4", "B", "Y", "r2"), ("s4", "C", "Z", "r2")]
    path = write_csv(tmp_path / "resp.csv", rows, header=("unit", "coder", "code", "respondent"))
    segment = run_json(capsys, path, "--coders", "A,B", "--bootstrap", "0")
    assert segment["coders"] == ["A", "B"]
    by_code = {row["code"]: row for row in segment["codes"]}
    assert by_code["X"]["percent_agreement"] == 0.25
    respondent = run_json(capsys, path, "--coders", "A,B", "--unit", "respondent", "--bootstrap", "0")
    by_code = {row["code"]: row for row in respondent["codes"]}
    assert respondent["unit"] == "respondent" and respondent["n_units"] == 2
    assert by_code["X"]["percent_agreement"] == 1.0


def test_frame_filter_in_csv_mode(capsys, tmp_path):
    rows = [("s1", "A", "pro", "stance"), ("s1", "B", "pro", "stance"), ("s1", "A", "trust", "topic")]
    path = write_csv(tmp_path / "frames.csv", rows, header=("unit", "coder", "code", "frame"))
    report = run_json(capsys, path, "--frame", "stance", "--bootstrap", "0")
    assert [row["code"] for row in report["codes"]] == ["pro"]
    assert main(["agreement", path, "--frame", "nope"]) == 2
    assert "frames in the file: stance, topic" in capsys.readouterr().err


def test_user_errors_exit_2_naming_file_and_line(capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("unit,coder,code\nu1,ann,x\nu2,,x\n", encoding="utf-8")
    assert main(["agreement", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:3" in err and "blank coder" in err and "Traceback" not in err

    assert main(["agreement"]) == 2
    assert "give a codings CSV" in capsys.readouterr().err

    path = write_csv(tmp_path / "plain.csv", [("s1", "A", "x")])
    assert main(["agreement", path, "--unit", "respondent"]) == 2
    assert "'respondent' column" in capsys.readouterr().err
    assert main(["agreement", path, "--coders", "A,Zed"]) == 2
    assert "no coder 'Zed'" in capsys.readouterr().err


def test_database_mode_calls_the_service(capsys, monkeypatch):
    import coding.cli.common as common
    from coding import reliability, service

    calls = {}

    def fake_report(engine, project, **kwargs):
        calls.update(engine=engine, project=project, **kwargs)
        codings = pd.DataFrame({"unit": ["s1", "s1"], "coder": ["A", "B"], "code": ["x", "x"]})
        return reliability.report_from_codings(codings, n_boot=0)

    monkeypatch.setattr(service, "agreement_report", fake_report)
    monkeypatch.setattr(common, "engine_from_args", lambda args: "ENGINE")
    monkeypatch.setattr(service, "team_mode_on", lambda engine, project: False)  # the door asks the fake engine
    report = run_json(capsys, "--frame", "stance", "--unit", "respondent", "--coders", "A,B", "--level", "ordinal")
    assert calls == {"engine": "ENGINE", "project": "default", "frame": "stance", "unit": "respondent",
                     "coders": ["A", "B"], "level": "ordinal", "n_boot": 1000, "seed": 0}
    assert report["coders"] == ["A", "B"]
