"""What a search optimises: MnasNet's reward (one objective) or accuracy against cost (a Pareto front).

An objective is three methods (its directions, a trial's values, and the values of a candidate over
budget); each is built from its config group (``conf/objective/NAME.yaml``, whose ``_target_`` names the
class), so a new objective is one class and one YAML file.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from nas.blocks.costs import Cost
from nas.records import Record
from nas.study import Budget, Metric


class Objective(abc.ABC):
    """Directions and values of a trial; ``multi``: a Pareto front rather than one best trial."""

    multi: bool = False
    soft: bool = False  # budgets are targets the values weigh, not constraints: nothing is rejected

    @abc.abstractmethod
    def directions(self, budgets: tuple[Budget, ...]) -> list[str]:
        """Optuna's study directions, one per value."""

    @abc.abstractmethod
    def values(
        self,
        quality: float,
        cost: Cost,
        latency_ms: float | None,
        budgets: tuple[Budget, ...],
        accuracy: bool,
    ) -> list[float]:
        """The trial's values; ``accuracy``: the quality is an accuracy (not a zero-cost score)."""

    def infeasible(self, cost: Cost, budgets: tuple[Budget, ...]) -> list[float]:
        """The values of a candidate over budget, which is never trained: the worst accuracy."""
        return self.values(0.0, cost, None, budgets, accuracy=True)


@dataclass(frozen=True)
class Reward(Record, Objective):
    """ACC x (COST / TARGET)^w with w = ``alpha`` within the target and ``beta`` over it (Tan et al.,
    2019, eq. 2), COST and TARGET from the first budget. ``soft``: the papers' own searches, where a
    candidate over the target is trained and only the reward weighs its cost (MnasNet section 3,
    EfficientNet section 4); otherwise every budget is also a hard constraint."""

    alpha: float = -0.07
    beta: float = -0.07
    soft: bool = False

    def directions(self, budgets: tuple[Budget, ...]) -> list[str]:
        return ["maximize"]

    def values(
        self,
        quality: float,
        cost: Cost,
        latency_ms: float | None,
        budgets: tuple[Budget, ...],
        accuracy: bool,
    ) -> list[float]:
        """The reward's cost factor applies to accuracies only (a zero-cost score can be negative, and the
        budget constrains those searches anyway)."""
        if not budgets or not accuracy:
            return [quality]
        target = budgets[0]
        value = target.value(cost.macs, cost.params, latency_ms)
        w = self.alpha if value <= target.limit else self.beta
        return [quality * (value / target.limit) ** w]


@dataclass(frozen=True)
class Pareto(Record, Objective):
    """Maximise the quality and minimise MACs, and latency when a budget limits it."""

    multi = True

    def directions(self, budgets: tuple[Budget, ...]) -> list[str]:
        return ["maximize", "minimize"] + (["minimize"] if _latency(budgets) else [])

    def values(
        self,
        quality: float,
        cost: Cost,
        latency_ms: float | None,
        budgets: tuple[Budget, ...],
        accuracy: bool,
    ) -> list[float]:
        return [quality, float(cost.macs)] + ([latency_ms or 0.0] if _latency(budgets) else [])


def _latency(budgets: tuple[Budget, ...]) -> bool:
    return any(b.metric is Metric.LATENCY for b in budgets)
