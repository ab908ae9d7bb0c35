"""Many workers on one study, and workers that die: real processes, a real PostgreSQL server, SIGKILL.

The trials are zero-cost (a training-free score: about a second each), so that the tests exercise the
storage, the heartbeat and the retries rather than training.
"""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import torch
from optuna.trial import FrozenTrial, TrialState

from nas import build_model, load_spec
from nas.search import Evaluator, Heartbeat, ProxyTask, ZeroCostEvaluator, make_storage, run
from nas.study import journal_path, record, with_driver
from tests.search.test_search import DATA, config

WORKER = [
    sys.executable,
    "-m",
    "nas.search",
    "space=mnas",
    "budget=300MFLOPs",
    "evaluator=zero_cost",
    "evaluator.batch_size=64",
    *DATA,
    # A worker silent for 8 s is dead: short enough for a test, long enough for a busy 2-core machine.
    "heartbeat.interval=1",
    "heartbeat.grace=8",
]


def start(run_dir: Path, *args: str) -> subprocess.Popen:
    run_dir.mkdir(parents=True, exist_ok=True)
    log = (run_dir / "worker.log").open("a")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # three workers share two cores
    return subprocess.Popen(
        [*WORKER, f"hydra.run.dir={run_dir}", *args], stdout=log, stderr=subprocess.STDOUT, env=env
    )


def kill_mid_trial(worker: subprocess.Popen, storage: str, name: str) -> int:
    """SIGKILL ``worker`` (one running :class:`StallingEvaluator`) while it evaluates a trial; the trial's
    number. Its trial stalls until the kill, so the kill lands mid-trial however slow the machine."""
    me = f"{socket.gethostname()}:{worker.pid}"
    deadline, study = time.monotonic() + 300, None
    while time.monotonic() < deadline:
        assert worker.poll() is None, "the worker ended before it could be killed"
        study = study or _load(storage, name)  # one connection, kept: unfinished trials are read afresh
        stalled = [
            t
            for t in (study.get_trials(states=(TrialState.RUNNING,)) if study else [])
            if t.user_attrs.get("worker") == me and t.user_attrs.get(STALLED) is True
        ]
        if stalled:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
            return stalled[0].number
        time.sleep(0.05)
    raise AssertionError("the worker never stalled in a trial to be killed")


def _load(storage: str, name: str) -> optuna.Study | None:
    try:
        return optuna.load_study(study_name=name, storage=make_storage(storage, create=False))
    except Exception:  # not created yet
        return None


