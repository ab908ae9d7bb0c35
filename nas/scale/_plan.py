"""What a scaling run is asked to do, read from its config and checked before the first training.

Two ways to say how large the grid's candidates are (Tan & Le 2019, section 3.3, step 1: "we first fix
φ = 1, assuming twice more resources available, and do a small grid search of α, β, γ"):

* ``target=2x``: the resources of one step of φ. The grid keeps α·β²·γ² ≈ 2 and trains each candidate
  at φ = 1; ``target=4x`` keeps α·β²·γ² ≈ 4 instead.
* ``phi=P``: the paper's constraint α·β²·γ² ≈ 2, candidates trained at φ = P (``phi=1`` is ``target=2x``).

Exactly one of the two is given; the constant is the FLOP multiple of one step of φ in the family too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nas import zoo
from nas.arch import ArchSpec, count_cost
from nas.errors import SpecError, UsageError, check_count
from nas.study import Budget, Metric, describe, parse_budget

PAPER_CONSTANT = 2.0  # α·β²·γ² ≈ 2: FLOPs double with each step of φ
_TARGET = re.compile(r"(?P<number>\d+(?:\.\d*)?|\.\d+)\s*[xX]?")


@dataclass(frozen=True)
class Plan:
    base: ArchSpec
    base_arg: str  # as given: a zoo name or a spec file
    constant: float  # the α·β²·γ² the grid keeps: the FLOP multiple of one step of φ
    grid_phi: float  # the φ the grid's candidates are trained at
    alphas: tuple[float, ...]
    betas: tuple[float, ...]
    gammas: tuple[float, ...]
    tolerance: float  # |α·β²·γ² - constant| <= tolerance is feasible
    n_phi: int  # the family: φ = 1..n_phi
    seeds: int  # every grid point and family member is trained once per seed index 0..seeds-1
    budgets: tuple[Budget, ...]
    num_classes: int  # classes the costs are counted for (ImageNet's, as the paper's FLOPs)

    def __post_init__(self) -> None:
        positive = self.n_phi >= 1 and self.seeds >= 1
        if not (self.constant > 1 and self.grid_phi > 0 and self.tolerance >= 0 and positive):
            raise ValueError(f"impossible plan: {self}")

    @property
    def grid_size(self) -> int:
        return len(self.alphas) * len(self.betas) * len(self.gammas)


def plan_from_config(config: Mapping[str, Any]) -> Plan:
    """The plan of a scaling run's config (plain data: the command converts its config at its edge)."""
    base = load_base(config["base"])
    constant, grid_phi = _step(config["target"], config["phi"])
    grid = config["grid"]
    if not isinstance(grid, Mapping):
        raise UsageError(f"grid: expected alpha, beta and gamma lists; got {grid!r}")
    plan = Plan(
        base=base,
        base_arg=str(config["base"]),
        constant=constant,
        grid_phi=grid_phi,
        alphas=_grid_values("grid.alpha", grid.get("alpha")),
        betas=_grid_values("grid.beta", grid.get("beta")),
        gammas=_grid_values("grid.gamma", grid.get("gamma")),
        tolerance=_number("tolerance", config["tolerance"], minimum=0.0),
        n_phi=_count("n_phi", config["n_phi"]),
        seeds=check_count("seeds", config["seeds"], 1),  # 0, -1 and 1.5 are usage errors
        budgets=_budgets(config["budget"]),
        num_classes=_count("num_classes", config["num_classes"]),
    )
    check_grid_has_feasible_points(plan)
    check_base_fits(plan)
    return plan


def check_grid_has_feasible_points(plan: Plan) -> None:
    """A grid with no point within the constraint would train nothing: said at once, with its nearest."""
    products = [a * b**2 * g**2 for a in plan.alphas for b in plan.betas for g in plan.gammas]
    nearest = min(products, key=lambda p: abs(p - plan.constant))
    if abs(nearest - plan.constant) > plan.tolerance:
        raise UsageError(
            f"grid: no point has α·β²·γ² within {plan.tolerance:g} of {plan.constant:g} (the nearest is "
            f"{nearest:.3f}); widen the grid or the tolerance"
        )


def load_base(value: Any) -> ArchSpec:
    """``base=NAME`` (the zoo) or ``base=PATH`` (a spec file, e.g. a search's ``best_arch.yaml``)."""
    if not isinstance(value, str) or not value:
        raise UsageError(
            "base: give a zoo name (base=efficientnet_b0) or a spec file (base=PATH/best_arch.yaml)"
        )
    is_file = value.endswith((".yaml", ".yml")) or "/" in value
    if not is_file and value not in zoo.names():
        raise UsageError(
            f"base: unknown network {value!r}; expected a spec file or one of: {', '.join(zoo.names())}"
        )
    try:
        return zoo.resolve(value)
    except SpecError as err:
        raise UsageError(f"base: {err}") from None


def _step(target: Any, phi: Any) -> tuple[float, float]:
    """(constant, grid φ) from ``target=`` or ``phi=``, exactly one of which is given."""
    if target is not None and phi is not None:
        raise UsageError(f"give target= or phi=, not both (got target={target} and phi={phi})")
    if target is None and phi is None:
        raise UsageError(
            "give target=2x (the resources of one step of φ) or phi=1 (the φ the grid trains at)"
        )
    if phi is not None:
        return PAPER_CONSTANT, _number("phi", phi, minimum=0.0, open_low=True)
    match = _TARGET.fullmatch(str(target).strip())
    value = float(match["number"]) if match else math.nan
    if not value > 1:  # NaN too
        raise UsageError(f"target: expected a FLOP multiple above 1 such as 2x; got {target!r}")
    return value, 1.0


def _grid_values(name: str, values: Any) -> tuple[float, ...]:
    """The grid of one coefficient: distinct numbers >= 1 (the paper's α, β, γ >= 1), at least one."""
    items = list(values) if isinstance(values, Sequence) and not isinstance(values, str) else None
    want = f"{name}: expected a list of distinct numbers >= 1, such as [1.0, 1.1, 1.2]; got {values!r}"
    if not items or any(isinstance(v, bool) or not isinstance(v, int | float) for v in items):
        raise UsageError(want)
    floats = tuple(float(v) for v in items)
    if any(not (math.isfinite(v) and v >= 1) for v in floats) or len(set(floats)) != len(floats):
        raise UsageError(want)
    return floats


def _number(name: str, value: Any, minimum: float, open_low: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < minimum or (open_low and value == minimum):
        raise UsageError(f"{name}: expected a number {'>' if open_low else '>='} {minimum:g}; got {value!r}")
    return float(value)


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{name}: expected an integer >= 1; got {value!r}")
    return value


def _budgets(value: Any) -> tuple[Budget, ...]:
    budgets = parse_budget(value)
    for budget in budgets:
        if budget.metric is Metric.LATENCY:
            raise UsageError(
                f"budget: nas.scale takes MAC and parameter budgets (300MFLOPs, 5Mparams); got {budget}"
            )
    return budgets


def check_base_fits(plan: Plan) -> None:
    """φ = 0 is the base itself: when even it is over the budget, no φ meets it."""
    cost = count_cost(plan.base, num_classes=plan.num_classes)
    if any(b.violation(cost.macs, cost.params) > 0 for b in plan.budgets):
        raise UsageError(
            f"budget: no φ >= 0 meets {describe(plan.budgets)}: the base {plan.base.name} alone has "
            f"{cost.macs / 1e6:.1f}M MACs and {cost.params / 1e6:.2f}M params at {plan.base.resolution} px"
        )
