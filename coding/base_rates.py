"""Base rates behind the suggestion thresholds, and checks of the background scores are standardised on.

Pure numpy. :class:`coding.suggestions.SuggestionModel` standardises each code's raw score over the
units of the frame being coded (the *background*): ``z = (raw - mean) / sd``. On that scale:

* **Non-exclusive frames.** A code applies to a share of units (its *base rate*); its prior
  threshold is the score that share of the background exceeds, ``z = Φ⁻¹(1 - share)``. The share is
  estimated from the coder's codings on documents they went through completely, or with none from
  the codebook's ``expected_share``, or :data:`DEFAULT_SHARE` (1.5 sd above the mean, about 7 %).
* **Exclusive frames** never abstain unless the coder asks ("nothing applies"). Then a unit gets
  nothing when its best code's ``z`` falls below a frame threshold: the quantile of the background's
  best ``z`` that matches the share of units carrying some code (:data:`DEFAULT_CODED_SHARE`, or the
  codebook's shares summed, or the coder's codings), moved toward the threshold that grouped
  cross-validation finds most accurate once codings exist.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Mapping, Sequence

import numpy as np

DEFAULT_SHARE = 1.0 - NormalDist().cdf(1.5)  # ~0.067: a code is as rare as 1.5 sd above its mean
DEFAULT_CODED_SHARE = 0.5  # exclusive frame with "nothing applies" on: no prior either way
PRIOR_WEIGHT = 10.0  # pseudo-units pulling an estimated share (or a fitted threshold) toward its prior
MIN_BACKGROUND = 10  # fewer background units: no standardisation at all
SMALL_BACKGROUND = 50  # fewer: standardised, with a warning
DOMINANT_SHARE = 0.6  # one code on more than this share of the coded units: a warning
MIN_COVERED = 10  # covered units needed before the codings' base rates count


def share_quantile(share: float) -> float:
    """The standard-normal score that ``share`` of units exceed.

    >>> round(share_quantile(DEFAULT_SHARE), 6)
    1.5
    """
    share = min(max(float(share), 1e-4), 1 - 1e-4)
    return NormalDist().inv_cdf(1.0 - share)


def quantile_share(k: float) -> float:
    """The share of standard-normal scores above ``k`` (the inverse of :func:`share_quantile`)."""
    return 1.0 - NormalDist().cdf(float(k))


def prior_shares(codes: Sequence[str], expected: Mapping[str, float] | None) -> tuple[np.ndarray, list[str]]:
    """Each code's prior base rate and where it comes from ("codebook" or "default")."""
    expected = expected or {}
    shares = [float(expected[c]) if expected.get(c) is not None else DEFAULT_SHARE for c in codes]
    sources = ["codebook" if expected.get(c) is not None else "default" for c in codes]
    return np.array(shares), sources


def estimated_shares(labels: np.ndarray | None, covered: np.ndarray | None, prior: np.ndarray,
                     *, weight: float = PRIOR_WEIGHT) -> tuple[np.ndarray, bool]:
    """Base rates from the coder's codings on ``covered`` rows (units of documents the coder went
    through completely, so an uncoded unit is a real "not applied"), pulled toward ``prior``.
    Returns ``(shares, from_codings)``; the prior unchanged below :data:`MIN_COVERED` rows.

    >>> labels = np.array([[1, 0]] * 10 + [[0, 0]] * 10)
    >>> shares, used = estimated_shares(labels, np.ones(20, bool), np.array([0.1, 0.1]))
    >>> used, shares.round(3).tolist()
    (True, [0.367, 0.033])
    """
    if labels is None or covered is None or int(covered.sum()) < MIN_COVERED:
        return prior.copy(), False
    rows = labels[covered]
    positives = (rows == 1).sum(axis=0)
    return (positives + weight * prior) / (len(rows) + weight), True


