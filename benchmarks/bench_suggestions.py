"""Measure embedding models and zero-shot scoring choices on the hand-written sample.

Usage (from the repo root)::

    .venv/bin/python benchmarks/bench_suggestions.py [--models all-MiniLM-L6-v2 multilingual-e5-small-q4 ...]

Prints, per model: throughput on ~500 English/Russian sentences, and zero-shot
top-1 accuracy of the frame ``reform_directions`` of the default codebook on
benchmarks/data/suggestion_sample.yaml per language, for each way of combining
part similarities (max / mean / max+mean) and exclusion weight; plus abstention
quality at the default threshold. The numbers feed models/README.md.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coding.codebook import default_codebook_path, load_codebook  # noqa: E402
from coding.embeddings import load_embedder  # noqa: E402
from coding.suggestions import SuggestionModel, code_prototype_texts, embed_code_texts  # noqa: E402

SEED = Path("/work/shared/seeds/000_361c5cedf06729eb.txt")
RU_SUBJECTS = ["Руководитель ведомства", "Молодой специалист", "Агентство по делам госслужбы", "Аким области",
               "Каждый госслужащий", "Департамент кадров", "Министерство финансов", "Эксперт из академической среды",
               "Начальник управления", "Сотрудник акимата"]
RU_PREDICATES = ["должен принимать решения на основе данных", "не хочет менять привычный порядок работы",
                 "проходит курсы повышения квалификации", "передаёт часть функций в подведомственные организации",
                 "поддерживает инновации и инициативу сотрудников", "отвечает за прозрачный отбор кадров",
                 "жалуется на низкие темпы реформы", "боится наказания за ошибки",
                 "оценивает результаты отраслевых программ", "работает по принципам проектного управления",
                 "обсуждает ценности государственной службы", "говорит о патриотизме и честности",
                 "предлагает ротацию руководителей", "считает зарплату недостаточной",
                 "видит проблему в коррупции", "хочет больше полномочий на местах",
                 "участвует в пилотном проекте", "ждёт политической воли руководства",
                 "анализирует опыт Сингапура и ОАЭ", "требует системного подхода к преобразованиям",
                 "организует обучение для новых сотрудников", "не видит смысла в бюрократических отчётах",
                 "предлагает привлекать контрактных специалистов", "говорит о доверии граждан",
                 "описывает цифровизацию госуслуг"]


def sentences_for_throughput(n: int = 500) -> list[str]:
    text = SEED.read_text(encoding="utf-8", errors="replace") if SEED.exists() else ""
    english = [s.strip() for s in re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", text)) if 40 < len(s.strip()) < 400]
    english = [s for s in english if sum(ch.isascii() for ch in s) > 0.95 * len(s)][: n // 2]
    russian = [f"{s} {p}." for s in RU_SUBJECTS for p in RU_PREDICATES][: n - len(english)]
    return english + russian


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=["all-MiniLM-L6-v2", "multilingual-e5-small-q4"])
    args = parser.parse_args()
    sample = yaml.safe_load((Path(__file__).parent / "data" / "suggestion_sample.yaml").read_text())
    codebook = load_codebook(default_codebook_path())
    frame = sample["frame"]
    segments = sample["segments"]
    texts = [s["text"] for s in segments]
    truth = [s["code"] for s in segments]
    langs = [s["lang"] for s in segments]
    throughput_texts = sentences_for_throughput()
    code_texts = code_prototype_texts(codebook, frame)
    for model_id in args.models:
        t0 = time.perf_counter()
        embedder = load_embedder(model_id)
        load_s = time.perf_counter() - t0
        embedder.encode(throughput_texts[:16])
        t0 = time.perf_counter()
        embedder.encode(throughput_texts, batch_size=64)
        enc_s = time.perf_counter() - t0
        print(f"\n== {model_id}: load {load_s:.2f} s; {len(throughput_texts)} en/ru sentences in {enc_s:.2f} s "
              f"= {len(throughput_texts) / enc_s:.0f} sentences/s; precision {getattr(embedder, 'precision', '-')}")
        parts = embed_code_texts(code_texts, embedder.encode)
        x = embedder.encode(texts)
        background = np.vstack([x, embedder.encode(throughput_texts[:200])])
        coded = [i for i, c in enumerate(truth) if c]
        for aggregate in ("max", "mean", "max+mean"):
            for weight in (0.0, 0.5, 1.0):
                model = SuggestionModel(aggregate=aggregate, exclusion_weight=weight)
                model.fit(codebook, frame, parts, background=background)
                scores = model.score(x)
                top = [model.codes[j] for j in scores.argmax(axis=1)]
                acc = {lang: np.mean([top[i] == truth[i] for i in coded if langs[i] == lang]) for lang in ("en", "ru", "kk")}
                # abstention at default thresholds: a segment's suggestion = best code if above threshold
                above = scores.max(axis=1) >= model.thresholds[scores.argmax(axis=1)]
                sugg = [top[i] if above[i] else None for i in range(len(texts))]
                correct = sum(1 for i in coded if sugg[i] == truth[i])
                made = sum(1 for s in sugg if s)
                none_ok = sum(1 for i, t in enumerate(truth) if t is None and sugg[i] is None)
                print(f"  {aggregate:8s} excl={weight:.1f}  top-1 en {acc['en']:.2f} ru {acc['ru']:.2f} kk {acc['kk']:.2f}"
                      f" | at threshold: precision {correct / max(made, 1):.2f} recall {correct / len(coded):.2f}"
                      f" abstained on {none_ok}/{truth.count(None)} uncodable")


if __name__ == "__main__":
    main()
