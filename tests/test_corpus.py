"""Checks on the shipped synthetic sample corpus (corpus/): files, attributes, codings.

The consensus coding must reproduce Figure 1 of the seed article at the respondent level,
and the two coders must agree mostly but not perfectly. All counts are computed from the
files; only the article's published numbers are written down here.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
TRANSCRIPTS = CORPUS / "transcripts"
SYNTHETIC_LABEL = "[SYNTHETIC TRANSCRIPT — illustrative only, not a real interview]"
RESPONDENT_IDS = [f"R{i:02d}" for i in range(1, 25)]
INTERVIEWER_LABELS = ("Interviewer", "Интервьюер")
RESPONDENT_LABELS = ("Respondent", "Респондент")
TURN_LABEL = re.compile(
    r"^(" + "|".join(INTERVIEWER_LABELS + RESPONDENT_LABELS) + r"):", re.MULTILINE
)
SENTENCE_END = (".", "!", "?", "…")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")

EXPERT_GROUP_SECTOR = {
    "public administration": "internal",
    "quasi-public sector": "external",
    "private sector": "external",
    "public associations (NGOs)": "external",
    "Astana Hub": "external",
    "academia and research": "external",
}
CODERS = ("aigerim", "daniyar")
REFORM_DIRECTIONS = [
    "rd_systemic_approach",
    "rd_resistance_to_change",
    "rd_human_capital",
    "rd_delegation",
    "rd_evidence_based",
]
PSLC_CODES = [
    "pslc_01_define_values",
    "pslc_02_leadership_capability",
    "pslc_03_inclusive_safe",
    "pslc_04_proactive_innovative",
    "pslc_05_identify_skills",
    "pslc_06_attract_retain",
    "pslc_07_merit_recruitment",
    "pslc_08_learning_culture",
    "pslc_09_reward_performance",
    "pslc_10_institutional_responsibilities",
    "pslc_11_strategic_people_mgmt",
    "pslc_12_mobility",
    "pslc_13_employment_terms",
    "pslc_14_employee_engagement",
]
CONTRACT_SERVICE = ["cs_evolutionary", "cs_progressive"]
KNOWN_CODES = set(REFORM_DIRECTIONS + PSLC_CODES + CONTRACT_SERVICE)

# Figure 1 of the seed article: share of the 24 respondents naming each reform direction.
FIGURE_1_PERCENT = {
    "rd_systemic_approach": 29.2,
    "rd_resistance_to_change": 12.5,
    "rd_human_capital": 16.7,
    "rd_delegation": 8.3,
    "rd_evidence_based": 8.3,
}
FIGURE_1_RESPONDENTS = {
    "rd_systemic_approach": 7,
    "rd_resistance_to_change": 3,
    "rd_human_capital": 4,
    "rd_delegation": 2,
    "rd_evidence_based": 2,
}


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return {
        path.stem: path.read_text(encoding="utf-8")
        for path in sorted(TRANSCRIPTS.glob("*.txt"))
    }


@pytest.fixture(scope="module")
def respondents() -> list[dict[str, str]]:
    with open(CORPUS / "respondents.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def codings() -> list[dict[str, str]]:
    with open(CORPUS / "codings.csv", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["document", "coder", "code", "quote", "source", "memo"]
        return list(reader)


def mentioned(codings: list[dict[str, str]], coder: str) -> dict[str, set[str]]:
    """Map each code to the respondents for whom ``coder`` applied it at least once."""
    by_code: dict[str, set[str]] = defaultdict(set)
    for row in codings:
        if row["coder"] == coder:
            by_code[row["code"]].add(row["document"])
    return by_code


def triples(codings: list[dict[str, str]], coder: str) -> set[tuple[str, str, str]]:
    return {(r["document"], r["quote"], r["code"]) for r in codings if r["coder"] == coder}


# --- transcripts -----------------------------------------------------------------------


def test_all_24_transcripts_exist_and_nothing_else(texts):
    assert sorted(texts) == RESPONDENT_IDS


def test_every_transcript_is_labelled_synthetic(texts):
    unlabelled = [
        doc for doc, text in texts.items() if text.splitlines()[0] != SYNTHETIC_LABEL
    ]
    assert unlabelled == []


def test_turns_use_known_speaker_labels(texts):
    problems = []
    for doc, text in texts.items():
        body = text.splitlines()[1:]
        labelled = [line for line in body if line.strip()]
        if not labelled:
            problems.append((doc, "no turns"))
        for line in labelled:
            if not TURN_LABEL.match(line):
                problems.append((doc, line[:40]))
        if not any(line.startswith(RESPONDENT_LABELS) for line in labelled):
            problems.append((doc, "no respondent turn"))
    assert problems == []


def test_three_or_four_transcripts_are_in_russian_with_russian_labels(texts):
    russian = sorted(doc for doc, text in texts.items() if CYRILLIC.search(text))
    assert 3 <= len(russian) <= 4
    for doc in russian:
        labels = set(TURN_LABEL.findall(texts[doc]))
        assert labels == {"Интервьюер", "Респондент"}, doc


# --- respondents.csv ---------------------------------------------------------------------


def test_respondents_are_the_24_transcripts(respondents):
    assert [r["respondent"] for r in respondents] == RESPONDENT_IDS
    assert list(respondents[0]) == [
        "respondent",
        "expert_group",
        "sector",
        "gender",
        "years_experience",
    ]


def test_expert_groups_and_sectors_are_consistent(respondents):
    bad = [
        r["respondent"]
        for r in respondents
        if r["expert_group"] not in EXPERT_GROUP_SECTOR
        or r["sector"] != EXPERT_GROUP_SECTOR[r["expert_group"]]
    ]
    assert bad == []
    assert {r["expert_group"] for r in respondents} == set(EXPERT_GROUP_SECTOR)


def test_gender_and_experience_are_filled(respondents):
    for r in respondents:
        assert r["gender"] in {"female", "male"}, r["respondent"]
        assert 0 < int(r["years_experience"]) < 50, r["respondent"]


# --- codings.csv: every row --------------------------------------------------------------


def test_rows_use_known_documents_coders_codes_and_sources(codings, texts):
    problems = []
    for number, row in enumerate(codings, start=2):
        if row["document"] not in texts:
            problems.append((number, "document", row["document"]))
        if row["coder"] not in (*CODERS, "consensus"):
            problems.append((number, "coder", row["coder"]))
        if row["code"] not in KNOWN_CODES:
            problems.append((number, "code", row["code"]))
        expected_source = "adjudication" if row["coder"] == "consensus" else "hand"
        if row["source"] != expected_source:
            problems.append((number, "source", row["source"]))
    assert problems == []


def test_no_duplicate_rows(codings):
    keys = [(r["document"], r["coder"], r["code"], r["quote"]) for r in codings]
    assert len(keys) == len(set(keys))


def test_every_quote_is_one_whole_respondent_sentence_found_once(codings, texts):
    problems = []
    for number, row in enumerate(codings, start=2):
        text, quote = texts[row["document"]], row["quote"]
        if quote != quote.strip() or "\n" in quote or not quote:
            problems.append((number, "quote is not a single trimmed line"))
            continue
        if text.count(quote) != 1:
            problems.append((number, f"occurs {text.count(quote)} times"))
            continue
        start = text.index(quote)
        labels = [m for m in TURN_LABEL.finditer(text) if m.start() < start]
        if not labels or labels[-1].group(1) not in RESPONDENT_LABELS:
            problems.append((number, "not inside a respondent turn"))
        if not quote.endswith(SENTENCE_END):
            problems.append((number, "does not end a sentence"))
        if not (quote[0].isupper() or quote[0].isdigit()):
            problems.append((number, "does not start a sentence"))
        before = text[:start]
        if not before or not before[-1].isspace():
            problems.append((number, "starts inside a word or sentence"))
        preceding = before.rstrip()
        after_label = TURN_LABEL.fullmatch(preceding.splitlines()[-1] if preceding else "")
        if not (preceding.endswith(SENTENCE_END) or after_label):
            problems.append((number, "not preceded by a sentence end or turn label"))
    assert problems == []


def test_contract_service_codes_are_exclusive_per_sentence(codings):
    per_sentence = defaultdict(set)
    for row in codings:
        if row["code"] in CONTRACT_SERVICE:
            per_sentence[(row["document"], row["coder"], row["quote"])].add(row["code"])
    assert per_sentence, "the sample codes some contract-service sentences"
    assert all(len(codes) == 1 for codes in per_sentence.values())


# --- consensus reproduces Figure 1 -------------------------------------------------------


def test_consensus_reproduces_figure_1_counts_and_shares(codings, respondents):
    by_code = mentioned(codings, "consensus")
    total = len(respondents)
    assert total == 24
    counts = {code: len(by_code[code]) for code in REFORM_DIRECTIONS}
    assert counts == FIGURE_1_RESPONDENTS
    shares = {code: round(100 * n / total, 1) for code, n in counts.items()}
    assert shares == FIGURE_1_PERCENT


def test_consensus_has_respondents_without_any_direction_and_some_with_several(
    codings, respondents
):
    by_code = mentioned(codings, "consensus")
    per_respondent = {
        r["respondent"]: sum(r["respondent"] in by_code[c] for c in REFORM_DIRECTIONS)
        for r in respondents
    }
    assert sum(n == 0 for n in per_respondent.values()) >= 8
    assert any(n >= 2 for n in per_respondent.values())


def test_russian_transcripts_are_coded(codings, texts):
    russian = {doc for doc, text in texts.items() if CYRILLIC.search(text)}
    coded_russian = {r["document"] for r in codings if r["document"] in russian}
    assert len(coded_russian) >= 2
    assert any(
        r["document"] in russian and r["code"] in REFORM_DIRECTIONS and r["coder"] == "consensus"
        for r in codings
    )


# --- the two coders ------------------------------------------------------------------------


def test_both_coders_and_consensus_code_the_same_pslc_transcripts(codings):
    pslc_docs = {
        coder: {r["document"] for r in codings if r["coder"] == coder and r["code"] in PSLC_CODES}
        for coder in (*CODERS, "consensus")
    }
    assert pslc_docs["aigerim"] == pslc_docs["daniyar"] == pslc_docs["consensus"]
    assert len(pslc_docs["consensus"]) == 10


def test_coders_agree_mostly_but_not_always(codings):
    first, second = (triples(codings, coder) for coder in CODERS)
    assert first and second
    assert first != second
    agreement = len(first & second) / len(first | second)
    assert agreement >= 0.80


def test_coders_disagree_on_whether_some_respondent_mentions_a_direction(codings):
    first, second = (mentioned(codings, coder) for coder in CODERS)
    disagreements = {
        (code, doc)
        for code in REFORM_DIRECTIONS
        for doc in first[code] ^ second[code]
    }
    assert disagreements


def test_consensus_only_adds_codes_some_coder_applied(codings):
    coded_by_someone = triples(codings, "aigerim") | triples(codings, "daniyar")
    assert triples(codings, "consensus") <= coded_by_someone


def test_adjudicated_disagreements_carry_memos(codings):
    first, second = (triples(codings, coder) for coder in CODERS)
    disputed = first ^ second
    consensus_rows = [r for r in codings if r["coder"] == "consensus"]
    disputed_kept = [
        r for r in consensus_rows if (r["document"], r["quote"], r["code"]) in disputed
    ]
    assert disputed_kept
    assert all(r["memo"].strip() for r in disputed_kept)
