"""Retrieve coded segments: one code, or any/all/none of several, filtered by respondent attributes.

Pure: data in, data out (pandas). The facade (:mod:`coding.service.analysis`) reads the codings,
the segments and the respondents' attributes from the database and passes them here.

Inputs
------
``codings``
    one row per (segment, code, coder): columns ``segment_id, document_id, document, respondent,
    position, text, code, coder, memo`` (the long table of :func:`coding.database.queries.codings_frame`).
``segments``
    every segment of the documents in scope (units and interviewer turns): ``segment_id,
    document_id, position, role, speaker, text, is_unit``; gives the context before and after.
``attributes``
    respondent id -> {attribute: value}.

>>> import pandas as pd
>>> codings = pd.DataFrame({"segment_id": [1, 2, 2], "document_id": 1, "document": "R01", "respondent": "R01",
...                         "position": [0, 1, 1], "text": ["a", "b", "b"], "code": ["x", "x", "y"],
...                         "coder": "consensus", "memo": None})
>>> select_segments(codings, ["x", "y"], mode="all")["segment_id"].tolist()
[2]
>>> parse_where(["expert_group=academia,private sector", "region!=north"])[1]
Condition(attribute='region', values=('north',), negate=True)
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from coding.errors import CodeframeError, Problem

MODES = ("any", "all", "none")

ROW_COLUMNS = ["segment_id", "document_id", "document", "respondent", "unit", "coder", "codes", "before", "text",
               "after", "memo"]


def coding_page_link(document_id: int, segment_id: int, base_url: str = "") -> str:
    """The address of a unit on the app's coding page (``base_url`` like ``http://localhost:8501``; empty: relative).

    Whoever opens it picks themselves as coder; the page starts on that transcript and unit.
    """
    return f"{base_url.rstrip('/')}/code?doc={int(document_id)}&unit={int(segment_id)}"


@dataclass(frozen=True)
class Condition:
    """``attribute`` is (or, with ``negate``, is not) one of ``values``; matching ignores case and spaces."""

    attribute: str
    values: tuple[str, ...]
    negate: bool = False

    def holds(self, attributes: Mapping[str, object]) -> bool:
        value = _norm(attributes.get(self.attribute))
        hit = value in {_norm(v) for v in self.values}
        return not hit if self.negate else hit

    def describe(self) -> str:
        op = "≠" if self.negate else "="
        return f"{self.attribute} {op} {' or '.join(self.values)}"


def _norm(value: object) -> str:
    return "" if value is None else _norm_text(str(value))


@functools.lru_cache(maxsize=4096)
def _norm_text(text: str) -> str:
    return " ".join(text.split()).casefold()


def parse_where(items: Iterable[str] | None) -> list[Condition]:
    """``ATTR=VALUE``, ``ATTR=V1,V2`` (any of them) or ``ATTR!=VALUE``; CodeframeError on anything else."""
    conditions, problems = [], []
    for item in items or ():
        negate = "!=" in item
        attribute, sep, values = item.partition("!=" if negate else "=")
        attribute = attribute.strip()
        parts = tuple(v.strip() for v in values.split(",") if v.strip())
        if not sep or not attribute or not parts:
            problems.append(Problem(f"{item!r}: write ATTRIBUTE=VALUE, ATTRIBUTE=V1,V2 or ATTRIBUTE!=VALUE",
                                    field="where"))
            continue
        conditions.append(Condition(attribute, parts, negate))
    if problems:
        raise CodeframeError("invalid attribute filter", problems)
    return conditions


def check_attributes(conditions: Sequence[Condition], attributes: Mapping[str, Mapping[str, object]]) -> None:
    """Refuse a filter on an attribute no respondent has (a typo would silently match nobody)."""
    known = {k for a in attributes.values() for k in a}
    unknown = [c.attribute for c in conditions if c.attribute not in known]
    if unknown:
        raise CodeframeError(
            f"no respondent attribute {unknown[0]!r} (attributes: {', '.join(sorted(known)) or 'none'})",
            [Problem(f"unknown attribute {a!r}", field="where") for a in unknown])


def respondents_matching(attributes: Mapping[str, Mapping[str, object]],
                         conditions: Sequence[Condition]) -> set[str]:
    """The respondents whose attributes satisfy every condition (as :meth:`Condition.holds` decides)."""
    tests = [(c.attribute, {_norm(v) for v in c.values}, c.negate) for c in conditions]
    return {r for r, a in attributes.items()
            if all((_norm(a.get(name)) in wanted) != negate for name, wanted, negate in tests)}


def expand(codes: Sequence[str], hierarchy: Mapping[str, Iterable[str]] | None, rollup: bool) -> dict[str, set[str]]:
    """Per asked code, the codes that count for it: itself and, rolled up, its sub-codes."""
    hierarchy = hierarchy or {}
    return {c: {c, *(hierarchy.get(c, ()) if rollup else ())} for c in codes}


def select_segments(
    codings: pd.DataFrame,
    codes: Sequence[str],
    *,
    mode: str = "any",
    hierarchy: Mapping[str, Iterable[str]] | None = None,
    rollup: bool = True,
    units: pd.DataFrame | None = None,
    coders: Sequence[str] | None = None,
) -> pd.DataFrame:
    """(segment, coder) pairs that carry any / all / none of ``codes``, with the codes they carry.

    ``none`` needs ``units`` (a ``segment_id`` column): every unit that carries none of the codes,
    for each of ``coders`` (default: the coders in ``codings``). Returns columns
    ``segment_id, coder, codes`` (the matched codes, comma-separated, codebook order) and ``memo``.
    """
    if mode not in MODES:
        raise CodeframeError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if not codes:
        raise CodeframeError("give at least one code")
    wanted = expand(codes, hierarchy, rollup)
    order = {c: i for i, c in enumerate(codes)}
    rows = []
    frame = codings[["segment_id", "coder", "code", "memo"]]
    carried: dict[tuple[int, str], set[str]] = {}
    memos: dict[tuple[int, str], list[str]] = {}
    for seg, coder, code, memo in frame.itertuples(index=False):
        key = (int(seg), coder)
        hits = {asked for asked, counted in wanted.items() if code in counted}
        if hits:
            carried.setdefault(key, set()).update(hits)
            if isinstance(memo, str) and memo.strip():
                memos.setdefault(key, []).append(memo.strip())
        else:
            carried.setdefault(key, set())
    if mode == "none":
        if units is None:
            raise CodeframeError("mode 'none' needs the units of coding")
        for coder in coders or sorted(set(frame["coder"])) or ["consensus"]:
            for seg in units["segment_id"]:
                if not carried.get((int(seg), coder)):
                    rows.append((int(seg), coder, "", ""))
    else:
        for (seg, coder), hits in carried.items():
            if (mode == "any" and hits) or (mode == "all" and len(hits) == len(wanted)):
                names = ", ".join(sorted(hits, key=order.get))
                rows.append((seg, coder, names, " | ".join(dict.fromkeys(memos.get((seg, coder), [])))))
    return pd.DataFrame(rows, columns=["segment_id", "coder", "codes", "memo"])


def context(segments: pd.DataFrame, width: int = 1, only: Iterable[int] | None = None) -> dict[int, tuple[str, str]]:
    """Per segment id (all, or those in ``only``), the text of the ``width`` segments before and after
    it in its document ("Speaker: text", joined by spaces).

    Neighbours are found by position (positions of a document are 0, 1, 2, ...), so ``segments``
    may hold only the segments around those asked for.
    """
    if width < 0:
        raise CodeframeError(f"context must be 0 or more units, not {width}")
    if segments.empty:
        return {}
    ids, docs, positions, texts = (segments[c].tolist() for c in ("segment_id", "document_id", "position", "text"))
    speakers = segments["speaker"].tolist() if "speaker" in segments else [None] * len(ids)
    labelled = {(d, p): (f"{s}: {t}" if isinstance(s, str) and s else t)
                for d, p, s, t in zip(docs, positions, speakers, texts)}
    where = {int(s): (d, p) for s, d, p in zip(ids, docs, positions)}
    out: dict[int, tuple[str, str]] = {}
    for seg in (where if only is None else (int(s) for s in only)):
        if seg not in where:
            continue
        d, p = where[seg]
        before = [labelled[(d, q)] for q in range(p - width, p) if (d, q) in labelled]
        after = [labelled[(d, q)] for q in range(p + 1, p + 1 + width) if (d, q) in labelled]
        out[seg] = (" ".join(before), " ".join(after))
    return out


def retrieve(
    codings: pd.DataFrame,
    segments: pd.DataFrame,
    attributes: Mapping[str, Mapping[str, object]],
    codes: Sequence[str],
    *,
    mode: str = "any",
    hierarchy: Mapping[str, Iterable[str]] | None = None,
    rollup: bool = True,
    where: Sequence[Condition] = (),
    documents: Iterable[str] | None = None,
    width: int = 1,
    coders: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The retrieved segments, one row per (segment, coder), in document order.

    Columns: :data:`ROW_COLUMNS` plus one column per respondent attribute. ``unit`` is the
    1-based number of the unit of coding in its document (as ``import codings`` counts).
    """
    check_attributes(where, attributes)
    keep = respondents_matching(attributes, where)
    units = segments[segments["is_unit"].astype(bool)] if "is_unit" in segments else segments
    if documents is not None:
        names = set(documents)
        units = units[units["document"].isin(names)]
        codings = codings[codings["document"].isin(names)]
    units = units[units["respondent"].isin(keep)]
    codings = codings[codings["respondent"].isin(keep)]
    picked = select_segments(codings, codes, mode=mode, hierarchy=hierarchy, rollup=rollup, units=units,
                             coders=coders)
    info = units.drop(columns=[c for c in ("memo",) if c in units.columns])
    numbered = info.sort_values(["document_id", "position"]).assign(
        unit=lambda d: d.groupby("document_id").cumcount() + 1)
    # empty tables carry no dtype (object vs float): ids are whole numbers either way
    rows = picked.astype({"segment_id": "int64"}).merge(numbered.astype({"segment_id": "int64"}), on="segment_id",
                                                        how="inner")
    around = context(segments[segments["document_id"].isin(set(rows["document_id"]))], width,
                     only=rows["segment_id"].tolist())
    rows["before"] = [around.get(int(s), ("", ""))[0] for s in rows["segment_id"]]
    rows["after"] = [around.get(int(s), ("", ""))[1] for s in rows["segment_id"]]
    names = sorted({k for a in attributes.values() for k in a})
    for name in names:
        rows[name] = [attributes.get(r, {}).get(name) for r in rows["respondent"]]
    rows = rows.sort_values(["document", "position", "coder"]).reset_index(drop=True)
    out = rows.reindex(columns=[*ROW_COLUMNS, *names])
    out.attrs["filters"] = [c.describe() for c in where]
    return out