def check_study(storage: str, name: str, run_dir: Path, n_trials: int, killed: int) -> None:
    """What the issue asks after a worker was killed: nothing lost, nothing twice, everything whole."""
    study = optuna.load_study(study_name=name, storage=make_storage(storage, create=False))
    trials = study.get_trials()
    by_number = {t.number: t for t in trials}
    assert sorted(by_number) == list(range(len(trials)))  # no number twice, none missing

    complete = [t for t in trials if t.state is TrialState.COMPLETE]
    assert len(complete) == n_trials

    # The killed trial: failed by the heartbeat (it was RUNNING when its worker died) and re-run once
    # with the same choices, by a live worker, to the end.
    assert by_number[killed].state is TrialState.FAIL
    retries = [t for t in trials if t.system_attrs.get("retry_history") == [killed]]
    assert len(retries) == 1, [t.number for t in retries]
    assert retries[0].state is TrialState.COMPLETE
    assert retries[0].params == by_number[killed].params
    assert retries[0].user_attrs["worker"] != by_number[killed].user_attrs["worker"]

    # Every trial the killed worker started is complete, or failed and retried.
    victim = by_number[killed].user_attrs["worker"]
    retried = {t.system_attrs["retry_history"][-1] for t in trials if t.system_attrs.get("retry_history")}
    for t in trials:
        if t.user_attrs.get("worker") == victim:
            assert t.state is TrialState.COMPLETE or (t.state is TrialState.FAIL and t.number in retried)

    for t in complete:
        _check_whole(t)

    with (run_dir / "trials.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["number"]) for r in rows] == sorted(by_number)  # every trial, once
    # Optuna's best trial is the best feasible one (constraints): over-budget baselines do not count.
    feasible = [r for r in rows if r["state"] == "COMPLETE" and r["feasible"] == "True"]
    best_row = max(feasible, key=lambda r: float(r["objective"]))
    assert float(best_row["objective"]) == study.best_value
    assert int(best_row["number"]) == study.best_trial.number
    assert "re-run as trial" in rows[killed]["error"]


def _check_whole(t: FrozenTrial) -> None:
    """A complete trial's record is whole: its spec parses and rebuilds to the recorded size."""
    spec = load_spec(t.user_attrs["spec"])
    with torch.device("meta"):
        model = build_model(spec, num_classes=1000)
    assert sum(p.numel() for p in model.parameters()) == t.user_attrs["params"]
    for key in ("seed", "config", "nas_version", "torch", "device", "worker", "macs", "feasible"):
        assert key in t.user_attrs, (t.number, key)


def test_three_workers_on_postgresql_survive_one_killed_mid_trial(postgres_url: str, tmp_path: Path) -> None:
    name, n = "three-workers", 24
    args = (f"storage={postgres_url}", f"study_name={name}", f"n_trials={n}")
    workers = [start(tmp_path / f"worker{i}", *args) for i in (1, 2)]
    try:
        killed = kill_mid_trial(start(tmp_path / "worker0", *args, STALLING), postgres_url, name)
        for worker in workers:
            assert worker.wait(timeout=600) == 0, (tmp_path / "worker1" / "worker.log").read_text()[-3000:]
    finally:
        for worker in workers:
            worker.kill()
    check_study(postgres_url, name, tmp_path / "worker1", n, killed)
    check_study(postgres_url, name, tmp_path / "worker2", n, killed)


def test_a_search_killed_and_restarted_on_sqlite_loses_nothing(tmp_path: Path) -> None:
    storage, name, n = f"sqlite:///{tmp_path / 'study.db'}", "mnas-300MFLOPs", 10
    killed = kill_mid_trial(start(tmp_path, f"n_trials={n}", STALLING), storage, name)
    restarted = start(tmp_path, f"n_trials={n}")
    assert restarted.wait(timeout=600) == 0, (tmp_path / "worker.log").read_text()[-3000:]
    check_study(storage, name, tmp_path, n, killed)


def test_local_workers_share_one_study_and_finish_exactly_n_trials(tmp_path: Path) -> None:
    """``workers=2``: a second process joins the run's SQLite study; together they finish exactly
    ``n_trials``, each trial whole, and the first worker writes the outputs."""
    n, target = 6, "tests.search.test_workers.TwoWorkersEvaluator"
    files = run(
        config(tmp_path, f"n_trials={n}", "baselines=[]", "workers=2", f"evaluator._target_={target}"),
        tmp_path,
    )
    study = optuna.load_study(study_name="mnas-300MFLOPs", storage=f"sqlite:///{tmp_path / 'study.db'}")
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == n
    # Both workers may start the last trial at once; the later one yields it, failed and never run.
    surplus = [t for t in study.trials if t.state is not TrialState.COMPLETE]
    assert all(t.state is TrialState.FAIL and t.user_attrs["surplus"] and not t.params for t in surplus)
    assert len({t.user_attrs["worker"] for t in complete}) == 2  # both processes ran trials
    assert len({t.user_attrs["sampler_seed"] for t in complete}) == 2  # and sampled apart
    for t in complete:
        _check_whole(t)
    counted = f"{n} complete" + (f", {len(surplus)} surplus, never run" if surplus else "")
    assert files[-1].name == "summary.md"
    assert f"{len(study.trials)} trials ({counted})" in files[-1].read_text()


def test_the_summary_counts_a_surplus_trial_apart_from_the_failures(tmp_path: Path) -> None:
    cfg = config(tmp_path, "n_trials=2", "baselines=[]", f"evaluator._target_={__name__}.HalfEvaluator")
    run(cfg, tmp_path)
    study = optuna.load_study(study_name="mnas-300MFLOPs", storage=f"sqlite:///{tmp_path / 'study.db'}")
    given_up = study.ask()  # as a worker that started the last trial a moment after another would
    record(given_up, surplus=True, error="Surplus: 2 trials were started by other workers first")
    study.tell(given_up, state=TrialState.FAIL)
    files = run(cfg, tmp_path)  # the study is finished: nothing runs, the outputs are written again
    assert "3 trials (2 complete, 1 surplus, never run)" in files[-1].read_text()
    rows = list(csv.DictReader((tmp_path / "trials.csv").open()))
    assert [r["state"] for r in rows] == ["COMPLETE", "COMPLETE", "FAIL"]
    assert rows[2]["error"].startswith("Surplus")


STALL_AFTER = 2
STALLED = "stalled"  # the record a stalled trial gets before it stalls


class StallingEvaluator(ZeroCostEvaluator):
    """The zero-cost score, except that a candidate begun once ``STALL_AFTER`` trials are complete never
    ends: its worker is there to be killed mid-trial. Without the stall a one-second trial may end
    between being seen and the kill, and by the time another worker has started the others may have
    finished the study."""

    def evaluate(self, spec, trial) -> float:
        if len(trial.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))) < STALL_AFTER:
            return super().evaluate(spec, trial)
        trial.set_user_attr(STALLED, True)
        time.sleep(600)  # the test kills this worker long before
        raise AssertionError("the stalled worker was never killed")


STALLING = f"evaluator._target_={__name__}.{StallingEvaluator.__name__}"  # a worker's override


class HalfEvaluator(Evaluator):
    """Every candidate scores 0.5 at once."""

    quality = "val_acc"

    def __init__(self, task: ProxyTask, score: str = "", batch_size: int = 0) -> None:
        pass

    def evaluate(self, spec, trial) -> float:
        return 0.5

    def describe(self) -> dict[str, object]:
        return {"evaluator": "half"}


