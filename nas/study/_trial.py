"""One trial's record: the attributes a search writes on an Optuna trial, written and read only here.

Optuna keeps them as loose ``user_attrs``; this module is the one place that knows their names. Writers
call :func:`record` (which refuses a name it does not know), :func:`record_cost` and
:func:`record_extra` (for names of their own); readers take a
:class:`TrialRecord`, which also says what became of the trial (:attr:`TrialRecord.status`) and carries a
quality only for a trial that was really evaluated: a candidate over budget completes with the worst
objective without being trained, and a report that showed that placeholder would rank a never-trained
network among the trained ones.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.trial import BaseTrial, FrozenTrial, TrialState

from nas import Cost


class Attr(enum.Enum):
    """The trial attributes a search writes."""

    BASELINE = "baseline"  # the zoo network a trial evaluates (enqueued with it), else absent
    SPEC = "spec"  # the network as spec YAML
    MACS = "macs"
    PARAMS = "params"
    ACTIVATION_BYTES = "activation_bytes"
    LATENCY_PREDICTED = "latency_predicted_ms"  # from the lookup table, under a latency budget
    FEASIBLE = "feasible"  # within every budget (decided from the spec before anything is built)
    QUALITY = "quality"  # the evaluator's figure the objective is made of
    ERROR = "error"  # why the trial failed, one line
    SCREENED_OUT = "screened_out"  # pruned by the zero-cost screen, never trained
    SURPLUS = "surplus"  # started after other workers had finished the study's n_trials
    WORKER = "worker"  # host:pid of the worker that ran it
    SEED = "seed"  # the run's seed (a candidate trains with seed + trial number)
    SAMPLER_SEED = "sampler_seed"  # the seed of the worker's sampler
    CONFIG = "config"  # the run's resolved config as YAML, storage password masked
    NAS_VERSION = "nas_version"
    TORCH = "torch"
    DEVICE = "device"
    GIT_COMMIT = "git_commit"


# The study's own attributes.
MEASURED = "latency_measured_ms"  # trial number -> milliseconds, for the finalists timed whole
EVALUATION = "evaluation"  # how candidates were evaluated (the evaluator's description)
SPACE_NAME = "space"  # the space searched: its name, its fingerprint (every choice, overrides included),
SPACE_DIGEST = "space_digest"
SPACE_OVERRIDES = "space_overrides"  # and the command line's space.* overrides, as given
BUDGET = "budget"  # the budgets as searched: "300MFLOPs", or a latency:NAME target resolved to "12.3ms"
PRESET = "preset"  # the paper's search a run reproduces (+preset=NAME): name, paper section, target
FINALISTS = "finalists"  # the best candidates and baselines retrained with repeated seeds (finalists.seeds)
ZERO_COST_SCORES = ("synflow", "naswot", "grad_norm")  # scores a screen records under their own names


class Status(enum.StrEnum):
    """What became of a trial, in the words tables, legends and tests read."""

    COMPLETE = "complete"
    OVER_BUDGET = "over budget"
    PRUNED = "pruned"
    FAILED = "failed"
    SURPLUS = "surplus"  # started as other workers took the study's last trial; given up, never run
    RUNNING = "running"
    WAITING = "waiting"


_STATE_STATUS = {
    TrialState.PRUNED: Status.PRUNED,
    TrialState.FAIL: Status.FAILED,
    TrialState.RUNNING: Status.RUNNING,
    TrialState.WAITING: Status.WAITING,
}
_NAMES = {a.value for a in Attr}


def record(trial: BaseTrial, **values: Any) -> None:
    """Set trial attributes by their :class:`Attr` names (lower case): ``record(trial, feasible=True)``."""
    for name, value in values.items():
        if name not in _NAMES:
            raise KeyError(f"{name!r} is not a trial attribute; expected one of {sorted(_NAMES)}")
        trial.set_user_attr(name, value)


def record_cost(trial: BaseTrial, cost: Cost) -> None:
    record(trial, macs=cost.macs, params=cost.params, activation_bytes=cost.activation_bytes)


def record_extra(trial: BaseTrial, values: Mapping[str, Any]) -> None:
    """What an evaluator or a command records under its own names (``val_acc``, a zero-cost score, the
    member of a scaled family): :attr:`TrialRecord.extra` reads them back."""
    for name, value in values.items():
        if name in _NAMES:
            raise KeyError(f"{name!r} would overwrite the trial attribute of that name; use record()")
        trial.set_user_attr(name, value)


def status_of(t: FrozenTrial) -> Status:
    if t.state is TrialState.COMPLETE:
        # Baselines are trained whatever their cost; other candidates over budget never are.
        attrs = t.user_attrs
        over = attrs.get(Attr.FEASIBLE.value) is False and not attrs.get(Attr.BASELINE.value)
        return Status.OVER_BUDGET if over else Status.COMPLETE
    if t.state is TrialState.FAIL and t.user_attrs.get(Attr.SURPLUS.value):
        return Status.SURPLUS
    return _STATE_STATUS[t.state]


@dataclass(frozen=True)
class TrialRecord:
    """A trial as everything downstream of the search reads it: its status, and only the figures it has."""

    number: int
    state: TrialState
    status: Status
    baseline: str | None
    feasible: bool | None
    macs: int | None
    params: int | None
    activation_bytes: int | None
    latency_predicted_ms: float | None
    latency_measured_ms: float | None  # when the trial was timed whole
    quality: float | None  # None unless the network was evaluated
    values: tuple[float, ...] | None  # what Optuna was told: over budget, the placeholder objective
    detail: str  # why it has no quality: the error, the screening score, the epoch it stopped at
    error: str | None
    screened_out: bool
    worker: str | None
    retry_of: int | None  # the trial this one re-runs (its worker died)
    spec: str | None  # the network as spec YAML
    config: str | None  # the run's resolved config as YAML, passwords masked
    choices: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # every other attribute (val_acc, scores...)

    @classmethod
    def of(
        cls, t: FrozenTrial, quality_key: str | None = None, measured_ms: float | None = None
    ) -> TrialRecord:
        """``quality_key`` names the metric that stands for quality in a study that recorded none
        (an older one); ``measured_ms`` is the trial's latency timed whole, when it was."""
        a = t.user_attrs
        status = status_of(t)
        quality = _quality(a, quality_key) if status is Status.COMPLETE else None
        predicted = _float(a.get(Attr.LATENCY_PREDICTED.value))
        history = t.system_attrs.get("retry_history")
        return cls(
            number=t.number,
            state=t.state,
            status=status,
            baseline=a.get(Attr.BASELINE.value) or None,
            feasible=a.get(Attr.FEASIBLE.value),
            macs=a.get(Attr.MACS.value),
            params=a.get(Attr.PARAMS.value),
            activation_bytes=a.get(Attr.ACTIVATION_BYTES.value),
            latency_predicted_ms=predicted,
            latency_measured_ms=measured_ms,
            quality=quality,
            values=None if t.values is None else tuple(t.values),
            detail=_detail(t, status),
            error=a.get(Attr.ERROR.value) or None,
            screened_out=bool(a.get(Attr.SCREENED_OUT.value)),
            worker=a.get(Attr.WORKER.value),
            retry_of=history[-1] if history else None,
            spec=a.get(Attr.SPEC.value),
            config=a.get(Attr.CONFIG.value),
            choices=dict(t.params),
            extra={k: v for k, v in a.items() if k not in _NAMES},
        )

    @property
    def objective(self) -> tuple[float, ...] | None:
        """The objective values of an evaluated trial; None for the others (their values, if any, are a
        placeholder)."""
        return self.values if self.quality is not None else None

    @property
    def latency_ms(self) -> float | None:
        """Measured when the trial was timed whole, else predicted, else None."""
        return self.latency_measured_ms if self.latency_measured_ms is not None else self.latency_predicted_ms

    @property
    def latency_predicted(self) -> bool:
        """Whether :attr:`latency_ms` is the predictor's."""
        return self.latency_measured_ms is None and self.latency_predicted_ms is not None

    @property
    def name(self) -> str:
        return self.baseline or "searched"

    @property
    def over_budget(self) -> bool:
        return self.feasible is False

    @property
    def evaluated(self) -> bool:
        """Feasible and given a quality: a candidate the search ranks."""
        return bool(self.feasible) and self.quality is not None


