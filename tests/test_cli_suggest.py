"""`codeframe suggest` and `codeframe evaluate-suggestions` on real databases.

The sample-corpus tests register a fast word-hashing model in a test model registry and
make it the project's model, so the commands run their real path (registry, cache,
facade) without encoding 626 units with a transformer. One test runs the packaged
MiniLM model end to end on a small project.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil

import numpy as np
import pytest

from coding import service
from coding.cli import main
from coding.database.engine import make_engine
from coding.embeddings import normalize_rows, register_backend

TOY_MODEL = "test-word-hashing"


class WordHashing:
    model_id = TOY_MODEL
    dim = 256

    def encode(self, texts, *, batch_size=64):
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                rows[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        return normalize_rows(rows)


@pytest.fixture
def toy_registry(tmp_path, monkeypatch):
    register_backend("test-word-hashing", lambda model_id, spec, base_dir: WordHashing())
    registry = tmp_path / "models.yaml"
    registry.write_text(f"models:\n  {TOY_MODEL}:\n    backend: test-word-hashing\n", encoding="utf-8")
    monkeypatch.setenv("CODEFRAME_MODELS", str(registry))
    service.clear_suggestion_cache()
    yield
    service.clear_suggestion_cache()


@pytest.fixture
def sample_db(sample_db_template, tmp_path, toy_registry):
    path = tmp_path / "sample.sqlite"
    shutil.copy(sample_db_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    service.update_settings(engine, embedding_model=TOY_MODEL)
    engine.dispose()
    return url


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_suggest_for_one_document_and_frame_in_three_formats(capsys, sample_db):
    code, out, _ = run(capsys, "--db", sample_db, "suggest", "--frame", "reform_directions", "--document", "R07",
                       "--coder", "daniyar", "--format", "json")
    assert code == 0
    found = json.loads(out)
    assert found and {s["document"] for s in found} == {"R07"} and {s["frame"] for s in found} == {"reform_directions"}
    assert all(s["score"] >= s["threshold"] and s["model_id"] == TOY_MODEL for s in found)
    assert all({"matched_kind", "matched_text", "neighbours"} <= set(s["evidence"]) for s in found)
    per_segment = {}
    for s in found:
        per_segment.setdefault(s["segment_id"], []).append(s["score"] - s["threshold"])
    assert all(len(v) <= 3 and v == sorted(v, reverse=True) for v in per_segment.values())

    code, out, _ = run(capsys, "--db", sample_db, "suggest", "--frame", "reform_directions", "--document", "R07",
                       "--coder", "daniyar", "--format", "csv", "--top-k", "1")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and rows and {r["document"] for r in rows} == {"R07"}
    assert len({r["segment_id"] for r in rows}) == len(rows)  # --top-k 1
    assert {r["segment_id"] for r in rows} == set(map(str, per_segment))

    code, out, err = run(capsys, "--db", sample_db, "suggest", "--frame", "reform_directions", "--document", "R07",
                         "--coder", "daniyar")
    assert code == 0 and out.splitlines()[0].split()[:4] == ["document", "position", "segment_id", "code"]
    assert f"model {TOY_MODEL}" in err


def test_suggest_orders_units_from_the_least_to_the_most_certain(capsys, sample_db):
    args = ["--db", sample_db, "suggest", "--frame", "contract_service", "--coder", "daniyar", "--format", "json"]
    code, out, _ = run(capsys, *args)
    by_document = json.loads(out)
    code2, out, _ = run(capsys, *args, "--order", "uncertain")
    uncertain = json.loads(out)
    assert code == code2 == 0 and len(by_document) > 10
    assert sorted(map(json.dumps, uncertain)) == sorted(map(json.dumps, by_document))  # the same suggestions
    margins = [s["margin"] for s in uncertain]
    assert margins == sorted(margins) and margins != [s["margin"] for s in by_document]
    code, out, err = run(capsys, *args[:-2], "--order", "uncertain")
    header = out.splitlines()[0].split()
    assert code == 0 and "margin" in header and "note (contract_service): standardised over the" in err


def test_suggest_without_a_frame_covers_every_frame_and_min_score_filters(capsys, sample_db):
    code, out, _ = run(capsys, "--db", sample_db, "suggest", "--document", "R07", "--coder", "aigerim",
                       "--format", "json")
    everything = json.loads(out)
    assert code == 0 and len({s["frame"] for s in everything}) > 1
    cut = sorted(s["score"] for s in everything)[len(everything) // 2]
    code, out, _ = run(capsys, "--db", sample_db, "suggest", "--document", "R07", "--coder", "aigerim",
                       "--min-score", str(cut), "--format", "json")
    kept = json.loads(out)
    assert code == 0 and kept == [s for s in everything if s["score"] >= cut]


def test_evaluate_suggestions_reports_zero_and_few_shot_with_respondent_folds(capsys, sample_db):
    code, out, _ = run(capsys, "--db", sample_db, "evaluate-suggestions", "--frame", "contract_service",
                       "--gold", "consensus", "--splits", "3", "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert (report["frame"], report["gold"], report["model_id"]) == ("contract_service", "consensus", TOY_MODEL)
    assert report["mutually_exclusive"] is True and report["respondents"] == 7 and report["splits"] == 3
    assert {m["setting"] for m in report["metrics"]} == {"zero-shot", "few-shot (CV)"}
    micro = [m for m in report["metrics"] if m["code"] == "(micro)"]
    assert len(micro) == 2 and all(m["support"] == report["gold_codings"] == 12 for m in micro)
    for fold in report["folds"]:
        assert not set(fold["train_respondents"].split(", ")) & set(fold["test_respondents"].split(", "))
    assert sum(f["test_units"] for f in report["folds"]) == report["units"]
    deciles = [d for d in report["accuracy_by_confidence"] if d["setting"] == "zero-shot"]
    assert sum(d["units"] for d in deciles) == 12  # the units with one gold code, least certain first
    assert [d["margin_min"] for d in deciles] == sorted(d["margin_min"] for d in deciles)
    assert deciles[0]["share_from_here"] == 1.0 and 0 <= deciles[-1]["accuracy"] <= 1
    assert report["notes"][0].startswith("standardised over the ")

    code, out, _ = run(capsys, "--db", sample_db, "evaluate-suggestions", "--frame", "contract_service",
                       "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and rows[0].keys() >= {"setting", "code", "precision", "recall", "f1", "kappa"}
    code, out, _ = run(capsys, "--db", sample_db, "evaluate-suggestions", "--frame", "contract_service")
    assert code == 0 and "5-fold cross-validation grouped by respondent" in out and "kappa" in out


@pytest.mark.parametrize("argv, message", [
    (["suggest", "--frame", "nope"], "no code frame 'nope'"),
    (["suggest", "--document", "R99"], "no document 'R99'"),
    (["suggest", "--coder", "nobody", "--frame", "reform_directions"], "no coder named 'nobody'"),
    (["evaluate-suggestions", "--frame", "contract_service", "--splits", "9"], "2 to 7 folds"),
    (["evaluate-suggestions", "--frame", "cs_values"], "nothing to evaluate"),
])
def test_user_errors_exit_2_with_a_message(capsys, sample_db, argv, message):
    code, out, err = run(capsys, "--db", sample_db, *argv)
    assert code == 2 and message in err and "Traceback" not in err


def test_bad_numbers_are_refused_by_the_parser(capsys, sample_db):
    for argv in (["suggest", "--top-k", "0"], ["suggest", "--min-score", "2"], ["evaluate-suggestions"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["--db", sample_db, *argv])
        assert exit_info.value.code == 2
    capsys.readouterr()


def test_suggest_with_the_packaged_model_end_to_end(capsys, tmp_path):
    codebook = tmp_path / "topics.yaml"
    codebook.write_text(
        "codebook: 1\ntitle: Topics\nframes:\n  - id: topics\n    label: Topics\n    mutually_exclusive: true\n"
        "    codes:\n"
        "      - {id: weather, label: Weather, definition: 'The respondent describes the weather, rain, snow, "
        "temperature or storms.', include: [], exclude: [], examples: ['It has been raining for three days and the wind is strong.']}\n"
        "      - {id: banking, label: Banking and loans, definition: 'The respondent talks about bank accounts, "
        "interest rates, loans and mortgages.', include: [], exclude: [], examples: ['The bank raised the interest rate on my mortgage.']}\n",
        encoding="utf-8")
    transcript = tmp_path / "T1.txt"
    sentences = ["A cold storm brought heavy snow and freezing temperatures overnight.",
                 "I took out a loan and now the monthly repayments and interest are high."]
    sentences += [f"Item {i} on the agenda was the {w} of the new office." for i, w in enumerate(
        ["layout", "colour", "furniture", "lighting", "address", "size", "door", "floor", "name", "clock",
         "window", "kitchen", "printer", "carpet", "desk", "plant", "sign", "lift", "stairs", "roof"])]
    transcript.write_text("\n\n".join(f"Respondent: {s}" for s in sentences) + "\n", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'cf.sqlite'}"
    engine = make_engine(db)
    service.create_project(engine, codebook_path=codebook)
    service.ensure_coder(engine, name="ann")
    service.import_transcripts(engine, files=[transcript], language="en")
    engine.dispose()
    service.clear_suggestion_cache()
    code, out, _ = run(capsys, "--db", db, "suggest", "--coder", "ann", "--format", "json")
    assert code == 0
    found = {s["text"]: s["code"] for s in json.loads(out)}
    assert found.get(sentences[0]) == "weather" and found.get(sentences[1]) == "banking"
    assert all(s["model_id"] == "all-MiniLM-L6-v2" for s in json.loads(out))
