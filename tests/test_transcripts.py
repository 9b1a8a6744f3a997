"""Tests of coding.transcripts: formats, encodings, speaker labels, roles and errors."""

from __future__ import annotations

import codecs
import html
import io
import zipfile

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coding import transcripts
from coding.errors import AttributesError, TranscriptError
from coding.transcripts import (
    SUPPORTED_FORMATS,
    Transcript,
    classify_role,
    content_hash,
    decode_bytes,
    looks_like_speaker,
    read_transcript,
)

RUSSIAN = (
    "Интервьюер: Расскажите, пожалуйста, о вашем опыте работы на государственной службе.\n"
    "Респондент: Я работаю в министерстве уже двенадцать лет. Главная проблема, по моему мнению, "
    "в том, что у нас нет системы наставничества. Молодые специалисты уходят через год.\n"
)
ENGLISH = (
    "Interviewer: How long have you worked in the civil service?\n"
    "Respondent 3: Twelve years. Mostly in the ministry of finance.\n"
    "Interviewer: What does leadership mean to you?\n"
    "Respondent 3: Responsibility, first of all.\n"
)
PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"


def contents(t: Transcript) -> list[str]:
    return [t.text[turn.start:turn.end] for turn in t.turns]


def assert_offsets_valid(t: Transcript) -> None:
    previous_end = 0
    for turn in t.turns:
        assert 0 <= previous_end <= turn.start < turn.end <= len(t.text)
        piece = t.text[turn.start:turn.end]
        assert piece == piece.strip() and piece
        assert turn.role in transcripts.ROLES
        previous_end = turn.end


def problem_of(excinfo) -> transcripts.Problem:
    assert len(excinfo.value.problems) == 1
    return excinfo.value.problems[0]


# --------------------------------------------------------------------------- plain text


def test_txt_from_path_reads_labelled_turns(tmp_path):
    path = tmp_path / "R3.txt"
    path.write_text(ENGLISH, encoding="utf-8")
    t = read_transcript(path)
    assert (t.name, t.format, t.encoding, t.text) == ("R3.txt", "txt", "utf-8", ENGLISH)
    assert [(x.speaker, x.role, x.line) for x in t.turns] == [
        ("Interviewer", "interviewer", 1), ("Respondent 3", "respondent", 2),
        ("Interviewer", "interviewer", 3), ("Respondent 3", "respondent", 4),
    ]
    assert contents(t) == [
        "How long have you worked in the civil service?", "Twelve years. Mostly in the ministry of finance.",
        "What does leadership mean to you?", "Responsibility, first of all.",
    ]
    assert_offsets_valid(t)


def test_name_option_and_uploaded_data_do_not_open_the_path(tmp_path):
    t = read_transcript(tmp_path / "missing" / "upload.txt", name="Interview A", data=ENGLISH.encode())
    assert t.name == "Interview A" and t.text == ENGLISH


def test_unlabelled_lines_continue_the_turn_and_blank_lines_stay_inside():
    text = "Interviewer: First question,\nwhich goes on.\n\nR: An answer\n\nin two paragraphs.\n"
    t = read_transcript("x.txt", data=text.encode())
    assert contents(t) == ["First question,\nwhich goes on.", "An answer\n\nin two paragraphs."]


def test_text_without_labels_becomes_respondent_paragraphs():
    text = "First paragraph, line one\nline two.\n\n\nSecond paragraph.\n"
    t = read_transcript("x.txt", data=text.encode())
    assert contents(t) == ["First paragraph, line one\nline two.", "Second paragraph."]
    assert {(x.speaker, x.role) for x in t.turns} == {(None, "respondent")}
    assert [x.line for x in t.turns] == [1, 5]


def test_preamble_before_the_first_label_has_role_unknown():
    text = "Interview 3, 12 March 2024\nDate: 12 March\n\nQ: Hello?\nA: Hi.\n"
    t = read_transcript("x.txt", data=text.encode())
    assert [(x.speaker, x.role) for x in t.turns] == [(None, "unknown"), ("Q", "interviewer"), ("A", "respondent")]
    assert contents(t)[0] == "Interview 3, 12 March 2024\nDate: 12 March"


