"""Share tables and crosstabs (11,000 respondents at medium/large).

Ours: ``coding.shares.share_table`` (respondents naming each code, Wilson interval,
per-coder spread) and ``coding.shares.crosstab`` by region (column and row percents,
expected counts, small-cell flags) for the codes of the frame ``oecd_pslc``.

Baseline: a plain pandas ``groupby`` on the ready DataFrame: distinct respondents per
code over n (and per code x region over the region's size).
"""

from __future__ import annotations

from typing import Iterator

from benchmarks import corpus
from benchmarks.context import Context
from benchmarks.harness import Case, Runner

STAGE = "shares"


def cases(ctx: Context) -> Iterator[Case]:
    from coding.shares import crosstab, share_table

    codes = ctx.frame_codes()
    labels = {c.id: c.label for c in ctx.codebook().codes()}
    respondents = corpus.respondents_table(ctx.size.respondents, seed=ctx.seed)
    codings = corpus.share_codings(respondents, codes, seed=ctx.seed)
    n = len(respondents)
    notes = [f"{n} respondents, {len(codings)} codings of {len(codes)} codes by 2 coders"]

    def pandas_shares(_):
        distinct = codings.drop_duplicates(["respondent", "code"])
        return distinct.groupby("code")["respondent"].nunique().div(n).mul(100)

    def pandas_crosstab(_):
        distinct = codings.drop_duplicates(["respondent", "code"]).merge(
            respondents[["respondent", "region"]], on="respondent")
        sizes = respondents.groupby("region").size()
        counts = distinct.groupby(["code", "region"])["respondent"].nunique().unstack(fill_value=0)
        return counts.div(sizes, axis=1).mul(100)

    rates = {"respondents/s": n}
    yield Case(STAGE, "share_table",
               Runner("shares.share_table", lambda _: share_table(respondents, codings, codes=codes, labels=labels)),
               Runner("pandas drop_duplicates + groupby nunique", pandas_shares), rates=rates, notes=notes)
    yield Case(STAGE, "crosstab by region",
               Runner("shares.crosstab(by='region')",
                      lambda _: crosstab(respondents, codings, by="region", codes=codes, labels=labels)),
               Runner("pandas merge + groupby nunique + unstack", pandas_crosstab), rates=rates, notes=notes)
