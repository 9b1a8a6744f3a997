"""Instruments: import and scoring of the survey (11,000 rows at medium/large) and an OCAI of the same size.

The input is the synthetic sample survey ``corpus/instruments/survey.csv`` (its first
``size.respondents`` rows: 240 at small, all 11,000 at medium and large).

* ``survey parse (CSV)``: ours ``coding.survey.parse_survey`` (every row and column checked,
  all or nothing) vs ``pandas.read_csv`` (no checks).
* ``survey import into SQLite``: ours ``service.import_survey`` (responses stored,
  each non-blank open answer a document with one unit segment) into a fresh SQLite project vs
  ``pandas.read_csv`` + ``DataFrame.to_sql`` of the same rows into a fresh SQLite file.
* ``closed-question shares by group``: ours ``coding.survey.closed_shares(by='body')`` (share
  per answer with Wilson intervals, blanks counted) vs ``pandas.crosstab(normalize='columns')``.
* ``OCAI scoring``: ours ``ocai.validate`` + ``profile_table`` (overall and per dimension) +
  ``discrepancy_table`` for as many respondents as the survey has (12 rows each) vs pandas:
  a sum check, ``groupby(...).mean()`` and the preferred - now difference.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Iterator

from benchmarks.context import Context, drop_sqlite
from benchmarks.harness import Case, Runner

STAGE = "instruments"
SURVEY = Path(__file__).resolve().parent.parent / "corpus" / "instruments" / "survey.csv"
CLOSED = ["mission_satisfaction", "integrity", "initiative"]
OPEN = ["open_change"]


def survey_bytes(n: int) -> bytes:
    lines = SURVEY.read_bytes().splitlines(keepends=True)
    return b"".join(lines[: n + 1])


def ocai_frame(n: int, seed: int):
    import pandas as pd

    from coding.ocai import DIMENSIONS, TYPES

    rng = random.Random(f"{seed}:ocai")
    rows = []
    for i in range(n):
        for view in ("now", "preferred"):
            for dimension in DIMENSIONS:
                cuts = sorted(rng.randint(0, 20) * 5 for _ in range(3))
                values = [cuts[0], cuts[1] - cuts[0], cuts[2] - cuts[1], 100 - cuts[2]]
                rows.append({"respondent": f"R{i:05d}", "view": view, "dimension": dimension,
                             **dict(zip(TYPES, values))})
    return pd.DataFrame(rows)


def cases(ctx: Context) -> Iterator[Case]:
    import io

    import pandas as pd

    from coding import ocai, service
    from coding.database.engine import make_engine
    from coding.survey import closed_shares, parse_survey

    n = ctx.size.respondents
    data = survey_bytes(n)
    parsed = parse_survey("survey.csv", data, closed=CLOSED, open=OPEN)
    open_answers = sum(1 for r in parsed.rows if r.open["open_change"])
    notes = [f"{n} survey rows, {len(CLOSED)} closed questions, {open_answers} non-blank open answers"]
    rates = {"respondents/s": n}

    yield Case(STAGE, "survey parse (CSV)",
               Runner("survey.parse_survey", lambda _: parse_survey("survey.csv", data, closed=CLOSED, open=OPEN)),
               Runner("pandas.read_csv (no checks)", lambda _: pd.read_csv(io.BytesIO(data), dtype=str)),
               rates=rates, notes=notes)

    def fresh_project():
        url = ctx.new_sqlite_url("survey")
        engine = make_engine(url)
        service.create_project(engine, "default")
        return engine, url

    def fresh_file():
        from sqlalchemy import create_engine

        url = ctx.new_sqlite_url("survey_pandas")
        return create_engine(url), url

    def pandas_import(state):
        frame = pd.read_csv(io.BytesIO(data), dtype=str)
        frame.to_sql("responses", state[0], index=False)
        answers = frame[frame["open_change"].notna()][["respondent", "open_change"]]
        answers.to_sql("documents", state[0], index=False)

    yield Case(STAGE, "survey import into SQLite",
               Runner("service.import_survey (documents for open answers)",
                      lambda state: service.import_survey(state[0], "default", ("survey.csv", data), closed=CLOSED,
                                                     open=OPEN),
                      setup=fresh_project, teardown=lambda state: drop_sqlite(*state)),
               Runner("pandas read_csv + to_sql (two tables)", pandas_import, setup=fresh_file,
                      teardown=lambda state: drop_sqlite(*state)),
               rates=rates, notes=notes)

    respondents = parsed.respondents()

    def pandas_closed(_):
        return [pd.crosstab(respondents[q].replace("", "(no answer)"), respondents["body"], normalize="columns")
                for q in CLOSED]

    yield Case(STAGE, "closed-question shares by group",
               Runner("survey.closed_shares(by='body')", lambda _: closed_shares(respondents, CLOSED, by="body")),
               Runner("pandas.crosstab(normalize='columns')", pandas_closed), rates=rates, notes=notes)

    answers = ocai_frame(n, ctx.seed)

    def ours_ocai(_):
        scores = ocai.validate(answers)
        profiles = ocai.profile_table(scores)
        ocai.profile_table(scores, per_dimension=True)
        return ocai.discrepancy_table(profiles)

    def pandas_ocai(_):
        types = list(ocai.TYPES)
        assert (answers[types].sum(axis=1) == 100).all()
        per_respondent = answers.groupby(["respondent", "view"])[types].mean()
        profile = per_respondent.groupby(level="view").mean()
        answers.groupby(["view", "dimension"])[types].mean()
        return profile.loc["preferred"] - profile.loc["now"]

    yield Case(STAGE, "OCAI scoring",
               Runner("ocai.validate + profile_table x2 + discrepancy_table", ours_ocai),
               Runner("pandas sum check + groupby mean", pandas_ocai), rates=rates,
               notes=[f"{n} OCAI respondents, {len(answers)} rows (6 dimensions x now/preferred)"])
