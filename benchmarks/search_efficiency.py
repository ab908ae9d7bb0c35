"""How many trials TPE and NSGA-II need to reach a target, against random search, in one run.

    python benchmarks/search_efficiency.py [--space mnas] [--budget 300MFLOPs] [--trials 200] [--seeds 5]

The objective is cheap and deterministic, so that the samplers, not the evaluation, are compared: the
parameter count of the network (capacity), to be maximised under the MAC budget, which is an Optuna
constraint exactly as in ``python -m nas.search`` (over-budget candidates are never scored). The target
is the 99th percentile of the feasible parameter counts of 2,000 random networks of the space (drawn
with another seed). Prints, per sampler, the trials each seed needed (``-`` when it never got there) and
the median.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings

import optuna
import torch

from nas import count_cost, spaces
from nas.search import parse_budget
from nas.spaces import SearchSpace

SAMPLERS = {
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    "tpe": lambda seed: optuna.samplers.TPESampler(
        seed=seed, n_startup_trials=8, multivariate=True, group=True
    ),
    "nsga2": lambda seed: optuna.samplers.NSGAIISampler(seed=seed, population_size=16),
}


def target(space: SearchSpace, limit: float, n: int = 2000) -> float:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=12345))
    values = []
    for _ in range(n):
        trial = study.ask()
        cost = count_cost(space.sample(trial))
        study.tell(trial, 0.0)
        if cost.macs <= limit:
            values.append(cost.params)
    return statistics.quantiles(values, n=100)[98]


def trials_to_target(
    space: SearchSpace, limit: float, goal: float, sampler: optuna.samplers.BaseSampler, max_trials: int
) -> int | None:
    study = optuna.create_study(sampler=sampler, direction="maximize")
    for number in range(1, max_trials + 1):
        trial = study.ask()
        cost = count_cost(space.sample(trial))
        trial.set_constraint("macs", (cost.macs - limit) / limit)
        feasible = cost.macs <= limit
        study.tell(trial, float(cost.params) if feasible else 0.0)
        if feasible and cost.params >= goal:
            return number
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default="mnas")
    parser.add_argument("--budget", default="300MFLOPs")
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    space = spaces.load(args.space)
    (budget,) = parse_budget(args.budget)
    goal = target(space, budget.limit)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, optuna {optuna.__version__}"
    )
    print(
        f"space {space.name}, budget {budget}: maximise parameters; target {goal / 1e6:.3f}M "
        f"(99th percentile of 2,000 random feasible networks); at most {args.trials} trials"
    )
    for name, make in SAMPLERS.items():
        start = time.perf_counter()
        counts = [
            trials_to_target(space, budget.limit, goal, make(seed), args.trials) for seed in range(args.seeds)
        ]
        reached = sorted(c for c in counts if c is not None)
        # Unreached seeds count as more than the limit, so the median stays honest.
        median = statistics.median([c if c is not None else args.trials + 1 for c in counts])
        shown = " ".join("-" if c is None else str(c) for c in counts)
        verdict = f"median {median:g}" if len(reached) * 2 > len(counts) else f"median > {args.trials}"
        print(
            f"{name:>7}: trials to target per seed: {shown}; {verdict} ({time.perf_counter() - start:.0f} s)"
        )


if __name__ == "__main__":
    main()
