"""Any number of workers on one study: the same command, started on as many machines as there are,
and ``workers=N`` processes on this machine (:func:`local_workers`).

Each worker runs one trial at a time through ``study.optimize`` (so Optuna's heartbeat thread runs
beside it) until ``n_trials`` trials are finished (complete or pruned) across all workers, counting
those of earlier runs. Exactly ``n_trials``, not ``n_trials`` plus the trials that were running when
the count was reached: a worker starts a new trial only while finished and running trials are fewer
than ``n_trials``, and waits while the last trials run elsewhere, because their worker may die and
their choices come back to the queue. Two workers can still start the last trial at the same moment;
the one whose trial has the higher number gives it up as ``surplus`` (recorded as failed, never run).
"""

from __future__ import annotations

import contextlib
import datetime
import multiprocessing
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState
from tqdm.auto import tqdm

from nas.search._evaluate import Evaluator
from nas.search._study import Search, make_trial_function
from nas.study import Attr, has_heartbeat, record

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
LIVE = (*FINISHED, TrialState.RUNNING, TrialState.WAITING)  # finished, or will be
MAX_FAILURES_IN_A_ROW = 5  # a worker whose every trial fails is misconfigured, not unlucky
POLL_S = 1.0  # how often a waiting worker looks for dead workers' trials
JOIN_S = 120.0  # how long local workers get to see the study finished and exit before they are stopped


class Surplus(Exception):
    """``n_trials`` were reached by other workers while this trial was being created."""


@dataclass(frozen=True)
class Tally:
    finished: int
    running: int
    waiting: int

    @classmethod
    def of(cls, study: optuna.Study) -> Tally:
        states = [t.state for t in study.get_trials(deepcopy=False)]
        count = states.count
        return cls(
            count(TrialState.COMPLETE) + count(TrialState.PRUNED),
            count(TrialState.RUNNING),
            count(TrialState.WAITING),
        )


def optimize(
    study: optuna.Study,
    search: Search,
    evaluator: Evaluator,
    *,
    grace: float = 60.0,
    poll: float = POLL_S,
    progress: bool = True,
) -> None:
    """Run trials until ``search.n_trials`` are finished in the study, by this worker and any others.

    A trial that raises is recorded as failed and the study goes on; a dead worker's trial is failed
    and re-queued by Optuna's heartbeat (database storages), and run here like any queued trial.
    Without a heartbeat (the journal file) a dead worker cannot be told from a slow one, so running
    trials are not waited for: workers stop at ``n_trials`` finished, and up to one trial per other
    worker may finish beyond it."""
    n, exact = search.n_trials, has_heartbeat(study)
    trial_function = make_trial_function(search, evaluator)
    if exact:
        trial_function = _guarded(trial_function, n)
    failures = 0
    with tqdm(total=n, desc="trials", unit="trial", dynamic_ncols=True, disable=not progress) as bar:
        while (tally := Tally.of(study)).finished < n:
            bar.update(tally.finished - bar.n)
            if exact and not tally.waiting and tally.finished + tally.running >= n:
                bar.set_postfix_str(f"waiting for {tally.running} running elsewhere")
                optuna.storages.fail_stale_trials(study)  # a dead worker's trial comes back queued
                fail_orphans(study, grace)
                time.sleep(poll)
                continue
            bar.set_postfix_str("")
            trial = _one_trial(study, trial_function)
            if trial.state is TrialState.FAIL and Attr.SURPLUS.value not in trial.user_attrs:
                failures += 1
                if failures >= MAX_FAILURES_IN_A_ROW:
                    bar.write(f"stopping this worker: its last {failures} trials failed (see trials.csv)")
                    return
            else:
                failures = 0
        bar.update(min(tally.finished, n) - bar.n)


@contextlib.contextmanager
def local_workers(count: int, target: Callable[..., None], *args: Any) -> Iterator[None]:
    """``count`` more workers on this machine while the body runs (this process is one more): processes
    running ``target(*args)``, which joins the study and runs :func:`optimize` like any other worker.
    Spawned, not forked: a fork would copy this process's torch threads and open connections. When the
    body ends the study is finished, so they exit on their own within a poll; any still alive after
    ``JOIN_S`` seconds, or when the body raised (Ctrl-C included), is stopped, and its running trial comes
    back through the heartbeat as any dead worker's does."""
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=target, args=args, name=f"worker-{i + 2}") for i in range(count)]
    for process in processes:
        process.start()
    try:
        yield
        for process in processes:
            process.join(JOIN_S)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join()


def fail_orphans(study: optuna.Study, grace: float) -> list[int]:
    """Fail the RUNNING trials whose worker died before the trial began: created more than ``grace``
    seconds ago and never given the worker's record (the first thing a trial sets). Such a worker may
    die before its heartbeat's first beat, and Optuna only fails trials that have beaten. Nothing was
    sampled yet, so there is nothing to re-queue; the finished count simply needs one more trial."""
    now, failed = datetime.datetime.now(), []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if (
            Attr.WORKER.value not in t.user_attrs
            and t.datetime_start
            and (now - t.datetime_start).total_seconds() > grace
        ):
            try:
                study.tell(t.number, state=TrialState.FAIL)
                failed.append(t.number)
            except (ValueError, RuntimeError):  # another worker failed it first
                pass
    return failed


def _one_trial(study: optuna.Study, function: Callable[[optuna.Trial], list[float]]) -> FrozenTrial:
    done: list[FrozenTrial] = []
    study.optimize(function, n_trials=1, catch=(Exception,), callbacks=[lambda _, t: done.append(t)])
    return done[0]


def _guarded(
    run_trial: Callable[[optuna.Trial], list[float]], n_trials: int
) -> Callable[[optuna.Trial], list[float]]:
    """``run_trial``, given up as surplus when ``n_trials`` trials with lower numbers are finished or
    under way (two workers started the last trial at once; the later one yields)."""

    def trial_function(trial: optuna.Trial) -> list[float]:
        earlier = [t for t in trial.study.get_trials(deepcopy=False, states=LIVE) if t.number < trial.number]
        if len(earlier) >= n_trials:
            record(
                trial, surplus=True, error=f"Surplus: {n_trials} trials were started by other workers first"
            )
            raise Surplus(f"n_trials={n_trials} reached by other workers")
        return run_trial(trial)

    return trial_function


__all__ = ["FINISHED", "Surplus", "Tally", "local_workers", "optimize"]
