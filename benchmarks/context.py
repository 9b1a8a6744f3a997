"""What the stages share in one benchmark run: the size, options, a temp dir and cached inputs."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from benchmarks import corpus

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FRAME = "oecd_pslc"  # the largest frame of the default codebook (17 codes)


@dataclass
class Context:
    size: corpus.Size
    repeats: int
    tmp: Path
    embed_cap: int | None = None  # None: automatic (keep the embedding stage under ~10 minutes)
    embed_budget_s: float = 600.0
    postgres_url: str = field(default_factory=lambda: os.environ.get("CODEFRAME_BENCH_POSTGRES", DEFAULT_POSTGRES))
    seed: int = corpus.SEED
    log: Callable[[str], None] = print
    cache: dict[str, Any] = field(default_factory=dict)

    def _cached(self, key: str, build: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = build()
        return self.cache[key]

    def files(self) -> list[tuple[str, bytes]]:
        """The size's transcripts as ``(name, bytes)`` uploads."""
        return self._cached("files", lambda: corpus.corpus_files(self.size, seed=self.seed))

    def parsed(self) -> list:
        """``service.parse_transcripts`` of :meth:`files` (read + segmented once, untimed)."""
        from coding import service

        def build():
            self.log(f"  parsing {len(self.files())} transcripts once for the inputs of the stages")
            return service.parse_transcripts(self.files(), language="en")

        return self._cached("parsed", build)

    def unit_texts(self) -> list[str]:
        """Texts of every coding unit (respondent segments) of the corpus, in order."""
        return self._cached("unit_texts", lambda: [s.text for _, spans in self.parsed() for s in spans if s.is_unit])

    def codebook(self):
        from coding.codebook import default_codebook_path, load_codebook

        return self._cached("codebook", lambda: load_codebook(default_codebook_path()))

    def frame_codes(self) -> list[str]:
        return [c.id for c in self.codebook().codes(FRAME)]

    def new_sqlite_url(self, stem: str) -> str:
        """A URL for a fresh SQLite file in the temp dir."""
        number = self.cache["_db_counter"] = self.cache.get("_db_counter", 0) + 1
        return f"sqlite:///{self.tmp / f'{stem}_{number}.sqlite'}"


def drop_sqlite(engine, url: str) -> None:
    """Dispose of ``engine`` and delete its SQLite file with the WAL and shared-memory files."""
    engine.dispose()
    path = Path(url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
