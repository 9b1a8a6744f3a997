"""Import and segmentation: transcripts read, split into segments and stored.

* ``parse+segment``: ``service.parse_transcripts`` (read, find turns, split sentences),
  no database.
* ``import into SQLite``: ``service.import_transcripts`` into a fresh, migrated SQLite
  database with an empty project (creating it is untimed).

Baseline for both: spaCy's blank English pipeline with the rule-based ``sentencizer``,
``nlp.pipe`` over the same raw texts (no turns, no offsets, no database): the floor
for "split this much text into sentences with spaCy".
"""

from __future__ import annotations

from typing import Iterator

from benchmarks.context import Context, drop_sqlite
from benchmarks.harness import Case, Runner

STAGE = "import"


def spacy_baseline(texts: list[str]) -> Runner:
    state: dict = {}

    def warmup():
        import spacy

        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        state["nlp"] = nlp
        list(nlp.pipe(texts[:2]))

    def run(_):
        return sum(1 for doc in state["nlp"].pipe(texts, batch_size=256) for _ in doc.sents)

    return Runner("spaCy blank('en') + sentencizer, nlp.pipe(batch_size=256)", run, warmup=warmup, shared=True)


def cases(ctx: Context) -> Iterator[Case]:
    from coding import service
    from coding.database.engine import make_engine

    files = ctx.files()
    parsed = ctx.parsed()
    segments = sum(len(spans) for _, spans in parsed)
    texts = [data.decode("utf-8") for _, data in files]
    baseline = spacy_baseline(texts)
    rates = {"documents/s": len(files), "segments/s": segments}
    notes = [f"{len(files)} documents, {segments} segments ({sum(s.is_unit for _, sp in parsed for s in sp)} units)"]

    def warm_parse():
        service.parse_transcripts(files[:2], language="en")

    yield Case(
        STAGE, "parse+segment (no DB)",
        Runner("service.parse_transcripts", lambda _: service.parse_transcripts(files, language="en"),
               warmup=warm_parse),
        baseline, rates=rates, notes=notes,
    )

    def fresh_db():
        url = ctx.new_sqlite_url("import")
        engine = make_engine(url)
        service.create_project(engine, "default")
        return engine, url

    def drop_db(state):
        drop_sqlite(*state)

    yield Case(
        STAGE, "import into SQLite",
        Runner("service.import_transcripts",
               lambda state: service.import_transcripts(state[0], "default", files, language="en",
                                                        allow_same_content=True),  # identical survey answers
               setup=fresh_db, teardown=drop_db, warmup=warm_parse),
        baseline, rates=rates, notes=notes,
    )
