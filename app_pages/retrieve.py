"""Retrieve & report: coded quotes by code and respondent group, search (and code all hits), co-occurrence,
memos, and the findings report and codebook appendix as downloads.

Thin: every read and write is one call into :mod:`coding.service` (its parts `analysis` and `analysis_report`),
which apply the blind-mode rules for the coder chosen in the sidebar (a supervisor sees everyone's).
Files are built only when a download button is clicked.
"""

from __future__ import annotations

import streamlit as st

from app_pages import _common as common
from coding import cooccurrence, exports, limits, report, safe_cells, service
from coding.errors import CodeframeError

engine, project = common.engine(), common.project_name()
common.inject_css()

st.title("Retrieve & report")

codebook = service.project_codebook(engine, project)
documents = service.list_documents(engine, project)
if not codebook.frames or not documents:
    st.info("This page needs a codebook and transcripts — see the **Import** and **Codebook** pages.",
            icon=":material/search:")
    st.stop()
viewer = common.require_coder()
if viewer is None:
    st.stop()

labels = {c.id: c.label for c in codebook.codes()}
frame_labels = {f.id: f.label for f in codebook.frames}
attributes = sorted({k for d in documents for k in d.attributes})
values = {a: sorted({str(d.attributes[a]) for d in documents if d.attributes.get(a) not in (None, "")})
          for a in attributes}
