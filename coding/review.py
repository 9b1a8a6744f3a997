"""The supervisor's review rules, pure: which coders to compare, where they differ, who covered what.

A coder *covers* a unit when it belongs to a document they coded, finished or were assigned in
the frame (the database passes these as ``universes``: coder -> set of units). Nothing here
touches the database, Streamlit or a model.

>>> universes = {"ann": {1, 2, 3}, "bob": {1, 2, 3}, "pilot": {1}}
>>> default_coders(universes)
['ann', 'bob']
>>> decisions = {1: {"ann": {"x"}, "bob": {"x"}, "pilot": set()}, 2: {"ann": {"x"}}}
>>> compared, differing = unit_disagreements(decisions, universes, ["ann", "bob"])
>>> compared, [(unit, coders) for unit, coders in differing]
([1, 2, 3], [(2, ['ann', 'bob'])])
"""

from __future__ import annotations

from itertools import combinations
from typing import Hashable, Iterable, Mapping, Sequence

import pandas as pd

DENOMINATORS = ("all", "covered")
COVERAGE_COLUMNS = ("coder", "units", "respondents", "codings")


def default_coders(universes: Mapping[str, Iterable[Hashable]]) -> list[str]:
    """The coders who double-coded the most: the pair sharing the most units, plus every other
    coder who covered all of those units. Fewer than two coders, or no shared unit: all of them."""
    sets = {name: set(units) for name, units in universes.items()}
    names = sorted(sets)
    best, pair = 0, None
    for a, b in combinations(names, 2):
        shared = len(sets[a] & sets[b])
        if shared > best:
            best, pair = shared, (a, b)
    if pair is None:
        return names
    shared = sets[pair[0]] & sets[pair[1]]
    return [n for n in names if n in pair or shared <= sets[n]]


def unit_disagreements(
    decisions: Mapping[Hashable, Mapping[str, Iterable[str]]],
    universes: Mapping[str, Iterable[Hashable]],
    coders: Sequence[str],
    *,
    order: Mapping[Hashable, tuple] | None = None,
) -> tuple[list, list[tuple[Hashable, list[str]]]]:
    """Units compared (covered by at least two of ``coders``) and those where the covering coders'
    sets of codes differ, each with the coders who covered it. A coder who covered a unit and
    applied nothing there decided 'no code'; a coder who did not cover it is left out.

    ``decisions`` maps unit -> coder -> codes applied; ``order`` sorts the units (default: by unit).
    """
    sets = {c: set(universes.get(c, ())) for c in coders}
    counts: dict[Hashable, list[str]] = {}
    for coder in coders:
        for unit in sets[coder]:
            counts.setdefault(unit, []).append(coder)
    key = (lambda u: order.get(u, (u,))) if order is not None else (lambda u: u)
    compared = sorted((u for u, who in counts.items() if len(who) >= 2), key=key)
    differing = []
    for unit in compared:
        who = [c for c in coders if unit in sets[c]]
        given = decisions.get(unit, {})
        if len({frozenset(given.get(c, ())) for c in who}) > 1:
            differing.append((unit, who))
    return compared, differing


def coverage_table(
    universes: Mapping[str, Iterable[Hashable]],
    respondent_of: Mapping[Hashable, str],
    codings: pd.DataFrame,
    coders: Sequence[str],
) -> pd.DataFrame:
    """Per coder: units and respondents covered, and codings made (``codings``: columns ``coder, unit``)."""
    made = codings.groupby("coder").size().to_dict() if not codings.empty else {}
    rows = []
    for coder in coders:
        units = set(universes.get(coder, ()))
        rows.append({
            "coder": coder, "units": len(units),
            "respondents": len({respondent_of[u] for u in units if u in respondent_of}),
            "codings": int(made.get(coder, 0)),
        })
    return pd.DataFrame(rows, columns=list(COVERAGE_COLUMNS))


def coverage_line(coder: str, covered: int, total: int) -> str:
    """'consensus coded this frame for 10 of 24 respondents' (the line every share table carries).

    >>> coverage_line("consensus", 10, 24)
    'consensus coded this frame for 10 of 24 respondents'
    """
    return f"{coder} coded this frame for {covered} of {total} respondent{'s' * (total != 1)}"


def spread_coders(covered_by: Mapping[str, Iterable[str]], respondents: Iterable[str]) -> list[str]:
    """The individual coders whose shares form the spread: those who covered every respondent in scope.

    >>> spread_coders({"ann": {"r1", "r2"}, "pilot": {"r1"}}, ["r1", "r2"])
    ['ann']
    """
    everyone = set(respondents)
    return sorted(c for c, covered in covered_by.items() if everyone and everyone <= set(covered))
