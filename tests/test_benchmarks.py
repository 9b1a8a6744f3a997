"""Smoke test of the benchmarks: every stage once at the ``tiny`` size, in this one process, no timing assertions.

It checks that ``python -m benchmarks`` still runs each stage against its baseline and writes
well-formed JSON lines with a ratio, so that no stage rots; the numbers of a tiny run mean nothing.
How fast anything is belongs in the benchmark results (``make bench``: each stage in a fresh process,
at the small size or larger), never in a test.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import corpus, harness  # noqa: E402
from benchmarks.__main__ import STAGES, main  # noqa: E402

pytestmark = pytest.mark.timeout(1800)  # the first test runs every stage (the module fixture): minutes, not seconds
BROWSER_STAGES = ("browser", "firststart")  # in the browser test below
READY_ROW_STAGES = ("cli", "scaling")  # stages that time child processes and yield finished rows
EMBED_CAP = 40
EXPECTED = {
    ("import", "parse+segment (no DB)"), ("import", "import into SQLite"),
    ("refiqda", "import a 10-source, 300-code .qdpx"),
    ("embedding", "cold (nothing cached)"), ("embedding", "warm (all cached)"),
    ("suggestions", "fit (zero-shot calibration)"), ("suggestions", "score all units"),
    ("suggestions", "suggest all units (with evidence)"),
    ("agreement", "agreement_table, no bootstrap"), ("agreement", "agreement_table, 1000 bootstrap"),
    ("shares", "share_table"), ("shares", "crosstab by region"),
    ("retrieve", "retrieve one code x one group"), ("retrieve", "search a phrase (whole word)"),
    ("writes", "add_coding on SQLite vs executemany"), ("writes", "add_coding on SQLite vs 1 txn/row"),
    ("writes", "add_coding on PostgreSQL vs executemany"), ("writes", "add_coding on PostgreSQL vs 1 txn/row"),
    ("app", "code page, first render"), ("app", "code page, rerun after a decision"),
    ("pipeline", "cold: import + embed + suggest"), ("pipeline", "warm: suggest again (all cached)"),
    ("instruments", "survey parse (CSV)"), ("instruments", "survey import into SQLite"),
    ("instruments", "closed-question shares by group"), ("instruments", "OCAI scoring"),
    ("cli", "codeframe --help"), ("cli", "codeframe status (sample)"),
    ("memory50k", "embed 300 segments"),
} | {("scaling", f"cold job, {fraction:g} of the corpus") for fraction in (0.125, 0.25, 0.5, 1)}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Every stage but the browser ones, at the tiny size, in this process (``--no-isolate``)."""
    out = tmp_path_factory.mktemp("bench") / "results.jsonl"
    stages = ",".join(s for s in STAGES if s not in BROWSER_STAGES)
    code = main(["--size", "tiny", "--repeats", "1", "--embed-cap", str(EMBED_CAP), "--no-isolate",
                 "--stages", stages, "--out", str(out)])
    lines = out.read_text(encoding="utf-8").splitlines()
    return code, [json.loads(line) for line in lines], out


def test_every_stage_ran_without_error(tiny_run):
    code, rows, _ = tiny_run
    errors = [f"{r['stage']} / {r['measurement']}: {r['error']}" for r in rows if r.get("error")]
    assert errors == []
    assert code == 0
    from coding.precision import bf16_support

    # the embedding stage adds a bf16-vs-fp32 row exactly where this CPU runs bf16
    bf16_row = {("embedding", "bf16 autocast vs fp32 (bare encode)")} if bf16_support().usable else set()
    assert {(r["stage"], r["measurement"]) for r in rows} == EXPECTED | bf16_row
    assert {r["stage"] for r in rows} == set(STAGES) - set(BROWSER_STAGES)


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def test_rows_are_well_formed_with_a_ratio(tiny_run):
    _, rows, _ = tiny_run
    for r in (r for r in rows if r["stage"] not in READY_ROW_STAGES):
        where = f"{r['stage']} / {r['measurement']} ({r['unit']})"
        assert r["size"] == "tiny", where
        assert r["repeats"] == 1, where
        assert r["min"] <= r["median"] <= r["max"], where
        assert _positive(r["median"]), where
        assert all(_positive(r["seconds"][k]) for k in ("median", "min", "max")), where
        assert r["unit"] == "s" or r["unit"].endswith("/s"), where
        if r["unit"].endswith("/s"):  # throughput = items / seconds
            assert r["median"] == pytest.approx(r["items"] / r["seconds"]["median"]), where
        base = r["baseline"]
        assert base and base["name"], where
        assert _positive(base["median"]), where
        assert r["ratio"] == pytest.approx(r["seconds"]["median"] / base["seconds"]["median"], rel=1e-3), where
        assert r["ratio_meaning"] == harness.RATIO_MEANING
        assert r["rss_method"] in ("VmHWM-reset", "ru_maxrss-delta"), where
        if r["stage"] == "memory50k":  # no traced run there (see benchmarks/stage_memory50k.py)
            assert r["peak_python_mb"] is None, where
        else:
            assert r["peak_python_mb"] is not None and r["peak_python_mb"] >= 0, where
        assert r["peak_rss_mb"] is not None and r["peak_rss_mb"] >= 0, where
        assert r["machine"]["cpus"] >= 1 and r["machine"]["cpu_flags"] is not None and r["precision"], where


