"""The Pareto front of evaluated trials: quality maximised first, then every cost minimised."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar


class Valued(Protocol):
    """Anything with objective ``values``, as Optuna's trials have: quality first, then costs."""

    @property
    def values(self) -> Sequence[float]: ...


V = TypeVar("V", bound=Valued)


def dominates(a: Valued, b: Valued) -> bool:
    """``a`` is at least as good as ``b`` on quality and every cost, and better on one."""
    pairs = [(a.values[0], b.values[0]), *((-x, -y) for x, y in zip(a.values[1:], b.values[1:], strict=True))]
    return all(x >= y for x, y in pairs) and any(x > y for x, y in pairs)


def pareto_front(trials: Sequence[V]) -> list[V]:
    """The trials no other trial beats on quality and cost at once, by increasing (first) cost."""
    front = [t for t in trials if not any(dominates(o, t) for o in trials)]
    return sorted(front, key=lambda t: (t.values[1], -t.values[0]))