@pytest.mark.parametrize(
    "line, speaker, role",
    [
        ("Interviewer: text", "Interviewer", "interviewer"),
        ("Interviewer 2: text", "Interviewer 2", "interviewer"),
        ("INTERVIEWER: text", "INTERVIEWER", "interviewer"),
        ("interviewer: text", "interviewer", "interviewer"),
        ("Q: text", "Q", "interviewer"),
        ("I: text", "I", "interviewer"),
        ("Moderator: text", "Moderator", "interviewer"),
        ("A: text", "A", "respondent"),
        ("R: text", "R", "respondent"),
        ("Respondent: text", "Respondent", "respondent"),
        ("Respondent 3: text", "Respondent 3", "respondent"),
        ("Expert: text", "Expert", "respondent"),
        ("Expert 12: text", "Expert 12", "respondent"),
        ("Interviewee: text", "Interviewee", "respondent"),
        ("Интервьюер: текст", "Интервьюер", "interviewer"),
        ("Вопрос: текст", "Вопрос", "interviewer"),
        ("Ответ: текст", "Ответ", "respondent"),
        ("Респондент: текст", "Респондент", "respondent"),
        ("Эксперт 5: текст", "Эксперт 5", "respondent"),
        ("Dr. Aigerim Sultanova: text", "Dr. Aigerim Sultanova", "respondent"),
        ("[00:01:02] Aigerim: text", "Aigerim", "respondent"),
        ("(00:01:02) Interviewer: text", "Interviewer", "interviewer"),
        ("00:01:02 Interviewer: text", "Interviewer", "interviewer"),
        ("**Aigerim Sultanova:** text", "Aigerim Sultanova", "respondent"),
        ("**Interviewer**: text", "Interviewer", "interviewer"),
        ("  Respondent 3 : text", "Respondent 3", "respondent"),
        ("Ludwig van Beethoven: text", "Ludwig van Beethoven", "respondent"),
        ("R:text", "R", "respondent"),
        ("Interviewer (Aigerim): text", "Interviewer (Aigerim)", "interviewer"),
        ("Respondent #4: text", "Respondent #4", "respondent"),
        ("Q1: text", "Q1", "interviewer"),
        ("Int.: text", "Int.", "interviewer"),
    ],
)
def test_speaker_label_styles(line, speaker, role):
    t = read_transcript("x.txt", data=f"{line}\n".encode())
    assert [(x.speaker, x.role) for x in t.turns] == [(speaker, role)]
    assert contents(t) == ["текст" if "текст" in line else "text"]


def test_timestamp_in_label_sets_time_start():
    t = read_transcript("x.txt", data=b"[00:01:02] Q: Ready?\n[01:02:03.5] A: Yes.\n")
    assert [x.time_start for x in t.turns] == [62.0, 3723.5]
    assert contents(t) == ["Ready?", "Yes."]


@pytest.mark.parametrize(
    "line",
    [
        "Note: the respondent paused here.",
        "Table 1: OECD principles.",
        "Date: 12 March 2024",
        "The main point: we need mentors.",
        "However, there is one problem: money.",
        "See http://example.org for details.",
        "10:30 the meeting started.",
        "Примечание: пауза.",
        "A very long list of words that keeps going: no.",
        "Time:10:30",
    ],
)
def test_lines_that_are_not_labels_continue_the_turn(line):
    t = read_transcript("x.txt", data=f"Respondent 1: Yes.\n{line}\n".encode())
    assert [x.speaker for x in t.turns] == ["Respondent 1"]
    assert contents(t) == [f"Yes.\n{line}"]


def test_colon_mid_sentence_is_not_a_label():
    t = read_transcript("x.txt", data=b"We discussed it. Note: nothing changed.\n")
    assert [(x.speaker, x.role) for x in t.turns] == [(None, "respondent")]


