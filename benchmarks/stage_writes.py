"""Coding write throughput (codings/s) on SQLite and on PostgreSQL.

Ours: ``service.add_coding`` once per coding, as the app does on each click: one unit of
work each (look up project, coder, segment and code; check permissions; insert the coding
and its history event; commit).

Baselines, into the same ``coding`` table of the same database:

* ``Core executemany``: raw SQLAlchemy Core ``insert(coding)`` of all the same rows in
  one ``executemany`` and one transaction (the floor for bulk loading);
* ``Core, 1 txn per row``: the same inserts, one transaction each (the floor for
  "saved at once" writes: what the commit itself costs).

PostgreSQL: ``$CODEFRAME_BENCH_POSTGRES`` (default the server at 127.0.0.1:5432, trust,
database ``test``); the stage works in a fresh schema ``bench_<random>`` dropped after.
Each repeat writes as a new coder, so every write is an insert (never an update).
"""

from __future__ import annotations

import uuid
from typing import Iterator

from benchmarks import corpus
from benchmarks.context import FRAME, Context
from benchmarks.harness import Case, Runner

STAGE = "writes"
DOCUMENTS = 8  # enough units for the large size's 1,500 writes


class Target:
    """A migrated project database with a few interviews, and the (segment, code) pairs to write."""

    def __init__(self, ctx: Context, url: str) -> None:
        from sqlmodel import Session, select

        from coding import service
        from coding.database.engine import make_engine
        from coding.database.tables import Code, Segment

        self.engine = make_engine(url)
        service.create_project(self.engine, "default")
        service.import_transcripts(self.engine, "default", corpus.interviews(DOCUMENTS, seed=ctx.seed), language="en")
        codes = ctx.frame_codes()
        with Session(self.engine) as session:
            units = session.exec(select(Segment.id).where(Segment.is_unit == True).order_by(Segment.id)).all()  # noqa: E712
            self.code_ids = dict(session.exec(select(Code.key, Code.id)).all())
        pairs = [(seg, code) for i, seg in enumerate(units) for code in codes[i % 3::3]]
        if len(pairs) < ctx.size.writes:
            raise ValueError(f"only {len(pairs)} (segment, code) pairs for {ctx.size.writes} writes")
        self.pairs = pairs[: ctx.size.writes]
        self.coders = 0

    def new_coder(self) -> str:
        from coding import service

        self.coders += 1
        return service.ensure_coder(self.engine, "default", f"writer{self.coders}")

    def coder_id(self, name: str) -> int:
        from sqlmodel import Session, select

        from coding.database.tables import Coder

        with Session(self.engine) as session:
            return session.exec(select(Coder.id).where(Coder.name == name)).one()

    def rows(self, name: str) -> list[dict]:
        from coding.database.tables import utcnow

        coder_id, now = self.coder_id(name), utcnow()
        return [{"segment_id": seg, "code_id": self.code_ids[code], "coder_id": coder_id, "source": "hand",
                 "created": now, "updated": now} for seg, code in self.pairs]


def _cases(ctx: Context, backend: str, target: Target) -> Iterator[Case]:
    from sqlalchemy import insert

    from coding import service
    from coding.database.tables import Coding

    table = Coding.__table__

    def ours(name):
        for seg, code in target.pairs:
            service.add_coding(target.engine, "default", segment_id=seg, code=code, coder=name)

    def executemany(rows):
        with target.engine.begin() as conn:
            conn.execute(insert(table), rows)

    def one_by_one(rows):
        for row in rows:
            with target.engine.begin() as conn:
                conn.execute(insert(table), row)

    rates = {"codings/s": len(target.pairs)}
    notes = [f"{len(target.pairs)} codings (frame {FRAME}) on {DOCUMENTS} interviews, a new coder per repeat"]
    ours_runner = Runner("service.add_coding, one call per coding", ours, setup=target.new_coder, shared=True)
    yield Case(STAGE, f"add_coding on {backend} vs executemany", ours_runner,
               Runner("SQLAlchemy Core insert executemany, 1 txn", executemany,
                      setup=lambda: target.rows(target.new_coder())),
               rates=rates, notes=notes)
    yield Case(STAGE, f"add_coding on {backend} vs 1 txn/row", ours_runner,
               Runner("SQLAlchemy Core insert, 1 txn per row", one_by_one,
                      setup=lambda: target.rows(target.new_coder())),
               rates=rates, notes=notes)


def cases(ctx: Context) -> Iterator[Case]:
    import sqlalchemy as sa

    sqlite = Target(ctx, ctx.new_sqlite_url("writes"))
    try:
        yield from _cases(ctx, "SQLite", sqlite)
    finally:
        sqlite.engine.dispose()

    schema = "bench_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(ctx.postgres_url)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        sep = "&" if "?" in ctx.postgres_url else "?"
        target = Target(ctx, f"{ctx.postgres_url}{sep}options=-csearch_path%3D{schema}")
        try:
            yield from _cases(ctx, "PostgreSQL", target)
        finally:
            target.engine.dispose()
    finally:
        try:
            with admin.begin() as conn:
                conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        finally:
            admin.dispose()
