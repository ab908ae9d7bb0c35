"""Repeated seeds: a network's accuracy as mean ± std, and whether one network beats another.

Used wherever trainings are repeated (a search's finalists, compound scaling): one rule, so that "a tie"
means the same everywhere. Two networks are compared by the differences of their accuracies paired by
seed index (same seed, same data order and initial draw where the networks allow), with Student's t
interval of the mean difference: with 3-5 seeds a normal interval would be far too narrow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95  # the paired interval's coverage


@dataclass(frozen=True)
class Summary:
    """Mean and sample standard deviation of one network's repeated trainings."""

    mean: float
    std: float  # nan with one value: no spread is known
    n: int

    def __str__(self) -> str:
        if self.n < 2:
            return f"{self.mean:.4f} (n=1)"
        return f"{self.mean:.4f} ± {self.std:.4f} (n={self.n})"


def summarize(values: Sequence[float]) -> Summary:
    """The mean ± std of ``values`` (at least one)."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("summarize: expected at least one value")
    std = float(data.std(ddof=1)) if data.size > 1 else math.nan
    return Summary(float(data.mean()), std, int(data.size))


@dataclass(frozen=True)
class Comparison:
    """``a - b`` paired by seed: the mean difference, its t interval, and the verdict it supports."""

    diff: float
    lo: float  # nan with fewer than 2 pairs: no interval
    hi: float
    n: int

    @property
    def verdict(self) -> str:
        """``"a"`` or ``"b"`` when the interval excludes 0 (that one is better), ``"tie"`` when it holds 0,
        ``"unknown"`` with one seed (no interval, so no claim)."""
        if self.n < 2:
            return "unknown"
        if self.lo > 0:
            return "a"
        if self.hi < 0:
            return "b"
        return "tie"

    def __str__(self) -> str:
        if self.n < 2:
            return f"{self.diff:+.4f} (one seed: no interval)"
        return f"{self.diff:+.4f} [{self.lo:+.4f}, {self.hi:+.4f}]"


def paired(a: Sequence[float], b: Sequence[float], level: float = LEVEL) -> Comparison:
    """Compare the trainings ``a[k]`` and ``b[k]`` of two networks with the same seed index ``k``."""
    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if xa.shape != xb.shape or xa.size == 0:
        raise ValueError(f"paired: expected two equal, non-empty lists; got {xa.size} and {xb.size} values")
    diffs = xa - xb
    mean = float(diffs.mean())
    if diffs.size < 2:
        return Comparison(mean, math.nan, math.nan, 1)
    half = float(stats.t.ppf(0.5 + level / 2, diffs.size - 1) * diffs.std(ddof=1) / math.sqrt(diffs.size))
    return Comparison(mean, mean - half, mean + half, int(diffs.size))


def seed_of(seed: int, index: int) -> int:
    """The training seed of repetition ``index`` of a run seeded ``seed``: the same for every network of
    the run, so that repetitions pair, and far from ``seed + trial number`` (a search's own trainings)."""
    return int(np.random.SeedSequence([seed, index, 0x5EED]).generate_state(1)[0] % 2**31)


__all__ = ["LEVEL", "Comparison", "Summary", "paired", "seed_of", "summarize"]
