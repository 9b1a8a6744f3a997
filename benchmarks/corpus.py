"""A deterministic generator of benchmark data: interviews, survey answers, codings.

Everything is drawn from one seeded :class:`random.Random`, so the same seed gives
the same bytes on every machine. The text imitates the project's material: expert
interviews on civil-service reform with ``Interviewer:`` / ``Respondent:`` turns,
20-200 segments each, and short open survey answers of 1-3 sentences. Sentence
lengths follow speech: a few one- or two-word replies, mostly single clauses of
8-16 words, and a third of longer run-on sentences of 20-35 words.

>>> name, data = interview_file(1, seed=7)
>>> name, data.decode().startswith("Interviewer: ")
('I0001.txt', True)
>>> interview_file(1, seed=7) == interview_file(1, seed=7)
True
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

SEED = 20240611


@dataclass(frozen=True)
class Size:
    """How much data a benchmark size means."""

    name: str
    interviews: int
    survey_answers: int
    agreement_units: int  # units x 3 coders for the agreement stage
    respondents: int  # respondents for share tables and crosstabs
    writes: int  # codings written one by one through service.add_coding
    app_segments: int = 400  # segments of the transcript the app page renders


SIZES = {
    # the CI smoke run (tests/test_benchmarks.py): every stage once, in one process; its numbers mean nothing
    "tiny": Size("tiny", interviews=3, survey_answers=0, agreement_units=150, respondents=30, writes=10,
                 app_segments=40),
    "small": Size("small", interviews=24, survey_answers=0, agreement_units=500, respondents=240, writes=60),
    "medium": Size("medium", interviews=500, survey_answers=0, agreement_units=10_000, respondents=11_000,
                   writes=600),
    "large": Size("large", interviews=500, survey_answers=11_000, agreement_units=10_000, respondents=11_000,
                  writes=1500),
}

# --------------------------------------------------------------------------- vocabulary (civil-service reform)

OPENERS = ["", "", "", "", "Well, ", "I think ", "Honestly, ", "You know, ", "In my experience, ", "To be frank, ",
           "As far as I can see, ", "Frankly speaking, ", "Of course, ", "On the other hand, ", "At the same time, ",
           "In our ministry ", "Look, ", "I would say that ", "To be honest, "]
SUBJECTS = ["the civil service", "our ministry", "the Agency for Civil Service Affairs", "the regional akimat",
            "every young specialist", "the typical middle manager", "the personnel service", "the average civil servant",
            "the political leadership", "the government", "the head of a department", "the new career model",
            "the assessment system", "the reform", "every employee", "the state apparatus", "the local executive body",
            "our department", "the selection commission", "the Presidential Administration"]
VERBS = ["needs", "does not have", "depends on", "has introduced", "is still struggling with", "should focus on",
         "cannot function without", "has improved", "rarely talks about", "is afraid of", "was never ready for",
         "keeps postponing", "pays too little attention to", "has to be built around", "underestimates",
         "talks a lot about", "is slowly moving towards", "formally supports"]
OBJECTS = ["merit-based recruitment", "competitive selection", "performance assessment", "fair remuneration",
           "a transparent bonus system", "rotation of managers", "digital skills", "project management",
           "professional development", "anti-corruption measures", "ethical standards", "delegation of powers",
           "decentralisation", "public trust", "accountability for results", "strategic planning",
           "e-government services", "the experience of Singapore", "the OECD principles", "the quasi-public sector",
           "key performance indicators", "the reduction of paperwork", "political will", "a systematic approach",
           "the values of public service", "retraining of staff", "contract-based employment", "data-driven decisions",
           "the prestige of the civil service", "feedback from citizens"]
TAILS = ["", "", "", " in the long run", " at the regional level", " because nobody wants to take responsibility",
         " and everybody knows it", ", which is the main problem", " over the last ten years", " if we are honest",
         " in practice, not on paper", ", especially in the regions", " and that affects motivation",
         " without real institutional change", " compared with other countries", " at every level of management"]
JOINERS = [", and ", ", but ", " because ", ", so ", " while ", ", although "]
SHORT = ["Yes.", "Exactly.", "That is the key point.", "It depends.", "I agree.", "No, not really.", "Hard to say.",
         "That is a good question.", "Absolutely.", "Let me think.", "Right.", "Not at all.", "Of course."]
QUESTIONS = ["How would you assess {o}?", "What role does {s} play in {o}?", "Could you give an example?",
             "Why do you think that is?", "What would you change first?", "How do you see {o} in five years?",
             "Can you say more about {o}?", "Is {o} a priority for {s}?", "What prevents progress on {o}?",
             "Thank you, let us move on to {o}."]
REGIONS = ["Astana", "Almaty", "Shymkent", "Akmola", "Aktobe", "Almaty region", "Atyrau", "East Kazakhstan",
           "Zhambyl", "West Kazakhstan", "Karaganda", "Kostanay", "Kyzylorda", "Mangystau", "Pavlodar",
           "North Kazakhstan", "Turkestan"]
ROLES = ["central government", "local government", "quasi-public sector", "academia", "international organisation"]
GENDERS = ["female", "male"]


def _clause(rng: random.Random) -> str:
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}{rng.choice(TAILS)}"


def sentence(rng: random.Random) -> str:
    """One spoken sentence: a short reply (15%), one clause (55%) or a run-on of two or three (30%)."""
    kind = rng.random()
    if kind < 0.15:
        return rng.choice(SHORT)
    clauses = [_clause(rng)]
    if kind >= 0.70:
        clauses += [_clause(rng) for _ in range(rng.choice((1, 1, 2)))]
    body = clauses[0]
    for extra in clauses[1:]:
        body += rng.choice(JOINERS) + extra
    text = rng.choice(OPENERS) + body
    end = "!" if rng.random() < 0.04 else "."
    return text[0].upper() + text[1:] + end


def question(rng: random.Random) -> str:
    return rng.choice(QUESTIONS).format(s=rng.choice(SUBJECTS), o=rng.choice(OBJECTS))


def interview_text(rng: random.Random, segments: int) -> str:
    """An interview of exactly ``segments`` sentences in alternating turns (blank line between turns)."""
    if segments < 2:
        raise ValueError(f"an interview needs at least 2 segments, got {segments}")
    turns: list[str] = []
    left = segments
    while left > 0:
        asked = min(left, rng.choice((1, 1, 1, 2)))
        turns.append("Interviewer: " + " ".join(question(rng) for _ in range(asked)))
        left -= asked
        if left <= 0:
            break
        answered = min(left, max(1, int(rng.lognormvariate(1.1, 0.6))))
        sentences = [sentence(rng) for _ in range(answered)]
        if answered >= 6 and rng.random() < 0.4:  # a long answer in two paragraphs
            cut = answered // 2
            body = " ".join(sentences[:cut]) + "\n\n" + " ".join(sentences[cut:])
        else:
            body = " ".join(sentences)
        turns.append("Respondent: " + body)
        left -= answered
    return "\n\n".join(turns) + "\n"


def interview_file(index: int, *, seed: int = SEED, segments: int | None = None) -> tuple[str, bytes]:
    """``(file name, UTF-8 bytes)`` of interview ``index``; 20-200 segments unless ``segments`` is given."""
    rng = random.Random(f"{seed}:interview:{index}")
    count = segments if segments is not None else rng.randint(20, 200)
    return f"I{index:04d}.txt", interview_text(rng, count).encode("utf-8")


def interviews(count: int, *, seed: int = SEED) -> list[tuple[str, bytes]]:
    """``count`` interviews as ``(name, bytes)`` uploads, ready for ``service.import_transcripts``."""
    return [interview_file(i, seed=seed) for i in range(1, count + 1)]


def survey_answers(count: int, *, seed: int = SEED) -> list[tuple[str, bytes]]:
    """``count`` short open survey answers (1-3 sentences), one ``Respondent:`` file each.

    >>> [name for name, _ in survey_answers(2)]
    ['S00001.txt', 'S00002.txt']
    """
    out = []
    for i in range(1, count + 1):
        rng = random.Random(f"{seed}:survey:{i}")
        text = " ".join(sentence(rng) for _ in range(rng.choice((1, 1, 2, 2, 3))))
        out.append((f"S{i:05d}.txt", f"Respondent: {text}\n".encode("utf-8")))
    return out


def corpus_files(size: Size, *, seed: int = SEED) -> list[tuple[str, bytes]]:
    """Every transcript of a benchmark size: interviews, then survey answers."""
    return interviews(size.interviews, seed=seed) + survey_answers(size.survey_answers, seed=seed)


def write_files(files: Sequence[tuple[str, bytes]], directory: str | Path) -> list[Path]:
    """Write ``(name, bytes)`` items into ``directory`` (created); return the paths in order."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in files:
        path = directory / name
        path.write_bytes(data)
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- tables for agreement and shares


