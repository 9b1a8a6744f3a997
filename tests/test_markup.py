"""User text shown as text: a label, definition, memo and coder name carrying Markdown and HTML render as
literal text on the pages and in the Markdown exports (coding.markup)."""

from __future__ import annotations

import re

import yaml
from apptest import APP, ok, shown
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from coding import exports, report, service
from coding.codebook import parse_codebook
from coding.markup import md, visible

P = "default"
HOSTILE = "![x](http://127.0.0.1:9/x.png) <img src=x onerror=alert(1)> [link](javascript:alert(1))"
RENDER = MarkdownIt("commonmark").enable("table").enable("strikethrough")


def live_markup(markdown: str) -> list[str]:
    """The tags a Markdown renderer would make of ``markdown`` that could fetch or run something."""
    html = RENDER.render(markdown)
    found = [tag for tag in ("<img", "<script", "<b>") if tag in html]
    return found + [a for a in re.findall(r'<a href="([^"]*)"', html) if not a.startswith(("http://", "https://"))]


def test_md_keeps_every_character_and_forms_no_markup():
    for text in (HOSTILE, "# head\n- item\n1. one\n> quote\n| a | b |\n***\n`code` &lt; $x$ :red[x] ~~s~~ <b>",
                 "a\u202eb\u200bc"):
        escaped = md(text)
        assert not live_markup(escaped), escaped
        assert shown(escaped) == visible(text)
        rendered = RENDER.render(escaped)
        assert "<h1" not in rendered and "<li" not in rendered and "<blockquote" not in rendered


def _hostile_project(engine) -> None:
    data = service.project_codebook(engine, P).to_dict()
    code = next(c for f in data["frames"] for c in f["codes"] if c["id"] == "rd_systemic_approach")
    code["label"], code["definition"] = HOSTILE, "Definition " + HOSTILE
    code["examples"] = [HOSTILE]
    service.import_codebook_object(engine, P, parse_codebook(yaml.safe_dump(data, allow_unicode=True)))
    row = service.retrieve(engine, P, codes=["rd_systemic_approach"], coder="aigerim").iloc[0]
    service.set_memo(engine, P, segment_id=int(row["segment_id"]), code="rd_systemic_approach", coder="aigerim",
                     memo="memo " + HOSTILE)


def _page_markdown(at: AppTest) -> list[str]:
    elements = (*at.markdown, *at.caption, *at.info, *at.error, *at.success, *at.warning, *at.subheader)
    return [str(e.value) for e in elements] + [str(e.label) for e in at.expander]


def test_pages_show_hostile_labels_and_memos_as_text(app_engine):
    _hostile_project(app_engine)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["coder"] = "supervisor"
    ok(at.run())
    ok(at.switch_page("app_pages/codebook.py").run())
    sources = _page_markdown(at)
    htmls = [h.proto.body for h in at.html]
    ok(at.switch_page("app_pages/retrieve.py").run())
    at.multiselect(key="rt_codes").set_value(["rd_systemic_approach"])
    ok(at.selectbox(key="rt_coder").set_value("aigerim").run())
    sources += _page_markdown(at)
    htmls += [h.proto.body for h in at.html]
    assert any(HOSTILE in shown(s) for s in sources)  # the text is there, as text
    assert any("memo " + HOSTILE in shown(s) for s in sources)
    assert any("Definition " + HOSTILE in shown(s) for s in sources)
    for source in sources:
        assert not live_markup(source), source
    assert not [h for h in htmls if "<img" in h or "javascript:" in h.replace("javascript:alert(1))", "")]


def test_markdown_exports_carry_hostile_text_escaped(sample_engine):
    _hostile_project(sample_engine)
    rows = service.retrieve(sample_engine, P, codes=["rd_systemic_approach"], coder="aigerim",
                            base_url="javascript:alert(1)//")
    found = service.findings_report(sample_engine, P, frame="reform_directions", embedder=False, chart=False)
    documents = {"retrieve": exports.write_rows(rows, "md", title="Retrieved: " + HOSTILE),
                 "report": report.to_markdown(found),
                 "appendix": service.codebook_appendix(sample_engine, P, fmt="md")}
    for name, text in documents.items():
        assert HOSTILE in shown(text), name
        assert not live_markup(text), (name, live_markup(text))
    assert "javascript:" not in documents["retrieve"].replace("javascript:alert(1))", "")  # no link to it
    assert "<a href" not in RENDER.render(documents["retrieve"].replace(HOSTILE, ""))


def test_deceptive_labels_names_file_names_and_nul_memos_are_refused(sample_engine):
    import pytest

    from coding.errors import CodeframeError

    engine = sample_engine
    before = service.project_codebook(engine, P).to_dict()
    for bad in ("Reform \u202eevil", "Re\u200bform", "Reform\x07"):
        data = service.project_codebook(engine, P).to_dict()
        data["frames"][0]["codes"][0]["label"] = bad
        with pytest.raises(CodeframeError, match="direction-changing|control characters|not allowed in YAML"):
            service.import_codebook_object(engine, P, parse_codebook(yaml.safe_dump(data, allow_unicode=True)))
    assert service.project_codebook(engine, P).to_dict() == before
    for name in ("ann\u202e", "b\u2066ob", "zero\u200bwidth", "bell\x07"):
        with pytest.raises(CodeframeError, match="may not contain"):
            service.ensure_coder(engine, P, name)
        with pytest.raises(CodeframeError, match="may not contain"):
            service.create_user(engine, P, name, role="coder")
    with pytest.raises(CodeframeError, match="U\\+2067"):
        service.import_transcripts(engine, P, [("R99\u2067.txt", b"Respondent: Fine.\n")])
    document = service.list_documents(engine, P)[0].name
    with pytest.raises(CodeframeError, match="NUL"):
        service.add_memo(engine, P, kind="document", target=document, coder="aigerim", text="a\x00b")
    assert not [c for c in service.list_coders(engine, P) if c["name"].startswith(("ann", "b", "zero", "bell"))]


def test_docx_exports_hold_control_and_direction_characters_visibly():
    import io

    import pandas as pd
    from docx import Document

    rows = pd.DataFrame({"respondent": ["R01\u202e"], "text": ["Reform \x07 now \u202eevil"], "codes": ["rd_x"],
                         "memo": ["note\u200b"]})
    text = "\n".join(p.text for p in Document(io.BytesIO(exports.write_rows(rows, "docx", title="T"))).paragraphs)
    assert "Reform ⟨U+0007⟩ now ⟨U+202E⟩evil" in text and "R01⟨U+202E⟩" in text and "note⟨U+200B⟩" in text