def test_looks_like_speaker_and_classify_role():
    assert looks_like_speaker("Respondent 12") and looks_like_speaker("q")
    assert not looks_like_speaker("Note") and not looks_like_speaker("x" * 41)
    assert not looks_like_speaker("One Two Three Four Five Six")
    assert not looks_like_speaker("what she said")
    assert classify_role("Interviewer 2") == "interviewer"
    assert classify_role("Int.") == "interviewer"
    assert classify_role("Expert 4") == "respondent"
    assert classify_role(None) == "respondent"


def test_interviewer_labels_override_replaces_the_defaults():
    text = "aigerim: What is leadership?\nInterviewer: Not the interviewer here.\nAigerim 2: Another.\n"
    t = read_transcript("x.txt", data=text.encode(), interviewer_labels={"Aigerim"})
    # lowercase "aigerim" is accepted as a label because it is a declared label
    assert [(x.speaker, x.role) for x in t.turns] == [
        ("aigerim", "interviewer"), ("Interviewer", "respondent"), ("Aigerim 2", "interviewer"),
    ]


def test_crlf_and_cr_newlines_are_normalised_before_offsets():
    t = read_transcript("x.txt", data=ENGLISH.replace("\n", "\r\n").encode())
    assert t.text == ENGLISH
    u = read_transcript("x.txt", data=ENGLISH.replace("\n", "\r").encode())
    assert u.text == ENGLISH
    assert contents(t) == contents(u) == contents(read_transcript("x.txt", data=ENGLISH.encode()))


def test_sha256_ignores_encoding_newlines_and_trailing_space_but_not_content():
    a = read_transcript("a.txt", data=RUSSIAN.encode("utf-8"))
    b = read_transcript("b.txt", data=(RUSSIAN.replace("\n", "  \r\n")).encode("cp1251"))
    c = read_transcript("c.txt", data=RUSSIAN.replace("двенадцать", "десять").encode())
    assert a.sha256 == b.sha256 == content_hash(RUSSIAN)
    assert a.sha256 != c.sha256
    assert len(a.sha256) == 64


# --------------------------------------------------------------------------- markdown


def test_markdown_bold_labels_headings_and_untouched_text():
    text = "# Interview 4\n\n**Interviewer:** What changed?\n\n## Part two\n\n**Expert 4:** *Everything*.\nReally.\n"
    t = read_transcript("x.md", data=text.encode())
    assert t.format == "md" and t.text == text
    assert [(x.speaker, x.role) for x in t.turns] == [("Interviewer", "interviewer"), ("Expert 4", "respondent")]
    assert contents(t) == ["What changed?", "*Everything*.\nReally."]


def test_markdown_heading_ends_a_turn_and_text_after_it_has_no_speaker():
    text = "Q: One?\n## Section\nLoose text.\n"
    t = read_transcript("x.md", data=text.encode())
    assert [(x.speaker, x.role, t.text[x.start:x.end]) for x in t.turns] == [
        ("Q", "interviewer", "One?"), (None, "unknown", "Loose text."),
    ]


def test_hash_lines_are_not_headings_in_txt():
    t = read_transcript("x.txt", data=b"Q: One?\n# not a heading\n")
    assert contents(t) == ["One?\n# not a heading"]


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    "encoding, data_of, recorded",
    [
        ("utf-8", lambda s: s.encode("utf-8"), "utf-8"),
        ("utf-8-sig", lambda s: codecs.BOM_UTF8 + s.encode("utf-8"), "utf-8-sig"),
        ("utf-16-le bom", lambda s: codecs.BOM_UTF16_LE + s.encode("utf-16-le"), "utf-16-le"),
        ("utf-16-be bom", lambda s: codecs.BOM_UTF16_BE + s.encode("utf-16-be"), "utf-16-be"),
        ("utf-16-le", lambda s: s.encode("utf-16-le"), "utf-16-le"),
        ("utf-16-be", lambda s: s.encode("utf-16-be"), "utf-16-be"),
        ("utf-32", lambda s: codecs.BOM_UTF32_LE + s.encode("utf-32-le"), "utf-32-le"),
        ("cp1251", lambda s: s.encode("cp1251"), "cp1251"),
        ("koi8-r", lambda s: s.encode("koi8_r"), "koi8-r"),
        ("cp866", lambda s: s.encode("cp866"), "cp866"),
    ],
)
def test_russian_interview_in_each_encoding_decodes_exactly(encoding, data_of, recorded):
    t = read_transcript("ru.txt", data=data_of(RUSSIAN))
    assert t.text == RUSSIAN
    assert t.encoding == recorded
    assert [(x.speaker, x.role) for x in t.turns] == [("Интервьюер", "interviewer"), ("Респондент", "respondent")]


