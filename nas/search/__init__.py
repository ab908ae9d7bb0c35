"""``python -m nas.search space=NAME budget=300MFLOPs``: Optuna explores a search space under budgets.

Candidates over a MAC or parameter budget are rejected from the spec alone (``count_cost``), never
built or trained; Optuna's samplers learn the feasible region from each trial's constraints. The run
directory (``hydra.run.dir``) holds the SQLite study, ``trials.csv``, ``best_arch.yaml`` (or
``pareto.csv`` and ``pareto/``) and ``summary.md``; running again with the same storage and study name
resumes until ``n_trials`` trials are finished in total. ``workers=N`` runs N processes on this machine
on the one study; the same command started many times with one ``storage=postgresql://...`` and
``study_name=`` runs one study on many machines (``_workers.py``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sys
import warnings
from pathlib import Path
from typing import Any

import hydra
import optuna
import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from nas.arch import load_spec
from nas.cli import (
    default_sweep_dir,
    exits_on_usage_error,
    hydra_argv,
    instantiate_group,
    space_overrides,
    sweep_job,
)
from nas.errors import UsageError, check_count
from nas.paths import CONF
from nas.report import write_report, write_sweep_report
from nas.search._evaluate import (
    CombinedEvaluator,
    Evaluator,
    ProxyTask,
    TrainEvaluator,
    ZeroCostEvaluator,
)
from nas.search._finalists import FinalistSettings, choose, retrain
from nas.search._latency import measure_finalists, open_latency
from nas.search._objective import Objective, Pareto, Reward
from nas.search._outputs import pareto_front, ranked_trials, write_outputs
from nas.search._preset import Preset, needs_table, resolve_budgets
from nas.search._provenance import provenance
from nas.search._study import (
    Search,
    check_reachable,
    find_baselines,
    load_space,
    start_run,
)
from nas.search._supernet import SupernetEvaluator
from nas.search._workers import local_workers, optimize
from nas.search._zero_cost import ZERO_COST, grad_norm, naswot, synflow, zero_cost_score
from nas.study import (
    Budget,
    BudgetError,
    Finalist,
    Heartbeat,
    Metric,
    SavedNetworks,  # the run directory's reader lives in nas.study; kept here for nas.search's users
    TrialRecord,
    describe,
    make_storage,
    measured_latencies,
    parse_budget,
    read_outputs,
    trial_records,
)
from nas.sweep import SweepJob
from nas.training import OptimSettings, ProxySettings

log = logging.getLogger("nas.search")
COMMAND = "python -m nas.search"
SWEEPS = "outputs/sweeps"  # where a sweep (-m) goes unless hydra.sweep.dir= says: one folder per sweep

# The config becomes typed settings here, at the command's edge: below this module nothing reads a
# DictConfig. `prepare` and `proxy_task` are the two halves (what to search, how to evaluate).


def prepare(cfg: DictConfig) -> Search:
    """The search ``cfg`` asks for, every input checked; the study itself is opened by :func:`run`."""
    plain = _plain(cfg)
    space = load_space(plain["space"], plain["resolution"])
    preset = Preset.of(plain)
    if preset is not None:
        preset.check(space, plain)
    num_classes = check_count("num_classes", plain["num_classes"], 1)
    seed = check_count("seed", plain["seed"], 0)
    latency = open_latency(plain["latency"], space, num_classes) if needs_table(plain["budget"]) else None
    budgets = resolve_budgets(plain["budget"], latency, space)
    check_reachable(space, budgets, num_classes)
    workers = check_count("workers", plain["workers"], 1)
    if latency is not None and workers > 1:
        log.warning(
            "workers: 1, not %d, under a latency budget: the table times parts as candidates need them, "
            "and a training beside a timing would slow it",
            workers,
        )
        workers = 1
    return Search(
        space=space,
        budgets=budgets,
        objective=instantiate_group(cfg.objective, "objective"),
        num_classes=num_classes,
        n_trials=check_count("n_trials", plain["n_trials"], 1),
        baselines=find_baselines(plain["baselines"], space),
        latency=latency,
        record=provenance(seed, plain),
        seed=seed,
        sampler=plain["sampler"],
        storage=plain["storage"],
        study_name=plain["study_name"],
        heartbeat=Heartbeat.from_data(plain["heartbeat"], "heartbeat"),
        workers=workers,
        space_overrides=space_overrides(),
        preset=preset,
        finalists=FinalistSettings.from_data(plain.get("finalists") or {}, "finalists"),
    )


def proxy_task(cfg: DictConfig, run_dir: Path) -> ProxyTask:
    """How candidates are evaluated: the proxy task's data, trainer, optimizer and proxy settings."""
    plain = _plain(cfg)
    return ProxyTask(
        data=plain["data"],
        trainer=plain["trainer"],
        optim=OptimSettings.from_data(plain["optim"], "optim"),
        proxy=ProxySettings.from_data(plain["proxy"], "proxy"),
        seed=plain["seed"],  # checked by ProxyTask
        run_dir=run_dir,
    )


def make_run(
    cfg: DictConfig, run_dir: Path, sweep: SweepJob | None = None
) -> tuple[Search, optuna.Study, Evaluator]:
    """The checked search, its evaluator (which loads the data: a missing data set stops us here) and
    the study, created or joined. A job of a sweep puts its study in the sweep's storage (unless
    ``storage=`` names one) under a name made of its swept overrides (unless ``study_name=`` gives one),
    and records itself in ``sweep.yaml``."""
    search = prepare(cfg)
    if sweep is not None:
        search = dataclasses.replace(
            search,
            storage=search.storage or sweep.storage(),
            study_name=search.study_name or sweep.study_name(search.space.name),
        )
    evaluator = instantiate_group(cfg.evaluator, "evaluator", proxy_task(cfg, run_dir))
    evaluator.prepare(search.space)
    search, study = start_run(search, evaluator, run_dir)
    if sweep is not None:
        sweep.record(study.study_name, search.storage or "")
    return search, study, evaluator