def trial_records(
    trials: list[FrozenTrial], quality_key: str | None = None, measured: Mapping[int, float] | None = None
) -> list[TrialRecord]:
    """One record per trial; ``measured`` holds the latencies timed whole (the study's finalists)."""
    return [TrialRecord.of(t, quality_key, (measured or {}).get(t.number)) for t in trials]


def measured_latencies(study: optuna.Study) -> dict[int, float]:
    """Trial number -> measured milliseconds, for the trials timed whole so far."""
    return {int(k): float(v) for k, v in study.user_attrs.get(MEASURED, {}).items()}


def record_measured_latencies(study: optuna.Study, times: Mapping[int, float]) -> None:
    study.set_user_attr(MEASURED, {str(k): v for k, v in sorted(times.items())})


def counts(records: list[TrialRecord]) -> dict[Status, int]:
    """Trials by status, in :class:`Status` order, without the empty ones."""
    found = {s: sum(r.status is s for r in records) for s in Status}
    return {s: n for s, n in found.items() if n}


def busy_seconds(trials: Iterable[FrozenTrial]) -> float:
    """Seconds during which at least one finished trial was running: the union of their start-to-end
    intervals. The span from the first start to the last end would count the idle gap between two
    sittings of a resumed study, and trials run side by side would count twice if summed."""
    spans = sorted(
        (t.datetime_start, t.datetime_complete) for t in trials if t.datetime_start and t.datetime_complete
    )
    total, reached = 0.0, None
    for start, end in spans:
        if reached is not None and end <= reached:
            continue  # inside time already counted
        total += (end - max(start, reached or start)).total_seconds()
        reached = end
    return total


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _quality(attrs: Mapping[str, Any], key: str | None) -> float | None:
    """The evaluated quality: ``quality`` as the search records it, else the named metric."""
    for name in (Attr.QUALITY.value, key):
        if name and attrs.get(name) is not None:
            return float(attrs[name])
    return None


def _detail(t: FrozenTrial, status: Status) -> str:
    a = t.user_attrs
    if status is Status.FAILED:
        return str(a.get(Attr.ERROR.value) or "raised an error (no message recorded)")
    if status is Status.SURPLUS:
        return "never run: other workers had started the study's last trial first"
    if status is Status.OVER_BUDGET:
        return "rejected from its spec, never built or trained"
    if status is Status.PRUNED:
        if a.get(Attr.SCREENED_OUT.value):
            scores = [f"{k} {a[k]:.4g}" for k in ZERO_COST_SCORES if k in a]
            return "screened out" + (f" ({', '.join(scores)})" if scores else "")
        if t.intermediate_values:
            return f"stopped after epoch {max(t.intermediate_values) + 1}"
        return "stopped early"
    return {Status.RUNNING: "still being evaluated", Status.WAITING: "queued"}.get(status, "")