@pytest.mark.parametrize("codec", ["cp1251", "koi8_r"])
@pytest.mark.parametrize(
    "text",
    ["Да, конечно.", "Ну, это сложный вопрос.", "МВД РК и АДГС", "ПО МОЕМУ МНЕНИЮ, ГЛАВНАЯ ПРОБЛЕМА",
     "В 2023 году реформа началась."],
)
def test_short_russian_texts_pick_the_right_single_byte_code_page(codec, text):
    assert decode_bytes(text.encode(codec), file="x.txt") == (text, codec.replace("_", "-"))


def test_kazakh_utf8_text_is_kept():
    kazakh = "Сұхбат алушы: Көшбасшылық дегеніміз не?\nСарапшы: Бұл жауапкершілік және қоғамға қызмет ету.\n"
    t = read_transcript("kk.txt", data=kazakh.encode("utf-8"))
    assert t.text == kazakh
    assert [(x.speaker, x.role) for x in t.turns] == [("Сұхбат алушы", "interviewer"), ("Сарапшы", "respondent")]


def test_western_single_byte_text_falls_back_to_charset_normalizer():
    text = "Grüße aus München, schöne Straße und große Häuser überall."
    decoded, encoding = decode_bytes(text.encode("cp1252"), file="de.txt")
    assert decoded == text
    assert encoding not in ("cp1251", "koi8-r", "cp866", "utf-8")


def test_decode_bytes_raises_the_error_class_it_is_given():
    with pytest.raises(AttributesError) as excinfo:
        decode_bytes(b"", file="attrs.csv", error=AttributesError)
    assert problem_of(excinfo).file == "attrs.csv"


# --------------------------------------------------------------------------- docx


def make_docx(build) -> bytes:
    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def bold_label(document, label, rest, *, colon_in_bold=True):
    paragraph = document.add_paragraph()
    paragraph.add_run(f"{label}:" if colon_in_bold else label).bold = True
    paragraph.add_run(rest if colon_in_bold else f":{rest}")
    return paragraph


def test_docx_bold_speaker_names_headings_and_tables():
    def build(d):
        d.add_heading("Interview 7", level=1)
        bold_label(d, "Interviewer", " What is leadership?")
        bold_label(d, "Aigerim Sultanova", " It is responsibility.", colon_in_bold=False)
        d.add_paragraph().add_run("Moderator").bold = True  # whole bold paragraph, no colon
        d.add_paragraph("Next question please.")
        d.add_paragraph("Second paragraph of the same turn.")
        bold_label(d, "expert three", " lower-case but bold.")
        d.add_paragraph().add_run("This is not a name").bold = True  # bold sentence: not a label
        table = d.add_table(rows=2, cols=2)
        table.cell(0, 0).text, table.cell(0, 1).text = "Interviewer", "Table question?"
        table.cell(1, 0).text, table.cell(1, 1).text = "Respondent 2", "Table answer."

    t = read_transcript("i.docx", data=make_docx(build))
    assert t.format == "docx"
    assert t.text.split("\n")[:3] == ["Interview 7", "Interviewer: What is leadership?",
                                      "Aigerim Sultanova: It is responsibility."]
    assert [(x.speaker, x.role) for x in t.turns] == [
        ("Interviewer", "interviewer"), ("Aigerim Sultanova", "respondent"), ("Moderator", "interviewer"),
        ("expert three", "respondent"), ("Interviewer", "interviewer"), ("Respondent 2", "respondent"),
    ]
    assert contents(t) == [
        "What is leadership?", "It is responsibility.",
        "Next question please.\nSecond paragraph of the same turn.",
        "lower-case but bold.\nThis is not a name", "Table question?", "Table answer.",
    ]
    assert [x.line for x in t.turns][:4] == [2, 3, 4, 7]
    assert_offsets_valid(t)