def test_import_rows_report_documents_and_segments(tiny_run):
    _, rows, _ = tiny_run
    units = {r["unit"]: r for r in rows if r["measurement"] == "import into SQLite"}
    assert set(units) == {"documents/s", "segments/s"}
    assert units["documents/s"]["items"] == corpus.SIZES["tiny"].interviews
    assert units["segments/s"]["items"] > 20 * units["documents/s"]["items"]
    # one timing, two units: the ratio is the same
    assert units["documents/s"]["ratio"] == units["segments/s"]["ratio"]


def test_refiqda_imports_10_sources_300_codes_and_1000_codings(tiny_run):
    _, rows, _ = tiny_run
    [row] = [r for r in rows if r["stage"] == "refiqda"]
    assert row["unit"] == "codings/s" and row["items"] == 1000


def test_embedding_cap_is_reported(tiny_run):
    _, rows, _ = tiny_run
    cold = next(r for r in rows if r["measurement"] == "cold (nothing cached)")
    assert cold["items"] == EMBED_CAP
    assert any(f"capped at {EMBED_CAP}" in note for note in cold["notes"])


def test_pipeline_encodes_each_text_once_and_nothing_when_warm(tiny_run):
    _, rows, _ = tiny_run
    cold = next(r for r in rows if r["measurement"] == "cold: import + embed + suggest")
    warm = next(r for r in rows if r["measurement"] == "warm: suggest again (all cached)")
    assert 0 < cold["items"] <= EMBED_CAP + 200  # whole transcripts up to the cap (at least one)
    assert any(f"capped at {EMBED_CAP}" in note for note in cold["notes"])
    encoded = [int(n.split()[2]) for n in cold["notes"] if n.startswith("texts encoded:")]
    assert encoded and encoded[0] > 0
    assert any(n.startswith("texts encoded: 0 ") for n in warm["notes"]), warm["notes"]


def test_scaling_stage_measures_each_size_in_its_own_process(tiny_run):
    _, rows, _ = tiny_run
    rows = [r for r in rows if r["stage"] == "scaling"]
    assert len(rows) == 4
    units = [r["items"] for r in rows]
    # whole transcripts up to each fraction of the cap: at the tiny size the first transcript may hold them all
    assert units == sorted(units) and 0 < units[0] and units[-1] <= EMBED_CAP + 200
    for r in rows:
        assert r["peak_rss_mb"] > 0 and r["median"] == pytest.approx(r["items"] / r["seconds"]["median"])
        assert any("MB per 1,000 units" in n for n in r["notes"])


def test_corpus_is_deterministic_and_shaped_like_interviews():
    first = corpus.interviews(3, seed=5)
    assert first == corpus.interviews(3, seed=5)
    assert first != corpus.interviews(3, seed=6)
    from coding import service

    parsed = service.parse_transcripts(corpus.interviews(6) + [corpus.interview_file(99, segments=400)])
    counts = [len(spans) for _, spans in parsed]
    assert all(20 <= n <= 200 for n in counts[:-1])
    assert counts[-1] == 400
    roles = {s.role for _, spans in parsed for s in spans}
    assert roles == {"interviewer", "respondent"}
    answers = corpus.survey_answers(50)
    lengths = [len(spans) for _, spans in service.parse_transcripts(answers)]
    assert set(lengths) <= {1, 2, 3} and len(set(lengths)) > 1


def test_table_explains_ratio_and_marks_errors():
    row = harness.error_row("app", "code page", "small", RuntimeError("boom"))
    lines = harness.table_lines([row])
    assert "ERROR" in lines[-1] and "boom" in lines[-1]
    assert "ratio" in lines[0]


def test_linear_fit_note_recovers_a_line():
    from benchmarks.stage_scaling import linear_fit_note

    note = linear_fit_note([1000, 2000, 4000, 8000], [130.0, 160.0, 220.0, 340.0])
    assert note == "linear fit over the runs: peak RSS growth = 100.0 MB + 30.00 MB per 1,000 units (R² = 1.000)"
    assert "needs at least two" in linear_fit_note([500, 500], [1.0, 2.0])


