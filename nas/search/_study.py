"""The search itself: an Optuna study over a space, candidates checked against the budget before any
training, baselines from the zoo in the same study, everything recorded as trial attributes."""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from hydra.utils import instantiate

from nas import spaces, zoo
from nas.arch import count_cost, dump_spec
from nas.errors import SpecError, UsageError
from nas.latency import predict
from nas.search._evaluate import Evaluator
from nas.search._finalists import FinalistSettings
from nas.search._latency import Latency
from nas.search._objective import Objective
from nas.search._preset import Preset
from nas.spaces import NotInSpace, SearchSpace
from nas.study import (
    BUDGET,
    EVALUATION,
    PRESET,
    SPACE_DIGEST,
    SPACE_NAME,
    SPACE_OVERRIDES,
    Attr,
    Budget,
    Heartbeat,
    Metric,
    first_line,
    hide_password,
    make_storage,
    record,
    record_cost,
)

log = logging.getLogger("nas.search")


@dataclasses.dataclass(frozen=True)
class Search:
    """Everything a run needs, checked before the first trial: a mistake costs nothing. Made from the
    command's config once, at its edge (``nas.search.prepare``)."""

    space: SearchSpace
    budgets: tuple[Budget, ...]
    objective: Objective
    num_classes: int
    n_trials: int
    baselines: dict[str, dict[str, Any]]  # name -> parameters
    latency: Latency | None = None  # the lookup table, when a budget limits latency
    record: dict[str, Any] = dataclasses.field(default_factory=dict)  # set on every trial (_provenance.py)
    seed: int = 0  # the first worker's sampler seed
    sampler: dict[str, Any] = dataclasses.field(default_factory=dict)  # `_target_` and arguments ({}: TPE)
    storage: str | None = None  # None: SQLite in the run directory
    study_name: str | None = None  # None: SPACE-BUDGET
    heartbeat: Heartbeat = dataclasses.field(default_factory=Heartbeat)
    workers: int = 1  # processes on this machine, one torch thread each when more than one
    space_overrides: tuple[str, ...] = ()  # the command line's space.* overrides, shown with the results
    preset: Preset | None = None  # the paper's search this run reproduces (+preset=NAME)
    finalists: FinalistSettings = dataclasses.field(default_factory=FinalistSettings)


def load_space(node: Any, resolution: int | None) -> SearchSpace:
    """The space of the config's ``space`` (composed by ``space=NAME``, or a name or file), at
    ``resolution`` px if given."""
    space = spaces.from_config(node)
    return space if resolution is None else dataclasses.replace(space, resolution=int(resolution))


def check_reachable(space: SearchSpace, budgets: tuple[Budget, ...], num_classes: int) -> None:
    """A budget below the cheapest network of the space is reported at once, with that network's cost."""
    for budget in budgets:
        if budget.metric is Metric.LATENCY or budget.of is not None:
            continue  # measured per candidate; no lower bound without building them all
        smallest = space.min_cost(budget.metric.value, num_classes)
        if smallest > budget.limit:
            unit = "MACs" if budget.metric is Metric.MACS else "parameters"
            raise UsageError(
                f"budget: no network of space {space.name!r} meets {budget}: the smallest has "
                f"{smallest / 1e6:.2f}M {unit} at {space.resolution} px"
            )


def find_baselines(names: Any, space: SearchSpace) -> dict[str, dict[str, Any]]:
    """Zoo networks that are points of the space, with their parameters (``auto``: every such one)."""
    if names in (None, "none"):
        return {}
    automatic = names == "auto"
    if automatic:
        names = zoo.names()
    elif isinstance(names, str):
        names = [names]
    found = {}
    for name in names:
        if name not in zoo.names():
            raise UsageError(f"baselines: unknown network {name!r}; expected zoo names or auto")
        try:  # a zoo network too deep for the space's resolution is no point of it either
            found[name] = space.encode(zoo.get(name).replace(resolution=space.resolution))
        except (NotInSpace, SpecError) as err:
            if not automatic:
                raise UsageError(f"baselines: {err}") from None
    return found


def open_study(search: Search, pruner: optuna.pruners.BasePruner, run_dir: Path) -> tuple[optuna.Study, int]:
    """Create the study, or join it: any number of workers run this with the same storage and name.
    Returns the study and the seed of this worker's sampler.

    The worker that creates the study enqueues the baselines and records what the study searches; a
    worker that joins is refused when the study was made for other directions, space or budgets."""
    url = search.storage or f"sqlite:///{run_dir / 'study.db'}"
    labels = "-".join(b.label for b in search.budgets)  # latency:NAME, not this machine's milliseconds
    name = search.study_name or f"{search.space.name}-{labels or 'unbounded'}"
    options = {
        "storage": make_storage(url, search.heartbeat),
        "study_name": name,
        "pruner": pruner,
        "directions": search.objective.directions(search.budgets),
    }
    identity = {
        SPACE_NAME: search.space.name,
        SPACE_DIGEST: search.space.fingerprint(),
        BUDGET: _budgets(search),
    }
    try:
        study = optuna.create_study(**options, sampler=_sampler(search.sampler, search.seed))
    except optuna.exceptions.DuplicatedStudyError:  # another worker (or an earlier run) made it
        seed = joining_seed(search.seed)
        study = optuna.create_study(**options, sampler=_sampler(search.sampler, seed), load_if_exists=True)
        _check_identity(study, options["directions"], identity, hide_password(url))
        return study, seed
    for key, value in identity.items():
        study.set_user_attr(key, value)
    study.set_user_attr(SPACE_OVERRIDES, list(search.space_overrides))
    if search.preset is not None:
        study.set_user_attr(PRESET, search.preset.to_data())
    for baseline, params in search.baselines.items():
        study.enqueue_trial(params, user_attrs={Attr.BASELINE.value: baseline})
    return study, search.seed


