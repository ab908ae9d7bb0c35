"""Step 1 of compound scaling (Tan & Le 2019, section 3.3): a small grid search of α, β, γ under
α·β²·γ² ≈ constant, each candidate the base scaled with depth α^φ, width β^φ, resolution γ^φ and
trained on the proxy task.

The grid is an Optuna study over α, β and γ (categorical parameters, each point enqueued in turn). A
point within the constraint is trained once per seed index, each training its own trial; a point
outside it is one trial, recorded, pruned, and never built or trained. The constraint
|α·β²·γ² - constant| - tolerance is each trial's Optuna constraint (<= 0 feasible). The chosen point
is the best mean over seeds, compared pair by pair (same seed index) with the others (nas.stats).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import optuna

from nas.arch import ArchSpec, count_cost, dump_spec
from nas.records import Record, check_range
from nas.scale._plan import Plan
from nas.scale._proxy import ProxyTrainer, seed_index, train_trial, training_seed
from nas.scaling import compound, scale
from nas.stats import Paired, Spread, Verdict, first_best, paired, spread
from nas.study import Attr, record, record_extra

log = logging.getLogger("nas.scale")


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


def run_grid(study: optuna.Study, plan: Plan, trainer: ProxyTrainer, run_seed: int) -> None:
    """Record every point outside the constraint once, and train every point within it once per seed
    index, skipping what ``study`` already holds (so a rerun on the same storage resumes). Seed index
    by seed index: an interrupted run has whole seeds, every point at each."""
    points = grid_points(plan)
    feasible = [p for p in points if _within(p, plan)]
    log.info(
        "grid: %d points, %d within %s (trained %d times each), %d outside (recorded, not trained)",
        plan.grid_size,
        len(feasible),
        constraint_name(plan),
        plan.seeds,
        plan.grid_size - len(feasible),
    )
    _close_waiting(study)
    done = _done(study)
    for point in (p for p in points if p not in feasible and (p, None) not in done):
        study.tell(_ask(study, plan, point), state=optuna.trial.TrialState.PRUNED)
    for k in range(plan.seeds):
        seed = training_seed(run_seed, "grid", k)
        for point in (p for p in feasible if (p, k) not in done):
            _train(study, plan, trainer, point, k, seed)


def _close_waiting(study: optuna.Study) -> None:
    """A point enqueued by a run stopped before it asked for it would be handed to the next ask() in
    place of the point that one enqueues: closed as failed first."""
    for _ in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,)):
        study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)


def _done(study: optuna.Study) -> set[tuple[GridPoint, int | None]]:
    """(point, seed index) of every finished training, and (point, None) of every point recorded as
    outside the constraint."""
    done: set[tuple[GridPoint, int | None]] = set()
    for t in study.get_trials(deepcopy=False):
        if (point := point_of(t)) is None:
            continue
        if t.user_attrs.get(Attr.FEASIBLE.value) is False:
            done.add((point, None))
        elif t.state is optuna.trial.TrialState.COMPLETE and (k := seed_index(t)) is not None:
            done.add((point, k))
    return done


def point_of(t: optuna.trial.FrozenTrial) -> GridPoint | None:
    """The point of a trial; None for one closed before it took its parameters (_close_waiting)."""
    if not {"alpha", "beta", "gamma"} <= t.params.keys():
        return None
    return GridPoint(t.params["alpha"], t.params["beta"], t.params["gamma"])


def _ask(study: optuna.Study, plan: Plan, point: GridPoint) -> optuna.Trial:
    """A trial of ``point``, with its constraint and cost recorded: enqueued, so that its parameters
    are the point's with the grid's distributions, whatever the study's sampler."""
    study.enqueue_trial({"alpha": point.alpha, "beta": point.beta, "gamma": point.gamma})
    trial = study.ask()
    for name, values in (("alpha", plan.alphas), ("beta", plan.betas), ("gamma", plan.gammas)):
        trial.suggest_categorical(name, values)
    violation = point.violation(plan.constant, plan.tolerance)
    trial.set_constraint(constraint_name(plan), violation)  # <= 0 within it, as Optuna reads it
    spec = point.scaled(plan.base, plan.grid_phi)
    cost = count_cost(spec, num_classes=plan.num_classes)
    record(trial, feasible=violation <= 0, macs=cost.macs, params=cost.params, spec=dump_spec(spec))
    record_extra(trial, {"product": point.product, "phi": plan.grid_phi, "resolution": spec.resolution})
    return trial


