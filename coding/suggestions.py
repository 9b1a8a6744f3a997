"""Code suggestions from embeddings: zero-shot from the codebook, anchored learning from the project's codings.

Pure: it takes embeddings (float32, L2-normalised rows) and gives probabilities, thresholds and
suggestions back; it never loads a model or touches the database.

* **Zero-shot.** Each code is represented by the separately embedded *parts* of its definition
  (label, definition, each inclusion criterion, each example); a unit's raw score is its cosine
  similarity to their mean (see :class:`SuggestionModel` for the other aggregates).
* **One scale.** Each code's score is standardised over the units of the frame being coded
  (``(raw - mean) / sd``), so a code whose definition sits near the centre of the embedding cloud
  does not win every unit. Ranking, forced choice (softmax of the standardised scores, fitted
  temperature), thresholds (each code's base rate, :mod:`coding.base_rates`) and the margin over the
  next code all read that scale. "Nothing applies" only where the frame allows it.
* **Learning** anchored on the codebook: prototypes shrunk from the definition toward the coded
  examples, the amount chosen by respondent-grouped cross-validation (:mod:`coding.anchored`).
* **Evidence.** A suggestion says which part of the definition it matched and which already-coded
  passages it is nearest to (only those at least ``min_evidence_similarity`` alike).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Collection, Hashable, Mapping, Sequence

import numpy as np

from coding import anchored, base_rates, suggestion_evidence
from coding.suggestion_evidence import Evidence, MatchedPart, Neighbour  # re-exported
from coding.suggestion_inputs import (  # re-exported: the service and the tests import them from here
    PART_KINDS,
    CodeTexts,
    LabeledExamples,
    PartsEmbeddings,
    PrototypePart,
    code_prototype_texts,
    code_texts,
    embed_code_texts,
)

__all__ = [
    "AGGREGATES", "MIN_EVIDENCE_SIMILARITY", "PART_KINDS", "CodeTexts", "Evidence", "LabeledExamples", "MatchedPart",
    "Neighbour", "PartsEmbeddings", "PrototypePart", "Suggestion", "SuggestionModel", "code_prototype_texts",
    "code_texts", "embed_code_texts",
]

MIN_EVIDENCE_SIMILARITY = 0.4  # coded passages less alike than this are not shown as evidence
AGGREGATES = ("max", "mean", "max+mean")


# --------------------------------------------------------------------------- suggestions


@dataclass(frozen=True)
class Suggestion:
    """A code suggested for a segment, with its calibrated score and the code's threshold."""

    segment_id: Hashable
    code: str
    score: float
    threshold: float
    evidence: Evidence
    margin: float = math.nan  # standardised score over the next best code (sd units): small = doubtful


@dataclass
class _CodeModel:
    parts: PartsEmbeddings
    center: float = 0.0  # raw score that maps to probability 0.5 before Platt scaling
    scale: float = 1.0
    mean: float = 0.0  # the code's raw score over the frame's units, to standardise it
    sd: float = 1.0
    share: float = base_rates.DEFAULT_SHARE  # base rate behind the prior threshold
    share_source: str = "default"
    platt: tuple[float, float] = (1.0, 0.0)
    threshold: float = 0.5
    threshold_source: str = "prior"
    n_positive: int = 0
    n_negative: int = 0


