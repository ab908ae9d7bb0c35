"""The seed statistics shared by finalists and compound scaling (nas.stats)."""

import math

import pytest

from nas.stats import paired, seed_of, summarize


def test_summary_is_mean_and_sample_std():
    s = summarize([0.8, 0.9, 1.0])
    assert s.mean == pytest.approx(0.9)
    assert s.std == pytest.approx(0.1)
    assert "±" in str(s) and "n=3" in str(s)
    assert math.isnan(summarize([0.5]).std)


def test_clear_win_is_called_and_straddling_difference_is_a_tie():
    win = paired([0.90, 0.91, 0.92], [0.80, 0.81, 0.83])
    assert win.verdict == "a" and win.lo > 0
    assert paired([0.80, 0.81, 0.83], [0.90, 0.91, 0.92]).verdict == "b"
    tie = paired([0.90, 0.80, 0.86], [0.85, 0.86, 0.84])
    assert tie.lo < 0 < tie.hi and tie.verdict == "tie"


def test_interval_is_student_t_not_normal():
    # diffs 1, 2, 3: mean 2, sd 1, t(0.975, 2) = 4.303
    c = paired([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    assert c.hi - c.diff == pytest.approx(4.303 / math.sqrt(3), rel=1e-3)


def test_one_seed_claims_nothing():
    c = paired([0.9], [0.1])
    assert c.verdict == "unknown" and "no interval" in str(c)


def test_unequal_lists_are_refused():
    with pytest.raises(ValueError, match="equal"):
        paired([0.1, 0.2], [0.1])


def test_repetition_seeds_are_stable_and_distinct():
    assert seed_of(0, 1) == seed_of(0, 1)
    assert len({seed_of(s, k) for s in range(3) for k in range(5)}) == 15
