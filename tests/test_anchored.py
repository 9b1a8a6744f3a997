"""The acceptance gate of anchored learning (coding.anchored.choose_shrinkage), on sets made here.

Each set: three codes whose units scatter around a true direction; the codebook's definition of the
first code is the true direction (a good codebook) or far from it (a convention the codebook misses).
Leave-one-out (every unit its own respondent) and 5-fold CV must both keep the codebook unless
learning beats it clearly: by max(2, 20 % of the units) hits.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from coding.anchored import MIN_HITS, MIN_SHARE, _exclusive_quality, choose_shrinkage

N_PER_CODE, DIM, CODES = 8, 24, 3


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def made_set(seed: int, *, wrong: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(definitions, unit embeddings, 0/1 labels); ``wrong``: how far code 0's definition is off."""
    rng = np.random.default_rng(seed)
    true = _unit(rng.normal(size=(CODES, DIM)))
    definition = true.copy()
    definition[0] = _unit((1 - wrong) * true[0] + wrong * _unit(rng.normal(size=DIM)))
    x = np.vstack([_unit(true[j] + 0.9 * 3 / math.sqrt(DIM) * rng.normal(size=(N_PER_CODE, DIM)))
                   for j in range(CODES)]).astype(np.float32)
    labels = np.repeat(np.eye(CODES, dtype=np.int8), N_PER_CODE, axis=0)
    return definition.astype(np.float32), x, labels


SPLITS = {"leave-one-out": N_PER_CODE * CODES, "5-fold": 5}


@pytest.mark.parametrize("splits", SPLITS.values(), ids=SPLITS.keys())
def test_learning_fires_when_the_codebook_misses_a_convention(splits):
    definition, x, labels = made_set(1, wrong=0.9)
    groups = list(range(len(x)))
    n0, oof = choose_shrinkage(definition, x, labels, groups, exclusive=True, max_splits=splits)
    codebook_hits = _exclusive_quality(x @ definition.T, labels)
    assert math.isfinite(n0), "a clear gain must move the prototypes"
    assert _exclusive_quality(oof, labels) >= codebook_hits + max(MIN_HITS, MIN_SHARE * len(x))
    standardised, _ = choose_shrinkage(definition, x, labels, groups, exclusive=True, max_splits=splits,
                                       background=x)
    assert math.isfinite(standardised)  # judged on standardised scores too


@pytest.mark.parametrize("splits", SPLITS.values(), ids=SPLITS.keys())
def test_a_gain_of_one_hit_is_noise_and_keeps_the_codebook(splits):
    definition, x, labels = made_set(4, wrong=0.0)
    groups = list(range(len(x)))
    ungated, oof = choose_shrinkage(definition, x, labels, groups, exclusive=True, max_splits=splits,
                                    min_hits=0, min_share=0)
    gain = _exclusive_quality(oof, labels) - _exclusive_quality(x @ definition.T, labels)
    assert math.isfinite(ungated) and 0 < gain < max(MIN_HITS, MIN_SHARE * len(x))  # a real, small gain
    n0, kept = choose_shrinkage(definition, x, labels, groups, exclusive=True, max_splits=splits)
    assert n0 == math.inf  # the gate refuses it
    np.testing.assert_allclose(kept, x @ definition.T, atol=1e-5)  # out-of-fold scores of the codebook


@pytest.mark.parametrize("splits", SPLITS.values(), ids=SPLITS.keys())
def test_noise_labels_never_move_the_prototypes(splits):
    definition, x, _ = made_set(2, wrong=0.0)
    rng = np.random.default_rng(7)
    noise = np.eye(CODES, dtype=np.int8)[rng.integers(0, CODES, len(x))]
    for seed_groups in (list(range(len(x))), [i % 6 for i in range(len(x))]):
        n0, _ = choose_shrinkage(definition, x, noise, seed_groups, exclusive=True, max_splits=splits)
        assert n0 == math.inf
