"""The seed statistics every claim over repeated trainings uses (``nas.stats``), as finalists use them;
the rule itself is exercised through compound scaling in ``tests/scale/test_stats.py``."""

import math

import pytest

from nas.stats import Verdict, seed_of, spread
from nas.study import pair, versus


def test_spread_is_mean_and_sample_std() -> None:
    s = spread([0.8, 0.9, 1.0])
    assert s.mean == pytest.approx(0.9) and s.std == pytest.approx(0.1)
    assert s.text() == "0.9000 ± 0.1000 (n=3)"
    assert spread([0.5]).std is None


def test_finalists_pair_by_seed_index_with_a_student_t_interval() -> None:
    c = pair((1.0, 2.0, 3.0), (0.0, 0.0, 0.0))  # differences 1, 2, 3: mean 2, sd 1, t(0.975, 2) = 4.303
    assert c.high is not None and c.high - c.mean == pytest.approx(4.303 / math.sqrt(3), rel=1e-3)
    assert c.verdict is Verdict.TIE and versus(c).startswith("tie: +2.0000")  # t's wide interval at n=3
    assert versus(pair((0.90, 0.91, 0.92), (0.80, 0.81, 0.83))).startswith("better: +0.0967")
    assert pair((0.90, 0.80, 0.86), (0.85, 0.86, 0.84)).verdict is Verdict.TIE
    assert versus(pair((0.9,), (0.1,))).startswith("one seed")


def test_repetition_seeds_are_stable_and_distinct() -> None:
    assert seed_of(0, 1) == seed_of(0, 1)
    assert len({seed_of(s, k) for s in range(3) for k in range(5)}) == 15