def test_docx_plain_labels_and_unlabelled_paragraphs():
    labelled = read_transcript("a.docx", data=make_docx(lambda d: (d.add_paragraph("Q: Why?"), d.add_paragraph("A: Because."))))
    assert [(x.speaker, x.role) for x in labelled.turns] == [("Q", "interviewer"), ("A", "respondent")]
    plain = read_transcript("b.docx", data=make_docx(lambda d: (d.add_paragraph("One answer."), d.add_paragraph("Another answer."))))
    assert contents(plain) == ["One answer.", "Another answer."]
    assert {(x.speaker, x.role) for x in plain.turns} == {(None, "respondent")}


def test_docx_same_text_as_txt_hashes_the_same():
    lines = ENGLISH.strip().split("\n")
    from_docx = read_transcript("a.docx", data=make_docx(lambda d: [d.add_paragraph(line) for line in lines]))
    assert from_docx.sha256 == read_transcript("a.txt", data=ENGLISH.encode()).sha256


# --------------------------------------------------------------------------- captions

VTT_WITH_VOICES = """WEBVTT

NOTE produced by a meeting tool

1
00:00:01.000 --> 00:00:04.000
<v Interviewer>How long have you
worked here?</v>

00:00:04.500 --> 00:00:08.000 align:start
<v.loud Aigerim>Twelve years.

00:00:08.500 --> 00:00:09.250
<v Aigerim>Mostly in the <b>ministry</b>.

00:00:10.000 --> 00:00:12.000
<v Interviewer>Thank you &amp; goodbye.
"""


def test_vtt_voice_tags_merge_consecutive_cues_of_a_speaker():
    t = read_transcript("m.vtt", data=VTT_WITH_VOICES.encode())
    assert t.text == ("Interviewer: How long have you worked here?\n"
                      "Aigerim: Twelve years. Mostly in the ministry.\n"
                      "Interviewer: Thank you & goodbye.")
    assert [(x.speaker, x.role, x.time_start, x.time_end, x.line) for x in t.turns] == [
        ("Interviewer", "interviewer", 1.0, 4.0, 6),
        ("Aigerim", "respondent", 4.5, 9.25, 10),
        ("Interviewer", "interviewer", 10.0, 12.0, 16),
    ]
    assert contents(t) == ["How long have you worked here?", "Twelve years. Mostly in the ministry.",
                           "Thank you & goodbye."]


def test_vtt_cues_agree_with_webvtt_py():
    import webvtt

    captions = webvtt.from_string(VTT_WITH_VOICES)
    t = read_transcript("m.vtt", data=VTT_WITH_VOICES.encode())
    for caption in captions:
        turn = next(x for x in t.turns if x.time_start <= caption.start_time.in_milliseconds() / 1000 < x.time_end)
        assert turn.speaker == caption.voice
        assert html.unescape(" ".join(caption.text.split())) in t.text[turn.start:turn.end]


def test_vtt_name_prefix_and_cues_without_speaker():
    vtt = ("WEBVTT\n\n00:01.000 --> 00:03.000\nQ: Ready?\n\n00:03.500 --> 00:05.000\nYes I am.\n\n"
           "00:05.000 --> 00:07.000\nAnd more.\n")
    t = read_transcript("z.vtt", data=vtt.encode())
    assert t.text == "Q: Ready?\nYes I am.\nAnd more."
    assert [(x.speaker, x.role, x.time_start, x.time_end) for x in t.turns] == [
        ("Q", "interviewer", 1.0, 3.0), (None, "respondent", 3.5, 5.0), (None, "respondent", 5.0, 7.0),
    ]


SRT = """1
00:00:01,000 --> 00:00:04,000
Интервьюер: Сколько лет
вы работаете?

2
00:00:04,500 --> 00:00:08,000
<i>Респондент:</i> Двенадцать лет.

3
00:00:08,000 --> 00:01:10,500
{\\an8}Респондент: В министерстве.
"""


