"""The analysis facade, part two: memos, key quotes, the findings report and the codebook appendix.

Part one (retrieve, search, code all hits, co-occurrence) is :mod:`coding.service.analysis`.

One ``with Session(engine)`` per unit of work, as in :mod:`coding.service`. Memos on codings are
the coding's ``memo`` (written by :func:`coding.service.codings.set_memo`); analytic memos on units,
documents and codes are rows of the ``memo`` table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from coding.database import queries
from coding.database.retry import retry_locked
from coding.database.tables import Code, Coder, Coding, CodingEvent, Document, Memo, Segment, utcnow
from coding.errors import CodeframeError, NotFound, PermissionDenied
from coding.roles import may_adjudicate
from coding.service.agreement import _coder_universes, _frame_codes, agreement_report
from coding.service.analysis import chosen_coder, restricted, visible_codings
from coding.service.codebook import project_codebook
from coding.service.codebook_versions import codebook_methods_sentence
from coding.service.common import CONSENSUS, DEFAULT_PROJECT
from coding.service.permissions import _acting, _check_may_edit, _require_viewer
from coding.service.projects import get_project
from coding.service.scope import excluded
from coding.service.shares import share_report
from coding.service.suggestions import _embed_cached, embedder_for
from coding.textio import check_storable

MEMO_KINDS = ("segment", "document", "code")
MEMO_COLUMNS = ["kind", "memo_id", "coder", "code", "document", "respondent", "segment_id", "target", "text",
                "updated"]


# --------------------------------------------------------------------------- memos


def _target(session: Session, project_id: int, kind: str, target) -> tuple[int, str]:
    """The id a memo points at and a short description; NotFound when it is not in the project."""
    if kind not in MEMO_KINDS:
        raise CodeframeError(f"a memo is on a {', a '.join(MEMO_KINDS)}, not a {kind!r}")
    if kind == "code":
        code = queries.codes_by_key(session, project_id).get(str(target))
        if code is None:
            raise NotFound(f"no code {target!r} in this project's codebook")
        return code.id, code.key
    if kind == "document":
        if isinstance(target, str) and not target.isdigit():
            found = [d for d in queries.documents(session, project_id) if d.name == target]
            if not found:
                raise NotFound(f"no document named {target!r} in this project")
            return found[0].id, found[0].name
        document = queries.document_in_project(session, project_id, int(target))
        return document.id, document.name
    segment, document = queries.segment_in_project(session, project_id, int(target))
    return segment.id, f"{document.name} #{segment.position}"


def add_memo(engine: Engine, project: str = DEFAULT_PROJECT, *, kind: str, target, coder: str, text: str,
             actor: str | None = None) -> int:
    """An analytic memo by ``coder`` on a unit (segment id), a document (id or name) or a code (key).

    ``actor`` (default: the coder; named in team mode) writes as themself, or a supervisor for anyone.
    """
    if not text or not text.strip():
        raise CodeframeError("the memo is empty")
    check_storable(text, "memo")
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        author = queries.coder_by_name(session, row.id, coder)
        acting = _acting(session, row, actor, author)
        if acting.id != author.id and not may_adjudicate(acting.role):
            raise PermissionDenied(f"{acting.name} may not write memos as {author.name}")
        target_id, _ = _target(session, row.id, kind, target)
        memo = Memo(project_id=row.id, target_kind=kind, target_id=target_id, coder_id=author.id, text=text.strip())
        session.add(memo)
        session.commit()
        return memo.id


def edit_memo(engine: Engine, project: str = DEFAULT_PROJECT, *, memo_id: int, text: str, actor: str) -> None:
    """Change a memo's text: its author may, and supervisors and admins."""
    if not text or not text.strip():
        raise CodeframeError("the memo is empty")
    check_storable(text, "memo")
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        acting = queries.coder_by_name(session, row.id, actor)
        memo = session.get(Memo, memo_id)
        if memo is None or memo.project_id != row.id:
            raise NotFound(f"no memo with id {memo_id} in this project")
        if memo.coder_id != acting.id and acting.role not in ("supervisor", "admin"):
            raise PermissionDenied(f"{actor} may not change another coder's memo")
        memo.text, memo.updated = text.strip(), utcnow()
        session.add(memo)
        session.commit()