def respondents_table(count: int, *, seed: int = SEED):
    """A respondents DataFrame: ``respondent, region, role, gender, years``."""
    import pandas as pd

    rng = random.Random(f"{seed}:respondents")
    return pd.DataFrame({
        "respondent": [f"P{i:05d}" for i in range(1, count + 1)],
        "region": [rng.choice(REGIONS) for _ in range(count)],
        "role": [rng.choice(ROLES) for _ in range(count)],
        "gender": [rng.choice(GENDERS) for _ in range(count)],
        "years": [rng.randint(1, 35) for _ in range(count)],
    })


def share_codings(respondents, codes: Sequence[str], *, coders: Sequence[str] = ("aigerim", "daniyar"),
                  seed: int = SEED):
    """Long codings ``respondent, coder, code``: each respondent names 0-4 codes, several times over
    segments, and each coder agrees with that most of the time (so per-coder shares differ)."""
    import pandas as pd

    rng = random.Random(f"{seed}:shares")
    weights = [1 / (k + 1) for k in range(len(codes))]  # a few popular codes, a long tail
    rows = []
    for rid in respondents["respondent"]:
        named = set(rng.choices(codes, weights=weights, k=rng.choice((0, 1, 1, 2, 2, 3, 4))))
        for code in named:
            for coder in coders:
                if rng.random() < 0.9:
                    rows.extend((rid, coder, code) for _ in range(rng.choice((1, 1, 2, 3))))
    return pd.DataFrame(rows, columns=["respondent", "coder", "code"])


def agreement_codings(units: int, codes: Sequence[str], *, coders: Sequence[str] = ("ann", "bob", "cem"),
                      agreement: float = 0.8, seed: int = SEED):
    """Long codings ``unit, coder, code`` for ``units`` units: a true code set per unit (0-2 codes),
    each coder reproducing each true code with probability ``agreement`` and adding a stray one now and then."""
    import pandas as pd

    rng = random.Random(f"{seed}:agreement")
    rows = []
    for u in range(units):
        unit = f"u{u:06d}"
        truth = set(rng.sample(list(codes), k=rng.choice((0, 1, 1, 1, 2))))
        for coder in coders:
            applied = {c for c in sorted(truth) if rng.random() < agreement}  # sorted: set order varies by hash seed
            if rng.random() < 0.1:
                applied.add(rng.choice(list(codes)))
            rows.extend((unit, coder, code) for code in sorted(applied))
    return pd.DataFrame(rows, columns=["unit", "coder", "code"])