def test_srt_with_speaker_prefixes_tags_and_legacy_encoding():
    t = read_transcript("r.srt", data=SRT.encode("cp1251"))
    assert t.encoding == "cp1251" and t.format == "srt"
    assert t.text == "Интервьюер: Сколько лет вы работаете?\nРеспондент: Двенадцать лет. В министерстве."
    assert [(x.speaker, x.role, x.time_start, x.time_end, x.line) for x in t.turns] == [
        ("Интервьюер", "interviewer", 1.0, 4.0, 2), ("Респондент", "respondent", 4.5, 70.5, 7),
    ]


def test_srt_text_after_a_blank_line_belongs_to_the_previous_cue():
    srt = "1\n00:00:01,000 --> 00:00:02,000\nFirst part\n\nstill first.\n\n2\n00:00:03,000 --> 00:00:04,000\nSecond.\n"
    t = read_transcript("r.srt", data=srt.encode())
    assert contents(t) == ["First part still first.", "Second."]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("suffix", [".txt", ".md", ".vtt", ".srt", ".docx"])
def test_empty_file_is_refused(tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    with pytest.raises(TranscriptError) as excinfo:
        read_transcript(path)
    problem = problem_of(excinfo)
    assert problem.file == f"empty{suffix}" and "empty" in problem.message


def test_whitespace_only_file_is_refused():
    with pytest.raises(TranscriptError, match="only whitespace"):
        read_transcript("blank.txt", data=b"  \n\t\r\n  ")


def test_binary_file_with_nul_bytes_is_refused():
    with pytest.raises(TranscriptError, match="binary") as excinfo:
        read_transcript("data.txt", data=bytes(range(256)) * 4)
    assert problem_of(excinfo).file == "data.txt"


def test_control_characters_mean_binary():
    with pytest.raises(TranscriptError, match="control characters"):
        read_transcript("x.txt", data=b"ab\x01\x02\x03\x04\x05cd" * 10)


def test_png_renamed_txt_is_named_as_an_image():
    with pytest.raises(TranscriptError, match="PNG image") as excinfo:
        read_transcript("photo.txt", data=PNG_HEADER + b"\x00" * 50)
    assert problem_of(excinfo).file == "photo.txt"


def test_docx_renamed_txt_is_recognised_as_a_zip():
    data = make_docx(lambda d: d.add_paragraph("Hi"))
    with pytest.raises(TranscriptError, match="zip archive"):
        read_transcript("interview.txt", data=data)


@pytest.mark.parametrize(
    "data, message",
    [
        (lambda: make_docx(lambda d: d.add_paragraph("Q: Hello there."))[:700], "corrupt or truncated"),
        (lambda: b"PK\x03\x04" + b"garbage" * 20, "corrupt or truncated"),
        (lambda: "Plain text saved as docx.".encode(), "not a .docx"),
        (lambda: PNG_HEADER, "PNG image"),
    ],
)
def test_corrupt_or_fake_docx_is_refused(data, message):
    with pytest.raises(TranscriptError, match=message) as excinfo:
        read_transcript("broken.docx", data=data())
    assert problem_of(excinfo).file == "broken.docx"


def test_zip_that_is_not_a_docx_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(TranscriptError, match="corrupt or truncated"):
        read_transcript("other.docx", data=buffer.getvalue())


def test_docx_without_text_is_refused():
    with pytest.raises(TranscriptError, match="no text"):
        read_transcript("empty.docx", data=make_docx(lambda d: d.add_paragraph("   ")))


@pytest.mark.parametrize(
    "name, text, line, message",
    [
        ("a.vtt", "1\n00:00:01.000 --> 00:00:02.000\nHello\n", 1, "must start with the line 'WEBVTT'"),
        ("b.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHi\n\n00:00:03.000 -> 00:00:04.000 --> x\nBye\n", 6,
         "cue timing line"),
        ("c.vtt", "WEBVTT\n\n00:00:01.000 --> 00:61:02.000\nHi\n", 3, "invalid time"),
        ("d.vtt", "WEBVTT\n\nNOTE nothing here\n", 1, "no cues"),
        ("e.srt", "\nHello there\n00:00:01,000 --> 00:00:02,000\n", 2, "not a SubRip"),
        ("f.srt", "1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\n00:00:03,000 --> soon\nBye\n", 6, "cue timing line"),
    ],
)
def test_unparseable_captions_name_the_line(name, text, line, message):
    with pytest.raises(TranscriptError, match=message) as excinfo:
        read_transcript(name, data=text.encode())
    problem = problem_of(excinfo)
    assert (problem.file, problem.line) == (name, line)


def test_captions_with_only_tags_have_no_text():
    with pytest.raises(TranscriptError, match="no text"):
        read_transcript("t.vtt", data=b"WEBVTT\n\n00:01.000 --> 00:02.000\n<i></i>\n")


@pytest.mark.parametrize("name", ["notes.pdf", "notes", "notes.doc", "notes.TXT.bak"])
def test_unknown_extension_lists_supported_formats(name):
    with pytest.raises(TranscriptError) as excinfo:
        read_transcript(name, data=b"text")
    problem = problem_of(excinfo)
    assert problem.file == name
    assert all(suffix in problem.message for suffix in SUPPORTED_FORMATS)


def test_extension_is_case_insensitive():
    assert read_transcript("NOTES.TXT", data=b"Hello.").format == "txt"


def test_too_big_file_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(transcripts, "MAX_FILE_BYTES", 100)
    path = tmp_path / "big.txt"
    path.write_bytes(b"word " * 30)
    with pytest.raises(TranscriptError, match="larger than") as excinfo:
        read_transcript(path)
    assert problem_of(excinfo).file == "big.txt"
    with pytest.raises(TranscriptError, match="larger than"):
        read_transcript("up.docx", data=b"x" * 101)
    assert read_transcript("ok.txt", data=b"word " * 20).text == "word " * 20


def test_missing_file_and_directory_are_transcript_errors(tmp_path):
    with pytest.raises(TranscriptError, match="not found"):
        read_transcript(tmp_path / "nope.txt")
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    with pytest.raises(TranscriptError, match="cannot open"):
        read_transcript(folder)


def test_bad_bom_is_undecodable():
    with pytest.raises(TranscriptError, match="byte-order mark"):
        read_transcript("x.txt", data=codecs.BOM_UTF8 + b"ok \xff\xfe\xfd")


# --------------------------------------------------------------------------- properties

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from(list("\n\r :*#[]QAIR")),
    max_size=300,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXT, suffix=st.sampled_from([".txt", ".md"]), encoding=st.sampled_from(["utf-8", "utf-16"]))
