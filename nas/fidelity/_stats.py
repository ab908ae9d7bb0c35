"""Rank agreement between an evaluator's scores and the reference accuracies, with bootstrap intervals."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import stats

LEVEL = 0.90  # the bootstrap interval's coverage


@dataclass(frozen=True)
class Agreement:
    """Kendall's tau-b with its bootstrap interval, Spearman's rho, and top-quartile recall."""

    tau: float
    lo: float
    hi: float
    spearman: float
    top_quartile_recall: float


def kendall(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall's tau-b (ties counted as neither concordant nor discordant); 0 where one side is constant."""
    if _constant(x) or _constant(y):
        return 0.0
    tau = stats.kendalltau(x, y).statistic
    return 0.0 if math.isnan(tau) else float(tau)


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    if _constant(x) or _constant(y):
        return 0.0
    rho = stats.spearmanr(x, y).statistic
    return 0.0 if math.isnan(rho) else float(rho)


def _constant(values: Sequence[float]) -> bool:
    return len(set(np.asarray(values, dtype=float).tolist())) < 2


def top_quartile_recall(score: Sequence[float], reference: Sequence[float]) -> float:
    """Of the best quarter of the networks by ``reference``, the fraction also in the best quarter by
    ``score`` (ties broken by position, so that the two quarters have the same size)."""
    k = max(1, math.ceil(len(reference) / 4))
    best = set(np.argsort(-np.asarray(reference, dtype=float), kind="stable")[:k].tolist())
    kept = set(np.argsort(-np.asarray(score, dtype=float), kind="stable")[:k].tolist())
    return len(best & kept) / k


def bootstrap_interval(
    x: Sequence[float], y: Sequence[float], resamples: int, seed: int, level: float = LEVEL
) -> tuple[float, float]:
    """The percentile interval of Kendall's tau over ``resamples`` resamplings of the networks (pairs
    drawn with replacement), seeded."""
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    rng = np.random.default_rng(seed)
    taus = [kendall(xa[i], ya[i]) for i in rng.integers(0, len(xa), size=(resamples, len(xa)))]
    alpha = (1 - level) / 2
    lo, hi = np.quantile(taus, [alpha, 1 - alpha])
    return float(lo), float(hi)


def paired_interval(
    a: Sequence[float],
    b: Sequence[float],
    reference: Sequence[float],
    resamples: int,
    seed: int,
    level: float = LEVEL,
) -> tuple[float, float]:
    """The percentile interval of tau(b, reference) - tau(a, reference), both on the same resamplings of
    the networks: whether ``b`` ranks better than ``a`` beyond the luck of the sample."""
    xa, xb, ref = (np.asarray(v, dtype=float) for v in (a, b, reference))
    if not len(xa) == len(xb) == len(ref):
        raise ValueError(f"{len(xa)}, {len(xb)} and {len(ref)} values: expected one per network each")
    rng = np.random.default_rng(seed)
    diffs = [
        kendall(xb[i], ref[i]) - kendall(xa[i], ref[i])
        for i in rng.integers(0, len(ref), (resamples, len(ref)))
    ]
    alpha = (1 - level) / 2
    lo, hi = np.quantile(diffs, [alpha, 1 - alpha])
    return float(lo), float(hi)


class Noise(NamedTuple):
    seed_sd: float  # how far one training lands from its network's mean over seeds
    spread_sd: float  # how far the networks' means lie apart


def seed_noise(per_seed: Sequence[Sequence[float]]) -> Noise:
    """Why the noise ceiling is what it is: the seed-to-seed standard deviation of a network's accuracy
    (pooled over networks, each with its own mean) beside the standard deviation of the networks' means.
    Seeds reorder networks unless the first is small beside the second: for normal noise, tau between
    two seeds is about (2 / pi) * asin(r), where r = 1 - seed_sd**2 / (the variance of one seed's
    accuracies across networks)."""
    values = np.asarray(per_seed, dtype=float)  # [seed][network]
    if values.shape[0] < 2 or values.shape[1] < 2:
        raise ValueError("seed_noise: expected at least 2 seeds of at least 2 networks")
    within = values.var(axis=0, ddof=1).mean()
    return Noise(float(np.sqrt(within)), float(values.mean(axis=0).std(ddof=1)))


def agreement(score: Sequence[float], reference: Sequence[float], resamples: int, seed: int) -> Agreement:
    if len(score) != len(reference):
        raise ValueError(f"{len(score)} scores for {len(reference)} reference values")
    lo, hi = bootstrap_interval(score, reference, resamples, seed)
    return Agreement(
        tau=kendall(score, reference),
        lo=lo,
        hi=hi,
        spearman=spearman(score, reference),
        top_quartile_recall=top_quartile_recall(score, reference),
    )
