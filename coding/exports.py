"""Writers for the analysis outputs: retrieved segments, search hits, memos and tables as CSV, XLSX,
Markdown and DOCX, and the codebook as a paper's appendix. Pure: DataFrames in, text or bytes out.

>>> import pandas as pd
>>> rows = pd.DataFrame({"respondent": ["R01"], "text": ["Reform must be systemic."], "codes": ["rd_x"]})
>>> print(segments_markdown(rows, title="Retrieved"))
# Retrieved
<BLANKLINE>
1 segment.
<BLANKLINE>
**R01** · rd\\_x
<BLANKLINE>
> Reform must be systemic.
<BLANKLINE>
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import pandas as pd

from coding.markup import code_span, md, plain_text
from coding.safe_cells import csv_text, harden_workbook

FORMATS = ("table", "csv", "xlsx", "docx", "md")
_SKIP = {"document_id", "position", "spans", "is_unit", "role"}  # segment_id stays: it locates the unit


def _header(row: Mapping, attributes: Sequence[str]) -> str:
    return " · ".join(_header_bits(row, attributes))


def _header_bits(row: Mapping, attributes: Sequence[str]) -> list[str]:
    bits = [str(row.get("respondent") or row.get("document") or "")]
    if row.get("document") and row.get("document") != row.get("respondent"):
        bits.append(f"document {row['document']}")
    if row.get("unit") is not None and row.get("unit") == row.get("unit"):
        bits.append(f"unit {int(row['unit'])}")
    bits += [str(row[a]) for a in attributes if row.get(a) not in (None, "") and row.get(a) == row.get(a)]
    if row.get("coder"):
        bits.append(f"coder {row['coder']}")
    return bits


def _safe_link(link) -> str | None:
    """A link worth writing into Markdown: http(s) only (never ``javascript:`` or ``data:``)."""
    text = str(link or "")
    safe = text.lower().startswith(("http://", "https://")) and not any(c in text for c in " <>()\n")
    return text if safe else None


def segments_markdown(rows: pd.DataFrame, *, title: str, filters: Sequence[str] = (),
                      attributes: Sequence[str] = ()) -> str:
    """Each row as a quote with its respondent, attributes, codes, context and memo (user text escaped)."""
    out = [f"# {md(title)}", ""]
    if filters:
        out += ["Filters: " + md("; ".join(filters)), ""]
    out += [f"{len(rows)} segment{'s' if len(rows) != 1 else ''}.", ""]
    for row in rows.to_dict("records"):
        bits = [md(b) for b in _header_bits(row, attributes)]
        if row.get("codes"):
            head = f"**{bits[0]}**" + "".join(f" · {b}" for b in bits[1:]) + f" · {md(row['codes'])}"
        else:
            head = f"**{' · '.join(bits)}**"
        out += [head, ""]
        if row.get("before"):
            out += [f"*… {md(row['before'])}*", ""]
        out += [f"> {md(row['text'])}", ""]
        if row.get("after"):
            out += [f"*{md(row['after'])} …*", ""]
        if row.get("memo"):
            out += [f"Memo: {md(row['memo'])}", ""]
        link = _safe_link(row.get("link"))
        if link:
            out += [f"[Open in the coding page]({link})", ""]
    return "\n".join(out)


def segments_docx(rows: pd.DataFrame, *, title: str, filters: Sequence[str] = (),
                  attributes: Sequence[str] = ()) -> bytes:
    """The same as :func:`segments_markdown`, as a Word document."""
    from docx import Document

    doc = Document()
    doc.add_heading(plain_text(title), level=1)
    if filters:
        doc.add_paragraph(plain_text("Filters: " + "; ".join(filters)))
    doc.add_paragraph(f"{len(rows)} segment{'s' if len(rows) != 1 else ''}.")
    for row in rows.to_dict("records"):
        head = doc.add_paragraph()
        head.add_run(plain_text(_header(row, attributes))).bold = True
        if row.get("codes"):
            head.add_run(plain_text(f" · {row['codes']}"))
        if row.get("before"):
            doc.add_paragraph().add_run(plain_text(f"… {row['before']}")).italic = True
        doc.add_paragraph(plain_text(row["text"]), style="Quote")
        if row.get("after"):
            doc.add_paragraph().add_run(plain_text(f"{row['after']} …")).italic = True
        if row.get("memo"):
            doc.add_paragraph(plain_text(f"Memo: {row['memo']}"))
        if row.get("link"):
            doc.add_paragraph(f"Coding page: {row['link']}")
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def plain(rows: pd.DataFrame) -> pd.DataFrame:
    """The columns worth a spreadsheet (no internal ids or span lists)."""
    return rows[[c for c in rows.columns if c not in _SKIP]]


def workbook(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """An XLSX file with one sheet per table (bold frozen header, fitted widths; see :mod:`coding.xlsx`)."""
    from coding.xlsx import _style, sanitize_sheet_name

    buffer = io.BytesIO()
    taken: set[str] = set()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for key, table in sheets.items():
            name = sanitize_sheet_name(key, taken)
            table.to_excel(writer, sheet_name=name, index=False)
            _style(writer.sheets[name], table)
        harden_workbook(writer.book)
    return buffer.getvalue()


def write_rows(rows: pd.DataFrame, fmt: str, *, title: str, filters: Sequence[str] = (),
               attributes: Sequence[str] = ()) -> str | bytes:
    """Retrieved rows in ``fmt`` (csv, xlsx, docx, md; table is left to the CLI)."""
    if fmt == "csv":
        return csv_text(plain(rows))
    if fmt == "xlsx":
        return workbook({title[:31]: plain(rows)})
    if fmt == "docx":
        return segments_docx(rows, title=title, filters=filters, attributes=attributes)
    if fmt == "md":
        return segments_markdown(rows, title=title, filters=filters, attributes=attributes)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


# --------------------------------------------------------------------------- the codebook appendix


def _usage(usage: pd.DataFrame | None) -> dict[str, tuple[int, int]]:
    if usage is None or usage.empty:
        return {}
    return {r["code"]: (int(r["segments"]), int(r["respondents"])) for r in usage.to_dict("records")}


def _counts(counts: dict, code: str, n: int | None) -> str:
    segments, respondents = counts.get(code, (0, 0))
    of = f" of {n}" if n else ""
    return f"{segments} segment{'s' if segments != 1 else ''}, {respondents}{of} respondents"


def _counts_note(coder: str) -> str:
    return (f"Counts are of {coder} codings: segments carrying the code or one of its sub-codes, and respondents "
            "with at least one such segment.")


def codebook_markdown(codebook, usage: pd.DataFrame | None = None, *, n_respondents: int | None = None,
                      coder: str = "consensus") -> str:
    """The codebook as an appendix: per frame, each code with its definition, criteria, examples and counts."""
    counts = _usage(usage)
    out = [f"# Appendix: codebook — {md(codebook.title)}", "", md(_counts_note(coder)), ""]
    for frame in codebook.frames:
        exclusive = " Codes are mutually exclusive within a segment." if frame.mutually_exclusive else ""
        out += [f"## {md(frame.label)} ({code_span(frame.id)})", ""]
        if frame.description or exclusive:
            out += [md((frame.description + exclusive).strip()), ""]
        for code in frame.codes:
            depth = len(codebook.ancestors(code.id))
            out += [f"{'#' * min(3 + depth, 6)} {md(code.label)} ({code_span(code.id)})", "",
                    f"*{_counts(counts, code.id, n_respondents)}*"
                    + (f"; sub-code of {code_span(code.parent)}" if code.parent else ""),
                    "", f"**Definition.** {md(code.definition)}", ""]
            for name, items in (("Include", code.include), ("Exclude", code.exclude), ("Examples", code.examples)):
                if items:
                    out += [f"**{name}:**", ""] + [f"- {md(i)}" for i in items] + [""]
    return "\n".join(out)


def codebook_docx(codebook, usage: pd.DataFrame | None = None, *, n_respondents: int | None = None,
                  coder: str = "consensus") -> bytes:
    """The codebook appendix as a Word document."""
    from docx import Document

    counts = _usage(usage)
    doc = Document()
    doc.add_heading(f"Appendix: codebook — {codebook.title}", level=1)
    doc.add_paragraph(_counts_note(coder))
    for frame in codebook.frames:
        doc.add_heading(f"{frame.label} ({frame.id})", level=2)
        if frame.description:
            doc.add_paragraph(frame.description)
        if frame.mutually_exclusive:
            doc.add_paragraph("Codes are mutually exclusive within a segment.")
        for code in frame.codes:
            depth = len(codebook.ancestors(code.id))
            doc.add_heading(f"{code.label} ({code.id})", level=min(3 + depth, 9))
            doc.add_paragraph().add_run(_counts(counts, code.id, n_respondents)
                                        + (f"; sub-code of {code.parent}" if code.parent else "")).italic = True
            para = doc.add_paragraph()
            para.add_run("Definition. ").bold = True
            para.add_run(code.definition)
            for name, items in (("Include", code.include), ("Exclude", code.exclude), ("Examples", code.examples)):
                if items:
                    doc.add_paragraph().add_run(f"{name}:").bold = True
                    for item in items:
                        doc.add_paragraph(item, style="List Bullet")
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
