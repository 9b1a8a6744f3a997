"""The embedding cache in the database: an :class:`~coding.embeddings.EmbeddingStore` on the
``embedding_cache`` table, keyed by (model id, text hash), vectors as float32 little-endian bytes."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Engine

from coding.database.tables import EmbeddingCache

CHUNK = 500  # hashes per SELECT / rows per INSERT: well below SQLite's bound-parameter limit

_FLOAT32_LE = np.dtype("<f4")


def _insert_ignoring_conflicts(engine: Engine):
    table = EmbeddingCache.__table__
    if engine.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise ValueError(f"unsupported database for the embedding cache: {engine.dialect.name}")
    return insert(table).on_conflict_do_nothing(index_elements=["model_id", "text_hash"])


class SqlEmbeddingStore:
    """Embedding cache rows in ``engine``'s database; safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get_many(self, model_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        table = EmbeddingCache.__table__
        wanted = list(dict.fromkeys(hashes))
        found: dict[str, np.ndarray] = {}
        with self.engine.connect() as connection:
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start:start + CHUNK]
                rows = connection.execute(
                    select(table.c.text_hash, table.c.dim, table.c.vector)
                    .where(table.c.model_id == model_id, table.c.text_hash.in_(chunk))
                )
                for text_hash, dim, vector in rows:
                    array = np.frombuffer(vector, dtype=_FLOAT32_LE)
                    if array.shape != (dim,):
                        raise ValueError(f"embedding cache row {model_id}/{text_hash} is corrupt: "
                                         f"{array.size} floats for dim {dim}")
                    found[text_hash] = array.astype(np.float32)
        return found

    def put_many(self, model_id: str, items: Mapping[str, np.ndarray]) -> None:
        rows = []
        for text_hash, vector in items.items():
            array = np.asarray(vector, dtype=_FLOAT32_LE).ravel()
            rows.append({"model_id": model_id, "text_hash": text_hash, "dim": int(array.size),
                         "vector": array.tobytes()})
        if not rows:
            return
        statement = _insert_ignoring_conflicts(self.engine)
        with self.engine.begin() as connection:
            for start in range(0, len(rows), CHUNK):
                connection.execute(statement, rows[start:start + CHUNK])

    def count(self, model_id: str | None = None) -> int:
        """Cached vectors, for one model or all."""
        from sqlalchemy import func

        table = EmbeddingCache.__table__
        query = select(func.count()).select_from(table)
        if model_id is not None:
            query = query.where(table.c.model_id == model_id)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())
