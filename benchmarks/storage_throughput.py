"""How many trials per second each storage sustains, with 1, 2 and 4 workers, in one run.

    python benchmarks/storage_throughput.py [--trials 240] [--workers 1 2 4] [--postgres URL]

A trial here does to the storage what a search's trial does, minus the evaluation: it draws a network
of the ``mnas`` space (about 40 categorical parameters, through a random sampler), sets the per-trial
record (seed, resolved config, versions, worker) and the cost attributes, and finishes. The workers are
separate processes (as separate machines would be), started first and then released together; the rate
is the trials finished divided by the time from release to the last worker's end. Database storages
run Optuna's heartbeat, as the search does (interval 10 s). Storages: SQLite (a file), Optuna's journal
file, and PostgreSQL (``--postgres URL``, else a throwaway server on loopback, as in the tests).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import optuna

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.postgres: the throwaway server


def worker(url: str, name: str, n: int, barrier, results) -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    warnings.simplefilter("ignore")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    from nas import count_cost, spaces
    from nas.search import Heartbeat, make_storage
    from nas.search._provenance import worker_name

    space = spaces.load("mnas")
    record = {
        "seed": 0,
        "config": (ROOT / "conf" / "search.yaml").read_text(),
        "nas_version": "0.1.0",
        "torch": "2.13.0",
        "device": "cpu",
        "worker": worker_name(),
    }
    storage = make_storage(url, Heartbeat())  # (the journal has none; ignored there)
    study = optuna.load_study(study_name=name, storage=storage, sampler=optuna.samplers.RandomSampler())

    def objective(trial: optuna.Trial) -> float:
        for key, value in record.items():
            trial.set_user_attr(key, value)
        cost = count_cost(space.sample(trial), num_classes=1000)
        for key, value in cost._asdict().items():
            trial.set_user_attr(key, value)
        return cost.macs / 1e6

    barrier.wait()
    start = time.time()
    study.optimize(objective, n_trials=n, catch=(Exception,))
    results.put((start, time.time()))


def measure(url: str, workers: int, trials: int) -> float:
    from nas.search import Heartbeat, make_storage

    name = f"throughput-{workers}-{time.time_ns()}"
    storage = make_storage(url, Heartbeat())  # (the journal has none; ignored there)
    optuna.create_study(study_name=name, storage=storage)
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(workers), ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(url, name, trials // workers, barrier, results))
        for _ in range(workers)
    ]
    for p in procs:
        p.start()
    spans = [results.get(timeout=1800) for _ in procs]
    for p in procs:
        p.join()
    study = optuna.load_study(study_name=name, storage=make_storage(url, create=False))
    done = len(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,)))
    return done / (max(end for _, end in spans) - min(start for start, _ in spans))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=240, help="trials per measurement, over all workers")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--postgres", help="a PostgreSQL URL; default: a throwaway server on loopback")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    print(
        f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"optuna {optuna.__version__}; {args.trials} trials per row"
    )
    print("| storage | workers | trials/s |\n|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        urls = {"SQLite": f"sqlite:///{tmp}/study.db", "journal file": f"journal:{tmp}/study.log"}
        try:
            from tests.postgres import throwaway_server

            urls["PostgreSQL"] = args.postgres or stack.enter_context(throwaway_server(durable=True))
        except Exception as err:  # no server binaries here: say so and measure the others
            print(f"(PostgreSQL skipped: {err})")
        for label, url in urls.items():
            for workers in args.workers:
                print(f"| {label} | {workers} | {measure(url, workers, args.trials):.1f} |", flush=True)


if __name__ == "__main__":
    main()
