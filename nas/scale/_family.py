"""Step 2 of compound scaling: the family φ = 1..N, and the single-dimension networks of equal MACs.

Tan & Le (2019) argue for compound scaling by comparing, at matched FLOPs, a network scaled in all
three dimensions against the same base scaled in width, depth or resolution alone (their figures 3
and 8). Here every compound member φ fixes a MAC target, and each single dimension gets the
multiplier whose MACs come nearest to it (a monotone search over ``count_cost``). MACs are counted at
the specs' own resolutions (224 px based) for ``num_classes``, as the paper's FLOPs are.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import optuna

from nas.arch import ArchSpec, count_cost, dump_spec
from nas.scale._grid import GridPoint
from nas.scale._proxy import ProxyTrainer, seed_index, train_trial, training_seed
from nas.scaling import Coefficients, compound, scale, scale_resolution
from nas.study import Attr, Budget, record, record_extra

log = logging.getLogger("nas.scale")

SINGLE = ("width", "depth", "resolution")
KINDS = ("base", "compound", *SINGLE)
MAX_PHI = 20  # budget= looks no further: 2^20 times the base's FLOPs

MEMBER = "member"  # the trial attribute naming the family member a training is of


@dataclass(frozen=True)
class Member:
    """One network of the comparison: the base scaled by ``coefficients``; ``phi`` is the compound
    member whose MACs it matches (0: the base itself)."""

    kind: str
    phi: int
    coefficients: Coefficients
    spec: ArchSpec
    macs: int
    params: int

    def __post_init__(self) -> None:
        if self.kind not in KINDS or self.phi < 0 or (self.phi == 0) != (self.kind == "base"):
            raise ValueError(f"member: kind {self.kind!r} at φ={self.phi} is not one of the comparison")

    @property
    def key(self) -> str:
        return f"{self.kind}@{self.phi}"


def single(base: ArchSpec, kind: str, multiplier: float) -> Coefficients:
    """The coefficients that scale one dimension of ``base`` by ``multiplier``."""
    if kind == "width":
        return Coefficients(width=multiplier)
    if kind == "depth":
        return Coefficients(depth=multiplier)
    if kind == "resolution":
        return Coefficients(resolution=scale_resolution(base.resolution, multiplier))
    raise ValueError(f"kind: expected one of {', '.join(SINGLE)}; got {kind!r}")


def member(base: ArchSpec, kind: str, phi: int, coefficients: Coefficients, num_classes: int) -> Member:
    spec = scale(base, coefficients, name=f"{base.name}_{kind}{phi}" if phi else base.name)
    cost = count_cost(spec, num_classes=num_classes)
    return Member(kind, phi, coefficients, spec, cost.macs, cost.params)


def match_multiplier(cost_of: Callable[[float], int], target: int) -> float:
    """The multiplier m >= 1 whose cost comes nearest ``target`` (by ratio), for a cost that never
    decreases with m (a step function: widths round to multiples of 8, repeats and sides to integers).

    Bisection finds the first step reaching ``target`` and the step below it; of the two, the nearer.
    Each is the smallest multiplier giving its cost, so the multiplier reported is what that step needs.
    """
    if cost_of(1.0) >= target:
        return 1.0
    low, high = 1.0, 2.0
    while cost_of(high) < target:
        low, high = high, 2 * high
        if high > 2**10:
            raise ValueError(f"no multiplier up to {high:g} reaches {target}")
    above = _left_edge(cost_of, target, low, high)
    below_cost = cost_of(above - 1e-9)
    below = 1.0 if cost_of(1.0) >= below_cost else _left_edge(cost_of, below_cost, 1.0, above)
    best = min((below, above), key=lambda m: abs(math.log(cost_of(m) / target)))
    tidy = (round(best, 4), math.ceil(best * 1e4) / 1e4)  # four decimals, where they give the same cost
    return next((m for m in tidy if cost_of(m) == cost_of(best)), best)


def _left_edge(cost_of: Callable[[float], int], level: int, low: float, high: float) -> float:
    """The smallest m in (low, high] costing at least ``level``, given ``cost_of(low) < level <=
    cost_of(high)`` (to 2^-60 of the interval)."""
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if cost_of(middle) < level else (low, middle)
    return high


def plan_family(base: ArchSpec, point: GridPoint, n_phi: int, num_classes: int) -> list[Member]:
    """The base, then for each φ = 1..n_phi the compound member and its three matched single-dimension
    networks."""
    members = [member(base, "base", 0, Coefficients(), num_classes)]
    for phi in range(1, n_phi + 1):
        coefficients = compound(phi, base.resolution, point.alpha, point.beta, point.gamma)
        target = member(base, "compound", phi, coefficients, num_classes)
        members.append(target)
        for kind in SINGLE:

            def macs(m: float, kind: str = kind) -> int:
                return count_cost(scale(base, single(base, kind, m)), num_classes=num_classes).macs

            multiplier = match_multiplier(macs, target.macs)
            members.append(member(base, kind, phi, single(base, kind, multiplier), num_classes))
    return members


def fits(spec: ArchSpec, budgets: Iterable[Budget], num_classes: int) -> bool:
    cost = count_cost(spec, num_classes=num_classes)
    return all(b.violation(cost.macs, cost.params) <= 0 for b in budgets)


def largest_phi(base: ArchSpec, point: GridPoint, budgets: tuple[Budget, ...], num_classes: int) -> int:
    """The largest integer φ (up to :data:`MAX_PHI`) whose compound-scaled base meets every budget; 0
    when only the base does (the caller has checked that it does)."""
    phi = 0
    while phi < MAX_PHI and fits(point.scaled(base, phi + 1), budgets, num_classes):
        phi += 1
    return phi


def train_family(
    study: optuna.Study, members: list[Member], trainer: ProxyTrainer, seeds: int, run_seed: int
) -> None:
    """Train every member once per seed index, skipping the trainings ``study`` already finished (a
    rerun resumes; a failed one is tried again). Seed index by seed index, every member at each: the
    pairs a comparison needs are complete as early as possible."""
    done = _done(study)
    for k in range(seeds):
        seed = training_seed(run_seed, "family", k)
        for m in (m for m in members if (m.key, dump_spec(m.spec), k) not in done):
            trial = study.ask()
            record(trial, macs=m.macs, params=m.params, spec=dump_spec(m.spec))
            extra = {"kind": m.kind, "phi": m.phi, "resolution": m.spec.resolution}
            record_extra(trial, {MEMBER: m.key, **extra, "coefficients": m.coefficients.to_data()})
            accuracy = train_trial(study, trainer, m.spec, trial, k, seed)
            if accuracy is not None:
                log.info("family %s seed %d/%d: val_acc %.4f", m.key, k + 1, seeds, accuracy)


def _done(study: optuna.Study) -> set[tuple[str, str, int]]:
    """(member, spec, seed index) of every finished training. The spec is part of the key: a rerun
    whose grid chose other coefficients (more seeds can change the choice) has other members under the
    same names, and must train them rather than take the old ones' accuracies."""
    done = set()
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        if (k := seed_index(t)) is not None:
            done.add((t.user_attrs.get(MEMBER, ""), t.user_attrs.get(Attr.SPEC.value, ""), k))
    return done


def trainings(
    study: optuna.Study, members: list[Member], seeds: int
) -> dict[tuple[str, int], optuna.trial.FrozenTrial]:
    """The training of each (member, seed index below ``seeds``): the finished one if there is one,
    else the latest attempt (failed, or left running by an interrupted run)."""
    specs = {m.key: dump_spec(m.spec) for m in members}
    out: dict[tuple[str, int], optuna.trial.FrozenTrial] = {}
    complete = optuna.trial.TrialState.COMPLETE
    for t in sorted(study.get_trials(deepcopy=False), key=lambda t: (t.state is complete, t.number)):
        key, k = t.user_attrs.get(MEMBER, ""), seed_index(t)
        if k is not None and k < seeds and specs.get(key) == t.user_attrs.get(Attr.SPEC.value):
            out[key, k] = t
    return out


def member_accuracies(study: optuna.Study, members: list[Member], seeds: int) -> dict[str, dict[int, float]]:
    """Member -> seed index -> validation accuracy, over the finished trainings."""
    out: dict[str, dict[int, float]] = {m.key: {} for m in members}
    for (key, k), t in trainings(study, members, seeds).items():
        if t.state is optuna.trial.TrialState.COMPLETE and t.value is not None:
            out[key][k] = t.value
    return out
