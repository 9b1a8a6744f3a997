"""Write the SYNTHETIC instrument sample: ``python corpus/instruments/generate.py [--xlsx]``.

Deterministic (fixed seeds): running it again writes the same files byte for byte.

* ``ocai.csv``: OCAI answers of 30 invented focus-group participants (15 central, 15 local
  bodies), now and preferred, 6 dimensions x 4 types, every dimension summing to 100;
* ``sectors.yaml`` + ``sector_ratings.csv``: 16 statements in four sectors rated 1-10 by the
  same participants;
* ``survey.csv`` (``survey.xlsx`` with ``--xlsx``): 11,000 invented civil servants with three
  closed questions and a short open answer (blank for about a third).

The numbers reproduce the published findings qualitatively, nothing more: hierarchy dominant
now, market strong in dominant characteristics and leadership, preferred toward clan and
adhocracy, management the bottleneck sector, 38% / 67% / 44% on the closed questions.
No row describes a real person.
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
DIMENSIONS = ("dominant_characteristics", "organizational_leadership", "management_of_employees",
              "organization_glue", "strategic_emphases", "criteria_of_success")
# mean points (clan, adhocracy, market, hierarchy) per dimension, now and preferred
NOW = {
    "dominant_characteristics": (15, 12, 40, 33),
    "organizational_leadership": (17, 13, 38, 32),
    "management_of_employees": (20, 10, 25, 45),
    "organization_glue": (22, 11, 22, 45),
    "strategic_emphases": (18, 14, 28, 40),
    "criteria_of_success": (16, 12, 30, 42),
}
PREFERRED = {d: (33, 28, 19, 20) for d in DIMENSIONS}
SECTORS = {
    "work": ("Work", 6.6, [
        "My tasks are clear and I know what a good result looks like.",
        "I have the information I need to do my work.",
        "My workload is manageable within normal hours.",
        "The procedures I follow make sense to me."]),
    "communication": ("Communication", 5.1, [
        "Colleagues share information with me without being asked.",
        "I hear about decisions that affect my work before they take effect.",
        "Other departments answer my requests in good time.",
        "I can raise a problem openly in a meeting."]),
    "management": ("Management", 3.3, [
        "My manager explains why a decision was taken.",
        "My manager asks for my opinion before deciding.",
        "Good work is noticed by my manager.",
        "Managers here can be trusted to keep their word."]),
    "motivation_morale": ("Motivation and morale", 4.7, [
        "I would recommend this agency as a place to work.",
        "I see a future for myself in the civil service.",
        "My pay is fair for what I do.",
        "People here are proud of what the agency achieves."]),
}
SATISFACTION = (("satisfied", 0.14), ("more satisfied than dissatisfied", 0.38),
                ("more dissatisfied than satisfied", 0.21), ("dissatisfied", 0.12), ("hard to say", 0.15))
INTEGRITY = (("high", 0.67), ("medium", 0.27), ("low", 0.06))
INITIATIVE = (("high", 0.44), ("medium", 0.41), ("low", 0.15))
OPENINGS = ["Less paperwork", "Fewer approvals", "Clear promotion criteria", "More trust in staff",
            "Training that is useful", "Fair pay", "Honest feedback from managers", "Teamwork across departments",
            "Room to try new ideas", "Stable rules", "Decisions closer to the people affected",
            "Recognition for good results", "Mentoring for new staff", "Digital services instead of forms"]
REASONS = ["", " would help most.", " is what we need.", ", and managers who listen.", " above all.",
           ", not more reports.", " in every department.", " for young specialists."]


def _split(total: int, shares) -> list[str]:
    counts = [round(total * p) for _, p in shares]
    counts[0] += total - sum(counts)
    return [label for (label, _), count in zip(shares, counts) for _ in range(count)]


def _points(rng: random.Random, means) -> list[int]:
    """Four multiples of 5 near ``means`` that sum to exactly 100."""
    values = [max(0, 5 * round((m + rng.gauss(0, 6)) / 5)) for m in means]
    while sum(values) != 100:
        order = sorted(range(4), key=lambda i: values[i] - means[i], reverse=sum(values) > 100)
        i = order[0]
        values[i] += -5 if sum(values) > 100 else 5
        values[i] = max(0, values[i])
    return values


def participants() -> list[tuple[str, str]]:
    return [(f"FG{i:02d}", "central" if i <= 15 else "local") for i in range(1, 31)]


def write_ocai(rng: random.Random) -> None:
    with open(HERE / "ocai.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["respondent", "body", "view", "dimension", "A", "B", "C", "D"])
        for respondent, body in participants():
            for view, means in (("now", NOW), ("preferred", PREFERRED)):
                for dimension in DIMENSIONS:
                    writer.writerow([respondent, body, view, dimension, *_points(rng, means[dimension])])


def write_sectors(rng: random.Random) -> None:
    lines = ["# SYNTHETIC sample instrument: statements written for the Codeframe demo, not a published scale.",
             "id: focus_group_sectors", "label: Focus-group sector statements (synthetic)",
             "scale: {min: 1, max: 10}", "sectors:"]
    for key, (label, _, statements) in SECTORS.items():
        lines += [f"  - id: {key}", f"    label: {label}", "    statements:"]
        for number, text in enumerate(statements, start=1):
            lines += [f"      - id: {key[:3]}{number}", f"        text: {text}"]
    (HERE / "sectors.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open(HERE / "sector_ratings.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["respondent", "body", "statement", "rating"])
        for respondent, body in participants():
            for key, (_, mean, statements) in SECTORS.items():
                for number in range(1, len(statements) + 1):
                    rating = min(10, max(1, round(rng.gauss(mean, 1.4))))
                    writer.writerow([respondent, body, f"{key[:3]}{number}", rating])


def survey_rows(n: int = 11_000, seed: int = 20) -> list[list[str]]:
    rng = random.Random(seed)
    columns = [_split(n, SATISFACTION), _split(n, INTEGRITY), _split(n, INITIATIVE)]
    for column in columns:
        rng.shuffle(column)
    rows = []
    for i in range(n):
        body = "central" if rng.random() < 0.42 else "local"
        position = "manager" if rng.random() < 0.18 else "specialist"
        answer = "" if rng.random() < 0.33 else rng.choice(OPENINGS) + rng.choice(REASONS)
        if answer and not answer.endswith("."):
            answer += "."
        rows.append([f"SYN{i + 1:05d}", body, position, columns[0][i], columns[1][i], columns[2][i], answer])
    return rows


SURVEY_HEADER = ["respondent", "body", "position", "mission_satisfaction", "integrity", "initiative", "open_change"]


def write_survey(xlsx: bool) -> None:
    rows = survey_rows()
    with open(HERE / "survey.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(SURVEY_HEADER)
        writer.writerows(rows)
    if xlsx:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("survey (synthetic)")
        sheet.append(SURVEY_HEADER)
        for row in rows:
            sheet.append(row)
        book.save(HERE / "survey.xlsx")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--xlsx", action="store_true", help="also write survey.xlsx (not kept in the repository)")
    args = parser.parse_args()
    write_ocai(random.Random(2026))
    write_sectors(random.Random(4))
    write_survey(args.xlsx)


if __name__ == "__main__":
    main()
