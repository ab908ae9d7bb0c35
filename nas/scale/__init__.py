"""``python -m nas.scale base=efficientnet_b0 target=2x``: EfficientNet's compound scaling, end to end.

Tan & Le (2019), section 3.3: (1) with φ = 1, a small grid search of α, β, γ under α·β²·γ² ≈ 2, each
candidate trained on the proxy task (an Optuna study over the grid; points outside the constraint are
recorded, never trained); (2) with the chosen α, β, γ, the family φ = 1..N, each compared at matched
MACs with the base scaled in width, depth or resolution alone (the paper's figures 3 and 8). Every
network is trained ``seeds=`` times, and every decision is a paired comparison over seeds, with ties
called ties (nas.stats). Any base: a zoo name or a spec file (a search's ``best_arch.yaml``);
``budget=`` picks the largest φ that fits. The run directory holds ``README.md`` (the tables),
``compound_scaling.png``, ``grid.csv`` and ``family.csv`` (one row per training),
``grid_summary.csv`` and ``family_summary.csv`` (one row per network), ``coefficients.yaml``,
``scaled_arch.yaml`` (with a budget) and the study database, which a rerun resumes.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

import hydra
import optuna
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from nas.cli import exits_on_usage_error, hydra_argv
from nas.paths import CONF
from nas.scale._family import SINGLE, Member, largest_phi, match_multiplier, plan_family, single, train_family
from nas.scale._grid import GridChoice, GridPoint, choose, grid_points, run_grid
from nas.scale._outputs import Outcome, write_outputs
from nas.scale._plan import Plan, load_base, plan_from_config
from nas.scale._proxy import ProxyTrainer, proxy_resolution, training_seed
from nas.scale._readme import PhiDecision, decide, phi_sentence
from nas.search import proxy_task
from nas.stats import Paired, Verdict, paired


@exits_on_usage_error
def run(cfg: DictConfig, run_dir: Path, command: str = "python -m nas.scale") -> list[Path]:
    """The grid, the family and the outputs; returns the files written, ``README.md`` last. Every
    input is checked before the first training."""
    start = time.perf_counter()
    plan = plan_from_config(OmegaConf.to_container(cfg, resolve=True))  # type: ignore[arg-type]
    task = proxy_task(cfg, run_dir)  # the typed settings: nothing below reads the config
    storage = f"sqlite:///{run_dir / 'study.db'}"
    run_dir.mkdir(parents=True, exist_ok=True)
    grid = optuna.create_study(
        storage=storage, study_name=f"{plan.base.name}-grid", direction="maximize", load_if_exists=True
    )
    run_grid(grid, plan, ProxyTrainer(task, run_dir / "grid", plan.base.resolution), task.seed)
    choice = choose(grid, plan)
    members = plan_family(plan.base, choice.point, plan.n_phi, plan.num_classes)
    family = optuna.create_study(
        storage=storage, study_name=f"{plan.base.name}-family", direction="maximize", load_if_exists=True
    )
    trainer = ProxyTrainer(task, run_dir / "family", plan.base.resolution)
    train_family(family, members, trainer, plan.seeds, task.seed)
    point = choice.point
    budget_phi = largest_phi(plan.base, point, plan.budgets, plan.num_classes) if plan.budgets else None
    outcome = Outcome(plan, grid, family, members, choice, budget_phi, trainer.describe(), command)
    return write_outputs(outcome, run_dir, seconds=time.perf_counter() - start)


@hydra.main(version_base="1.3", config_path=str(CONF), config_name="scale")
def _main(cfg: DictConfig) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # our one line per training says enough
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    # The thread count is part of how a result was made: a shared 2-core machine runs far faster with one.
    threads = [f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}"] if "OMP_NUM_THREADS" in os.environ else []
    overrides = HydraConfig.get().overrides
    run_dir = [o for o in overrides.hydra if o.startswith("hydra.run.dir=")]  # where the results go
    command = " ".join([*threads, "python -m nas.scale", *overrides.task, *run_dir])
    files = run(cfg, Path(HydraConfig.get().runtime.output_dir), command)
    print(files[-1].read_text(), file=sys.stdout)


def main() -> None:
    hydra_argv("scale")
    _main()


__all__ = [
    "SINGLE",
    "GridChoice",
    "GridPoint",
    "Member",
    "Paired",
    "PhiDecision",
    "Plan",
    "ProxyTrainer",
    "Verdict",
    "choose",
    "decide",
    "grid_points",
    "largest_phi",
    "load_base",
    "main",
    "match_multiplier",
    "paired",
    "phi_sentence",
    "plan_family",
    "plan_from_config",
    "proxy_resolution",
    "run",
    "single",
    "training_seed",
]
