"""Tests of coding.segmentation: pipelines, turns then sentences, offsets and units."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coding.errors import TranscriptError
from coding.segmentation import (
    SegmentSpan,
    blank_pipeline,
    segment_text,
    segment_transcript,
    segment_transcripts,
)
from coding.transcripts import Transcript, Turn, read_transcript

INTERVIEW = (
    "Interviewer: How long have you worked here? Please be brief.\n"
    "Respondent 3: Twelve years. Mostly in the ministry of finance!\n"
    "Then I moved to the agency. It was a big change?\n"
    "Interviewer: Thank you.\n"
)


def assert_round_trip(transcript: Transcript, segments: list[SegmentSpan]) -> None:
    previous_end = 0
    for position, s in enumerate(segments):
        assert s.position == position
        assert transcript.text[s.start:s.end] == s.text
        assert s.text and s.text == s.text.strip()
        assert s.start >= previous_end
        turn = transcript.turns[s.turn_index]
        assert turn.start <= s.start < s.end <= turn.end
        assert (s.speaker, s.role, s.time_start, s.time_end) == (turn.speaker, turn.role, turn.time_start, turn.time_end)
        previous_end = s.end


def read(text: str, name: str = "x.txt") -> Transcript:
    return read_transcript(name, data=text.encode("utf-8"))


# --------------------------------------------------------------------------- pipelines


def test_blank_pipelines_are_cached_and_kazakh_uses_multilingual():
    assert blank_pipeline("en") is blank_pipeline("en")
    assert blank_pipeline("en").lang == "en"
    assert blank_pipeline("ru").lang == "ru"
    assert blank_pipeline("kk").lang == "xx"
    assert "sentencizer" in blank_pipeline("kk").pipe_names


@pytest.mark.parametrize("language", ["zz", "", "en_not_installed_pipeline_sm"])
def test_unknown_language_or_missing_pipeline_is_a_value_error(language):
    with pytest.raises(ValueError):
        blank_pipeline(language)


# --------------------------------------------------------------------------- segment_transcript


def test_sentences_within_turns_with_interviewer_as_context():
    t = read(INTERVIEW)
    segments = segment_transcript(t)
    assert [(s.text, s.turn_index, s.role, s.is_unit) for s in segments] == [
        ("How long have you worked here?", 0, "interviewer", False),
        ("Please be brief.", 0, "interviewer", False),
        ("Twelve years.", 1, "respondent", True),
        ("Mostly in the ministry of finance!", 1, "respondent", True),
        ("Then I moved to the agency.", 1, "respondent", True),
        ("It was a big change?", 1, "respondent", True),
        ("Thank you.", 2, "interviewer", False),
    ]
    assert_round_trip(t, segments)


def test_code_interviewer_makes_every_segment_a_unit():
    segments = segment_transcript(read(INTERVIEW), code_interviewer=True)
    assert len(segments) == 7 and all(s.is_unit for s in segments)


def test_turn_unit_gives_one_segment_per_turn():
    t = read(INTERVIEW)
    segments = segment_transcript(t, unit="turn")
    assert [s.text for s in segments] == [t.text[x.start:x.end] for x in t.turns]
    assert [s.is_unit for s in segments] == [False, True, False]
    assert_round_trip(t, segments)


def test_preamble_before_the_first_label_is_context_not_a_unit():
    t = read("Interview 3\n\nQ: Why?\nA: Because.\n")
    segments = segment_transcript(t)
    assert [(s.text, s.role, s.is_unit) for s in segments] == [
        ("Interview 3", "unknown", False), ("Why?", "interviewer", False), ("Because.", "respondent", True),
    ]


def test_unlabelled_transcript_is_all_units():
    t = read("First paragraph of an answer.\n\nSecond paragraph.\n")
    assert [(s.role, s.is_unit) for s in segment_transcript(t)] == [("respondent", True), ("respondent", True)]


@pytest.mark.parametrize("unit", ["paragraph", "Sentence", ""])
def test_unknown_unit_is_a_value_error(unit):
    with pytest.raises(ValueError, match="unit"):
        segment_transcript(read(INTERVIEW), unit=unit)


def test_surrounding_whitespace_is_stripped_and_offsets_adjusted():
    text = "R:    First one.     Second one.   \n   \n   Third,\n  after blank.   \n"
    t = read(text)
    segments = segment_transcript(t)
    assert [s.text for s in segments] == ["First one.", "Second one.", "Third,\n  after blank."]
    assert_round_trip(t, segments)


def test_paragraph_breaks_split_but_hard_wrapped_lines_stay_together():
    wrapped = ("Respondent: The principles of the OECD are useful in general, but they need\n"
               "adaptation to our conditions and to the structure of our state bodies\n"
               "Leaders must show an example")
    t = read(wrapped + "\n- short item\n- another item\nLast line without a full stop\n")
    texts = [s.text for s in segment_transcript(t)]
    assert texts == [
        wrapped.removeprefix("Respondent: "), "- short item", "- another item", "Last line without a full stop",
    ]


def test_unlabelled_text_is_split_into_respondent_sentences():
    t = read("We need mentors. Young people leave.\n\nSalaries are low\n")
    segments = segment_transcript(t)
    assert [(s.text, s.turn_index, s.speaker, s.role, s.is_unit) for s in segments] == [
        ("We need mentors.", 0, None, "respondent", True),
        ("Young people leave.", 0, None, "respondent", True),
        ("Salaries are low", 1, None, "respondent", True),
    ]


def test_russian_and_kazakh_sentences():
    ru = read("Интервьюер: Что такое лидерство? Поясните.\nРеспондент: Это ответственность. И доверие!\n")
    assert [s.text for s in segment_transcript(ru, language="ru") if s.is_unit] == ["Это ответственность.", "И доверие!"]
    kk = read("Сарапшы: Көшбасшылық - бұл жауапкершілік. Біз қоғамға қызмет етеміз! Неге?\n")
    segments = segment_transcript(kk, language="kk")
    assert [s.text for s in segments] == ["Көшбасшылық - бұл жауапкершілік.", "Біз қоғамға қызмет етеміз!", "Неге?"]
    assert_round_trip(kk, segments)


def test_caption_times_are_carried_to_segments():
    vtt = ("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Interviewer>Ready? Go.\n\n"
           "00:00:04.000 --> 00:00:09.500\n<v Aigerim>Yes. I am.\n")
    t = read(vtt, "x.vtt")
    segments = segment_transcript(t)
    assert [(s.text, s.time_start, s.time_end, s.is_unit) for s in segments] == [
        ("Ready?", 1.0, 4.0, False), ("Go.", 1.0, 4.0, False), ("Yes.", 4.0, 9.5, True), ("I am.", 4.0, 9.5, True),
    ]


def test_empty_turns_give_no_segments():
    t = Transcript("x", "ab   \n  ", "txt", "utf-8", [Turn(None, "respondent", 2, 7), Turn("Q", "interviewer", 0, 2)], "h")
    segments = segment_transcript(t)
    assert [(s.turn_index, s.text) for s in segments] == [(1, "ab")]
    assert [(s.turn_index, s.text) for s in segment_transcript(t, unit="turn")] == [(1, "ab")]


def test_many_turns_are_segmented_in_batches():
    answers = [f"Respondent {i}: Answer number {i}. It has two sentences." for i in range(600)]
    t = read("\n".join(answers))
    segments = segment_transcript(t)
    assert len(segments) == 1200
    assert segments[1198].text == "Answer number 599." and segments[1198].turn_index == 599
    assert_round_trip(t, segments)


def test_pieces_longer_than_spacy_max_length_are_chunked():
    nlp = blank_pipeline("en")
    original = nlp.max_length
    nlp.max_length = 1000
    try:
        body = " ".join(f"Sentence {i} has words." for i in range(300))
        t = read(f"R: {body}")
        segments = segment_transcript(t)
        assert len(t.text) > 3 * nlp.max_length
        assert len(segments) >= 300
        assert "".join(s.text for s in segments).replace(" ", "") == body.replace(" ", "")
        assert_round_trip(t, segments)
    finally:
        nlp.max_length = original


# --------------------------------------------------------------------------- segment_transcripts (batch)


def test_segment_transcripts_equals_segmenting_each_transcript():
    texts = [
        INTERVIEW,
        "Respondent: Only one answer. And a second one!\n\nA new paragraph here.",
        "Interviewer: Nothing but a question?\n",
        "No speaker labels at all. Just two sentences.",
        "\n".join(f"Respondent {i}: Answer {i}. More." for i in range(300)),  # more pieces than one batch
    ]
    transcripts = [read(text, f"t{i}.txt") for i, text in enumerate(texts)]
    for unit in ("sentence", "turn"):
        for code_interviewer in (False, True):
            batched = segment_transcripts(transcripts, unit=unit, code_interviewer=code_interviewer)
            each = [segment_transcript(t, unit=unit, code_interviewer=code_interviewer) for t in transcripts]
            assert batched == each
            for t, segments in zip(transcripts, batched):
                assert_round_trip(t, segments)
    batched = segment_transcripts(transcripts)
    assert [s.text for s in batched[1]] == ["Only one answer.", "And a second one!", "A new paragraph here."]
    assert [s.text for s in batched[3]] == ["No speaker labels at all.", "Just two sentences."]
    assert [s.is_unit for s in batched[2]] == [False]
    assert len(batched[4]) == 600 and batched[4][599].text == "More." and batched[4][599].turn_index == 299


def test_segment_transcripts_chunks_long_pieces_and_handles_edge_cases():
    nlp = blank_pipeline("en")
    original = nlp.max_length
    nlp.max_length = 1000
    try:
        long_one = read("R: " + " ".join(f"Sentence {i} has words." for i in range(300)), "long.txt")
        short_one = read("R: Short. Answer.", "short.txt")
        batched = segment_transcripts([short_one, long_one, short_one])
        assert batched == [segment_transcript(t) for t in (short_one, long_one, short_one)]
        assert [s.text for s in batched[0]] == ["Short.", "Answer."] and batched[2] == batched[0]
    finally:
        nlp.max_length = original
    assert segment_transcripts([]) == []
    with pytest.raises(ValueError, match="unit must be one of"):
        segment_transcripts([short_one], unit="paragraph")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from(list("\n .!?:QAR")),
                              max_size=200), min_size=1, max_size=4),
       language=st.sampled_from(["en", "ru", "kk"]))
def test_any_transcripts_batch_like_one_by_one(texts, language):
    transcripts = []
    for text in texts:
        try:
            transcripts.append(read(text))
        except TranscriptError:
            continue
    assert segment_transcripts(transcripts, language=language) == [
        segment_transcript(t, language=language) for t in transcripts
    ]


# --------------------------------------------------------------------------- segment_text


def test_segment_text_spans():
    text = "  One. Two!\n\n  Three  "
    assert [text[a:b] for a, b in segment_text(text)] == ["One.", "Two!", "Three"]
    assert segment_text("   \n ") == []


# --------------------------------------------------------------------------- properties

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from(list("\n .!?:QAR")),
    max_size=300,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXT, unit=st.sampled_from(["sentence", "turn"]), language=st.sampled_from(["en", "ru", "kk"]))
def test_any_transcript_segments_round_trip(text, unit, language):
    try:
        t = read(text)
    except TranscriptError:
        return
    segments = segment_transcript(t, unit=unit, language=language)
    assert_round_trip(t, segments)
    covered = "".join(s.text for s in segments)
    assert sum(not ch.isspace() for ch in covered) == sum(
        not ch.isspace() for turn in t.turns for ch in t.text[turn.start:turn.end]
    )


@settings(max_examples=60, deadline=None)
@given(text=_TEXT)
def test_segment_text_spans_are_ordered_and_stripped(text):
    previous = 0
    spans = segment_text(text)
    for a, b in spans:
        assert previous <= a < b <= len(text)
        assert text[a:b] == text[a:b].strip()
        previous = b
    assert sum(b - a for a, b in spans) <= len(text)
    assert sum(not text[i].isspace() for a, b in spans for i in range(a, b)) == sum(not c.isspace() for c in text)
