"""Rank agreement: Kendall, Spearman, top-quartile recall and the bootstrap interval on known cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from nas.fidelity import (
    agreement,
    bootstrap_interval,
    kendall,
    paired_interval,
    seed_noise,
    top_quartile_recall,
)


def test_kendall_is_tau_b_and_plus_or_minus_one_for_a_monotone_order() -> None:
    x = [0.1, 0.5, 0.2, 0.9, 0.7]
    assert kendall(x, [v**3 for v in x]) == pytest.approx(1.0)
    assert kendall(x, [-v for v in x]) == pytest.approx(-1.0)
    y = [1, 1, 2, 3, 2]  # ties: tau-b
    assert kendall(x, y) == pytest.approx(stats.kendalltau(x, y, variant="b").statistic)
    assert kendall(x, [3] * 5) == 0.0  # a constant score ranks nothing


def test_top_quartile_recall_counts_the_best_quarter_kept() -> None:
    reference = list(range(8))  # best: 7, 6
    assert top_quartile_recall(reference, reference) == 1.0
    assert top_quartile_recall([0, 1, 2, 3, 4, 5, 7, 6], reference) == 1.0  # order within the quarter is free
    assert top_quartile_recall([0, 1, 2, 3, 4, 7, 5, 6], reference) == 0.5
    assert top_quartile_recall([-v for v in reference], reference) == 0.0


def test_bootstrap_interval_brackets_tau_and_narrows_with_agreement() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=30)
    close, noisy = x + 0.1 * rng.normal(size=30), x + 2.0 * rng.normal(size=30)
    lo, hi = bootstrap_interval(x, close, 500, seed=0)
    assert lo <= kendall(x, close) <= hi <= 1.0
    nlo, nhi = bootstrap_interval(x, noisy, 500, seed=0)
    assert nhi - nlo > hi - lo
    assert bootstrap_interval(x, noisy, 500, seed=0) == (nlo, nhi)  # seeded


def test_agreement_bundles_the_figures() -> None:
    x = list(range(12))
    a = agreement(x, x, 200, seed=0)
    assert [a.tau, a.lo, a.hi, a.spearman, a.top_quartile_recall] == pytest.approx([1.0] * 5)
    with pytest.raises(ValueError, match="3 scores for 4"):
        agreement([1, 2, 3], [1, 2, 3, 4], 200, seed=0)


def test_the_paired_interval_is_zero_for_equal_rankings_and_positive_for_a_better_one() -> None:
    reference = list(range(12))
    noisy = [0, 3, 1, 2, 6, 4, 5, 9, 7, 8, 11, 10]  # every neighbour swapped somewhere
    assert paired_interval(noisy, noisy, reference, resamples=200, seed=0) == (0.0, 0.0)
    lo, hi = paired_interval(noisy, reference, reference, resamples=200, seed=0)
    assert 0 < lo <= hi < 1  # better on every resampling, and noisy still ranks far above chance
    with pytest.raises(ValueError, match="one per network"):
        paired_interval(noisy, reference[:-1], reference, resamples=10, seed=0)


def test_seed_noise_separates_what_a_seed_moves_from_how_networks_differ() -> None:
    means = [0.70, 0.75, 0.80, 0.85]
    noise = seed_noise([[m + 0.01 for m in means], [m - 0.01 for m in means]])
    assert noise.seed_sd == pytest.approx(0.01 * np.sqrt(2))  # sample sd of (m + d, m - d) is d * sqrt(2)
    assert noise.spread_sd == pytest.approx(np.std(means, ddof=1))
    assert seed_noise([means, means]).seed_sd == 0.0
    with pytest.raises(ValueError, match="at least 2 seeds"):
        seed_noise([means])


def test_the_ceiling_follows_seed_noise_against_spread() -> None:
    """Simulated networks: tau between two seeds sits near (2 / pi) asin(r) and falls as seeds get noisier."""
    rng = np.random.default_rng(0)
    means = rng.normal(0.8, 0.03, size=400)
    taus = []
    for sd in (0.005, 0.015, 0.03):
        seeds = [means + rng.normal(0, sd, means.size) for _ in range(2)]
        noise = seed_noise(seeds)
        assert noise.seed_sd == pytest.approx(sd, rel=0.1)
        expected = 2 / np.pi * np.arcsin(1 - noise.seed_sd**2 / np.var(seeds[0], ddof=1))
        taus.append(kendall(seeds[0], seeds[1]))
        assert taus[-1] == pytest.approx(expected, abs=0.05), sd
    assert taus[0] > taus[1] > taus[2]
