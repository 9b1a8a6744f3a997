"""The codebook: frames as a tree of codes with definitions, criteria, examples, usage and coded quotes."""

from __future__ import annotations

import streamlit as st

from app_pages import _codebook_edit
from app_pages import _common as common
from coding import limits, service

engine, project = common.engine(), common.project_name()
common.inject_css()

st.title("Codebook")
actor = common.current_coder()
codebook = service.project_codebook(engine, project, viewer=actor)  # with the proposals this user may see
proposed = {p["key"] for p in service.proposed_codes(engine, project, viewer=actor)} if actor else set()
if not codebook.frames:
    st.info("The project has no codebook yet. Apply one with `codeframe apply-codebook codebook.yaml`.",
            icon=":material/menu_book:")
    st.stop()

visible = common.visible_coders(engine, project)  # blind mode: a coder's own codings only
usage = service.code_usage(engine, project, coders=visible)
counts = {row.code: (int(row.segments), int(row.respondents)) for row in usage.itertuples()}
quotes = service.quotes_by_code(engine, project, limit=3, coders=visible)
respondents = service.status(engine, project).respondents
whose = (f"only {common.md(visible[0])}'s own codings (blind mode)" if visible is not None else
         "every coder's codings together, the consensus included (Shares counts one coder, by default the "
         "consensus)")

st.caption(
    f"{len(codebook.frames)} frames · {len(codebook.codes())} codes. Segments and respondents count {whose}; "
    "a respondent counts once however often the code is applied."
)
with st.expander("Change the codebook: add, edit, move, merge, split, retire, undo, versions",
                 icon=":material/edit:"):
    _codebook_edit.render(engine, project, codebook, actor)
query = st.text_input("Find a code", placeholder="id, label or a word of the definition", key="_cb_filter")
matching = {c.id for c in service.find_codes(codebook, query)}


st.html(
    "<style>.cf-code-head{font-size:1.05rem;margin-top:0.4rem}"
    ".cf-swatch{display:inline-block;width:0.8rem;height:0.8rem;border-radius:3px;border:1px solid;"
    "margin-right:0.45rem;vertical-align:-1px}"
    "[class*='st-key-cf_code_'],[class*='st-key-cf_child_']{border-top:1px solid #e6e9ed;padding-top:0.6rem}"
    "[class*='st-key-cf_child_']{margin-left:1.6rem;width:calc(100% - 1.6rem) !important;box-sizing:border-box;"
    "border-left:3px solid #e6e9ed;padding-left:1rem}"
    ".cf-code-head code{font-size:0.78rem;color:#5b6570;background:#f1f3f5;padding:1px 5px;border-radius:4px}</style>"
)


def _criteria(title: str, items) -> None:
    if items:
        st.markdown(f"**{title}**\n" + "\n".join(f"- {item}" for item in items))  # items escaped by the caller


for frame in codebook.frames:
    codes = [c for c in frame.codes if c.id in matching]
    if query and not codes:
        continue
    header = (f"{common.md(frame.label)} · {len(frame.codes)} codes"
              + (" · one code per unit" if frame.mutually_exclusive else ""))
    with st.expander(header, expanded=bool(query) or len(codebook.frames) == 1):
        if frame.description:
            st.caption(common.md(frame.description))
        if not frame.codes:
            st.info("This frame has no codes yet: add them to the codebook file and apply it again.")
        if len(codes) > limits.CODEBOOK_PAGE_MAX_CODES:
            st.caption(f"Showing the first {limits.CODEBOOK_PAGE_MAX_CODES:g} of {len(codes)} codes: find a code above "
                       "to see the others (the downloads on Retrieve & report hold them all).")
        for code in codes[:int(limits.CODEBOOK_PAGE_MAX_CODES)]:
            segments, people = counts.get(code.id, (0, 0))
            background, border, _ = common.code_colour(code.id)
            child = bool(codebook.ancestors(code.id))
            with st.container(key=f"cf_{'child' if child else 'code'}_{code.id}"):
                st.html(
                    f'<div class="cf-code-head"><span class="cf-swatch" style="background:{background};'
                    f'border-color:{border}"></span><b>{common.html_text(code.label)}</b> '
                    f'<code>{common.html_text(code.id)}</code>{" <em>(proposed)</em>" * (code.id in proposed)} '
                    f'<span class="cf-muted">· {segments} '
                    f'segment{"s" * (segments != 1)} · {people} of {respondents} respondents</span></div>'
                )
                st.markdown(common.md(code.definition))
                cols = st.columns(2)
                with cols[0]:
                    _criteria("Include", [common.md(i) for i in code.include])
                with cols[1]:
                    _criteria("Exclude", [common.md(e) for e in code.exclude])
                _criteria("Examples", [f"*{common.md(e)}*" for e in code.examples])
                coded = quotes.get(code.id, [])
                if coded:
                    st.markdown("**Coded in the transcripts**")
                    for q in coded:
                        st.html(
                            f'<div class="cf-quote" style="font-size:0.92rem">{common.html_text(q["text"])}'
                            f'<div class="cf-muted">— {common.html_text(q["respondent"])}, '
                            f'{common.html_text(q["document"])}'
                            f' (coded by {common.html_text(q["coder"])})</div></div>'
                        )
                elif segments == 0:
                    st.caption("Not applied to any segment yet.")
