"""Each trial as a report shows it: what became of it, and only the figures it really has.

A candidate over budget completes with the worst accuracy as its objective (never trained), a screened
out one is pruned, a failed one has no values at all: none of them has an accuracy, and a report that
showed one (0, or the placeholder objective) would put never-trained networks among the trained ones.
So a row carries ``quality`` and ``objective`` only for trials that were evaluated, and a ``status``
word for every trial.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optuna.trial import FrozenTrial, TrialState

# Status words, as tables, legends and tests read them.
COMPLETE = "complete"
OVER_BUDGET = "over budget"
PRUNED = "pruned"
FAILED = "failed"
RUNNING = "running"
WAITING = "waiting"
STATUSES = (COMPLETE, OVER_BUDGET, PRUNED, FAILED, RUNNING, WAITING)


@dataclass(frozen=True)
class Row:
    number: int
    status: str
    baseline: str | None
    feasible: bool | None
    macs: int | None
    params: int | None
    latency_ms: float | None
    latency_predicted: bool  # latency_ms is the predictor's, not a measurement
    quality: float | None  # None unless the network was evaluated
    objective: tuple[float, ...] | None  # None unless quality is
    detail: str  # why it has no quality: the error, the screening score, the epoch it was stopped at
    spec: str | None  # YAML text of the network
    choices: dict[str, Any]

    @property
    def name(self) -> str:
        return self.baseline or "searched"

    @property
    def over_budget(self) -> bool:
        return self.feasible is False


def rows(
    trials: list[FrozenTrial], quality_key: str | None = None, measured: dict[int, float] | None = None
) -> list[Row]:
    """One row per trial; ``measured`` holds the latencies timed whole (the study's finalists)."""
    return [row(t, quality_key, (measured or {}).get(t.number)) for t in trials]


def row(t: FrozenTrial, quality_key: str | None = None, measured_ms: float | None = None) -> Row:
    a = t.user_attrs
    status = status_of(t)
    evaluated = status == COMPLETE and _quality(a, quality_key) is not None
    latency, predicted = _latency(a, measured_ms)
    return Row(
        number=t.number,
        status=status,
        baseline=a.get("baseline") or None,
        feasible=a.get("feasible"),
        macs=a.get("macs"),
        params=a.get("params"),
        latency_ms=latency,
        latency_predicted=predicted,
        quality=_quality(a, quality_key) if evaluated else None,
        objective=tuple(t.values) if evaluated and t.values is not None else None,
        detail=_detail(t, status),
        spec=a.get("spec"),
        choices=dict(t.params),
    )


def status_of(t: FrozenTrial) -> str:
    if t.state is TrialState.COMPLETE:
        # Baselines are trained whatever their cost; other candidates over budget never are.
        if t.user_attrs.get("feasible") is False and not t.user_attrs.get("baseline"):
            return OVER_BUDGET
        return COMPLETE
    return {
        TrialState.PRUNED: PRUNED,
        TrialState.FAIL: FAILED,
        TrialState.RUNNING: RUNNING,
        TrialState.WAITING: WAITING,
    }[t.state]


def _quality(attrs: dict[str, Any], key: str | None) -> float | None:
    """The evaluated quality: ``quality`` as the search records it, else the named metric."""
    for name in ("quality", key):
        if name and attrs.get(name) is not None:
            return float(attrs[name])
    return None


def _latency(attrs: dict[str, Any], measured_ms: float | None) -> tuple[float | None, bool]:
    """Measured latency when there is one, else the predictor's."""
    if measured_ms is not None:
        return float(measured_ms), False
    if attrs.get("latency_predicted_ms") is not None:
        return float(attrs["latency_predicted_ms"]), True
    return None, False


def _detail(t: FrozenTrial, status: str) -> str:
    a = t.user_attrs
    if status == FAILED:
        return str(a.get("error") or "raised an error (no message recorded)")
    if status == OVER_BUDGET:
        return "rejected from its spec, never built or trained"
    if status == PRUNED:
        if a.get("screened_out"):
            scores = [f"{k} {a[k]:.4g}" for k in ("synflow", "naswot", "grad_norm") if k in a]
            return "screened out" + (f" ({', '.join(scores)})" if scores else "")
        if t.intermediate_values:
            return f"stopped after epoch {max(t.intermediate_values) + 1}"
        return "stopped early"
    if status == RUNNING:
        return "still being evaluated"
    if status == WAITING:
        return "queued"
    return ""


def counts(rows_: list[Row]) -> dict[str, int]:
    """Trials by status, in the order of :data:`STATUSES`, without the empty ones."""
    found = {s: sum(r.status == s for r in rows_) for s in STATUSES}
    return {s: n for s, n in found.items() if n}
