"""Learning options and calibration measured on gold sets of real and hand-written text (issue 15).

Usage (from the repo root)::

    .venv/bin/python benchmarks/bench_learning.py [--sets NAME ...] [--json results.json]

Sets (each statement one respondent unless the file says otherwise):

* ``published-reform-en`` / ``published-contract-en``: statements quoted from the seed article
  (benchmarks/data/published_statements.yaml), coded by the article (contract service) or by our
  reading of its Results and Figure 1 (reform directions); lean codebook; all-MiniLM-L6-v2.
* ``published-reform-ru`` / ``published-contract-ru``: the same statements in Russian (our
  translation), multilingual-e5-small-q4.
* ``handwritten-en`` / ``handwritten-multi``: benchmarks/data/suggestion_sample.yaml (hand-written, 12
  respondents; the uncodable segments excluded, so the frame is treated as exclusive), with the
  project codebook; MiniLM on English, e5 on all languages.

For each set and learning option, a learning curve at 0, 2, 4, 8, 16 examples per code with folds
grouped by respondent: shown kappa, F1, abstentions, top-1, top-3 and ECE.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coding.codebook import default_codebook_path, load_codebook, parse_codebook  # noqa: E402
from coding.embeddings import load_embedder  # noqa: E402
from coding.learning import learning_curve  # noqa: E402
from coding.suggestions import SuggestionModel, code_prototype_texts, embed_code_texts  # noqa: E402

DATA = ROOT / "benchmarks" / "data"
# option -> (SuggestionModel keyword arguments, standardise over the set's units?)
OPTIONS = {
    "before: raw softmax": ({"shrinkage": math.inf}, False),
    "zero-shot": ({"shrinkage": math.inf}, True),
    "anchored (n0 by CV)": ({}, True),
    "fixed n0=4": ({"shrinkage": 4.0}, True),
    "fixed n0=1": ({"shrinkage": 1.0}, True),
}
# how a code's prototype is written: the parts embedded and averaged (zero-shot)
PROTOTYPES = {
    "today (label, definition, inclusion, examples)": None,
    "definition + inclusion + examples": ("definition", "include", "example"),
    "templates (label-description ensemble)": "templates",
}
TEMPLATES = ("{label}.", "This statement is about {label_lower}.", "{label}: {definition}",
             "A respondent talking about {label_lower}.", "{definition}")


def prototype_texts(codebook, frame: str, variant):
    """The code texts of ``frame`` for one prototype variant of :data:`PROTOTYPES`."""
    from coding.suggestion_inputs import CodeTexts, PrototypePart

    texts = code_prototype_texts(codebook, frame)
    if variant is None:
        return texts
    out = {}
    for code in codebook.codes(frame):
        if variant == "templates":
            parts = tuple(PrototypePart("template", t.format(label=code.label, label_lower=code.label.lower(),
                                                             definition=code.definition)) for t in TEMPLATES)
        else:
            parts = tuple(p for p in texts[code.id].parts if p.kind in variant)
        out[code.id] = CodeTexts(code.id, parts, texts[code.id].exclusions)
    return out


def published(frame: str, language: str):
    data = yaml.safe_load((DATA / "published_statements.yaml").read_text(encoding="utf-8"))
    items = [i for i in data["items"] if i["frame"] == frame]
    key = "text" if language == "en" else "text_ru"
    return (parse_codebook(data["codebook"]), frame, [i[key] for i in items], [{i["code"]} for i in items],
            [i["id"] for i in items])


def handwritten(languages: tuple[str, ...]):
    data = yaml.safe_load((DATA / "suggestion_sample.yaml").read_text(encoding="utf-8"))
    rows = [s for s in data["segments"] if s["code"] and s["lang"] in languages]
    codebook = load_codebook(default_codebook_path())
    return (codebook, data["frame"], [s["text"] for s in rows], [{s["code"]} for s in rows],
            [s["respondent"] for s in rows])


SETS = {
    "published-reform-en": (lambda: published("reform_directions", "en"), "all-MiniLM-L6-v2"),
    "published-contract-en": (lambda: published("contract_service", "en"), "all-MiniLM-L6-v2"),
    "published-reform-ru": (lambda: published("reform_directions", "ru"), "multilingual-e5-small-q4"),
    "published-contract-ru": (lambda: published("contract_service", "ru"), "multilingual-e5-small-q4"),
    "handwritten-en": (lambda: handwritten(("en",)), "all-MiniLM-L6-v2"),
    "handwritten-multi": (lambda: handwritten(("en", "ru", "kk")), "multilingual-e5-small-q4"),
}


def _confident_share(margins, correct, share: float = 0.6) -> float:
    order = np.argsort(-np.asarray(margins), kind="stable")[: max(1, int(round(share * len(margins))))]
    return float(np.asarray(correct)[order].mean())


def run_set(name: str, options: dict, prototypes: dict) -> list[dict]:
    build, model_id = SETS[name]
    codebook, frame, texts, labels, respondents = build()
    embedder = load_embedder(model_id)
    x = embedder.encode(texts)
    codes = [c.id for c in codebook.codes(frame)]
    gold = np.array([codes.index(next(iter(s))) for s in labels])
    splits = min(5, len(set(respondents)))
    out = []
    for variant, how in prototypes.items():
        parts = embed_code_texts(prototype_texts(codebook, frame, how), embedder.encode)
        flat = SuggestionModel(shrinkage=math.inf).fit_codes(codes, parts, exclusive=False, background=x)
        for option, (kwargs, standardise) in (options.items() if how is None else
                                              [("zero-shot", OPTIONS["zero-shot"])]):
            fired: list[bool] = []  # per call: learning_curve fits every fold of a point, point by point

            def make(examples, kwargs=kwargs, standardise=standardise, fired=fired):
                model = SuggestionModel(**kwargs).fit_codes(codes, parts, exclusive=True, examples=examples,
                                                            background=x if standardise else None)
                fired.append(bool(np.isfinite(model.shrinkage)))
                return model
            started = time.perf_counter()
            curve, pooled = learning_curve(x, labels, respondents, codes=codes, exclusive=True, make_model=make,
                                           n_splits=splits)
            seconds = time.perf_counter() - started
            whole = make(None)
            margins, top = whole.margins(x), whole.score(x).argmax(axis=1)
            fires = [sum(fired[i * splits:(i + 1) * splits]) for i in range(len(curve))]
            for i, row in enumerate(curve.to_dict("records")):
                point = row["examples_per_code"]
                out.append({"set": name, "model": model_id, "prototype": variant, "option": option,
                            "seconds": round(seconds, 2), **row,
                            "fired": fires[i],
                            "folds": splits if point else 0,
                            "flat_top1": float((flat.score(x).argmax(axis=1) == gold).mean()),
                            "top60_accuracy": _confident_share(margins, top == gold) if not point else None})
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--options", nargs="+", default=list(OPTIONS), choices=list(OPTIONS))
    parser.add_argument("--prototypes", nargs="+", default=list(PROTOTYPES), choices=list(PROTOTYPES))
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    rows = []
    for name in args.sets:
        rows += run_set(name, {k: OPTIONS[k] for k in args.options}, {k: PROTOTYPES[k] for k in args.prototypes})
    import pandas as pd

    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(table.drop(columns=["model", "units"]).round(3).to_string(index=False))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
