"""Repeated seeds: mean ± std, and the paired comparison every claim over seeds rests on (compound
scaling's decisions, a search's finalists against the baselines): one rule, so that a tie means the
same everywhere.

Two networks trained with the same seed index k share the training seed (the same order of the training
images, the same starting state of the random generators), so their difference at k is less noisy than
either accuracy: a decision compares ``a_k - b_k`` over the seeds both finished, never two means.

The rule: the mean paired difference with its two-sided 95% Student t-interval (scipy's t quantile, n - 1
degrees of freedom). With K = 3 seeds the quantile is 4.30, so only a difference that is large against
its own spread counts; a sign test could not decide at all (3 of 3 has p = 0.25). An interval that
contains 0 is a tie. One common seed gives no interval, and no winner is claimed.
"""

from __future__ import annotations

import enum
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from scipy import stats

LEVEL = 0.95  # of every interval; per comparison, with no correction for the several made per φ
# Accuracies are float32 counts over the validation set: two means of the same value reached by other
# sums (1/24 + 3/24 against 2/24 + 2/24) differ in the 8th decimal; such means are equal.
EQUAL_MEANS = 1e-6
T = TypeVar("T")


class Verdict(enum.StrEnum):
    """How ``a`` compares with ``b``, in the words the tables print."""

    WIN = "win"  # the whole interval is above 0
    LOSS = "loss"  # the whole interval is below 0
    TIE = "tie"  # the interval contains 0
    ONE_SEED = "one seed: no interval"


@dataclass(frozen=True)
class Spread:
    """The accuracies of one network over its seeds."""

    n: int
    mean: float
    std: float | None  # the sample standard deviation (n - 1); None for one value

    def text(self) -> str:
        """``mean ± std (n=K)``, as every table shows a network's accuracy."""
        if self.std is None:
            return f"{self.mean:.4f} (n={self.n})"
        return f"{self.mean:.4f} ± {self.std:.4f} (n={self.n})"


def spread(values: Iterable[float]) -> Spread:
    """The spread of at least one accuracy (callers leave out a network whose trainings all failed)."""
    items = list(values)
    if not items:
        raise ValueError("spread: no values")
    std = statistics.stdev(items) if len(items) > 1 else None
    return Spread(len(items), statistics.fmean(items), std)


def first_best(items: Sequence[T], means: Mapping[T, float]) -> T:
    """The first of ``items`` (in their order: a deterministic choice) whose mean is the largest."""
    top = max(means[i] for i in items)
    return next(i for i in items if means[i] >= top - EQUAL_MEANS)


@dataclass(frozen=True)
class Paired:
    """``a - b`` over the seed indices both have: the mean difference and its t-interval."""

    n: int
    mean: float
    low: float | None  # None with one pair: one difference has no spread to judge it by
    high: float | None

    @property
    def verdict(self) -> Verdict:
        if self.low is None or self.high is None:
            return Verdict.ONE_SEED
        if self.low > 0:
            return Verdict.WIN
        if self.high < 0:
            return Verdict.LOSS
        return Verdict.TIE

    def interval(self) -> str:
        """``95% CI -0.0040, +0.0286``, or what stands in for it with one seed."""
        if self.low is None or self.high is None:
            return "one seed: no interval"
        return f"{LEVEL:.0%} CI {_signed(self.low)}, {_signed(self.high)}"

    def text(self) -> str:
        """``+0.0123 [95% CI -0.0040, +0.0286; n=3]``: the difference and its interval."""
        return f"{_signed(self.mean)} [{self.interval()}; n={self.n}]"


def _signed(value: float) -> str:
    """``+0.0123``; float32 noise around 0 as ``+0.0000``, never ``-0.0000``."""
    return f"{0.0 if abs(value) < EQUAL_MEANS else value:+.4f}"


def paired(a: Mapping[int, float], b: Mapping[int, float]) -> Paired | None:
    """``a - b`` (seed index -> accuracy) over their common seeds; None when they share none."""
    common = sorted(set(a) & set(b))
    if not common:
        return None
    # Equal accuracies logged through float32 differ by ~1e-8: a zero difference, not a tiny win.
    differences = [0.0 if abs(d) < EQUAL_MEANS else d for d in (a[k] - b[k] for k in common)]
    mean = statistics.fmean(differences)
    if len(differences) < 2:
        return Paired(1, mean, None, None)
    n = len(differences)
    half = float(stats.t.ppf((1 + LEVEL) / 2, n - 1)) * statistics.stdev(differences) / math.sqrt(n)
    return Paired(n, mean, mean - half, mean + half)


def seed_of(seed: int, index: int) -> int:
    """The training seed of repetition ``index`` in a run seeded ``seed``: the same for every network of
    the run, so that repetitions pair, and apart from ``seed + trial number`` (a search's own trainings)."""
    return int(np.random.SeedSequence([seed, index, 0x5EED]).generate_state(1)[0] % 2**31)


__all__ = ["LEVEL", "Paired", "Spread", "Verdict", "first_best", "paired", "seed_of", "spread"]
