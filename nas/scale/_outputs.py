"""The run's files: ``grid.csv`` and ``family.csv`` (one row per training: a network at one seed index),
``grid_summary.csv`` and ``family_summary.csv`` (one row per network: n, mean and std over its seeds, and
its paired comparison with the 95% t-interval and the verdict), ``coefficients.yaml``,
``scaled_arch.yaml`` (with a budget), ``compound_scaling.png`` (nas.scale._plot) and ``README.md``
(nas.scale._readme), which states the outcome, whatever it is."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import yaml

from nas.arch import count_cost, dump_spec
from nas.scale._grid import constraint_name
from nas.scale._outcome import Outcome, family_rows, family_summaries, grid_rows, grid_summaries
from nas.scale._plot import PLOT, plot
from nas.scale._readme import markdown
from nas.study import describe


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_outputs(outcome: Outcome, run_dir: Path, seconds: float) -> list[Path]:
    grid, family = grid_summaries(outcome), family_summaries(outcome)
    files = [
        write_csv(run_dir / "grid.csv", grid_rows(outcome.grid, outcome.plan)),
        write_csv(run_dir / "grid_summary.csv", [s.row("chosen") for s in grid]),
        write_csv(run_dir / "family.csv", family_rows(outcome)),
        write_csv(run_dir / "family_summary.csv", [s.row("compound") for s in family]),
        run_dir / "coefficients.yaml",
    ]
    files[-1].write_text(yaml.safe_dump(coefficients(outcome), sort_keys=False, allow_unicode=True))
    if outcome.budget_phi is not None:
        files.append(write_scaled(outcome, run_dir / "scaled_arch.yaml"))
    files.append(plot(outcome, grid, family, run_dir / PLOT))
    readme = run_dir / "README.md"
    readme.write_text(markdown(outcome, grid, family, seconds))
    return [*files, readme]


def coefficients(outcome: Outcome) -> dict[str, Any]:
    p, plan, choice = outcome.point, outcome.plan, outcome.choice
    out = {
        "base": plan.base_arg,
        "alpha": p.alpha,
        "beta": p.beta,
        "gamma": p.gamma,
        "product": round(p.product, 4),
        "constraint": constraint_name(plan),
        "grid_phi": plan.grid_phi,
        "seeds": plan.seeds,
        "val_acc_mean": round(choice.accuracy.mean, 4),
        "val_acc_std": None if choice.accuracy.std is None else round(choice.accuracy.std, 4),
        "n": choice.accuracy.n,
        # The points the paired rule cannot tell from the chosen one (α/β/γ): the choice among them
        # is by mean alone.
        "tied_with": [f"{q.alpha:g}/{q.beta:g}/{q.gamma:g}" for q in choice.tied],
    }
    if outcome.budget_phi is not None:
        out |= {"budget": describe(plan.budgets), "budget_phi": outcome.budget_phi}
    return out


def write_scaled(outcome: Outcome, path: Path) -> Path:
    """The base compound-scaled with the largest φ meeting the budget, as a spec any command takes."""
    phi, p, plan = outcome.budget_phi, outcome.point, outcome.plan
    assert phi is not None
    spec = p.scaled(plan.base, phi)
    cost = count_cost(spec, num_classes=plan.num_classes)
    head = (
        f"# {plan.base_arg} compound-scaled with φ={phi} ({p.label()}), the largest φ meeting "
        f"{describe(plan.budgets)}: {cost.macs / 1e6:.1f}M MACs, {cost.params / 1e6:.2f}M params\n"
    )
    path.write_text(head + dump_spec(spec))
    return path


__all__ = ["PLOT", "Outcome", "write_outputs"]