class SuggestionModel:
    """Scores segments against the codes of one frame and turns scores into suggestions.

    * **Mutually exclusive frame: forced choice.** A softmax of the standardised scores with a
      temperature fitted on the codings (or the codebook) names every unit's best code; "nothing
      applies" only with ``allow_none`` in :meth:`suggest`, below a threshold fitted to the frame's base rate.
    * **Other frames: per-code probabilities.** Probability 0.5 where the code's base rate of the
      frame's units lies above; with coded examples Platt-scaled and F1-tuned on grouped out-of-fold scores.
    * **Learning** moves each code's prototype toward its coded examples with a pseudo-count chosen
      by grouped cross-validation, "never move" included (:mod:`coding.anchored`).

    Parameters
    ----------
    aggregate
        How part similarities combine into a zero-shot score: ``"mean"`` (default; ranked best on the
        sample corpus, see models/README.md), ``"max"`` or ``"max+mean"``. Learning always starts
        from the mean of the parts.
    exclusion_weight
        Penalty for being closer to an exclusion criterion than to the code (off by default).
    zero_shot_k, raw_threshold
        Without a background, the raw cosine ``raw_threshold`` is probability 0.5. ``zero_shot_k``
        given: ``k`` sd above each code's mean is 0.5, whatever the base rates.
    temperature
        Fix the softmax temperature of exclusive frames instead of fitting it.
    shrinkage
        Fix the prototype pseudo-count (``math.inf``: zero-shot only) instead of choosing it by CV.
    min_tuning, threshold_prior, platt_prior
        Positives (and negatives) a code needs before its threshold and mapping are fitted; the
        pseudo-counts pulling them toward the prior.
    min_temperature_units
        Coded units (with one code each) needed to fit the temperature on the codings; below that
        it comes from the codebook alone.
    min_evidence_similarity
        Coded passages less similar than this are not shown as evidence (default
        ``MIN_EVIDENCE_SIMILARITY``, 0.4: the issue found passages at 0.14-0.17 shown as "closest coded").
    neighbours
        Coded passages given as evidence per suggestion.
    """

    def __init__(
        self,
        *,
        aggregate: str = "mean",
        exclusion_weight: float = 0.0,
        zero_shot_k: float | None = None,
        raw_threshold: float = 0.35,
        temperature: float | None = None,
        shrinkage: float | None = None,
        min_tuning: int = 5,
        threshold_prior: float = 5.0,
        platt_prior: float = 4.0,
        min_temperature_units: int = 10,
        min_evidence_similarity: float | None = None,
        neighbours: int = 3,
        random_state: int = 0,
    ) -> None:
        if aggregate not in AGGREGATES:
            raise ValueError(f"aggregate must be one of {AGGREGATES}, got {aggregate!r}")
        if exclusion_weight < 0:
            raise ValueError("exclusion_weight must be >= 0")
        if temperature is not None and not temperature > 0:
            raise ValueError("temperature must be > 0")
        if shrinkage is not None and not shrinkage > 0:
            raise ValueError("shrinkage must be > 0 (math.inf: zero-shot only)")
        self.aggregate = aggregate
        self.exclusion_weight = exclusion_weight
        self.zero_shot_k = 1.5 if zero_shot_k is None else zero_shot_k
        self.fixed_k = zero_shot_k  # given: every code's prior threshold, whatever the base rates
        self.raw_threshold = raw_threshold
        self.fixed_temperature = temperature
        self.fixed_shrinkage = shrinkage
        self.min_tuning = max(min_tuning, 2)
        self.min_temperature_units = min_temperature_units
        self.threshold_prior = threshold_prior
        self.platt_prior = platt_prior
        self.min_evidence_similarity = (MIN_EVIDENCE_SIMILARITY if min_evidence_similarity is None
                                        else min_evidence_similarity)
        self.n_neighbours = neighbours
        self.random_state = random_state
        self.codes: list[str] = []
        self.exclusive = False
        self.temperature = 0.05
        self.temperature_source = "default"
        self.shrinkage = math.inf
        self.none_threshold, self.none_source, self.coded_share = math.nan, "", math.nan
        self.background_notes: list[str] = []
        self._models: list[_CodeModel] = []
        self._examples: LabeledExamples | None = None
        self._labels: np.ndarray | None = None
        self._dim: int | None = None
        self._prototypes: np.ndarray | None = None  # learned prototypes, None while zero-shot

    # -- fitting -----------------------------------------------------------

    def fit(self, codebook: Any, frame: str, code_embeddings: Mapping[str, PartsEmbeddings],
            examples: LabeledExamples | None = None, *, background: np.ndarray | None = None) -> "SuggestionModel":
        """Fit to the codes of ``frame`` of ``codebook`` (see :meth:`fit_codes`)."""
        codes = [code.id for code in codebook.codes(frame)]
        exclusive = bool(codebook.frame(frame).mutually_exclusive)
        shares = {code.id: getattr(code, "expected_share", None) for code in codebook.codes(frame)}
        return self.fit_codes(codes, code_embeddings, exclusive=exclusive, examples=examples, background=background,
                              expected_shares=shares)

    def fit_codes(self, codes: Sequence[str], code_embeddings: Mapping[str, PartsEmbeddings], *, exclusive: bool,
                  examples: LabeledExamples | None = None, background: np.ndarray | None = None,
                  expected_shares: Mapping[str, float | None] | None = None) -> "SuggestionModel":
        """Fit to ``codes`` given their part embeddings.

        ``background``: embeddings of the units of the frame being coded (coded or not), to
        standardise every code's scores: at least ``base_rates.MIN_BACKGROUND`` rows, else raw
        cosines with ``raw_threshold`` (and a note in :attr:`background_notes`). ``examples``: the
        project's codings of this frame, for learning and calibration. ``expected_shares``: each
        code's expected base rate from the codebook (None: not given).
        """
        codes = list(codes)
        if not codes:
            raise ValueError("a frame needs at least one code to suggest")
        missing = [c for c in codes if c not in code_embeddings]
        if missing:
            raise ValueError(f"no embeddings for codes: {', '.join(missing)}")
        dims = {code_embeddings[c].parts.shape[1] for c in codes}
        if len(dims) != 1:
            raise ValueError(f"code embeddings have different widths: {sorted(dims)}")
        self._dim = dims.pop()
        self.codes, self.exclusive = codes, exclusive
        self._models = [_CodeModel(parts=code_embeddings[c]) for c in codes]
        self._stack_parts()
        self._examples, self._labels, self._prototypes = examples, None, None
        self.shrinkage = math.inf
        n_background = 0 if background is None else len(background)
        background = (self._check_width(background) if n_background >= base_rates.MIN_BACKGROUND else None)
        oof = known = covered = None
        if examples is not None and len(examples):
            self._check_width(examples.embeddings)
            self._labels = examples.label_matrix(codes, exclusive=exclusive)
            known = (self._labels >= 0).any(axis=1)
            if examples.covered is not None:
                covered = np.asarray(examples.covered, dtype=bool) & (self._labels >= 0).all(axis=1)
            oof = self._learn(examples, known, background)
        self._standardise(background)
        self._calibrate_presence(expected_shares or {}, covered)
        if exclusive:
            self._fit_temperature(oof, known)
            self._fit_none_threshold(background, oof, known, covered)
        if not exclusive and oof is not None:
            self._fit_thresholds(oof, self._labels[known])
        self.background_notes = base_rates.background_notes(n_background, self._labels, self.codes)
        return self

    def _learn(self, examples: LabeledExamples, known: np.ndarray, background: np.ndarray | None) -> np.ndarray | None:
        """Choose the prototype pseudo-count by grouped CV; returns out-of-fold raw scores of the known rows."""
        labels = self._labels[known]
        for j, m in enumerate(self._models):
            m.n_positive, m.n_negative = int((labels[:, j] == 1).sum()), int((labels[:, j] == 0).sum())
        if not known.any():
            return None
        x = examples.embeddings[known]
        groups = list(examples.groups) if examples.groups is not None else list(examples.segment_ids)
        groups = [g for g, k in zip(groups, known) if k]
        candidates = anchored.SHRINKAGE_CANDIDATES if self.fixed_shrinkage is None else (self.fixed_shrinkage,)
        n0, oof = anchored.choose_shrinkage(self._mean_parts, x, labels, groups, exclusive=self.exclusive,
                                            candidates=candidates, background=background)
        self.shrinkage = n0
        if not math.isinf(n0):
            self._prototypes = anchored.shrunk_prototypes(self._mean_parts, x, labels, n0)
        return oof

    def _standardise(self, background: np.ndarray | None) -> None:
        """Each code's mean and spread over the frame's units (the one scale of every decision)."""
        if background is not None:
            raw = self.raw_scores(background)
            mean, sd = raw.mean(axis=0), raw.std(axis=0)
            for j, m in enumerate(self._models):
                m.mean, m.sd = float(mean[j]), float(max(sd[j], 1e-3))
        else:  # raw cosines: raw_threshold plays the part of "zero_shot_k sd above the mean"
            for m in self._models:
                m.sd = 0.05
                m.mean = self.raw_threshold - self.zero_shot_k * m.sd
        self._mu = np.array([m.mean for m in self._models])
        self._sd = np.array([m.sd for m in self._models])

    def _calibrate_presence(self, expected: Mapping[str, float | None], covered: np.ndarray | None) -> None:
        """Prior presence mapping: probability 0.5 at the score the code's base rate of units exceeds."""
        prior, sources = base_rates.prior_shares(self.codes, expected)
        if self.fixed_k is not None:  # an explicit zero_shot_k overrides every base rate
            prior, sources = np.full(len(self.codes), base_rates.quantile_share(self.fixed_k)), ["fixed"] * len(prior)
        shares, from_codings = base_rates.estimated_shares(self._labels, covered, prior)
        self._prior_shares, self._prior_sources = prior, sources
        for j, m in enumerate(self._models):
            m.share, m.share_source = float(shares[j]), "codings" if from_codings else sources[j]
            m.scale = m.sd
            m.center = m.mean + base_rates.share_quantile(m.share) * m.sd
        self._center = np.array([m.center for m in self._models])
        self._scale = np.array([m.scale for m in self._models])

    def _fit_none_threshold(self, background: np.ndarray | None, oof: np.ndarray | None, known: np.ndarray | None,
                            covered: np.ndarray | None) -> None:
        """Exclusive frame: the best code's standardised score below which "nothing applies" (used
        only when the coder turns it on); every code's presence centre sits there."""
        coded_prior = base_rates.coded_share_prior(self._prior_shares, self._prior_sources)
        self.coded_share = base_rates.estimated_coded_share(self._labels, covered, coded_prior)
        best = None if background is None else self.standardised(background).max(axis=1)
        fallback = self.zero_shot_k if self.fixed_k is None or background is None else self.fixed_k
        prior = base_rates.none_threshold_prior(best, self.coded_share, fallback)
        self.none_threshold, self.none_source = prior, "prior"
        if self.fixed_k is not None and background is not None:
            self.none_threshold, self.none_source = self.fixed_k, "fixed"
        elif oof is not None and known is not None:
            z = (oof - self._mu) / self._sd
            self.none_threshold, self.none_source = base_rates.fit_none_threshold(z, self._labels[known], prior)
        t = max(self.none_threshold, -1e6)
        for m in self._models:
            m.center, m.scale = m.mean + t * m.sd, m.sd
        self._center = np.array([m.center for m in self._models])
        self._scale = np.array([m.scale for m in self._models])

    def _fit_temperature(self, oof: np.ndarray | None, known: np.ndarray | None) -> None:
        if self.fixed_temperature is not None:
            self.temperature, self.temperature_source = self.fixed_temperature, "fixed"
            return
        spread = float(self._sd.mean())  # temperatures act on standardised scores (sd units)
        if oof is not None:
            labels = self._labels[known]
            single = (labels == 1).sum(axis=1) == 1
            gold = labels[single].argmax(axis=1)
            if single.sum() >= self.min_temperature_units and len(set(gold.tolist())) >= 2:
                z = (oof[single] - self._mu) / self._sd
                self.temperature = anchored.fit_temperature(z, gold, low=0.003 / spread, high=1.0 / spread)
                self.temperature_source = "codings"
                return
        fitted = anchored.codebook_temperature([m.parts.parts for m in self._models])
        if fitted is not None:  # fitted on raw cosines: in sd units it is T / sd
            self.temperature, self.temperature_source = fitted / spread, "codebook"

    def _fit_thresholds(self, oof: np.ndarray, labels: np.ndarray) -> None:
        z = (oof - self._center) / self._scale
        for j, m in enumerate(self._models):
            known = labels[:, j] >= 0
            y = labels[known, j]
            if m.n_positive < self.min_tuning or m.n_negative < self.min_tuning:
                continue
            m.platt = anchored.fit_platt(z[known, j], y, prior=self.platt_prior)
            p = anchored.sigmoid(m.platt[0] * z[known, j] + m.platt[1])
            tuned, _ = anchored.best_f1_threshold(p, y)
            weight = m.n_positive + self.threshold_prior
            m.threshold = float((m.n_positive * tuned + self.threshold_prior * 0.5) / weight)
            m.threshold_source = "cv"

    def _check_width(self, x: np.ndarray) -> np.ndarray:
        if self._dim is None:
            raise ValueError("the model is not fitted yet")
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self._dim:
            raise ValueError(f"expected segment embeddings of shape (n, {self._dim}), got {x.shape}")
        return x

    # -- scoring -----------------------------------------------------------

    def _stack_parts(self) -> None:
        """Stack every code's parts once, so scoring is a few GEMMs, not one per code (the mean of
        the cosines to a code's parts is the cosine with the mean of its unit parts)."""
        parts = [m.parts.parts.astype(np.float32) for m in self._models]
        self._part_matrix = np.ascontiguousarray(np.vstack(parts))
        self._part_offsets = np.cumsum([0] + [len(p) for p in parts[:-1]])
        self._mean_parts = np.ascontiguousarray(np.vstack([p.mean(axis=0) for p in parts]))
        excluded = [j for j, m in enumerate(self._models) if len(m.parts.exclusions)]
        self._excluded_codes = np.array(excluded, dtype=np.intp)
        self._exclusion_matrix = (np.vstack([self._models[j].parts.exclusions for j in excluded]).astype(np.float32)
                                  if excluded else np.zeros((0, self._part_matrix.shape[1]), np.float32))
        self._exclusion_offsets = np.cumsum([0] + [len(self._models[j].parts.exclusions) for j in excluded[:-1]])

    def _max_part_similarity(self, x: np.ndarray) -> np.ndarray:
        return np.maximum.reduceat(x @ self._part_matrix.T, self._part_offsets, axis=1)

    def raw_scores(self, segment_embeddings: np.ndarray) -> np.ndarray:
        """Uncalibrated scores (``n_segments × n_codes``): cosine to the learned prototypes, or
        zero-shot to the code's parts (minus the exclusion penalty, when on)."""
        x = self._check_width(segment_embeddings)
        if self._prototypes is not None:
            return np.asarray(x @ self._prototypes.T, dtype=np.float32)
        penalised = bool(self.exclusion_weight and len(self._excluded_codes))
        best = self._max_part_similarity(x) if self.aggregate != "mean" or penalised else None
        if self.aggregate == "mean":
            out = x @ self._mean_parts.T
        elif self.aggregate == "max":
            out = best.copy()
        else:
            out = 0.5 * (best + x @ self._mean_parts.T)
        out = np.asarray(out, dtype=np.float32)
        if penalised:
            excl = np.maximum.reduceat(x @ self._exclusion_matrix.T, self._exclusion_offsets, axis=1)
            out[:, self._excluded_codes] -= self.exclusion_weight * np.maximum(
                0.0, excl - best[:, self._excluded_codes])
        return out

    def presence(self, segment_embeddings: np.ndarray, raw: np.ndarray | None = None) -> np.ndarray:
        """Per-code probability that the code applies, on its own (``n_segments × n_codes``)."""
        raw = self.raw_scores(segment_embeddings) if raw is None else raw
        z = (raw - self._center) / self._scale
        a = np.array([m.platt[0] for m in self._models])
        b = np.array([m.platt[1] for m in self._models])
        return anchored.sigmoid(a * z + b)

    def standardised(self, segment_embeddings: np.ndarray, raw: np.ndarray | None = None) -> np.ndarray:
        """Each code's score standardised over the frame's units, ``(raw - mean) / sd``: the one
        scale that ranking, forced choice, thresholds and margins share."""
        raw = self.raw_scores(segment_embeddings) if raw is None else raw
        return (raw - self._mu) / self._sd

    def score(self, segment_embeddings: np.ndarray, raw: np.ndarray | None = None) -> np.ndarray:
        """Calibrated probabilities, ``n_segments × n_codes`` (columns follow :attr:`codes`): rows sum
        to 1 in a mutually exclusive frame (a softmax of the standardised scores, so a prototype near
        the centre of the embedding cloud does not win every unit), per-code presence otherwise."""
        raw = self.raw_scores(segment_embeddings) if raw is None else raw
        if self.exclusive:
            return anchored.softmax(self.standardised(segment_embeddings, raw) / self.temperature)
        return self.presence(segment_embeddings, raw)

    def margins(self, segment_embeddings: np.ndarray) -> np.ndarray:
        """Per unit, how far its best code's standardised score lies above the next best (sd units;
        small = doubtful). A frame of one code: its distance above the presence threshold."""
        return self._margin_matrix(self.raw_scores(segment_embeddings)).max(axis=1)

    def _margin_matrix(self, raw: np.ndarray, rejected: np.ndarray | None = None) -> np.ndarray:
        """Every (unit, code): its standardised score minus the best other code's (not rejected)."""
        presence_z = (raw - self._center) / self._scale
        if raw.shape[1] < 2:
            return presence_z
        z = (raw - self._mu) / self._sd
        zr = np.where(rejected, -np.inf, z) if rejected is not None else z
        order = np.argsort(-zr, axis=1, kind="stable")[:, :2]
        rows = np.arange(len(z))
        first, second = zr[rows, order[:, 0]], zr[rows, order[:, 1]]
        best_other = np.where(np.arange(z.shape[1])[None, :] == order[:, :1], second[:, None], first[:, None])
        margin = z - best_other
        return np.where(np.isfinite(margin), margin, presence_z)

    @property
    def thresholds(self) -> np.ndarray:
        """Each code's presence threshold (0 in an exclusive frame: forced choice never abstains)."""
        if self.exclusive:
            return np.zeros(len(self._models))
        return np.array([m.threshold for m in self._models])

    def describe(self) -> list[dict[str, Any]]:
        """Per code: threshold and where it came from, examples seen, the learning pseudo-count."""
        return [
            {"code": c, "threshold": float(t),
             "threshold_source": "forced choice" if self.exclusive else m.threshold_source,
             "positives": m.n_positive, "negatives": m.n_negative, "shrinkage": self.shrinkage,
             "temperature": self.temperature if self.exclusive else None,
             "base_rate": m.share, "base_rate_source": m.share_source, "mean": m.mean, "sd": m.sd,
             "none_threshold": self.none_threshold if self.exclusive else None}
            for c, m, t in zip(self.codes, self._models, self.thresholds)
        ]

    def suggest(self, segment_ids: Sequence[Hashable], segment_embeddings: np.ndarray, *, top_k: int = 3,
                allow_none: bool = False, rejected: Collection[tuple[Hashable, str]] = ()) -> list[Suggestion]:
        """Suggestions, best first per segment. Exclusive frame: the best code of every unit (none
        with ``allow_none`` if it fails its presence threshold). Otherwise the codes at or above
        their thresholds, at most ``top_k``. A (segment id, code) in ``rejected`` is never suggested."""
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        x = self._check_width(segment_embeddings)
        if len(segment_ids) != len(x):
            raise ValueError(f"{len(segment_ids)} segment ids for {len(x)} embeddings")
        raw = self.raw_scores(x)
        scores = self.score(x, raw)
        ranked = scores.copy()
        column = {c: j for j, c in enumerate(self.codes)}
        if rejected:
            row = {sid: i for i, sid in enumerate(segment_ids)}
            for sid, code in rejected:
                if sid in row and code in column:
                    ranked[row[sid], column[code]] = -1.0
        margins = self._margin_matrix(raw, ranked < 0)
        thresholds = np.array([m.threshold for m in self._models])
        if self.exclusive:
            cols = ranked.argmax(axis=1)
            rows = np.arange(len(x))
            keep = ranked[rows, cols] >= 0
            if allow_none:
                keep &= self.presence(x, raw)[rows, cols] >= thresholds[cols]
            rows, cols = rows[keep], cols[keep]
            shown_thresholds = np.zeros(len(cols)) if not allow_none else thresholds[cols]
        else:
            rows, cols = np.nonzero(ranked >= thresholds)
            order = np.lexsort((cols, -ranked[rows, cols], rows))
            rows, cols = rows[order], cols[order]
            first_of_row = np.searchsorted(rows, rows, side="left")
            keep = np.arange(len(rows)) - first_of_row < top_k
            rows, cols = rows[keep], cols[keep]
            shown_thresholds = thresholds[cols]
        evidence = self._evidence_many(x, rows, cols, segment_ids)
        return [
            Suggestion(segment_id=segment_ids[i], code=self.codes[j], score=float(scores[i, j]), threshold=float(t),
                       evidence=e, margin=float(margins[i, j]))
            for i, j, t, e in zip(rows.tolist(), cols.tolist(), shown_thresholds.tolist(), evidence)
        ]

    def _evidence_many(self, x: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                       segment_ids: Sequence[Hashable]) -> list[Evidence]:
        return suggestion_evidence.evidence_many(
            [m.parts for m in self._models], x, rows, cols, segment_ids, examples=self._examples,
            labels=self._labels, neighbours=self.n_neighbours, min_similarity=self.min_evidence_similarity)

    def uncertainty(self, segment_embeddings: np.ndarray) -> np.ndarray:
        """How undecided the model is per segment, in (0, 1] (1 = most): ``exp(-|margin|)`` of the best
        code over the next (:meth:`margins`). Sort descending for an "uncertain first" queue."""
        return np.exp(-np.abs(self.margins(segment_embeddings)))
