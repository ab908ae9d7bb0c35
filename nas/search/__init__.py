"""``python -m nas.search space=NAME budget=300MFLOPs``: Optuna explores a search space under budgets.

Candidates over a MAC or parameter budget are rejected from the spec alone (``count_cost``), never
built or trained; Optuna's samplers learn the feasible region from each trial's constraints. The run
directory (``hydra.run.dir``) holds the SQLite study, ``trials.csv``, ``best_arch.yaml`` (or
``pareto.csv`` and ``pareto/``) and ``summary.md``; running again with the same storage and study name
resumes until ``n_trials`` trials are finished in total. The same command started many times with one
``storage=postgresql://...`` and ``study_name=`` runs one study on many workers (``_workers.py``).
"""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path

import hydra
import optuna
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from nas._cli import exits_on_usage_error, hydra_argv
from nas._paths import CONF
from nas.search._evaluate import CombinedEvaluator, Evaluator, TrainEvaluator, ZeroCostEvaluator
from nas.search._latency import measure_finalists
from nas.search._objective import Objective
from nas.search._outputs import pareto_front, ranked_trials, write_outputs
from nas.search._study import Search, make_run, prepare
from nas.search._workers import optimize
from nas.search._zero_cost import ZERO_COST, grad_norm, naswot, synflow, zero_cost_score
from nas.study import Budget, BudgetError, Heartbeat, Metric, describe, make_storage, parse_budget


@exits_on_usage_error
def run(cfg: DictConfig, run_dir: Path) -> list[Path]:
    """The whole search; returns the output files. Every input is checked before the first trial."""
    from nas.report import write_report  # here: nas.report itself reads nas.search's modules

    search, study, evaluator = make_run(cfg, run_dir)
    optimize(study, search, evaluator, grace=cfg.heartbeat.grace)
    if search.latency is not None:  # the best candidates, predicted so far, are timed whole
        measure_finalists(study, ranked_trials(study), search.latency)
    files = write_outputs(study, search, evaluator, run_dir)
    report = write_report(study, run_dir, config=cfg, evaluation=evaluator.describe())
    return [*files[:-1], *report, files[-1]]  # the summary stays last: the command prints it


@hydra.main(version_base="1.3", config_path=str(CONF), config_name="search")
def _main(cfg: DictConfig) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the bar is Optuna's; the summary is ours
    # TPE's `group` option (conditional spaces) is marked experimental; it is what a conditional space needs.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    files = run(cfg, Path(HydraConfig.get().runtime.output_dir))
    print((files[-1]).read_text(), file=sys.stdout)


def main() -> None:
    hydra_argv()
    _main()


__all__ = [
    "ZERO_COST",
    "Budget",
    "BudgetError",
    "CombinedEvaluator",
    "Evaluator",
    "Heartbeat",
    "Metric",
    "Objective",
    "Search",
    "TrainEvaluator",
    "ZeroCostEvaluator",
    "describe",
    "grad_norm",
    "main",
    "make_storage",
    "naswot",
    "optimize",
    "pareto_front",
    "parse_budget",
    "prepare",
    "run",
    "synflow",
    "zero_cost_score",
]
