"""How long does retraining the few-shot part take? 2,000 labelled segments × 384 dims, 5 codes.

Usage: .venv/bin/python benchmarks/bench_fit.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from coding.suggestions import LabeledExamples, PartsEmbeddings, SuggestionModel  # noqa: E402

rng = np.random.default_rng(0)
n, dim, codes = 2000, 384, ["a", "b", "c", "d", "e"]
centers = rng.normal(size=(len(codes), dim)).astype(np.float32)
y = rng.integers(0, len(codes), size=n)
x = centers[y] + rng.normal(scale=3.0, size=(n, dim)).astype(np.float32)
x /= np.linalg.norm(x, axis=1, keepdims=True)
parts = {c: PartsEmbeddings(centers[[j]] / np.linalg.norm(centers[j]), ("label",), (c,), np.zeros((0, dim), np.float32))
         for j, c in enumerate(codes)}
examples = LabeledExamples(list(range(n)), x, [{codes[j]} for j in y])
for exclusive in (True, False):
    model = SuggestionModel()
    t, cpu = time.perf_counter(), time.process_time()
    model.fit_codes(codes, parts, exclusive=exclusive, examples=examples, background=x)
    fit_s, fit_cpu = time.perf_counter() - t, time.process_time() - cpu
    t = time.perf_counter()
    model.suggest(list(range(n)), x)
    print(f"exclusive={exclusive}: fit (5 classifiers + leave-one-out threshold tuning) {fit_s:.2f} s wall, {fit_cpu:.2f} s CPU; "
          f"suggest for {n} segments {time.perf_counter() - t:.2f} s")
