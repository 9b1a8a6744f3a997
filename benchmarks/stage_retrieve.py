"""Retrieval and search over the whole corpus of the size (large: ~60,000 units), from SQLite.

Set-up (untimed, once): the size's transcripts imported into a fresh SQLite project, a ``role``
attribute per respondent, and consensus codings of ``oecd_pslc`` principles on about 15% of the
units (bulk-inserted).

* ``retrieve one code x one group``: ``service.retrieve`` of a pillar (its principles
  rolled up) for respondents with ``role = academia``: rows with one unit of context either side,
  respondent attributes and unit numbers. Target: under 1 s at the large size.
* ``search a phrase``: ``service.search`` of a whole-word phrase over respondent turns.

Baselines: one raw SQL query each on the same database, read with pandas (the codings of the
codes joined to their documents, then the attribute filter; or ``text LIKE '%phrase%'``),
without context, unit numbers or turns.
"""

from __future__ import annotations

import random
from typing import Iterator

from benchmarks.context import FRAME, Context, drop_sqlite
from benchmarks.harness import Case, Runner

STAGE = "retrieve"
GROUP = "academia"
PHRASE = "merit-based recruitment"


def _build(ctx: Context):
    from sqlalchemy import insert
    from sqlmodel import Session, select

    from coding import service
    from coding.database.engine import make_engine
    from coding.database.tables import Code, Coder, Coding, Document, Segment

    url = ctx.new_sqlite_url("retrieve")
    engine = make_engine(url)
    service.create_project(engine, "default")
    service.ensure_coder(engine, "default", "consensus", role="supervisor")
    service.import_transcripts(engine, "default", ctx.files(), language="en", allow_same_content=True)
    rng = random.Random(f"{ctx.seed}:retrieve")
    roles = ["central government", "local government", "quasi-public sector", "academia", "international"]
    names = [d.respondent for d in service.list_documents(engine, "default")]
    csv = "respondent,role\n" + "".join(f"{n},{rng.choice(roles)}\n" for n in sorted(set(names)))
    service.import_attributes(engine, "default", ("roles.csv", csv.encode("utf-8")))
    with Session(engine) as session:
        codes = {c.key: c for c in session.exec(select(Code))}
        principles = [c for c in ctx.codebook().codes(FRAME) if c.parent]
        coder_id = session.exec(select(Coder.id).where(Coder.name == "consensus")).one()
        units = session.exec(select(Segment.id).join(Document).where(Segment.is_unit == True)).all()  # noqa: E712
        rows = []
        for segment_id in units:
            if rng.random() < 0.15:
                for code in rng.sample(principles, rng.choice((1, 1, 2))):
                    rows.append({"segment_id": segment_id, "code_id": codes[code.id].id, "coder_id": coder_id,
                                 "source": "import"})
        session.connection().execute(insert(Coding.__table__), rows)
        session.commit()
    pillar = next(c.id for c in ctx.codebook().codes(FRAME) if c.parent is None)
    return engine, url, len(units), len(rows), pillar, [c.id for c in principles if c.parent == pillar]


def cases(ctx: Context) -> Iterator[Case]:
    import pandas as pd
    from sqlalchemy import text

    from coding import service

    engine, url, n_units, n_codings, pillar, children = _build(ctx)
    notes = [f"{n_units} units, {n_codings} consensus codings of {FRAME}; pillar {pillar} "
             f"({len(children)} principles rolled up), role = {GROUP}"]
    keys = ", ".join(f"'{k}'" for k in [pillar, *children])

    def ours_retrieve(_):
        rows = service.retrieve(engine, "default", codes=[pillar], where=[f"role={GROUP}"])
        if rows.empty:
            raise RuntimeError("retrieve found nothing")
        return rows

    def sql_retrieve(_):
        df = pd.read_sql(text(
            "SELECT s.id, s.text, d.name, d.respondent, d.attributes FROM coding c "
            "JOIN segment s ON s.id = c.segment_id JOIN document d ON d.id = s.document_id "
            "JOIN code k ON k.id = c.code_id JOIN coder r ON r.id = c.coder_id "
            f"WHERE r.name = 'consensus' AND k.key IN ({keys})"), engine)
        import json

        role = [json.loads(a).get("role") if isinstance(a, str) else a.get("role") for a in df["attributes"]]
        return df[[r == GROUP for r in role]].drop_duplicates("id")

    def ours_search(_):
        return service.search(engine, "default", pattern=PHRASE, mode="word")

    def sql_search(_):
        return pd.read_sql(text(
            "SELECT s.id, s.text, d.name FROM segment s JOIN document d ON d.id = s.document_id "
            f"WHERE s.role != 'interviewer' AND s.text LIKE '%{PHRASE}%'"), engine)

    try:
        yield Case(STAGE, "retrieve one code x one group",
                   Runner("service.retrieve(pillar, role=academia), context 1", ours_retrieve),
                   Runner("one SQL join (codings of the codes) + pandas attribute filter", sql_retrieve),
                   rates={"units/s": n_units}, notes=notes)
        yield Case(STAGE, "search a phrase (whole word)",
                   Runner("service.search(phrase, word)", ours_search),
                   Runner("one SQL query, text LIKE '%phrase%'", sql_search),
                   rates={"units/s": n_units}, notes=notes)
    finally:
        drop_sqlite(engine, url)
