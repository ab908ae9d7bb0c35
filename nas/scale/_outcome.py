"""What a finished run found, as the outputs read it: one row per training (a network at one seed
index: ``grid.csv``, ``family.csv``) and one :class:`Summary` per network (mean ± std over its seeds and
its paired comparison: ``grid_summary.csv``, ``family_summary.csv``, the README's tables, the plot).

The comparisons: in the grid, the chosen point minus each point; in the family, the compound network
of the same φ minus each single-dimension one. Each is a mean paired difference with its 95% t-interval
and a verdict (nas.stats).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import optuna

from nas.scale import _family, _grid
from nas.scale._family import SINGLE, Member, member_accuracies
from nas.scale._grid import GridChoice, GridPoint, grid_points
from nas.scale._plan import Plan
from nas.scale._proxy import TRAINING_SEED
from nas.stats import Paired, Spread, Verdict, paired, spread
from nas.study import Attr

# A summary row's verdict, in words: the grid's from the chosen point's side, the family's from the
# compound network's.
GRID_WORDS = {
    Verdict.WIN: "worse",
    Verdict.LOSS: "better",
    Verdict.TIE: "tie",
    Verdict.ONE_SEED: Verdict.ONE_SEED.value,
}
FAMILY_WORDS = {
    Verdict.WIN: "compound wins",
    Verdict.LOSS: "compound loses",
    Verdict.TIE: "tie",
    Verdict.ONE_SEED: Verdict.ONE_SEED.value,
}


@dataclass(frozen=True)
class Outcome:
    plan: Plan
    grid: optuna.Study
    family: optuna.Study
    members: list[Member]
    choice: GridChoice  # the grid's decision
    budget_phi: int | None  # the largest φ meeting the budget; None without one
    evaluation: dict[str, Any]  # the proxy task, as the trainer describes it
    command: str

    @property
    def point(self) -> GridPoint:
        return self.choice.point

    def family_accuracies(self) -> dict[str, dict[int, float]]:
        return member_accuracies(self.family, self.members, self.plan.seeds)


@dataclass(frozen=True)
class Summary:
    """One network of a table: what it is, its accuracy over seeds, and its paired comparison."""

    facts: dict[str, Any]  # identity and costs, as the CSV columns name them
    accuracy: Spread | None  # None: not trained, or every training failed
    comparison: Paired | None  # grid: chosen minus this; family: compound minus this
    verdict: str

    def row(self, prefix: str) -> dict[str, Any]:
        a, c = self.accuracy, self.comparison
        return {
            **self.facts,
            "n": a.n if a else 0,
            "val_acc_mean": _round(a.mean if a else None),
            "val_acc_std": _round(a.std if a else None),
            f"{prefix}_minus_this": _round(c.mean if c else None),
            f"{prefix}_minus_this_low": _round(c.low if c else None),  # the 95% t-interval
            f"{prefix}_minus_this_high": _round(c.high if c else None),
            "verdict": self.verdict,
        }


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _training(t: optuna.trial.FrozenTrial | None, k: int | None) -> dict[str, Any]:
    """The columns of one training (a missing one: a member whose training was never started)."""
    done = t is not None and t.state is optuna.trial.TrialState.COMPLETE
    return {
        "seed_index": k,
        "training_seed": t.user_attrs.get(TRAINING_SEED) if t else None,
        "trial": t.number if t else None,
        "state": t.state.name.lower() if t else "missing",
        "val_acc": _round(t.value) if done and t else None,
        "train_seconds": t.user_attrs.get("train_seconds") if t else None,
        "error": (t.user_attrs.get(Attr.ERROR.value) if t else None) or "",
    }


# -- the grid ------------------------------------------------------------------------------------------


def _grid_facts(point: GridPoint, t: optuna.trial.FrozenTrial) -> dict[str, Any]:
    a = t.user_attrs
    return {
        "alpha": point.alpha,
        "beta": point.beta,
        "gamma": point.gamma,
        "product": _round(point.product),
        "feasible": a.get(Attr.FEASIBLE.value),
        "macs": a.get(Attr.MACS.value),
        "params": a.get(Attr.PARAMS.value),
        "resolution": a.get("resolution"),
        "proxy_resolution": a.get("proxy_resolution"),
        "proxy_macs": a.get("proxy_macs"),
    }


def grid_rows(study: optuna.Study, plan: Plan) -> list[dict[str, Any]]:
    """One row per training, in grid order then seed index; one per point outside the constraint."""
    order = {p: i for i, p in enumerate(grid_points(plan))}
    found = _grid.trainings(study, plan)
    keys = sorted(found, key=lambda pk: (order[pk[0]], -1 if pk[1] is None else pk[1]))
    return [{**_grid_facts(p, found[p, k]), **_training(found[p, k], k)} for p, k in keys]


def grid_summaries(outcome: Outcome) -> list[Summary]:
    """One per point of the grid that has a trial, in grid order."""
    found = _grid.trainings(outcome.grid, outcome.plan)
    by_point = _grid.accuracies(outcome.grid, outcome.plan)
    choice, out = outcome.choice, []
    for point in grid_points(outcome.plan):
        trials = [t for (p, _), t in found.items() if p == point]
        if not trials:
            continue
        values = by_point.get(point, {})
        accuracy = spread(values.values()) if values else None
        comparison = None if point == choice.point else choice.rivals.get(point)
        verdict = _grid_verdict(point, trials[0], choice, comparison)
        out.append(Summary(_grid_facts(point, trials[0]), accuracy, comparison, verdict))
    return out


def _grid_verdict(
    point: GridPoint, t: optuna.trial.FrozenTrial, choice: GridChoice, comparison: Paired | None
) -> str:
    if t.user_attrs.get(Attr.FEASIBLE.value) is False:
        return "outside the constraint"
    if point == choice.point:
        return "chosen"
    return GRID_WORDS[comparison.verdict] if comparison else "no finished training in common"


# -- the family ----------------------------------------------------------------------------------------


def _member_facts(m: Member, target: int, t: optuna.trial.FrozenTrial | None) -> dict[str, Any]:
    a = t.user_attrs if t else {}
    return {
        "phi": m.phi,
        "kind": m.kind,
        "width": m.coefficients.width,
        "depth": m.coefficients.depth,
        "resolution": m.spec.resolution,
        "macs": m.macs,
        "macs_vs_compound": _round(m.macs / target),
        "params": m.params,
        "proxy_resolution": a.get("proxy_resolution"),
        "proxy_macs": a.get("proxy_macs"),
    }


def _targets(members: list[Member]) -> dict[int, int]:
    """The MACs each φ's networks are matched to: the compound network's (the base's at φ = 0)."""
    return {m.phi: m.macs for m in members if m.kind in ("base", "compound")}


def family_rows(outcome: Outcome) -> list[dict[str, Any]]:
    """One row per member and seed index, member by member."""
    found = _family.trainings(outcome.family, outcome.members, outcome.plan.seeds)
    targets, rows = _targets(outcome.members), []
    for m in outcome.members:
        for k in range(outcome.plan.seeds):
            t = found.get((m.key, k))
            rows.append({**_member_facts(m, targets[m.phi], t), **_training(t, k)})
    return rows


def family_summaries(outcome: Outcome) -> list[Summary]:
    """One per member; a single-dimension member carries compound minus itself at its φ."""
    found = _family.trainings(outcome.family, outcome.members, outcome.plan.seeds)
    by_member = outcome.family_accuracies()
    compound = {m.phi: by_member[m.key] for m in outcome.members if m.kind == "compound"}
    targets, out = _targets(outcome.members), []
    for m in outcome.members:
        t = next((found[m.key, k] for k in range(outcome.plan.seeds) if (m.key, k) in found), None)
        values = by_member[m.key]
        comparison = paired(compound[m.phi], values) if m.kind in SINGLE else None
        verdict = FAMILY_WORDS[comparison.verdict] if comparison else ""
        if m.kind in SINGLE and comparison is None:
            verdict = "no finished training in common"
        accuracy = spread(values.values()) if values else None
        out.append(Summary(_member_facts(m, targets[m.phi], t), accuracy, comparison, verdict))
    return out