def coded_share_prior(shares: np.ndarray, sources: Sequence[str]) -> float:
    """The share of units of an exclusive frame carrying some code, before codings: the codebook's
    shares summed (capped at 1) when it gives any, else :data:`DEFAULT_CODED_SHARE`."""
    given = [s for s, source in zip(shares.tolist(), sources) if source == "codebook"]
    return min(1.0, float(sum(given))) if given else DEFAULT_CODED_SHARE


def estimated_coded_share(labels: np.ndarray | None, covered: np.ndarray | None, prior: float,
                          *, weight: float = PRIOR_WEIGHT) -> float:
    """The share of covered units carrying a code of an exclusive frame, pulled toward ``prior``."""
    if labels is None or covered is None or int(covered.sum()) < MIN_COVERED:
        return prior
    coded = int(((labels[covered] == 1).sum(axis=1) > 0).sum())
    return (coded + weight * prior) / (int(covered.sum()) + weight)


def none_threshold_prior(best_z: np.ndarray | None, coded_share: float, fallback: float) -> float:
    """The best-code score below which ``1 - coded_share`` of the background gets "nothing applies"."""
    if best_z is None or not len(best_z):
        return fallback
    if coded_share >= 1.0:
        return -math.inf
    return float(np.quantile(best_z, 1.0 - coded_share))


def fit_none_threshold(z: np.ndarray, labels: np.ndarray, prior: float, *, weight: float = PRIOR_WEIGHT,
                       min_each: int = 3) -> tuple[float, str]:
    """The "nothing applies" threshold on out-of-fold standardised scores ``z`` (units × codes) of
    reviewed units (``labels`` rows: one 1, or all 0 for nothing), by accuracy, pulled toward ``prior``
    with ``weight`` pseudo-units. Returns ``(threshold, source)``: ``"cv"``, or ``"prior"`` while
    fewer than ``min_each`` units are coded or left empty."""
    reviewed = (labels >= 0).all(axis=1)
    rows, y = z[reviewed], labels[reviewed]
    coded = (y == 1).sum(axis=1) == 1
    empty = (y == 1).sum(axis=1) == 0
    if coded.sum() < min_each or empty.sum() < min_each or not math.isfinite(prior):
        return prior, "prior"
    best, pick = rows.max(axis=1), rows.argmax(axis=1)
    right_code = coded & (pick == y.argmax(axis=1))
    keep = coded | empty
    candidates = np.unique(np.concatenate([best[keep], [prior]]))
    hits = [((best >= t) & right_code).sum() + ((best < t) & empty).sum() for t in candidates]
    tuned = float(candidates[int(np.argmax(hits))])
    n = int(keep.sum())
    return (n * tuned + weight * prior) / (n + weight), "cv"


def background_notes(n_background: int, labels: np.ndarray | None, codes: Sequence[str]) -> list[str]:
    """Warnings about the background the scores are standardised on: too small, or dominated by one
    code among the coder's codings (then that code's scores are pulled down the most)."""
    notes = []
    if n_background < MIN_BACKGROUND:
        notes.append(f"only {n_background} units to standardise the scores on (need {MIN_BACKGROUND}): "
                     "scores are raw cosine similarities, so codes whose definitions sit nearer the centre of "
                     "the embedding space win more units")
    elif n_background < SMALL_BACKGROUND:
        notes.append(f"the scores are standardised on only {n_background} units of this frame "
                     f"(fewer than {SMALL_BACKGROUND}): each code's mean and spread are rough")
    if labels is not None and len(codes) >= 2:
        coded = (labels == 1).sum(axis=1) > 0
        if coded.sum() >= MIN_COVERED:
            counts = (labels[coded] == 1).sum(axis=0)
            j = int(np.argmax(counts))
            share = counts[j] / coded.sum()
            if share > DOMINANT_SHARE:
                notes.append(f"one code dominates the coded units ({codes[j]}: {share:.0%} of "
                             f"{int(coded.sum())}): standardising over units that are mostly about it pulls its "
                             "scores down")
    return notes
