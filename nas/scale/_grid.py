"""Step 1 of compound scaling (Tan & Le 2019, section 3.3): a small grid search of α, β, γ under
α·β²·γ² ≈ constant, each candidate the base scaled with depth α^φ, width β^φ, resolution γ^φ and
trained on the proxy task.

The grid is an Optuna study with a :class:`optuna.samplers.GridSampler` over α, β and γ. Every grid
point becomes a trial; the constraint |α·β²·γ² - constant| - tolerance is its Optuna constraint
(<= 0 feasible), and a point outside it is recorded, pruned, and never built or trained.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import optuna

from nas.arch import ArchSpec, count_cost, dump_spec
from nas.records import Record, check_range
from nas.scale._plan import Plan
from nas.scale._proxy import ProxyTrainer, record_training
from nas.scaling import compound, scale
from nas.study import TrialRecord, record, record_extra

log = logging.getLogger("nas.scale")
_FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.FAIL)


@dataclass(frozen=True)
class GridPoint(Record):
    """One choice of the paper's constants: depth α, width β, resolution γ per step of φ."""

    alpha: float
    beta: float
    gamma: float

    def validate(self) -> None:
        for name in ("alpha", "beta", "gamma"):  # the paper's α >= 1, β >= 1, γ >= 1
            check_range(name, getattr(self, name), 1.0)

    @property
    def product(self) -> float:
        """α·β²·γ²: FLOPs grow by about this per step of φ (depth linearly, width and resolution squared)."""
        return self.alpha * self.beta**2 * self.gamma**2

    def violation(self, constant: float, tolerance: float) -> float:
        """Optuna's constraint value: <= 0 when α·β²·γ² is within ``tolerance`` of ``constant``."""
        return abs(self.product - constant) - tolerance

    def scaled(self, base: ArchSpec, phi: float) -> ArchSpec:
        coefficients = compound(phi, base.resolution, self.alpha, self.beta, self.gamma)
        return scale(base, coefficients, name=f"{base.name}_phi{phi:g}")

    def label(self) -> str:
        return f"α={self.alpha:g} β={self.beta:g} γ={self.gamma:g}"


def grid_points(plan: Plan) -> list[GridPoint]:
    """Every point of the grid, feasible or not, in α, β, γ order."""
    return [GridPoint(a, b, g) for a in plan.alphas for b in plan.betas for g in plan.gammas]


def constraint_name(plan: Plan) -> str:
    return f"|α·β²·γ² - {plan.constant:g}| <= {plan.tolerance:g}"


def grid_sampler(plan: Plan, seed: int) -> optuna.samplers.GridSampler:
    space = {"alpha": list(plan.alphas), "beta": list(plan.betas), "gamma": list(plan.gammas)}
    return optuna.samplers.GridSampler(space, seed=seed)


def run_grid(study: optuna.Study, plan: Plan, trainer: ProxyTrainer) -> None:
    """Every grid point not yet finished in ``study`` (so a rerun on the same storage resumes)."""
    feasible = [p for p in grid_points(plan) if p.violation(plan.constant, plan.tolerance) <= 0]
    log.info(
        "grid: %d points, %d within %s (trained), %d outside (recorded, not trained)",
        plan.grid_size,
        len(feasible),
        constraint_name(plan),
        plan.grid_size - len(feasible),
    )
    done = len(study.get_trials(deepcopy=False, states=_FINISHED))
    if done < plan.grid_size:
        study.optimize(
            lambda trial: grid_trial(trial, plan, trainer), n_trials=plan.grid_size - done, catch=(Exception,)
        )


def grid_trial(trial: optuna.Trial, plan: Plan, trainer: ProxyTrainer) -> float:
    point = GridPoint(
        trial.suggest_categorical("alpha", plan.alphas),
        trial.suggest_categorical("beta", plan.betas),
        trial.suggest_categorical("gamma", plan.gammas),
    )
    violation = point.violation(plan.constant, plan.tolerance)
    trial.set_constraint(constraint_name(plan), violation)
    spec = point.scaled(plan.base, plan.grid_phi)
    cost = count_cost(spec, num_classes=plan.num_classes)
    record(trial, feasible=violation <= 0, macs=cost.macs, params=cost.params, spec=dump_spec(spec))
    record_extra(trial, {"product": point.product, "phi": plan.grid_phi, "resolution": spec.resolution})
    if violation > 0:  # never built, never trained: the grid's constraint, as the paper imposes it
        raise optuna.TrialPruned(f"α·β²·γ² = {point.product:.3f} is outside {constraint_name(plan)}")
    accuracy = record_training(trainer, spec, trial)
    log.info(
        "grid trial %d: %s (α·β²·γ²=%.3f) %.1fM MACs, val_acc %.4f",
        trial.number,
        point.label(),
        point.product,
        cost.macs / 1e6,
        accuracy,
    )
    return accuracy


def best_point(study: optuna.Study) -> tuple[GridPoint, optuna.trial.FrozenTrial]:
    """The feasible trained point with the best proxy accuracy (ties: the earlier trial)."""
    trained = [
        t
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        if TrialRecord.of(t).feasible
    ]
    if not trained:
        raise RuntimeError("grid: no candidate finished training; see the trials' errors")
    best = max(trained, key=lambda t: (t.value, -t.number))
    return GridPoint(best.params["alpha"], best.params["beta"], best.params["gamma"]), best