def test_any_text_reads_or_raises_transcript_error_and_offsets_round_trip(text, suffix, encoding):
    try:
        t = read_transcript(f"x{suffix}", data=text.encode(encoding))
    except TranscriptError as exc:
        assert exc.problems and exc.problems[0].file == f"x{suffix}"
        return
    if "\x00" not in text:  # text with NUL characters is binary: it may be read as something else
        assert t.text == text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")
    assert t.turns
    assert_offsets_valid(t)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=400), suffix=st.sampled_from(SUPPORTED_FORMATS))
def test_any_bytes_read_or_raise_transcript_error(data, suffix):
    try:
        t = read_transcript(f"x{suffix}", data=data)
    except TranscriptError:
        return
    assert_offsets_valid(t)


_NAME = st.sampled_from(["Interviewer", "Q", "Respondent 3", "Expert 12", "Dr. Aigerim Sultanova", "Ответ"])
_SAID = st.text(alphabet=st.sampled_from(list("abc xyz.,?")), min_size=1, max_size=40).filter(lambda s: s.strip())


@settings(max_examples=60, deadline=None)
@given(turns=st.lists(st.tuples(_NAME, _SAID), min_size=1, max_size=8))
def test_generated_labelled_transcripts_give_back_their_turns(turns):
    text = "".join(f"{name}: {said}\n" for name, said in turns)
    t = read_transcript("x.txt", data=text.encode())
    assert [(x.speaker, t.text[x.start:x.end]) for x in t.turns] == [(n, s.strip()) for n, s in turns]
    assert [x.role for x in t.turns] == [classify_role(n) for n, _ in turns]
