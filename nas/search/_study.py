"""The search itself: an Optuna study over a space, candidates checked against the budget before any
training, baselines from the zoo in the same study, everything recorded as trial attributes."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from nas import spaces, zoo
from nas._cli import UsageError
from nas._count import count_cost
from nas._spec import dump_spec
from nas.latency import predict
from nas.search._budget import Budget, Metric, needs_latency, parse_budget
from nas.search._evaluate import Evaluator, make_evaluator
from nas.search._latency import Latency, open_latency
from nas.search._objective import Objective
from nas.search._record import provenance
from nas.spaces import NotInSpace, SearchSpace

FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
log = logging.getLogger("nas.search")


@dataclasses.dataclass(frozen=True)
class Search:
    """Everything a run needs, checked before the first trial: a mistake costs nothing."""

    space: SearchSpace
    budgets: tuple[Budget, ...]
    objective: Objective
    num_classes: int
    n_trials: int
    baselines: dict[str, dict[str, Any]]  # name -> parameters
    latency: Latency | None = None  # the lookup table, when a budget limits latency
    record: dict[str, Any] = dataclasses.field(default_factory=dict)  # set on every trial (_record.py)


def prepare(cfg: DictConfig) -> Search:
    space = spaces.load(str(cfg.space))
    if cfg.resolution is not None:
        space = dataclasses.replace(space, resolution=int(cfg.resolution))
    budgets = parse_budget(OmegaConf.to_object(cfg.budget) if OmegaConf.is_config(cfg.budget) else cfg.budget)
    if not isinstance(cfg.n_trials, int) or cfg.n_trials < 1:
        raise UsageError(f"n_trials: expected an integer >= 1; got {cfg.n_trials!r}")
    objective = Objective.from_data(OmegaConf.to_container(cfg.objective), "objective")
    _check_reachable(space, budgets, cfg.num_classes)
    baselines = _baselines(cfg.baselines, space)
    latency = open_latency(cfg, space, cfg.num_classes) if needs_latency(budgets) else None
    record = provenance(cfg)
    return Search(space, budgets, objective, cfg.num_classes, cfg.n_trials, baselines, latency, record)


def _check_reachable(space: SearchSpace, budgets: tuple[Budget, ...], num_classes: int) -> None:
    """A budget below the cheapest network of the space is reported at once, with that network's cost."""
    for budget in budgets:
        if budget.metric is Metric.LATENCY:
            continue  # measured per candidate; no lower bound without building them all
        smallest = space.min_cost(budget.metric.value, num_classes)
        if smallest > budget.limit:
            unit = "MACs" if budget.metric is Metric.MACS else "parameters"
            raise UsageError(
                f"budget: no network of space {space.name!r} meets {budget}: the smallest has "
                f"{smallest / 1e6:.2f}M {unit} at {space.resolution} px"
            )


def _baselines(names: Any, space: SearchSpace) -> dict[str, dict[str, Any]]:
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
        spec = zoo.get(name).replace(resolution=space.resolution)
        try:
            found[name] = space.encode(spec)
        except NotInSpace as err:
            if not automatic:
                raise UsageError(f"baselines: {err}") from None
    return found


def open_study(cfg: DictConfig, search: Search, run_dir: Path) -> optuna.Study:
    storage = cfg.storage or f"sqlite:///{run_dir / 'study.db'}"
    name = cfg.study_name or f"{search.space.name}-{'-'.join(map(str, search.budgets)) or 'unbounded'}"
    pruner = _pruner(cfg, search)
    try:
        study = optuna.create_study(
            storage=storage,
            study_name=name,
            sampler=instantiate(cfg.sampler),
            pruner=pruner,
            directions=search.objective.directions(search.budgets),
            load_if_exists=True,
        )
    except ValueError as err:  # e.g. resuming with other directions
        raise UsageError(f"study: {err}") from None
    except Exception as err:  # an unreachable or malformed storage URL
        raise UsageError(
            f"storage: cannot open {storage!r}: {type(err).__name__}: {_first_line(err)}"
        ) from None
    for baseline, params in search.baselines.items():
        study.enqueue_trial(params, user_attrs={"baseline": baseline}, skip_if_exists=True)
    return study


def _pruner(cfg: DictConfig, search: Search) -> optuna.pruners.BasePruner:
    if search.objective.kind == "pareto" or not cfg.evaluator.get("pruning", False):
        return optuna.pruners.NopPruner()  # Optuna prunes single-objective studies only
    return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=int(cfg.trainer.max_epochs))


def make_trial_function(search: Search, evaluator: Evaluator) -> Callable[[optuna.Trial], list[float]]:
    budgets, objective = search.budgets, search.objective

    def run_trial(trial: optuna.Trial) -> list[float]:
        baseline = trial.user_attrs.get("baseline")
        for key, value in search.record.items():
            trial.set_user_attr(key, value)
        spec = search.space.sample(trial)
        if baseline:
            spec = spec.replace(name=baseline)
        cost = count_cost(spec, num_classes=search.num_classes)
        for key, value in cost._asdict().items():
            trial.set_user_attr(key, value)
        trial.set_user_attr("spec", dump_spec(spec))
        latency = None
        if search.latency is not None:  # new parts are timed once and kept in the table
            latency = predict(spec, search.latency.table, search.num_classes)
            trial.set_user_attr("latency_predicted_ms", latency)
        feasible = True
        for budget in budgets:
            violation = budget.violation(cost.macs, cost.params, latency)
            trial.set_constraint(str(budget), violation)
            feasible &= violation <= 0
        trial.set_user_attr("feasible", feasible)
        if not feasible and not baseline:
            return objective.infeasible(cost, budgets)  # never built, never trained
        try:
            quality = evaluator.evaluate(spec, trial)
        except optuna.TrialPruned:
            raise
        except Exception as err:
            trial.set_user_attr("error", f"{type(err).__name__}: {_first_line(err)}")
            raise
        trial.set_user_attr("quality", quality)
        return objective.values(quality, cost, latency, budgets, accuracy=evaluator.quality == "val_acc")

    return run_trial


def optimize(study: optuna.Study, search: Search, evaluator: Evaluator) -> None:
    """Run trials until ``n_trials`` are finished (complete or pruned) in the study, counting those of
    earlier runs; a trial that fails is recorded as failed and the study goes on."""
    run_trial = make_trial_function(search, evaluator)
    for _ in range(3):  # failed trials do not count; give up after three rounds that did not finish
        remaining = search.n_trials - len(study.get_trials(deepcopy=False, states=FINISHED))
        if remaining <= 0:
            return
        study.optimize(run_trial, n_trials=remaining, catch=(Exception,), show_progress_bar=True)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else ""


def make_run(cfg: DictConfig, run_dir: Path) -> tuple[Search, optuna.Study, Evaluator]:
    search = prepare(cfg)
    evaluator = make_evaluator(cfg, run_dir)  # loads the data: a missing data set stops us here
    study = open_study(cfg, search, run_dir)
    study.set_user_attr("evaluation", evaluator.describe())  # what a report made mid-run shows
    return search, study, evaluator


__all__ = ["Search", "make_run", "optimize", "prepare"]
