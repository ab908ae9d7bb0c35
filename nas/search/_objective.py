"""What a search optimises: MnasNet's reward (one objective) or accuracy against cost (a Pareto front)."""

from __future__ import annotations

from dataclasses import dataclass

from nas._cost import Cost
from nas._record import Record, check_one_of
from nas.study import Budget, Metric


@dataclass(frozen=True)
class Objective(Record):
    """``kind: reward``: ACC x (COST / TARGET)^w with w = ``alpha`` within the target and ``beta`` over
    it (Tan et al., 2019, eq. 2), COST and TARGET from the first budget; ``kind: pareto``: maximise the
    quality and minimise MACs, and latency when a budget limits it."""

    kind: str = "reward"
    alpha: float = -0.07
    beta: float = -0.07

    def validate(self) -> None:
        check_one_of("kind", self.kind, ("reward", "pareto"))

    def directions(self, budgets: tuple[Budget, ...]) -> list[str]:
        if self.kind == "reward":
            return ["maximize"]
        return ["maximize", "minimize"] + (["minimize"] if _latency(budgets) else [])

    def values(
        self,
        quality: float,
        cost: Cost,
        latency_ms: float | None,
        budgets: tuple[Budget, ...],
        accuracy: bool,
    ) -> list[float]:
        """The trial's objective values; the reward's cost factor applies to accuracies only (a zero-cost
        score can be negative, and the budget constrains those searches anyway)."""
        if self.kind == "pareto":
            return [quality, float(cost.macs)] + ([latency_ms or 0.0] if _latency(budgets) else [])
        if not budgets or not accuracy:
            return [quality]
        target = budgets[0]
        value = target.value(cost.macs, cost.params, latency_ms)
        w = self.alpha if value <= target.limit else self.beta
        return [quality * (value / target.limit) ** w]

    def infeasible(self, cost: Cost, budgets: tuple[Budget, ...]) -> list[float]:
        """The values of a candidate over budget, which is never trained: the worst accuracy."""
        return self.values(0.0, cost, None, budgets, accuracy=True)


def _latency(budgets: tuple[Budget, ...]) -> bool:
    return any(b.metric is Metric.LATENCY for b in budgets)
