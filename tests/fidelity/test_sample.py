"""The sample: distinct, feasible, seeded networks spread over the feasible costs."""

from __future__ import annotations

import itertools

import pytest

from nas.errors import UsageError
from nas.fidelity import sample_networks
from nas.search import parse_budget
from nas.spaces import load


def test_the_sample_is_feasible_distinct_spread_and_seeded() -> None:
    space, budgets = load("mnas"), parse_budget("300MFLOPs")
    sample = sample_networks(space, budgets, 8, seed=0)
    assert len(sample) == 8 and len({repr(c.spec.stages) for c in sample}) == 8
    assert all(c.macs <= 300e6 for c in sample)
    macs = [c.macs for c in sample]
    assert macs == sorted(macs) and [c.index for c in sample] == list(range(8))
    # Spread: from the bottom of the feasible range to near the budget, no two in one eighth of it.
    assert macs[0] < space.min_cost("macs") * 2 and macs[-1] > 250e6
    gaps = [b - a for a, b in itertools.pairwise(macs)]
    assert max(gaps) < 3 * (macs[-1] - macs[0]) / 7
    again = sample_networks(space, budgets, 8, seed=0)
    assert [c.spec for c in again] == [c.spec for c in sample]
    assert [c.spec for c in sample_networks(space, budgets, 8, seed=1)] != [c.spec for c in sample]


def test_a_budget_nothing_meets_and_a_latency_budget_are_refused() -> None:
    space = load("mnas")
    with pytest.raises(UsageError, match=r"budget: only 0 of .* meet 1MFLOPs, fewer than n=4"):
        sample_networks(space, parse_budget("1MFLOPs"), 4, seed=0)
    with pytest.raises(UsageError, match="not latency"):
        sample_networks(space, parse_budget("25ms"), 4, seed=0)