def test_backend_comparison_measures_speed_and_faithfulness(tmp_path):
    from benchmarks import bench_backends

    out = tmp_path / "backends.json"
    assert bench_backends.main(["--texts", "32", "--repeats", "1", "--out", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    rows = {r["backend"]: r for r in result["rows"]}
    assert {"torch fp32", "onnx fp32", "onnx int8"} <= set(rows)
    fp32 = rows["torch fp32"]
    assert fp32["speed_vs_fp32"] == pytest.approx(1.0) and fp32["cosine_min"] == pytest.approx(1.0, abs=1e-5)
    assert fp32["top1_same"] == 1.0 and fp32["suggestion_sets_same"] == 1.0
    # the same weights through onnxruntime give the same embeddings; int8 weights move them
    assert rows["onnx fp32"]["cosine_min"] > 0.9999
    assert 0.5 < rows["onnx int8"]["cosine_mean"] < rows["onnx fp32"]["cosine_mean"]
    assert ("torch bf16" in rows) != ("torch bf16" in result["skipped"])


@pytest.mark.browser
def test_browser_stages_time_the_app_against_a_minimal_page(tmp_path):
    """``browser`` (a 20-unit transcript) and ``firststart`` in headless chromium, tiny size, in this process."""
    out = tmp_path / "browser.jsonl"
    assert main(["--size", "tiny", "--stages", ",".join(BROWSER_STAGES), "--no-isolate", "--repeats", "1",
                 "--out", str(out)]) == 0
    rows = list(map(json.loads, out.read_text(encoding="utf-8").splitlines()))
    assert not any(r.get("error") for r in rows), rows
    first = {r["measurement"]: r for r in rows if r["stage"] == "firststart"}
    assert set(first) == {"first paint (progress shown)", "usable overview"}
    assert all(r["ratio"] > 0 and r["baseline"]["name"].startswith("minimal Streamlit page") for r in first.values())
    rows = {r["measurement"]: r for r in rows if r["stage"] == "browser"}
    assert {"tick", "next unit", "page change"} <= set(rows)
    for row in rows.values():
        assert row["unit"] == "ms" and row["min"] <= row["median"] <= row["p95"] <= row["max"]
        assert row["baseline"]["name"].startswith("minimal Streamlit page") and row["ratio"] > 0
        assert any("load average" in note for note in row["notes"])
    assert rows["tick"]["items"] == 12 and rows["next unit"]["items"] == 6  # 6 units: next once, tick twice


def test_cli_start_up_rows_compare_fresh_processes_with_python_doing_nothing(tiny_run):
    _, rows, _ = tiny_run
    rows = {r["measurement"]: r for r in rows if r["stage"] == "cli"}
    for r in rows.values():
        assert r["baseline"]["name"] == "python -c pass (a fresh process)" and r["repeats"] >= 5
        assert r["ratio"] == pytest.approx(r["seconds"]["median"] / r["baseline"]["seconds"]["median"])
        assert any(n.startswith("CPU time (user + system) median") for n in r["notes"]), r["notes"]
    assert any("3 generated interviews" in n for n in rows["codeframe status (sample)"]["notes"])


def test_an_isolated_run_starts_each_child_with_the_parents_options(tmp_path):
    """``make bench`` runs each stage in a fresh child (``--isolate``); CI runs them in one process."""
    from benchmarks.__main__ import _child_argv, parse_args

    args = parse_args(["--size", "medium", "--repeats", "2", "--embed-cap", "99", "--profile", "shares"])
    argv = _child_argv(args, ["shares"], tmp_path / "x.jsonl")
    assert argv[1:3] == ["-m", "benchmarks"] and "--no-isolate" in argv and "--quiet" in argv
    for option, value in (("--size", "medium"), ("--repeats", "2"), ("--embed-cap", "99"), ("--stages", "shares"),
                          ("--self-check", "none"), ("--profile", "shares")):
        assert argv[argv.index(option) + 1] == value
    assert args.isolate and not parse_args(["--no-isolate"]).isolate


def test_self_check_warns_when_the_ratio_depends_on_run_order():
    from benchmarks.__main__ import self_check

    alone = [{"stage": "pipeline", "measurement": "cold", "unit": "units/s", "ratio": 1.0},
             {"stage": "pipeline", "measurement": "warm", "unit": "units/s", "ratio": 0.5}]
    inside = [{"stage": "pipeline", "measurement": "cold", "unit": "units/s", "ratio": 1.3, "process": "shared"},
              {"stage": "pipeline", "measurement": "warm", "unit": "units/s", "ratio": 0.52, "process": "shared"}]
    warnings = self_check(alone, inside, "pipeline")
    assert len(warnings) == 1 and "cold" in warnings[0] and "1.000 alone but 1.300 inside the suite" in warnings[0]
    assert alone[0]["self_check"]["ok"] is False and alone[1]["self_check"]["ok"] is True