def memos(engine: Engine, project: str = DEFAULT_PROJECT, *, viewer: str | None = None, coder: str | None = None,
          code: str | None = None, document: str | None = None) -> "Any":
    """Every memo in one table: on codings, units, documents and codes, newest first.

    Filters: by author (``coder``), by ``code`` (coding memos of that code and memos on the code)
    and by ``document`` name (memos on its codings, units and the document). A coder in blind mode
    sees only their own memos.
    """
    import pandas as pd

    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        _require_viewer(row, viewer)
        codings = visible_codings(session, row, queries.codings_frame(session, row.id), viewer)
        own_only = restricted(session, row, viewer)
        names = {c.id: c.name for c in queries.coders_by_name(session, row.id).values()}
        docs = {d.id: d for d in queries.documents(session, row.id)}
        keys = {c.id: c.key for c in queries.codes_by_key(session, row.id).values()}
        analytic = session.exec(select(Memo).where(Memo.project_id == row.id)).all()
        seg_ids = [m.target_id for m in analytic if m.target_kind == "segment"]
        segs = {s.id: s for s in session.exec(select(Segment).where(Segment.id.in_(seg_ids))).all()} if seg_ids else {}
    records = []
    noted = codings[codings["memo"].map(lambda m: isinstance(m, str) and bool(m.strip()))]
    for r in noted.to_dict("records"):
        records.append({"kind": "coding", "memo_id": None, "coder": r["coder"], "code": r["code"],
                        "document": r["document"], "respondent": r["respondent"], "segment_id": r["segment_id"],
                        "target": r["text"], "text": r["memo"], "updated": r["created"]})
    for m in analytic:
        author = names.get(m.coder_id)
        if own_only and author != viewer:
            continue
        record = {"kind": m.target_kind, "memo_id": m.id, "coder": author, "code": None, "document": None,
                  "respondent": None, "segment_id": None, "target": "", "text": m.text, "updated": m.updated}
        if m.target_kind == "code":
            record.update(code=keys.get(m.target_id), target=keys.get(m.target_id))
        elif m.target_kind == "document" and m.target_id in docs:
            d = docs[m.target_id]
            record.update(document=d.name, respondent=d.respondent, target=d.name)
        elif m.target_kind == "segment" and m.target_id in segs:
            s = segs[m.target_id]
            d = docs[s.document_id]
            record.update(document=d.name, respondent=d.respondent, segment_id=s.id, target=s.text)
        records.append(record)
    table = pd.DataFrame(records, columns=MEMO_COLUMNS)
    if coder is not None:
        table = table[table["coder"] == coder]
    if code is not None:
        table = table[table["code"] == code]
    if document is not None:
        table = table[table["document"] == document]
    return table.sort_values("updated", ascending=False, kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- key quotes


@retry_locked
def set_key_quote(engine: Engine, project: str = DEFAULT_PROJECT, *, segment_id: int, code: str, coder: str,
                  starred: bool = True, actor: str | None = None) -> None:
    """Star (or unstar) ``coder``'s coding of ``code`` on a unit as a key quote; logged in the history."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        target = queries.coder_by_name(session, row.id, coder)
        acting = _acting(session, row, actor, target)
        code_row = session.exec(select(Code).where(Code.project_id == row.id, Code.key == code)).first()
        if code_row is None:
            raise NotFound(f"no code {code!r} in this project's codebook")
        queries.segment_in_project(session, row.id, segment_id)
        coding = session.exec(select(Coding).where(
            Coding.segment_id == segment_id, Coding.code_id == code_row.id, Coding.coder_id == target.id)).first()
        if coding is None:
            raise NotFound(f"{coder} has not coded unit {segment_id} with {code!r}: "
                           "only a coded unit can be a key quote")
        # starring changes no decision: a supervisor may star the consensus's codings (not a coder)
        _check_may_edit(acting, target, coding.source, adjudicated=target.is_consensus)
        if bool(coding.key_quote) == starred:
            return
        session.add(CodingEvent(project_id=row.id, segment_id=segment_id, code_id=code_row.id, coder_id=target.id,
                                actor_id=acting.id, action="key_quote", source=coding.source,
                                before={"key_quote": not starred}, after={"key_quote": starred}))
        coding.key_quote, coding.updated = starred, utcnow()
        session.add(coding)
        session.commit()


# --------------------------------------------------------------------------- findings report


def _coverage(session: Session, row, frame: str, coders: Sequence[str]) -> dict[str, int]:
    """Documents each coder worked on in the frame: coded, finished or assigned (the agreement rule)."""
    frame_row, _ = _frame_codes(session, row, frame)
    units = queries.units_frame(session, row.id)
    universes = _coder_universes(session, row, frame_row, coders, units)
    document_of = dict(zip(units["segment_id"], units["document_id"]))
    return {c: len({document_of[u] for u in universes.get(c, set())}) for c in coders}


def _key_quotes(session: Session, row, starred_by: set[str] | None) -> set[tuple[int, str]]:
    """(unit, code) pairs starred as key quotes by a counted coder (by ``starred_by`` only, if given)."""
    skip_coders = excluded(session, row.id)[1]
    return {(s, k) for s, k, name in session.exec(
        select(Coding.segment_id, Code.key, Coder.name).join(Code, Coding.code_id == Code.id).join(
            Coder, Coding.coder_id == Coder.id).where(
            Code.project_id == row.id, Coding.key_quote == True)).all()  # noqa: E712
        if name not in skip_coders and (starred_by is None or name in starred_by)}


def _quote_vectors(engine: Engine, project: str, quotes, embedder) -> dict | None:
    """Embeddings of the candidate quotes by segment id (None with ``embedder=False`` or no quote)."""
    if embedder is False or quotes.empty:
        return None
    embedder = embedder or embedder_for(engine, project)
    distinct = quotes.drop_duplicates("segment_id")
    matrix = _embed_cached(engine, embedder, distinct["text"].tolist())
    return dict(zip(distinct["segment_id"].astype(int), matrix))


def _segment_agreement(engine: Engine, project: str, frame: str) -> tuple[list, dict]:
    """The coders agreement_report compares by default and each code's segment-level α (none when
    fewer than two coders covered the frame)."""
    try:
        seg = agreement_report(engine, project, frame=frame, unit="segment", n_boot=0)
    except CodeframeError:
        return [], {}
    return list(seg.coders), dict(zip(seg.table["code"], seg.table["alpha"]))


def findings_report(engine: Engine, project: str = DEFAULT_PROJECT, *, frame: str, by: str | None = None,
                    coder: str | None = None, quotes: int = 3, embedder=None, chart: bool = True,
                    viewer: str | None = None):
    """The findings report of one frame (:class:`coding.report.FindingsReport`).

    Shares, intervals and agreement come from :func:`coding.share_report` (the numbers
    ``codeframe shares`` prints); quotes are key quotes first, then the units nearest the code's
    centroid (embeddings from the cache; ``embedder=False`` keeps document order). Consensus
    codings unless ``coder`` says otherwise; the report says which, with its coverage. A coder
    ``viewer`` who may see only their own codings (blind coding) gets a report of those alone:
    no other coder's name, coverage or agreement figure.
    """
    from coding import charts
    from coding import report as rp

    if not 1 <= quotes <= 3:
        raise CodeframeError(f"quotes per code must be 1 to 3, not {quotes}")
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        own_only = restricted(session, row, viewer)  # a blind coder: their own codings, nobody else's
        coder = chosen_coder(session, row, viewer, coder)
    shares = share_report(engine, project, frame=frame, by=by, coder=coder, with_agreement=not own_only,
                          viewer=viewer)
    codebook = project_codebook(engine, project)
    frame_obj = codebook.frame(frame)
    # shares.quotes holds only the counted coder's quotes (issue 14): the coders compared are those
    # agreement_report chooses (who double-coded the most, excluded coders left out)
    individual, alpha_segment = _segment_agreement(engine, project, frame) if not own_only else ([], {})
    alpha_respondent = dict(zip(shares.table["code"], shares.table["agreement"])) if "agreement" in shares.table else {}
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        # a key quote is a unit some coder starred for the code (a coder stars their own coding on the
        # coding page); a viewer who sees only their own codings counts only their own stars
        stars = _key_quotes(session, row, {shares.coder} if own_only else None)
        coders = list(dict.fromkeys([*individual, shares.coder]))  # the counted coder may be one of them
        coverage = _coverage(session, row, frame, coders)
        documents = queries.documents(session, row.id)
        n_documents = len(documents)
        n_units = sum(queries.unit_counts_by_document(session, row.id).values())
        foreign = {d.name: d.language for d in documents if d.language != row.language}
    mine = shares.quotes[shares.quotes["coder"] == shares.coder]
    mine = mine.assign(language=mine["document"].map(foreign))  # set only where not the project's language
    vectors = _quote_vectors(engine, project, mine, embedder)
    group_of = dict(zip(mine["respondent"], mine[by])) if by and by in mine else {}
    ordered = shares.table.assign(_pos=range(len(shares.table))).sort_values(["count", "_pos"],
                                                                             ascending=[False, True])
    findings = []
    for r in ordered.to_dict("records"):
        counted = {r["code"], *codebook.descendants(r["code"])}
        candidates = mine[mine["code"].isin(counted)].assign(
            key_quote=lambda d: [(int(s), c) in stars for s, c in zip(d["segment_id"], d["code"])])
        candidates = candidates.sort_values("key_quote", ascending=False, kind="stable")
        findings.append(rp.CodeFinding(
            code=r["code"], label=r["label"], count=int(r["count"]), n=int(r["n"]),
            line=rp.share_line(r["label"], int(r["count"]), int(r["n"]), r["ci_low"], r["ci_high"],
                               r.get("agreement")),
            split=rp.split_line(shares.crosstab, r["code"], by) if by else None,
            quotes=rp.pick_quotes(candidates, vectors, k=quotes, group_of=group_of)))
    figure = ordered.drop(columns="_pos")
    png = charts.chart_to_png(charts.share_bar_chart(figure, title=frame_obj.label)) if chart else None
    methods = rp.methods_paragraph(
        frame_label=frame_obj.label, n_codes=len(frame_obj.codes), n_respondents=shares.n, n_documents=n_documents,
        n_units=n_units, unit_kind=get_project(engine, project).segmentation_unit, coder=shares.coder,
        coders=coders, coverage=coverage, alpha_respondent=alpha_respondent,
        alpha_segment=alpha_segment, key_quotes=sum(1 for f in findings for q in f.quotes if q.starred), by=by,
        small_groups=sorted(set(shares.crosstab.loc[shares.crosstab["small"], "group"])) if by else (),
        own_only=own_only, languages=sorted({q.language for f in findings for q in f.quotes if q.language}))
    methods += " " + codebook_methods_sentence(engine, project)  # which codebook version (issue 30)
    any_count = int((shares.matrix.sum(axis=1) > 0).sum()) if not shares.matrix.empty else 0
    overview = rp.overview_paragraph(findings, frame_label=frame_obj.label, n=shares.n, any_count=any_count)
    return rp.FindingsReport(title=f"Findings: {frame_obj.label}", frame=frame, frame_label=frame_obj.label,
                             coder=shares.coder, n=shares.n, by=by, findings=findings, methods=methods,
                             overview=overview,
                             chart_png=png, notes=[*shares.notes, *shares.table.attrs.get("notes", [])],
                             coverage=shares.coverage, partial=shares.partial, own_only=own_only,
                             table=rp.share_table_rows(ordered, with_agreement=not own_only))


# --------------------------------------------------------------------------- codebook appendix


def codebook_appendix(engine: Engine, project: str = DEFAULT_PROJECT, *, fmt: str = "md",
                      coder: str = CONSENSUS) -> str | bytes:
    """The project's codebook as a paper's appendix (Markdown text or DOCX bytes), with counts of
    segments and respondents carrying each code (or one of its sub-codes) in ``coder``'s codings."""
    from dataclasses import replace

    import pandas as pd

    from coding import cooccurrence, exports
    from coding.codebook import parse_codebook

    if fmt not in ("md", "docx"):
        raise CodeframeError(f"the codebook exports as md or docx, not {fmt!r}")
    codebook = project_codebook(engine, project)
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        n = len({d.respondent for d in session.exec(select(Document).where(Document.project_id == row.id))})
        if coder not in queries.coders_by_name(session, row.id):
            raise NotFound(f"no coder named {coder!r} in this project")
        source = row.codebook_source
        codings = queries.codings_frame(session, row.id, coders=[coder])
    ids = list(codebook.code_ids)
    hierarchy = {c: codebook.descendants(c) for c in ids}  # a parent counts its sub-codes, as shares do
    segments = cooccurrence.carriers(codings, ids, unit="segment", hierarchy=hierarchy)
    respondents = cooccurrence.carriers(codings, ids, unit="respondent", hierarchy=hierarchy)
    usage = pd.DataFrame({"code": ids, "segments": [len(segments[c]) for c in ids],
                          "respondents": [len(respondents[c]) for c in ids]})
    if source:
        try:
            codebook = replace(codebook, title=parse_codebook(source).title)
        except CodeframeError:
            pass  # the stored YAML no longer parses: keep the project's name as the title
    write = exports.codebook_docx if fmt == "docx" else exports.codebook_markdown
    return write(codebook, usage, n_respondents=n, coder=coder)