coders = [c["name"] for c in service.list_coders(engine, project)]
counted = common.counted_coders(engine, project, coders, key="rt_coder")  # excluded coders are never counted
counted = common.counted_coders(engine, project, counted, key="rp_coder")
MIME = {"csv": "text/csv", "md": "text/markdown",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
MESSAGE = "_retrieve_message"


def _downloads(key: str, stem: str, build, formats=("csv", "xlsx", "docx", "md")) -> None:
    """One download button per format; ``build(fmt)`` runs only when the button is clicked."""
    columns = st.columns(len(formats))
    for column, fmt in zip(columns, formats):
        column.download_button(fmt.upper(), lambda fmt=fmt: build(fmt), file_name=f"{stem}.{fmt}", mime=MIME[fmt],
                               key=f"_dl_{key}_{fmt}", on_click="ignore", icon=":material/download:",
                               width="stretch")


def _open(document_id: int, segment_id: int) -> None:
    """Show this unit on the coding page (its transcript, the unit selected)."""
    st.session_state[common.DOC_ID] = document_id
    st.session_state[common.SEG_ID] = segment_id
    st.switch_page("app_pages/code.py")


def _base_url() -> str:
    """This app's address as the browser sees it (for the links in downloads); empty when unknown."""
    from urllib.parse import urlsplit

    parts = urlsplit(st.context.url or "")
    prefix = parts.path.rsplit("/", 1)[0]  # behind a proxy's path prefix, the pages sit under it
    return f"{parts.scheme}://{parts.netloc}{prefix}" if parts.scheme and parts.netloc else ""


def _quote_block(row: dict, spans=None) -> str:
    text = common.html_text(row["text"])
    if spans:
        from coding.search import highlight

        text = highlight(str(row["text"]), spans, before="\x00", after="\x01")
        text = common.html_text(text).replace("\x00", "<mark>").replace("\x01", "</mark>")
    before = f'<div class="cf-context">… {common.html_text(row["before"])}</div>' if row.get("before") else ""
    after = f'<div class="cf-context">{common.html_text(row["after"])} …</div>' if row.get("after") else ""
    return f'{before}<div class="cf-quote">{text}</div>{after}'


tabs = st.tabs(["Retrieve", "Search", "Co-occurrence", "Memos", "Report & codebook"])

# --------------------------------------------------------------------------- retrieve

with tabs[0]:
    picked = st.multiselect("Codes", list(labels), format_func=lambda c: f"{labels[c]} ({c})", key="rt_codes",
                            placeholder="Choose one or more codes")
    row1 = st.columns([2, 2, 2, 1], vertical_alignment="bottom")
    mode = row1[0].segmented_control("With several codes", ["any", "all", "none"], default="any", key="rt_mode",
                                     help="Segments carrying any / all / none of the chosen codes")
    coder_choice = row1[1].selectbox("Coder", ["consensus (default)", "everyone I may see", *counted], key="rt_coder")
    context = row1[2].number_input("Context (units before and after)", 0, 5, 1, key="rt_context")
    rollup = row1[3].toggle("Sub-codes", value=True, key="rt_rollup", help="Count sub-codes for a parent code")
    row2 = st.columns([2, 3, 1], vertical_alignment="bottom")
    attribute = row2[0].selectbox("Respondent attribute", attributes, index=None, key="rt_attr",
                                  placeholder="All respondents")
    chosen = row2[1].multiselect("Values", values.get(attribute, []), key=f"rt_values_{attribute}",
                                 disabled=attribute is None)
    negate = row2[2].toggle("Not", key="rt_not", disabled=attribute is None, help="Respondents without these values")
    if not picked:
        st.caption("Choose a code to see every segment carrying it, with its respondent and context.")
    else:
        where = [f"{attribute}{'!=' if negate else '='}{','.join(chosen)}"] if attribute and chosen else []
        coder = (None if coder_choice.startswith("consensus") else
                 service.ALL_CODERS if coder_choice.startswith("everyone") else coder_choice)
        try:
            rows = service.retrieve(engine, project, codes=picked, mode=mode or "any", where=where,
                                             coder=coder, context=int(context), rollup=rollup, viewer=viewer,
                                             base_url=_base_url())
        except CodeframeError as exc:
            common.show_error(exc)
            rows = None
    if picked and rows is not None:
        filters = rows.attrs["filters"]
        st.markdown(f"**{len(rows)}** segment(s) from **{rows['respondent'].nunique()}** respondent(s) · "
                    + common.md("; ".join(filters)))
        title = "Retrieved segments: " + ", ".join(labels[c] for c in picked)
        _downloads("rt", "retrieved_" + "_".join(picked)[:60],
                   lambda fmt: exports.write_rows(rows, fmt, title=title, filters=filters, attributes=attributes))
        for i, row in enumerate(rows.head(200).to_dict("records")):
            groups = " · ".join(str(row[a]) for a in attributes if row.get(a))
            st.markdown(f"**{common.md(row['respondent'])}** · unit {row['unit']} · {common.md(groups)} · "
                        f"{common.md(row['coder'])} · {common.md(row['code_labels'])}")
            st.html(_quote_block(row))
            if row.get("memo"):
                st.caption(f"Memo: {common.md(row['memo'])}")
            if st.button("Open in the coding page", key=f"rt_open_{row['segment_id']}_{i}",
                         icon=":material/edit_note:"):
                _open(int(row["document_id"]), int(row["segment_id"]))
        if len(rows) > 200:
            st.caption(f"Showing the first 200 of {len(rows)}; the downloads hold them all.")

# --------------------------------------------------------------------------- search


def _code_all(ids: list[int], code: str, label: str) -> None:
    try:
        result = service.code_hits(engine, project, segment_ids=ids, code=code, coder=viewer, actor=viewer,
                                   label=label)
        st.session_state[MESSAGE] = ("success", f"Coded {result.applied} unit(s) with {labels[code]} as one batch.")
    except CodeframeError as exc:
        st.session_state[MESSAGE] = ("error", common.first_line(exc))


def _undo() -> None:
    reverted = service.undo(engine, project, coder=viewer, actor=viewer)
    st.session_state[MESSAGE] = ("success", "Undone." if reverted else "Nothing to undo.")


with tabs[1]:
    row = st.columns([4, 2, 1], vertical_alignment="bottom")
    pattern = row[0].text_input("Search the transcripts", key="sr_pattern", placeholder="e.g. reform")
    how = row[1].segmented_control("How", ["plain", "word", "regex", "like this"], default="plain", key="sr_mode",
                                   help="plain text, whole words, a regular expression, or units like this sentence "
                                        "(by embedding)")
    interviewer = row[2].toggle("Interviewer too", key="sr_interviewer")
    message = st.session_state.pop(MESSAGE, None)
    if message:
        (st.success if message[0] == "success" else st.error)(common.md(message[1]))
        if message[0] == "success" and message[1].startswith("Coded"):
            st.button("Undo this batch", on_click=_undo, key="sr_undo", icon=":material/undo:")
    if pattern.strip():
        try:
            if how == "like this":
                hits = service.similar_units(engine, project, text=pattern, k=30)
            else:
                hits = service.search(engine, project, pattern=pattern, mode=how or "plain",
                                               include_interviewer=interviewer)
        except CodeframeError as exc:
            common.show_error(exc)
            hits = None
        if hits is not None:
            st.markdown(f"**{len(hits)}** hit(s) in **{hits['document'].nunique()}** transcript(s)")
            with st.expander("Code all hits", icon=":material/library_add_check:"):
                code = st.selectbox("Code", list(labels), format_func=lambda c: f"{labels[c]} ({c})", index=None,
                                    key="sr_code", placeholder="Choose the code to apply")
                if code:
                    preview = service.preview_code_hits(engine, project, segment_ids=hits["segment_id"],
                                                                 code=code, coder=viewer, actor=viewer)
                    st.caption(f"{len(preview.apply)} unit(s) will get the code as **{common.md(viewer)}**; "
                               f"{len(preview.already)} already carry it; {len(preview.not_units)} are interviewer "
                               "turns (not coded). One batch, undone in one step.")
                    st.button(f"Code {len(preview.apply)} unit(s)", key="sr_apply", type="primary",
                              disabled=not preview.apply, on_click=_code_all,
                              args=(preview.apply, code, f"search {pattern!r} ({how})"))
            for row in hits.head(100).to_dict("records"):
                score = f" · similarity {row['similarity']:.2f}" if "similarity" in row else ""
                st.markdown(f"**{common.md(row['respondent'])}** · {common.md(row['document'])}{score}")
                st.html(_quote_block({**row, "before": row.get("before", ""), "after": row.get("after", "")},
                                     row.get("spans")))

# --------------------------------------------------------------------------- co-occurrence

def _cooccurrence_panel() -> None:
    if not st.toggle("Compute the co-occurrence", key="co_on",
                     help="Counted on request: with thousands of codes it takes a while"):
        st.caption("Code x code co-occurrence (counts and Jaccard, per unit or per respondent) is computed when "
                   "you switch it on.")
        return
    row = st.columns([3, 3, 2], vertical_alignment="bottom")
    first = row[0].selectbox("Frame", list(frame_labels), format_func=frame_labels.get, key="co_frame")
    second = row[1].selectbox("Against frame", list(frame_labels), format_func=frame_labels.get, index=None,
                              key="co_frame2", placeholder="The same frame")
    unit = row[2].segmented_control("Level", ["segment", "respondent"], default="segment", key="co_unit") \
        or "segment"
    try:
        table = service.cooccurrence(engine, project, frames=[first, *([second] if second else [])],
                                              unit=unit, viewer=viewer)
    except CodeframeError as exc:
        common.show_error(exc)
        return
    st.caption(f"{common.md(table.attrs['coder'])} codings. Count: {'units' if unit == 'segment' else 'respondents'} "
               "carrying both codes; Jaccard: both / either. Click a cell to see what is behind it."
               + "".join(f" {common.md(note.capitalize())}." for note in table.attrs.get("excluded", [])))
    picked = None
    sides = max(table["code_a"].nunique(), table["code_b"].nunique()) if len(table) else 0
    if sides > limits.HEATMAP_MAX_CODES:
        st.info(f"{sides} codes: the heatmap is drawn for at most {limits.HEATMAP_MAX_CODES:g} codes per side "
                "(CODEFRAME_LIMIT_HEATMAP_MAX_CODES); pick two codes below, or download the table.")
    else:
        event = st.altair_chart(cooccurrence.heatmap(table), on_select="rerun", key="co_heatmap", width="content")
        picked = (event.selection.get("cell") or [None])[0] if event and event.selection else None
    _downloads("co", f"cooccurrence_{first}_{unit}", lambda fmt: safe_cells.csv_text(table) if fmt == "csv"
               else exports.workbook({"Counts": cooccurrence.wide(table).reset_index(),
                                      "Jaccard": cooccurrence.wide(table, "jaccard").reset_index(), "Cells": table}),
               formats=("csv", "xlsx"))
    pick = st.columns(2)
    a = pick[0].selectbox("Code", list(dict.fromkeys(table["code_a"])), format_func=labels.get, index=None,
                          key="co_a", placeholder="Row code (or click a cell)")
    b = pick[1].selectbox("With", list(dict.fromkeys(table["code_b"])), format_func=labels.get, index=None,
                          key="co_b", placeholder="Column code")
    if picked:
        a, b = picked.get("code_a", a), picked.get("code_b", b)
    if a and b:
        behind = service.cooccurrence_members(table, a, b)
        st.markdown(f"**{len(behind)}** {'unit(s)' if unit == 'segment' else 'respondent(s)'} with "
                    f"**{common.md(labels[a])}** and **{common.md(labels[b])}**")
        st.dataframe(behind.drop(columns=[c for c in ("segment_id",) if c in behind]), hide_index=True,
                     width="stretch", key="co_behind")


with tabs[2]:
    _cooccurrence_panel()

# --------------------------------------------------------------------------- memos


def _add_memo(kind: str) -> None:
    target = st.session_state.get("mm_target")
    text = (st.session_state.get("mm_text") or "").strip()
    try:
        service.add_memo(engine, project, kind=kind, target=target, coder=viewer, text=text, actor=viewer)
        st.session_state["mm_text"] = ""
        st.session_state[MESSAGE + "_memo"] = ("success", "Memo saved.")
    except CodeframeError as exc:
        st.session_state[MESSAGE + "_memo"] = ("error", common.first_line(exc))


with tabs[3]:
    row = st.columns(3)
    by_coder = row[0].selectbox("By coder", coders, index=None, key="mm_coder", placeholder="Everyone")
    by_code = row[1].selectbox("On code", list(labels), format_func=labels.get, index=None, key="mm_code",
                               placeholder="Any code")
    by_doc = row[2].selectbox("On document", [d.name for d in documents], index=None, key="mm_doc",
                              placeholder="Any document")
    memo_table = service.memos(engine, project, viewer=viewer, coder=by_coder, code=by_code,
                                      document=by_doc)
    st.markdown(f"**{len(memo_table)}** memo(s) on codings, units, documents and codes")
    st.dataframe(memo_table.drop(columns=["memo_id", "segment_id"]), hide_index=True, width="stretch",
                 key="mm_table")
    _downloads("mm", "memos", lambda fmt: safe_cells.csv_text(memo_table) if fmt == "csv"
               else exports.workbook({"Memos": memo_table.assign(updated=memo_table["updated"].astype(str))}),
               formats=("csv", "xlsx"))
    with st.expander("Write a memo", icon=":material/sticky_note_2:"):
        kind = st.segmented_control("On", ["document", "code"], default="document", key="mm_kind")
        options = [d.name for d in documents] if kind != "code" else list(labels)
        st.selectbox("Target", options, key="mm_target", format_func=labels.get if kind == "code" else str)
        st.text_area("Memo", key="mm_text")
        st.button("Save memo", on_click=_add_memo, args=(kind or "document",), key="mm_save")
    memo_message = st.session_state.pop(MESSAGE + "_memo", None)
    if memo_message:
        (st.success if memo_message[0] == "success" else st.error)(common.md(memo_message[1]))

# --------------------------------------------------------------------------- report & codebook

with tabs[4]:
    row = st.columns(3)
    frame = row[0].selectbox("Frame", list(frame_labels), format_func=frame_labels.get, key="rp_frame")
    split = row[1].selectbox("Split by", attributes, index=None, key="rp_by", placeholder="No split")
    whose = row[2].selectbox("Coder", counted, index=None, key="rp_coder", placeholder="Consensus (default)")
    st.caption("A draft findings section written the way the article's Results are: per code, in order of share, "
               "its share of respondents with the 95% interval and agreement, the split, 1–3 quotes (key quotes "
               "first), then Figure 1 and a methods paragraph. It says whose codings it uses.")

    def _report(fmt: str):
        found = service.findings_report(engine, project, frame=frame, by=split, coder=whose, viewer=viewer)
        return report.to_docx(found) if fmt == "docx" else report.to_markdown(found)

    cols = st.columns(4)
    cols[0].download_button("Report (DOCX)", lambda: _report("docx"), file_name=f"findings_{frame}.docx",
                            mime=MIME["docx"], key="_dl_report_docx", on_click="ignore", icon=":material/description:",
                            width="stretch")
    cols[1].download_button("Report (Markdown)", lambda: _report("md"), file_name=f"findings_{frame}.md",
                            mime=MIME["md"], key="_dl_report_md", on_click="ignore", icon=":material/article:",
                            width="stretch")
    cols[2].download_button("Codebook appendix (DOCX)",
                            lambda: service.codebook_appendix(engine, project, fmt="docx"),
                            file_name="codebook_appendix.docx", mime=MIME["docx"], key="_dl_codebook_docx",
                            on_click="ignore", icon=":material/menu_book:", width="stretch")
    cols[3].download_button("Codebook appendix (Markdown)",
                            lambda: service.codebook_appendix(engine, project, fmt="md"),
                            file_name="codebook_appendix.md", mime=MIME["md"], key="_dl_codebook_md",
                            on_click="ignore", icon=":material/menu_book:", width="stretch")
    if st.toggle("Preview the report here", key="rp_preview"):
        try:
            found = service.findings_report(engine, project, frame=frame, by=split, coder=whose,
                                                   viewer=viewer, chart=False)
            st.markdown(report.to_markdown(found))
        except CodeframeError as exc:
            common.show_error(exc)
