"""The facade helpers added for the Streamlit pages (coding.service, 'app support' section)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from coding import service
from coding.database import queries
from coding.errors import AttributesError

PROJECT = "default"


@pytest.fixture
def codebook(sample_engine):
    return service.project_codebook(sample_engine, PROJECT)


def test_find_codes_matches_id_label_and_definition_words(codebook):
    assert [c.id for c in service.find_codes(codebook, "pslc_07")] == ["pslc_07_merit_recruitment"]
    by_label = service.find_codes(codebook, "resistance")
    assert "rd_resistance_to_change" in [c.id for c in by_label]
    # every word must occur (in any of id, label, definition), case-insensitively
    both = service.find_codes(codebook, "MERIT recruitment")
    assert both and all(
        all(w in f"{c.id} {c.label} {c.definition}".casefold() for w in ("merit", "recruitment")) for c in both
    )
    assert service.find_codes(codebook, "merit zzzunheardof") == []


def test_find_codes_limits_to_frames_and_keeps_codebook_order(codebook):
    everything = service.find_codes(codebook, "")
    assert [c.id for c in everything] == [c.id for c in codebook.codes()]
    only = service.find_codes(codebook, "", frames=["contract_service"])
    assert [c.id for c in only] == ["cs_evolutionary", "cs_progressive"]
    assert service.find_codes(codebook, "", frames=[]) == []


def _code_quotes(engine, code, *, limit):
    """The passages of one code read on their own (consensus first, then by document and position)."""
    with Session(engine) as session:
        df = queries.codings_frame(session, queries.project_by_name(session, PROJECT).id)
    df = df[df["code"] == code]
    df = df.assign(_rank=(df["coder"] != "consensus").astype(int)).sort_values(["_rank", "document", "position"])
    return df.drop_duplicates("segment_id").head(limit)[["document", "respondent", "coder", "text"]].to_dict("records")


def test_quotes_by_code_gives_consensus_first_and_respects_the_limit(sample_engine):
    quotes = service.quotes_by_code(sample_engine, PROJECT, limit=2)
    usage = service.code_usage(sample_engine, PROJECT)
    assert set(quotes) == set(usage["code"])
    assert all(1 <= len(q) <= 2 for q in quotes.values())
    for code, rows in quotes.items():
        assert rows == _code_quotes(sample_engine, code, limit=2)
    with pytest.raises(ValueError):
        service.quotes_by_code(sample_engine, PROJECT, limit=0)


def test_quotes_by_code_is_empty_without_codings(sqlite_engine):
    service.initialize(sqlite_engine, PROJECT)
    assert service.quotes_by_code(sqlite_engine, PROJECT) == {}


def test_preview_attributes_reads_an_upload():
    table = service.preview_attributes(("people.csv", b"respondent;sector\nR1;internal\nR2;external\n"))
    assert list(table.columns) == ["respondent", "sector"]
    assert table.to_dict("records") == [{"respondent": "R1", "sector": "internal"},
                                        {"respondent": "R2", "sector": "external"}]
    with pytest.raises(AttributesError) as caught:
        service.preview_attributes(("bad.csv", b""))
    assert caught.value.problems and caught.value.problems[0].file == "bad.csv"


def test_segment_view_carries_the_fields_of_a_segment_span_after_its_id():
    import dataclasses

    from coding.segmentation import SegmentSpan

    view = [f.name for f in dataclasses.fields(service.SegmentView)]
    assert view == ["id", *[f.name for f in dataclasses.fields(SegmentSpan)], "codings"]
