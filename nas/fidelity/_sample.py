"""The networks a fidelity study ranks: a seeded sample of a space, spread evenly over the feasible costs."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from nas.arch import ArchSpec, count_cost
from nas.errors import UsageError
from nas.spaces import SearchSpace
from nas.study import Budget, Metric, describe

POOL_PER_NETWORK = 40  # random draws per network wanted: the pool the sample is spread over


@dataclass(frozen=True)
class Candidate:
    """One sampled network: its index in the sample, its spec, and its cost at the space's resolution."""

    index: int
    spec: ArchSpec
    macs: int
    params: int


def feasible(budgets: Sequence[Budget], macs: int, params: int) -> bool:
    return all(b.violation(macs, params) <= 0 for b in budgets)


def sample_networks(space: SearchSpace, budgets: Sequence[Budget], n: int, seed: int) -> list[Candidate]:
    """``n`` distinct feasible networks, stratified over MACs: a pool of random networks is drawn (each
    choice uniform, as Optuna's random sampler draws them), and for each of ``n`` evenly spaced MAC
    targets between the pool's smallest and largest the nearest network not yet taken is kept.

    Raises :class:`UsageError` for a latency budget (this study counts costs, it does not time them) or
    a budget that too few networks meet.
    """
    if any(b.metric is Metric.LATENCY for b in budgets):
        raise UsageError("budget: a fidelity study takes MAC and parameter budgets, not latency (ms)")
    rng = random.Random(seed)
    pool: dict[str, Candidate] = {}
    for _ in range(POOL_PER_NETWORK * n):
        spec = space.draw(rng)
        cost = count_cost(spec)
        if feasible(budgets, cost.macs, cost.params):
            pool.setdefault(_key(spec), Candidate(0, spec, cost.macs, cost.params))
    if len(pool) < n:
        smallest = space.min_cost("macs")
        raise UsageError(
            f"budget: only {len(pool)} of {POOL_PER_NETWORK * n} random networks of {space.name} meet "
            f"{describe(budgets)}, fewer than n={n} (the smallest network has {smallest / 1e6:.1f}M MACs)"
        )
    ordered = sorted(pool.values(), key=lambda c: (c.macs, c.params))
    low, high = ordered[0].macs, ordered[-1].macs
    chosen: list[Candidate] = []
    for i in range(n):
        target = low + (high - low) * i / max(1, n - 1)
        best = min((c for c in ordered if c not in chosen), key=lambda c: abs(c.macs - target))
        chosen.append(best)
    return [
        Candidate(i, c.spec.replace(name=f"{space.name}_s{seed}_{i:02d}"), c.macs, c.params)
        for i, c in enumerate(sorted(chosen, key=lambda c: c.macs))
    ]


def _key(spec: ArchSpec) -> str:
    """Two draws that give the same network (the same layers) count once."""
    return repr((spec.stem, spec.stages, spec.head))
