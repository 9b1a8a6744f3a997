"""The findings report, written the way the article's Results are: per code one line with its share
of respondents, the split by a respondent attribute, 1-3 representative quotes, then Figure 1 and a
methods paragraph. A draft for researchers to edit, as Markdown or DOCX.

Pure: the facade (:func:`coding.service.findings_report`) passes the share table and
crosstab of :mod:`coding.shares`, the per-code agreement of :mod:`coding.reliability`, the coded
units with their embeddings and the chart image. Nothing here recomputes a statistic; it formats.

>>> share_line("Systematic approach", 7, 24, 14.91, 49.17, 0.8235)
'Systematic approach: 7 of 24 respondents (29.2%, 95% CI 14.9–49.2%; respondent-level α 0.82)'
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd

from coding.markup import code_span, md, plain_text
from coding.shares import round_half_up


@dataclass(frozen=True)
class Quote:
    respondent: str
    text: str
    group: str | None = None
    document: str | None = None
    starred: bool = False
    language: str | None = None  # the interview's language when it is not the project's (ISO code)


@dataclass
class CodeFinding:
    code: str
    label: str
    count: int
    n: int
    line: str
    split: str | None = None
    quotes: list[Quote] = field(default_factory=list)


@dataclass
class FindingsReport:
    title: str
    frame: str
    frame_label: str
    coder: str
    n: int
    by: str | None
    findings: list[CodeFinding]
    methods: str
    chart_png: bytes | None = None
    notes: list[str] = field(default_factory=list)
    overview: str = ""
    coverage: str = ""  # 'cal coded this frame for 2 of 24 respondents'
    partial: bool = False  # the coder did not cover every respondent in scope
    own_only: bool = False  # a blind coder's report: their own codings, no other coder's name or figures
    table: pd.DataFrame | None = None  # the share table (:func:`share_table_rows`)


LANGUAGE_NAMES = {"en": "English", "ru": "Russian", "kk": "Kazakh"}


def language_mark(language: str | None) -> str:
    """The mark of a quote in another language than the project's.

    >>> language_mark("ru")
    '[ru, in Russian]'
    >>> language_mark(None)
    ''
    """
    if not language:
        return ""
    name = LANGUAGE_NAMES.get(language)
    return f"[{language}, in {name}]" if name else f"[{language}]"


def partial_warning(coverage: str) -> str:
    """The warning the Shares page gives when the coder did not cover every respondent."""
    return (f"Partial coverage: {coverage}. With every respondent in scope as the denominator, a respondent "
            "the coder never read counts as not mentioning the code.")


def percent_text(count: int, n: int) -> str:
    """The share as the article prints it, rounded half up: 7 of 24 -> '29.2%'."""
    return "n/a" if n <= 0 else f"{round_half_up(Fraction(100 * count, n)):.1f}%"


def _pct(value: float) -> str:
    return f"{round_half_up(value):.1f}"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def share_line(label: str, count: int, n: int, ci_low: float, ci_high: float, alpha: float | None = None) -> str:
    """'Label: 7 of 24 respondents (29.2%, 95% CI 14.9–49.2%; respondent-level α 0.82)'."""
    ci = "" if _missing(ci_low) or _missing(ci_high) else f", 95% CI {_pct(ci_low)}–{_pct(ci_high)}%"
    agreement = "" if _missing(alpha) else f"; respondent-level α {alpha:.2f}"
    noun = "respondent" if n == 1 else "respondents"
    return f"{label}: {count} of {n} {noun} ({percent_text(count, n)}{ci}{agreement})"


def share_table_rows(table: pd.DataFrame, *, with_agreement: bool = True) -> pd.DataFrame:
    """The report's share table (the Shares page's): code, respondents, share, 95% CI and, unless
    the reader sees only their own codings, the respondent-level α or, when undefined, '—' and why.

    >>> t = pd.DataFrame({"label": ["Pay"], "count": [7], "n": [24], "ci_low": [14.91], "ci_high": [49.17],
    ...                   "agreement": [float("nan")], "agreement_reason": ["no coder applied this code"]})
    >>> share_table_rows(t).iloc[0].tolist()
    ['Pay', '7 of 24', '29.2%', '14.9–49.2%', '— (no coder applied this code)']
    >>> list(share_table_rows(t, with_agreement=False).columns)
    ['Code', 'Respondents', 'Share', '95% CI']
    """
    rows = []
    for r in table.to_dict("records"):
        ci = "—" if _missing(r.get("ci_low")) or _missing(r.get("ci_high")) else \
            f"{_pct(r['ci_low'])}–{_pct(r['ci_high'])}%"
        row = {"Code": r["label"], "Respondents": f"{int(r['count'])} of {int(r['n'])}",
               "Share": percent_text(int(r["count"]), int(r["n"])), "95% CI": ci}
        if with_agreement:
            alpha = r.get("agreement")
            reason = r.get("agreement_reason") or "fewer than two coders compared"
            row["Respondent-level α"] = f"— ({reason})" if _missing(alpha) else f"{alpha:.2f}"
        rows.append(row)
    columns = ["Code", "Respondents", "Share", "95% CI"] + (["Respondent-level α"] if with_agreement else [])
    return pd.DataFrame(rows, columns=columns)


def split_line(crosstab: pd.DataFrame, code: str, by: str) -> str:
    """'By expert group: public administration 3 of 8 (37.5%); ...; not mentioned in private sector (n = 3).'

    Groups that mention the code come first (most mentions first); small groups (fewer than 5
    respondents) are marked † once per line.
    """
    rows = crosstab[crosstab["code"] == code]
    ordered = sorted(rows.to_dict("records"), key=lambda r: (-r["count"], -r["group_n"]))

    def name(r) -> str:
        return f"{r['group']}{' †' if r.get('small') else ''}"

    parts = [f"{name(r)} {int(r['count'])} of {int(r['group_n'])} ({percent_text(int(r['count']), int(r['group_n']))})"
             for r in ordered if r["count"] > 0]
    silent = [f"{name(r)} (n = {int(r['group_n'])})" for r in ordered if r["count"] == 0]
    text = f"By {by.replace('_', ' ')}: " + ("; ".join(parts) if parts else "no group")
    if silent:
        text += "; not mentioned in " + ", ".join(silent)
    return text + "."


def pick_quotes(candidates: pd.DataFrame, vectors: Mapping[int, np.ndarray] | None = None, *, k: int = 3,
                group_of: Mapping[str, str] | None = None) -> list[Quote]:
    """Up to ``k`` representative quotes: starred key quotes first, then the coded units nearest the
    centroid of all of the code's coded units (cosine); never the same respondent twice.

    ``candidates``: ``segment_id, respondent, document, text, key_quote`` (one row per coded unit),
    optionally ``language`` (set where the interview is not in the project's language). Without
    vectors, the order is the document order.
    """
    if candidates.empty:
        return []
    rows = candidates.drop_duplicates("segment_id").reset_index(drop=True)
    closeness = np.zeros(len(rows))
    if vectors:
        have = [i for i, s in enumerate(rows["segment_id"]) if int(s) in vectors]
        if have:
            matrix = np.stack([np.asarray(vectors[int(rows.loc[i, "segment_id"])], dtype=np.float32) for i in have])
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            unit = matrix / np.where(norms == 0, 1, norms)
            centroid = unit.mean(axis=0)
            centroid /= np.linalg.norm(centroid) or 1.0
            closeness[have] = unit @ centroid
    rows = rows.assign(q_star=rows["key_quote"].fillna(False).astype(bool), q_close=closeness,
                       q_order=range(len(rows)))
    rows = rows.sort_values(["q_star", "q_close", "q_order"], ascending=[False, False, True])
    picked, seen = [], set()
    for row in rows.itertuples(index=False):
        if row.respondent in seen:
            continue
        seen.add(row.respondent)
        language = getattr(row, "language", None)
        picked.append(Quote(respondent=str(row.respondent), text=str(row.text).strip(), document=row.document,
                            group=(group_of or {}).get(row.respondent), starred=bool(row.q_star),
                            language=language if isinstance(language, str) and language else None))
        if len(picked) == k:
            break
    return picked


def overview_paragraph(findings: Sequence[CodeFinding], *, frame_label: str, n: int, any_count: int) -> str:
    """The paragraph that introduces Figure 1: how many respondents named any code, then the codes
    from the most to the least named, ties together.

    >>> f = [CodeFinding("a", "Pay", 7, 24, ""), CodeFinding("b", "Training", 2, 24, ""),
    ...      CodeFinding("c", "Merit", 2, 24, "")]
    >>> overview_paragraph(f, frame_label="Directions", n=24, any_count=9)  # doctest: +NORMALIZE_WHITESPACE
    '9 of the 24 respondents (37.5%) mentioned at least one of the 3 codes of “Directions”. The most frequent
    was “Pay” (7 of 24, 29.2%), followed by “Training” and “Merit” (2 each, 8.3%) (Figure 1).'
    """
    text = (f"{any_count} of the {n} respondents ({percent_text(any_count, n)}) mentioned at least one of the "
            f"{len(findings)} codes of “{frame_label}”.")
    named = [f for f in findings if f.count > 0]
    if not named:
        return text + " (Figure 1)."
    tiers: list[list[CodeFinding]] = []
    for f in named:
        if tiers and tiers[-1][0].count == f.count:
            tiers[-1].append(f)
        else:
            tiers.append([f])

    def tier(group: list[CodeFinding], first: bool) -> str:
        labels = [f"“{f.label}”" for f in group]
        names = ", ".join(labels[:-1]) + " and " + labels[-1] if len(labels) > 1 else labels[0]
        count = group[0].count
        share = percent_text(count, n)
        if len(group) > 1:
            return f"{names} ({count} each, {share})"
        return f"{names} ({count} of {n}, {share})" if first else f"{names} ({count}, {share})"

    head = tiers[0]
    lead = "The most frequent were " if len(head) > 1 else "The most frequent was "
    text += " " + lead + tier(head, True)
    rest = [tier(t, False) for t in tiers[1:]]
    if rest:
        text += ", followed by " + (", ".join(rest[:-1]) + ", and " + rest[-1] if len(rest) > 1 else rest[0])
    silent = [f for f in findings if f.count == 0]
    if silent:
        text += "; nobody mentioned " + " or ".join(f"“{f.label}”" for f in silent)
    return text + " (Figure 1)."


_NUMBERS = {1: "One", 2: "Two", 3: "Three", 4: "Four", 5: "Five", 6: "Six", 7: "Seven", 8: "Eight", 9: "Nine"}


def methods_paragraph(*, frame_label: str, n_codes: int, n_respondents: int, n_documents: int, n_units: int,
                      unit_kind: str, coder: str, coders: Sequence[str], coverage: Mapping[str, int],
                      alpha_respondent: Mapping[str, float], alpha_segment: Mapping[str, float],
                      key_quotes: int, by: str | None = None, small_groups: Sequence[str] = (),
                      own_only: bool = False, languages: Sequence[str] = ()) -> str:
    """Coders, units, coverage, agreement and the denominator rule, in a paragraph.

    ``own_only``: a blind coder's report, naming no other coder and no agreement figure;
    ``languages``: the languages of quoted interviews that are not the project's.
    """
    unit_word = "sentences" if unit_kind == "sentence" else "speaker turns"
    parts = [f"The {n_documents} transcripts ({n_respondents} respondents) were segmented into {n_units} units "
             f"of coding (respondent {unit_word}) and coded against the frame “{frame_label}” ({n_codes} codes)."]
    individual = [c for c in coders if c != "consensus"]
    if own_only:
        parts.append(f"All figures and quotes here use only the codings of {coder} (transcripts coded in this frame: "
                     f"{coverage.get(coder, 0)} of {n_documents}): the project is in blind coding, so other coders' "
                     "work and inter-coder agreement are not part of this report.")
    elif individual:
        covered = "; ".join(f"{c} {coverage.get(c, 0)} of {n_documents}" for c in individual)
        count = _NUMBERS.get(len(individual), str(len(individual)))
        parts.append(f"{count} coder{'s' if len(individual) != 1 else ''} ({', '.join(individual)}) "
                     f"coded the transcripts independently (transcripts coded in this frame: {covered}).")
    if coder == "consensus" and not own_only:
        parts.append(f"Disagreements were adjudicated into a consensus coding (transcripts covered: "
                     f"{coverage.get('consensus', 0)} of {n_documents}); all figures and quotes here use the "
                     "consensus codings.")
    elif not own_only:
        parts.append(f"All figures and quotes here use the codings of {coder}, not an adjudicated consensus.")
    resp = [v for v in alpha_respondent.values() if not _missing(v)]
    seg = [v for v in alpha_segment.values() if not _missing(v)]
    if resp and not own_only:
        text = (f"Inter-coder agreement per code (Krippendorff's α, nominal) ranged from {min(resp):.2f} to "
                f"{max(resp):.2f} at the respondent level (did both coders find that a respondent mentioned the "
                "code?)")
        if seg:
            text += f" and from {min(seg):.2f} to {max(seg):.2f} at the segment level"
        parts.append(text + "; α ≥ 0.800 is read as reliable, ≥ 0.667 as tentative.")
    elif not own_only:
        parts.append("Inter-coder agreement could not be computed: fewer than two individual coders coded this frame.")
    parts.append(f"Shares are of all {n_respondents} respondents in scope, including those with no code of this "
                 "frame; a respondent counts once however often a code was applied, and a parent code counts "
                 "respondents with any of its sub-codes. Intervals are 95% Wilson score intervals.")
    if by:
        text = f"The split by {by.replace('_', ' ')} gives column percentages within each group"
        if small_groups:
            text += ("; groups marked † (" + ", ".join(small_groups) + ") have fewer than 5 respondents, so one "
                     "respondent moves their percentage by 20 points or more, and they should not be compared "
                     "on their own")
        parts.append(text + ".")
    if key_quotes:
        parts.append(f"Quotes marked as key quotes by a coder ({key_quotes}) are shown first; the others are the "
                     "coded units closest to the centre of each code's coded units (sentence embeddings), "
                     "one per respondent.")
    else:
        parts.append("Quotes are the coded units closest to the centre of each code's coded units (sentence "
                     "embeddings), one per respondent.")
    if languages:
        named = ", ".join(f"{language_mark(c)[1:-1]}" for c in languages)
        parts.append(f"Quotes marked with a language ({named}) are quoted untranslated from interviews held in "
                     "that language.")
    return " ".join(parts)


def _quote_line(q: Quote, escape=str) -> str:
    who = q.respondent + (f", {q.group}" if q.group else "")
    star = " ★" if q.starred else ""
    language = f" {language_mark(q.language)}" if q.language else ""
    return f"“{escape(q.text)}” ({escape(who)}){language}{star}"


def _table_caption(report: FindingsReport) -> str:
    text = f"Table 1. {report.frame_label}: share of respondents (n = {report.n})"
    return text + (f"; {report.coverage}." if report.coverage else ".")


def _scope_lines(report: FindingsReport) -> list[str]:
    """Whose codings, their coverage, and the partial-coverage warning (the report's first lines)."""
    lines = []
    if report.own_only:
        lines.append(f"This report uses only your own codings ({report.coder}): the project is in blind coding, "
                     "so other coders' work and inter-coder agreement are not shown.")
    if report.partial:
        lines.append(partial_warning(report.coverage))
    elif report.coverage:
        lines.append(f"Coverage: {report.coverage}.")
    return lines


def to_markdown(report: FindingsReport, *, chart_file: str | None = None) -> str:
    """The report as Markdown; ``chart_file`` is the path the image is linked from (written by the caller)."""
    out = [f"# {md(report.title)}", "",
           f"*Draft generated by Codeframe from the **{md(report.coder)}** codings of frame {code_span(report.frame)} "
           f"(n = {report.n} respondents). Edit freely.*", ""]
    out += [(f"**{md(line)}**" if line.startswith("Partial") else f"*{md(line)}*") + "\n"
            for line in _scope_lines(report)]
    out += ["## Results", ""]
    if report.overview:
        out += [md(report.overview), ""]
    for f in report.findings:
        out += [f"**{md(f.line)}**", ""]
        if f.split:
            out += [md(f.split), ""]
        out += [f"> {_quote_line(q, md)}" + "\n" for q in f.quotes]
        if not f.quotes:
            out += ["*(no coded quote)*", ""]
    if report.table is not None and not report.table.empty:
        columns = list(report.table.columns)
        out += ["## Table 1", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        out += ["| " + " | ".join(md(v) for v in row) + " |"
                for row in report.table.itertuples(index=False)]
        out += ["", f"*{md(_table_caption(report))}*", ""]
    out += ["## Figure 1", ""]
    if chart_file:
        out += [f"![Figure 1. {md(report.frame_label)}: share of respondents]({chart_file})", ""]
    out += [f"*Figure 1. {md(report.frame_label)}: share of respondents (n = {report.n}), with 95% intervals.*", "",
            "## Methods", "", md(report.methods), ""]
    out += [f"*Note: {md(n)}*\n" for n in report.notes]
    return "\n".join(out).rstrip() + "\n"


def to_docx(report: FindingsReport) -> bytes:
    """The report as a Word document (python-docx): headings, share lines in bold, quotes indented,
    the chart as an image, the methods paragraph."""
    from docx import Document
    from docx.shared import Inches, Pt

    doc = Document()
    doc.add_heading(report.title, level=1)
    note = doc.add_paragraph()
    note.add_run(f"Draft generated by Codeframe from the {report.coder} codings of frame {report.frame} "
                 f"(n = {report.n} respondents). Edit freely.").italic = True
    for line in _scope_lines(report):
        run = doc.add_paragraph().add_run(line)
        run.bold, run.italic = line.startswith("Partial"), not line.startswith("Partial")
    doc.add_heading("Results", level=2)
    if report.overview:
        doc.add_paragraph(report.overview)
    for f in report.findings:
        doc.add_paragraph().add_run(f.line).bold = True
        if f.split:
            doc.add_paragraph(f.split)
        for q in f.quotes:
            para = doc.add_paragraph(_quote_line(q, plain_text), style="Quote")
            para.paragraph_format.left_indent = Inches(0.4)
        if not f.quotes:
            doc.add_paragraph().add_run("(no coded quote)").italic = True
    if report.table is not None and not report.table.empty:
        doc.add_heading("Table 1", level=2)
        grid = doc.add_table(rows=1, cols=len(report.table.columns))
        grid.style = "Table Grid"
        for cell, name in zip(grid.rows[0].cells, report.table.columns):
            cell.text = str(name)
        for row in report.table.itertuples(index=False):
            for cell, value in zip(grid.add_row().cells, row):
                cell.text = str(value)
        doc.add_paragraph().add_run(_table_caption(report)).italic = True
    doc.add_heading("Figure 1", level=2)
    if report.chart_png:
        doc.add_picture(io.BytesIO(report.chart_png), width=Inches(6.2))
    caption = doc.add_paragraph()
    caption.add_run(f"Figure 1. {report.frame_label}: share of respondents (n = {report.n}), with 95% intervals."
                    ).italic = True
    doc.add_heading("Methods", level=2)
    doc.add_paragraph(report.methods)
    for n in report.notes:
        doc.add_paragraph().add_run(f"Note: {n}").italic = True
    for para in doc.paragraphs:
        for run in para.runs:
            run.font.size = run.font.size or Pt(11)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
