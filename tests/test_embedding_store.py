"""The database-backed embedding cache on SQLite."""

from __future__ import annotations

import numpy as np

from coding.database.embedding_store import CHUNK, SqlEmbeddingStore
from coding.database.engine import make_engine
from coding.embeddings import embed_with_cache, text_hash


class Toy:
    """A deterministic embedder that records what it encodes."""

    model_id, dim = "toy", 4

    def __init__(self):
        self.encoded = []

    def encode(self, texts, *, batch_size=64):
        self.encoded += list(texts)
        rows = np.array([[len(t), t.count("a"), t.count("e"), 1.0] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_round_trip_conflicts_ignored_and_models_kept_apart(tmp_path):
    store = SqlEmbeddingStore(make_engine("sqlite:///" + str(tmp_path / "t.sqlite")))
    vector = np.array([0.1, -0.2, 0.3], dtype=np.float32)
    store.put_many("m1", {"h1": vector})
    store.put_many("m1", {"h1": np.zeros(3, dtype=np.float32), "h2": vector * 2})  # h1 conflict: ignored
    got = store.get_many("m1", ["h1", "h2", "h3"])
    assert set(got) == {"h1", "h2"}
    assert got["h1"].dtype == np.float32 and np.array_equal(got["h1"], vector)
    assert store.get_many("m2", ["h1"]) == {}
    assert store.count("m1") == 2 and store.count() == 2


def test_many_hashes_are_fetched_in_chunks(tmp_path):
    store = SqlEmbeddingStore(make_engine("sqlite:///" + str(tmp_path / "t.sqlite")))
    n = CHUNK * 2 + 7
    items = {f"h{i}": np.full(2, i, dtype=np.float32) for i in range(n)}
    store.put_many("m", items)
    got = store.get_many("m", list(items) + ["missing"])
    assert len(got) == n and got[f"h{n - 1}"][0] == n - 1


def test_embed_with_cache_survives_a_new_engine_on_the_same_file(tmp_path):
    url = "sqlite:///" + str(tmp_path / "t.sqlite")
    toy = Toy()
    first = embed_with_cache(toy, ["banana", "apple", "banana"], SqlEmbeddingStore(make_engine(url)))
    assert toy.encoded == ["banana", "apple"]
    again = embed_with_cache(toy, ["apple", "cherry"], SqlEmbeddingStore(make_engine(url)))
    assert toy.encoded == ["banana", "apple", "cherry"]
    assert np.array_equal(again[0], first[1])
    assert SqlEmbeddingStore(make_engine(url)).get_many("toy", [text_hash("cherry")])
