"""The findings report and the codebook appendix on the sample corpus; the analysis commands of the CLI."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from docx import Document

from coding import report as rp
from coding import service
from coding.cli import main


@pytest.fixture
def sample_url(sample_engine):
    return str(sample_engine.url)


def _docx_text(data: bytes) -> tuple[str, Document]:
    doc = Document(io.BytesIO(data))
    return "\n".join(p.text for p in doc.paragraphs), doc


def test_findings_report_docx_has_the_share_line_quotes_and_the_chart(sample_engine, sample_url, tmp_path, capsys):
    found = service.findings_report(sample_engine, frame="reform_directions", by="expert_group")
    assert found.coder == "consensus" and found.n == 24
    assert [f.code for f in found.findings][:2] == ["rd_systemic_approach", "rd_human_capital"]  # order of share
    first = found.findings[0]
    assert first.line.startswith("Systematic and comprehensive approach to reform: 7 of 24 respondents (29.2%, "
                                 "95% CI 14.9–49.2%; respondent-level α 0.82)")
    assert len({q.respondent for q in first.quotes}) == len(first.quotes) == 3  # nobody quoted twice
    assert "public administration 3 of 8 (37.5%)" in first.split
    assert found.overview.startswith("15 of the 24 respondents (62.5%) mentioned at least one of the 5 codes")
    assert "The most frequent was “Systematic and comprehensive approach to reform” (7 of 24, 29.2%)" in found.overview
    text, doc = _docx_text(rp.to_docx(found))
    assert "Systematic and comprehensive approach to reform: 7 of 24 respondents (29.2%" in text
    quote = first.quotes[0]
    assert f"“{quote.text}” ({quote.respondent}, {quote.group})" in text
    assert re.search(r"” \(R\d\d, ", text)
    assert len(doc.inline_shapes) == 1  # Figure 1
    image = doc.inline_shapes[0]._inline.graphic.graphicData.pic.blipFill.blip.embed
    assert doc.part.related_parts[image].blob.startswith(b"\x89PNG")
    assert "all figures and quotes here use the consensus codings" in text
    # the interval printed is the one `codeframe shares` prints
    assert main(["--db", sample_url, "shares", "--frame", "reform_directions"]) == 0
    shares_out = capsys.readouterr().out
    for f in found.findings:
        low_high = re.search(r"95% CI ([\d.]+)–([\d.]+)%", f.line).groups()
        row = next(line for line in shares_out.splitlines() if line.startswith(f.code + " "))
        assert f"{low_high[0]}-{low_high[1]}%" in row


def test_key_quotes_come_first_and_other_coders_are_said(sample_engine):
    rows = service.retrieve(sample_engine, codes=["rd_delegation"])
    last = rows.iloc[-1]
    service.set_key_quote(sample_engine, segment_id=int(last["segment_id"]), code="rd_delegation",
                                 coder="consensus", actor="supervisor")
    found = service.findings_report(sample_engine, frame="reform_directions", embedder=False, chart=False)
    delegation = next(f for f in found.findings if f.code == "rd_delegation")
    assert delegation.quotes[0].starred and delegation.quotes[0].text == last["text"].strip()
    assert "key quotes" in found.methods
    mine = service.findings_report(sample_engine, frame="reform_directions", coder="aigerim",
                                          embedder=False, chart=False)
    assert mine.coder == "aigerim" and "codings of aigerim, not an adjudicated consensus" in mine.methods


def test_report_markdown_from_the_cli_writes_the_chart_next_to_it(sample_url, tmp_path, capsys):
    target = tmp_path / "findings.md"
    assert main(["--db", sample_url, "report", "--frame", "reform_directions", "--by", "expert_group",
                 "--format", "md", "--output", str(target), "--no-embeddings"]) == 0
    text = target.read_text(encoding="utf-8")
    assert "**Systematic and comprehensive approach to reform: 7 of 24 respondents (29.2%" in text
    assert "![Figure 1." in text and (tmp_path / "findings.png").read_bytes().startswith(b"\x89PNG")
    assert "## Methods" in text and "Two coders (aigerim, daniyar)" in text
    assert main(["--db", sample_url, "report", "--frame", "reform_directions", "--format", "docx"]) == 2
    assert "--output" in capsys.readouterr().err


def test_codebook_appendix_has_definitions_criteria_and_counts(sample_engine, sample_url, tmp_path):
    md = service.codebook_appendix(sample_engine, fmt="md")
    assert "### Systematic and comprehensive approach to reform (`rd_systemic_approach`)" in md
    assert "*15 segments, 7 of 24 respondents*" in md
    pillar = re.search(r"\(`pslc_p1_values_culture`\)\n\n\*(\d+) segments, (\d+) of 24", md)
    child = re.search(r"\(`pslc_01_define_values`\)\n\n\*(\d+) segments?, (\d+) of 24", md)
    assert int(pillar.group(2)) >= int(child.group(2)) > 0  # a parent counts its principles' respondents
    assert "**Include:**" in md and "**Exclude:**" in md and "**Definition.**" in md
    usage = service.code_usage(sample_engine, coders=["consensus"]).set_index("code")
    assert usage.loc["rd_systemic_approach", "respondents"] == 7
    target = tmp_path / "appendix.docx"
    assert main(["--db", sample_url, "codebook", "export", "--format", "docx", "--output", str(target)]) == 0
    text, doc = _docx_text(target.read_bytes())
    assert "Directions for reforming the civil service (reform_directions)" in text
    assert "15 segments, 7 of 24 respondents" in text
    assert any(p.style.name == "List Bullet" for p in doc.paragraphs)


def test_cli_retrieve_search_cooccurrence_memos(sample_url, tmp_path, capsys):
    assert main(["--db", sample_url, "retrieve", "--code", "rd_systemic_approach", "--where",
                 "expert_group=academia and research", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["respondent"] for r in rows} == {"R20", "R23"} and all(r["before"] for r in rows)
    assert all(re.fullmatch(rf"http://localhost:8501/code\?doc=\d+&unit={r['segment_id']}", r["link"])
               for r in rows)  # each row opens its unit on the coding page
    assert main(["--db", sample_url, "retrieve", "--code", "rd_systemic_approach", "--format", "md",
                 "--base-url", "https://coding.example.org/"]) == 0
    assert "[Open in the coding page](https://coding.example.org/code?doc=" in capsys.readouterr().out
    docx_file = tmp_path / "quotes.docx"
    assert main(["--db", sample_url, "retrieve", "--code", "rd_systemic_approach", "--format", "docx",
                 "--output", str(docx_file)]) == 0
    text, _ = _docx_text(docx_file.read_bytes())
    assert "R23 · unit 5 · academia and research" in text
    xlsx_file = tmp_path / "quotes.xlsx"
    assert main(["--db", sample_url, "retrieve", "--code", "rd_human_capital", "--code", "rd_systemic_approach",
                 "--mode", "none", "--format", "xlsx", "--output", str(xlsx_file)]) == 0
    sheet = openpyxl.load_workbook(xlsx_file).active
    assert sheet.max_row > 500  # most of the 602 units carry neither code
    assert main(["--db", sample_url, "retrieve", "--code", "rd_systemic_approach", "--where", "sector"]) == 2
    assert "ATTRIBUTE=VALUE" in capsys.readouterr().err
    assert main(["--db", sample_url, "search", "systematic", "--word", "--code", "rd_systemic_approach",
                 "--coder", "aigerim"]) == 0
    assert "preview only" in capsys.readouterr().err
    assert main(["--db", sample_url, "search", "reform", "--word", "--code", "rd_systemic_approach",
                 "--coder", "aigerim", "--apply"]) == 0
    err = capsys.readouterr().err
    assert int(re.search(r"coded (\d+) unit", err).group(1)) > 0
    assert "as batch " in err and "codeframe undo --coder aigerim" in err
    assert main(["--db", sample_url, "undo", "--coder", "aigerim"]) == 0
    capsys.readouterr()
    assert main(["--db", sample_url, "cooccurrence", "--frame", "reform_directions", "--unit", "respondent",
                 "--format", "csv"]) == 0
    cells = {(r["code_a"], r["code_b"]): r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert float(cells[("rd_systemic_approach", "rd_systemic_approach")]["count"]) == 7
    assert main(["--db", sample_url, "memo", "add", "--on", "code", "rd_delegation", "--coder", "supervisor",
                 "only quasi-public respondents"]) == 0
    capsys.readouterr()
    assert main(["--db", sample_url, "memos", "--code", "rd_delegation", "--format", "csv"]) == 0
    memos = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [m["text"] for m in memos if m["kind"] == "code"] == ["only quasi-public respondents"]
    first = rows[0]
    assert main(["--db", sample_url, "key-quote", first["segment_id"], "--code", "rd_systemic_approach",
                 "--coder", "consensus", "--as", "aigerim"]) == 2  # only supervisors touch the consensus
    assert "only supervisors" in capsys.readouterr().err
    assert main(["--db", sample_url, "key-quote", first["segment_id"], "--code", "rd_systemic_approach",
                 "--coder", "consensus", "--as", "supervisor"]) == 0
    assert "is now a key quote" in capsys.readouterr().out


def test_units_like_a_sentence_come_from_the_cached_embeddings(sample_engine, sample_url, capsys):
    sentence = ("We need a systematic and comprehensive approach to reform rather than separate patches on the old "
                "model.")
    found = service.similar_units(sample_engine, text=sentence, k=5)
    assert len(found) == 5 and found["similarity"].is_monotonic_decreasing
    assert found.iloc[0]["text"] == sentence and found.iloc[0]["similarity"] > 0.99
    assert found.iloc[0]["document"] == "R01"
    again = service.similar_units(sample_engine, text="Pay in the civil service is too low.", k=3)
    assert again.iloc[0]["similarity"] < 0.99 and len(again) == 3
    assert main(["--db", sample_url, "search", "Pay is too low", "--like", "--top", "2", "--format", "csv"]) == 0
    assert len(list(csv.DictReader(io.StringIO(capsys.readouterr().out)))) == 2


# --------------------------------------------------------------------------- issue 27, items 2 and 14


def _team_report(engine, tmp_path, **kwargs):
    from team_project import FRAME, P, build

    build(engine, tmp_path, **kwargs)
    return P, FRAME


def test_a_blind_coders_report_names_nobody_else_and_states_their_coverage(sqlite_engine, tmp_path, capsys):
    project, frame = _team_report(sqlite_engine, tmp_path, blind=True)
    found = service.findings_report(sqlite_engine, project, frame=frame, viewer="cal", embedder=False, chart=False)
    assert found.own_only and found.coder == "cal"
    md = rp.to_markdown(found)
    text, doc = _docx_text(rp.to_docx(found))
    cells = "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    for written in (md, text + "\n" + cells):
        for other in ("dana", "pilot", "sup", "consensus"):
            assert other not in written, (other, written)
        assert "α" not in written and "alpha" not in written.lower() and "krippendorff" not in written.lower()
        assert "only your own codings (cal)" in written
        assert "cal coded this frame for 4 of 5 respondents" in written
        assert "Partial coverage" in written
    # the same from the command line, signed in as cal
    out = tmp_path / "mine.md"
    assert main(["--db", str(sqlite_engine.url), "--project", project, "report", "--frame", frame, "--as", "cal",
                 "--no-embeddings", "--output", str(out)]) == 0
    assert "dana" not in out.read_text(encoding="utf-8") and "α" not in out.read_text(encoding="utf-8")
    # a supervisor's report still compares the coders and carries α
    full = service.findings_report(sqlite_engine, project, frame=frame, viewer="sup", coder="cal", embedder=False,
                                   chart=False)
    assert not full.own_only and "dana" in full.methods and "Respondent-level α" in full.table.columns


def test_the_report_has_the_share_table_and_marks_quotes_in_another_language(sqlite_engine, tmp_path):
    project, frame = _team_report(sqlite_engine, tmp_path, blind=False)
    found = service.findings_report(sqlite_engine, project, frame=frame, coder="dana", embedder=False, chart=False)
    table = found.table.set_index("Code")
    systemic = next(f for f in found.findings if f.code == "rd_systemic_approach")
    assert table.loc[systemic.label, "Respondents"] == f"{systemic.count} of 5"
    assert table.loc[systemic.label, "Share"] == rp.percent_text(systemic.count, 5)
    md = rp.to_markdown(found)
    assert "## Table 1" in md and f"| {systemic.label} | {systemic.count} of 5 |" in md
    assert "Table 1. " in md and "dana coded this frame for 5 of 5 respondents" in md
    russian = [q for q in systemic.quotes if q.respondent == "R5"]
    assert russian and russian[0].language == "ru"
    assert "(R5) [ru, in Russian]" in md
    assert all(q.language is None for f in found.findings for q in f.quotes if q.respondent != "R5")
    assert "quoted untranslated" in found.methods
    text, doc = _docx_text(rp.to_docx(found))
    assert "(R5) [ru, in Russian]" in text
    header = [c.text for c in doc.tables[0].rows[0].cells]
    assert header[:4] == ["Code", "Respondents", "Share", "95% CI"]