class TwoWorkersEvaluator(Evaluator):
    """Holds each trial until two workers have begun one, so that the test does not depend on how soon
    the second process starts; every candidate scores 0.5."""

    quality = "val_acc"

    def __init__(self, task: ProxyTask, score: str = "", batch_size: int = 0) -> None:
        pass

    def evaluate(self, spec, trial) -> float:
        deadline = time.monotonic() + 300
        while len({t.user_attrs.get("worker") for t in trial.study.get_trials(deepcopy=False)} - {None}) < 2:
            assert time.monotonic() < deadline, "no second worker joined the study"
            time.sleep(0.2)
        return 0.5

    def describe(self) -> dict[str, object]:
        return {"evaluator": "two workers"}


def test_bad_database_urls_are_one_line_and_exit_status_2(postgres_url: str, tmp_path: Path) -> None:
    wrong_password = postgres_url.replace("nas-test-password", "wrong")
    unreachable = "postgresql://nas:secret@127.0.0.1:9/nas"  # port 9: nothing listens there
    for url, message in [(wrong_password, "password authentication failed"), (unreachable, "refused")]:
        result = subprocess.run(
            [*WORKER, f"storage={url}", f"hydra.run.dir={tmp_path}"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("error: storage: cannot open 'postgresql://nas:***@127.0.0.1")
        assert message in result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("other", "message"),
    [
        (
            ["objective=pareto"],
            "has directions ['maximize']; this run's objective needs ['maximize', 'minimize']",
        ),
        (["space=families"], "searches space 'mnas'"),
        (["budget=200MFLOPs"], "under budget 300MFLOPs; this run asks for space 'mnas'"),
    ],
)
def test_joining_a_study_made_for_another_search_is_refused(
    tmp_path: Path, other: list[str], message: str
) -> None:
    storage = f"storage=sqlite:///{tmp_path / 'study.db'}"
    run(config(tmp_path, "n_trials=1", "study_name=shared", "baselines=[]"), tmp_path)
    result = subprocess.run(
        [*WORKER, storage, "study_name=shared", f"hydra.run.dir={tmp_path}", *other],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_journal_file_holds_a_study_and_resumes(tmp_path: Path) -> None:
    storage = f"journal:{tmp_path / 'runs' / 'study.log'}"
    run(config(tmp_path, f"storage={storage}", "n_trials=2", "baselines=[]"), tmp_path)
    run(config(tmp_path, f"storage={storage}", "n_trials=3", "baselines=[]"), tmp_path)
    study = optuna.load_study(study_name="mnas-300MFLOPs", storage=make_storage(storage, create=False))
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3
    assert journal_path(storage).is_file()


def test_storage_urls() -> None:
    assert journal_path("journal:runs/a.log") == Path("runs/a.log")
    assert journal_path("journal:///shared/a.log") == Path("/shared/a.log")
    assert with_driver("postgresql+psycopg2://u@h/db") == "postgresql+psycopg2://u@h/db"  # named: kept
    assert with_driver("sqlite:///x.db") == "sqlite:///x.db"
    assert with_driver("postgres://u@h/db").startswith("postgresql")
    with pytest.raises(Exception, match="grace"):
        Heartbeat(interval=10, grace=5)


def test_a_trial_started_when_n_trials_are_under_way_is_surplus_and_never_runs(tmp_path: Path) -> None:
    from nas.search._workers import _guarded

    study = optuna.create_study(storage=make_storage(f"sqlite:///{tmp_path / 's.db'}", Heartbeat()))
    ran: list[int] = []

    def trial_function(trial: optuna.Trial) -> float:
        ran.append(trial.number)
        return 1.0

    others = [study.ask(), study.ask()]  # two trials running in other workers; n_trials = 2
    study.optimize(_guarded(trial_function, 2), n_trials=1, catch=(Exception,))
    assert ran == [] and study.trials[2].state is TrialState.FAIL
    assert study.trials[2].user_attrs["surplus"] is True

    study.tell(others[0], state=TrialState.FAIL)  # one of them failed: the next trial is needed
    study.optimize(_guarded(trial_function, 2), n_trials=1, catch=(Exception,))
    assert ran == [3] and study.trials[3].state is TrialState.COMPLETE


def test_a_trial_whose_worker_died_before_it_began_is_failed_after_the_grace(tmp_path: Path) -> None:
    from nas.search._workers import fail_orphans

    study = optuna.create_study(storage=make_storage(f"sqlite:///{tmp_path / 's.db'}", Heartbeat()))
    orphan, started = study.ask(), study.ask()  # the orphan's worker died before recording anything
    started.set_user_attr("worker", "elsewhere:1")
    assert fail_orphans(study, grace=60) == []  # too young to tell
    time.sleep(1.2)
    assert fail_orphans(study, grace=1) == [orphan.number]
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.RUNNING]