def _sampler(sampler: dict[str, Any], seed: int) -> optuna.samplers.BaseSampler:
    """The sampler of ``conf/sampler`` (``_target_`` and arguments) with this worker's seed."""
    if not sampler:
        return optuna.samplers.TPESampler(seed=seed)
    return instantiate({**sampler, "seed": seed})


def joining_seed(seed: int) -> int:
    """The sampler seed of a worker that joins a study (or resumes one): its own, so that workers
    started together do not draw the same first candidates, nor a resumed run its first ones again.
    The worker that creates the study uses ``seed`` itself, so a single fresh run is reproducible."""
    return int(np.random.SeedSequence([seed, os.getpid(), time.time_ns()]).generate_state(1)[0])


def _budgets(search: Search) -> str:
    return ", ".join(map(str, search.budgets)) or "none"


def _check_identity(study: optuna.Study, directions: list[str], identity: dict[str, str], where: str) -> None:
    """A study joined (or resumed) must search what this run searches: Optuna loads any study by name."""
    made_for = [d.name.lower() for d in study.directions]
    if made_for != [d.lower() for d in directions]:
        raise UsageError(
            f"study: {study.study_name!r} in {where} has directions {made_for}; this run's objective "
            f"needs {[d.lower() for d in directions]}: give another study_name"
        )
    made = {key: study.user_attrs.get(key) for key in identity}
    if made[SPACE_DIGEST] is None:  # made before studies recorded their space: nothing to compare
        return
    if made != identity:
        raise UsageError(
            f"study: {study.study_name!r} in {where} searches space {made[SPACE_NAME]!r} "
            f"({made[SPACE_DIGEST]}) under budget {made[BUDGET]}; this run asks for space "
            f"{identity[SPACE_NAME]!r} ({identity[SPACE_DIGEST]}) under budget {identity[BUDGET]}: "
            "give another study_name"
        )


def make_pruner(objective: Objective, evaluator: Evaluator) -> optuna.pruners.BasePruner:
    """Hyperband over the trained epochs when the evaluator prunes; Optuna prunes single objectives only."""
    if objective.multi or not evaluator.pruning:
        return optuna.pruners.NopPruner()
    return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(1, evaluator.epochs))


def make_trial_function(search: Search, evaluator: Evaluator) -> Callable[[optuna.Trial], list[float]]:
    budgets, objective = search.budgets, search.objective

    def run_trial(trial: optuna.Trial) -> list[float]:
        baseline = trial.user_attrs.get(Attr.BASELINE.value)
        record(trial, **search.record)
        spec = search.space.sample(trial)
        if baseline:
            spec = spec.replace(name=baseline)
        cost = count_cost(spec, num_classes=search.num_classes)
        record_cost(trial, cost)
        record(trial, spec=dump_spec(spec))
        latency = None
        if search.latency is not None:  # new parts are timed once and kept in the table
            latency = predict(spec, search.latency.table, search.num_classes)
            record(trial, latency_predicted_ms=latency)
        feasible = True
        for budget in budgets:
            violation = budget.violation(cost.macs, cost.params, latency)
            if not objective.soft:  # a soft target is no constraint: the reward alone weighs it
                trial.set_constraint(str(budget), violation)
            feasible &= violation <= 0 or objective.soft
        record(trial, feasible=feasible)
        if not feasible and not baseline:
            return objective.infeasible(cost, budgets)  # never built, never trained
        try:
            quality = evaluator.evaluate(spec, trial)
        except optuna.TrialPruned:
            raise
        except Exception as err:
            record(trial, error=f"{type(err).__name__}: {first_line(err)}")
            raise
        record(trial, quality=quality)
        return objective.values(quality, cost, latency, budgets, accuracy=evaluator.quality == "val_acc")

    return run_trial


def start_run(search: Search, evaluator: Evaluator, run_dir: Path) -> tuple[Search, optuna.Study]:
    """Open (or join) the study; the returned search records this worker's sampler seed on every trial."""
    study, sampler_seed = open_study(search, make_pruner(search.objective, evaluator), run_dir)
    search = dataclasses.replace(search, record={**search.record, "sampler_seed": sampler_seed})
    study.set_user_attr(EVALUATION, evaluator.describe())  # what a report made mid-run shows
    return search, study


__all__ = [
    "Search",
    "check_reachable",
    "find_baselines",
    "load_space",
    "make_pruner",
    "make_trial_function",
    "open_study",
    "start_run",
]