def _plain(cfg: DictConfig) -> dict[str, Any]:
    """The config as plain data, resolved (an unset ``${oc.env:...}`` is a usage error)."""
    try:
        plain = OmegaConf.to_container(cfg, resolve=True)
    except Exception as err:  # omegaconf's InterpolationResolutionError and kin
        raise UsageError(f"config: {str(err).strip().splitlines()[0]}") from None
    assert isinstance(plain, dict)
    return plain


@exits_on_usage_error
def run(cfg: DictConfig, run_dir: Path, sweep: SweepJob | None = None) -> list[Path]:
    """The whole search; returns the output files. Every input is checked before the first trial.
    ``sweep``: the sweep this run is a job of (``-m``), whose storage and ``sweep.html`` it shares."""
    search, study, evaluator = make_run(cfg, run_dir, sweep)
    if search.workers > 1:  # small proxies gain little from a second thread, much from a second trial
        torch.set_num_threads(1)
    with local_workers(search.workers - 1, _worker, _plain(cfg), str(run_dir), sweep):
        optimize(study, search, evaluator, grace=search.heartbeat.grace)
    if search.latency is not None:  # the best candidates, predicted so far, are timed whole
        measure_finalists(study, ranked_trials(study), search.latency)
    finalists = _retrain_finalists(cfg, run_dir, search, study)
    files = write_outputs(study, search, evaluator, run_dir, finalists)
    report = write_report(
        study, run_dir, config=_plain(cfg), evaluation=evaluator.describe(), storage=search.storage
    )
    if sweep is not None:  # the sweep's page, with every job so far
        report += write_sweep_report(sweep.sweep_dir)
    return [*files[:-1], *report, files[-1]]  # the summary stays last: the command prints it


def _retrain_finalists(cfg: DictConfig, run_dir: Path, search: Search, study: optuna.Study) -> list[Finalist]:
    """``finalists.seeds=K``: the best candidates and the baselines trained K more times each, on the
    proxy task whatever the search's evaluator (a zero-cost search's finalists are trained too)."""
    if search.finalists.seeds is None:
        return []
    if search.workers > 1:  # the trials are done: one training at a time may use every core again
        torch.set_num_threads(search.workers)
    trainer = TrainEvaluator(proxy_task(cfg, run_dir), pruning=False)
    records = trial_records(study.get_trials(deepcopy=False), measured=measured_latencies(study))
    ranked = trial_records(ranked_trials(study), measured=measured_latencies(study))
    chosen = choose(ranked, records, search.finalists.count)

    def train(r: TrialRecord, seed: int) -> float:
        folder = f"finalists/{r.number:04d}/seed{seed}"  # beside trials/NNNN, the search's own training
        return float(trainer.train(load_spec(r.spec or ""), seed, folder, data_seed=seed)["val_acc"])

    return retrain(study, chosen, search.finalists, search.seed, train)


def _worker(config: dict[str, Any], run_dir: str, sweep: SweepJob | None) -> None:
    """One more local worker (``workers=N``), in a spawned process: the run's config, already checked and
    resolved by the first worker, joins the study that worker made (in its sweep's storage, if any: the
    config records what the user gave, never the storage's path on this machine)."""
    torch.set_num_threads(1)
    _quiet()
    search, study, evaluator = make_run(OmegaConf.create(config), Path(run_dir), sweep)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches every worker; the first one reports
        optimize(study, search, evaluator, grace=search.heartbeat.grace, progress=False)


def _quiet() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the bar is Optuna's; the summary is ours
    # TPE's `group` option (conditional spaces) is marked experimental; it is what a conditional space needs.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    # Lightning 2.6 uses torch's LeafSpec, which torch 2.13 deprecates: once per trial, nothing to act on.
    warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)`", category=FutureWarning)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)


@hydra.main(version_base="1.3", config_path=str(CONF), config_name="search")
def _main(cfg: DictConfig) -> None:
    _quiet()
    files = run(cfg, Path(HydraConfig.get().runtime.output_dir), sweep_job(COMMAND))
    print((files[-1]).read_text(), file=sys.stdout)


def main() -> None:
    hydra_argv("search")
    sys.argv[1:] = default_sweep_dir(sys.argv[1:], SWEEPS, ignore=("n_trials", "workers", "heartbeat"))
    _main()


__all__ = [
    "ZERO_COST",
    "Budget",
    "BudgetError",
    "CombinedEvaluator",
    "Evaluator",
    "FinalistSettings",
    "Heartbeat",
    "Metric",
    "Objective",
    "Pareto",
    "Preset",
    "ProxyTask",
    "Reward",
    "SavedNetworks",
    "Search",
    "SupernetEvaluator",
    "TrainEvaluator",
    "ZeroCostEvaluator",
    "describe",
    "grad_norm",
    "main",
    "make_run",
    "make_storage",
    "naswot",
    "optimize",
    "pareto_front",
    "parse_budget",
    "prepare",
    "proxy_task",
    "ranked_trials",
    "read_outputs",
    "run",
    "synflow",
    "zero_cost_score",
]