def _train(
    study: optuna.Study, plan: Plan, trainer: ProxyTrainer, point: GridPoint, k: int, seed: int
) -> None:
    trial = _ask(study, plan, point)
    spec = point.scaled(plan.base, plan.grid_phi)
    accuracy = train_trial(study, trainer, spec, trial, k, seed)
    if accuracy is not None:
        log.info(
            "grid trial %d: %s (α·β²·γ²=%.3f) seed %d/%d, val_acc %.4f",
            trial.number,
            point.label(),
            point.product,
            k + 1,
            plan.seeds,
            accuracy,
        )


def accuracies(study: optuna.Study, plan: Plan) -> dict[GridPoint, dict[int, float]]:
    """Seed index -> validation accuracy of every trained point's finished trainings (seeds below
    ``plan.seeds`` only: a run asked for fewer seeds than its storage holds reports the ones asked for)."""
    out: dict[GridPoint, dict[int, float]] = {}
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        k, point = seed_index(t), point_of(t)
        if k is not None and k < plan.seeds and point and _within(point, plan) and t.value is not None:
            out.setdefault(point, {})[k] = t.value
    return out


def _within(point: GridPoint, plan: Plan) -> bool:
    """Within this plan's constraint: a storage reused with another tolerance may hold trainings of
    points now outside it, which must not be chosen."""
    return point.violation(plan.constant, plan.tolerance) <= 0


@dataclass(frozen=True)
class GridChoice:
    """The grid's decision: the point of the best mean accuracy over seeds, and its paired comparison
    (chosen minus rival) with every other trained point."""

    point: GridPoint
    accuracy: Spread
    rivals: dict[GridPoint, Paired | None]  # None: no seed in common

    @property
    def tied(self) -> list[GridPoint]:
        """The points the choice cannot be told apart from (their interval contains 0)."""
        return [p for p, c in self.rivals.items() if c is not None and c.verdict is Verdict.TIE]


def choose(study: optuna.Study, plan: Plan) -> GridChoice:
    """The best mean over seeds; equal means go to the earlier point of the grid (α, β, γ order).
    Ties by the paired rule do not change the choice, they are reported with it."""
    by_point = accuracies(study, plan)
    order = [p for p in grid_points(plan) if p in by_point]
    if not order:
        raise RuntimeError("grid: no candidate finished training; see the trials' errors")
    spreads = {p: spread(by_point[p].values()) for p in order}
    best = first_best(order, {p: s.mean for p, s in spreads.items()})
    rivals = {p: paired(by_point[best], by_point[p]) for p in order if p != best}
    return GridChoice(best, spreads[best], rivals)


def trainings(
    study: optuna.Study, plan: Plan
) -> dict[tuple[GridPoint, int | None], optuna.trial.FrozenTrial]:
    """The trial of each (point of the plan's grid, seed index below ``plan.seeds``): the finished one
    if there is one, else the latest attempt; (point, None) for a point recorded outside the constraint."""
    points = set(grid_points(plan))
    out: dict[tuple[GridPoint, int | None], optuna.trial.FrozenTrial] = {}
    complete = optuna.trial.TrialState.COMPLETE
    for t in sorted(study.get_trials(deepcopy=False), key=lambda t: (t.state is complete, t.number)):
        if (point := point_of(t)) is None or point not in points:
            continue
        outside = t.user_attrs.get(Attr.FEASIBLE.value) is False
        if outside and not _within(point, plan):
            out[point, None] = t
        elif not outside and _within(point, plan) and (k := seed_index(t)) is not None and k < plan.seeds:
            out[point, k] = t
    return out
