"""A fidelity study from start to end: sample, plan the jobs, do those not yet in the journal, summarise."""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import traceback
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from nas.arch import dump_spec
from nas.data import cached_datamodule
from nas.errors import UsageError
from nas.fidelity._jobs import (
    REFERENCE,
    Job,
    Task,
    arch_hash,
    data_for,
    protocol_hash,
    run_job,
    supernet_of,
)
from nas.fidelity._journal import Journal, Key
from nas.fidelity._sample import Candidate, sample_networks
from nas.fidelity._settings import COSTS, SUPERNET, FidelitySettings, Training
from nas.spaces import from_config
from nas.study import parse_budget
from nas.supernet import check_fits
from nas.training import ProxySettings


@dataclass(frozen=True)
class Inherited:
    """The supernet the ``supernet`` evaluator inherits weights from, as checked before any job runs."""

    ckpt: str
    identity: str  # <space fingerprint>-<sha256 of the checkpoint>: its rows' protocol
    proxy: ProxySettings  # how the supernet makes a network of a spec (its width, its stem's stride)


@dataclass(frozen=True)
class Study:
    """What a study is run on: its settings, the data's config, its sample and its journal."""

    settings: FidelitySettings
    data: dict[str, Any]  # the data module's config (``_target_`` and arguments) as plain data
    data_name: str
    sample: list[Candidate]
    journal: Journal
    supernet: Inherited | None = None  # with the evaluator ``supernet`` only

    def protocol(self, job: Job) -> str:
        t = job.training
        assert t is not None
        extra: dict[str, Any] = {"split_seed": self.settings.seed}
        data = {k: v for k, v in self.data.items() if k != "seed"}
        if job.task is Task.SUPERNET:
            # The supernet and the images it is judged on; nothing of the proxy's training (its epochs,
            # network or optimizer), so that tuning the proxy keeps these rows and a new supernet does not.
            extra |= {
                "proxy_data": t.data_overrides(),
                "supernet": job.identity,
                "calibration_batches": job.calibration_batches,
            }
            return protocol_hash(data, None, extra)
        if job.task is Task.SCORES:
            extra["batch"] = job.batch
        return protocol_hash(data, t, extra)

    def keys(self, job: Job) -> dict[str, Key]:
        """The journal keys of the values ``job`` gives, by evaluator name."""
        protocol, arch = self.protocol(job), arch_hash(job.spec_yaml)
        names = (*COSTS, *job.scores) if job.task is Task.SCORES else (job.evaluator,)
        return {name: (job.name, arch, name, job.seed, protocol) for name in names}

    def done(self, job: Job) -> bool:
        return all(self.journal.has(key) for key in self.keys(job).values())


def prepare(settings: FidelitySettings, data: dict[str, Any], out: Path) -> Study:
    """Check every input (raising :class:`UsageError`), load the data once, draw the sample."""
    module = cached_datamodule(data_for(data, settings.proxy, settings.seed, settings.seed))
    if module.validates_on_test:
        raise UsageError(
            "data.split=test: a fidelity study ranks networks on the validation hold-out; the test set is "
            "for final reporting only"
        )
    space = from_config(settings.space)
    sample = sample_networks(space, parse_budget(settings.budget), settings.n, settings.seed)
    inherited = None
    if SUPERNET in settings.chosen():
        ckpt = settings.supernet.ckpt
        assert ckpt is not None  # the settings' validation: no evaluator supernet without a checkpoint
        supernet, identity = supernet_of(ckpt)  # loaded here once: this process's jobs reuse it
        check_fits(supernet, space, module.describe(), where=ckpt)
        inherited = Inherited(ckpt, identity, supernet.setting.proxy)
    path = out / f"fidelity_{settings.space_name()}_{module.name}_runs.csv"
    return Study(settings, data, module.name, sample, Journal(path), inherited)


def plan(study: Study) -> list[Job]:
    """Every job of the study, cheapest first: scores, the supernet's accuracies, then proxies by
    epochs, then reference seeds."""
    s = study.settings
    jobs: list[Job] = []
    for c in study.sample:
        jobs.append(
            Job(
                Task.SCORES,
                c.spec.name,
                dump_spec(c.spec),
                s.seed,
                s.proxy,
                s.zero_cost_scores(),
                s.zero_cost_batch,
            )
        )
    if study.supernet is not None:
        i = study.supernet
        jobs += [
            Job(Task.SUPERNET, c.spec.name, dump_spec(c.spec), s.seed, s.proxy, ckpt=i.ckpt,
                identity=i.identity, calibration_batches=s.supernet.calibration_batches)
            for c in study.sample
        ]  # fmt: skip
    for epochs in s.train_epochs():
        training = s.proxy.replace(epochs=epochs)
        jobs += [Job(Task.PROXY, c.spec.name, dump_spec(c.spec), s.seed, training) for c in study.sample]
    for seed in reference_seeds(s):
        jobs += [
            Job(Task.REFERENCE, c.spec.name, dump_spec(c.spec), seed, s.reference.training)
            for c in study.sample
        ]
    return jobs


def reference_seeds(s: FidelitySettings) -> tuple[int, ...]:
    """The reference trainings' seeds: after the proxies' (``seed``), so that no proxy shares one."""
    return tuple(s.seed + 1 + i for i in range(s.reference.seeds))


def execute(study: Study, jobs: list[Job]) -> int:
    """Do the jobs not yet in the journal, ``workers`` at a time; returns how many failed. A failing job
    is recorded with its error and a NaN value (ranked last), never stopping the others."""
    todo = [j for j in jobs if not study.done(j)]
    failed = 0
    bar = tqdm(
        total=len(jobs), initial=len(jobs) - len(todo), unit="job", desc="fidelity", dynamic_ncols=True
    )
    with bar:
        for job, rows in _results(study, todo):
            protocol = study.protocol(job)
            failed += any(r.get("error") for r in rows)
            study.journal.append([{**r, "protocol": protocol} for r in rows])
            bar.set_postfix_str(f"{job.name} {job.evaluator if job.task is not Task.SCORES else 'scores'}")
            bar.update()
    return failed


def _results(study: Study, jobs: list[Job]) -> Iterator[tuple[Job, list[dict[str, Any]]]]:
    workers = study.settings.workers
    args = (study.data, study.settings.seed)
    # With one worker every job runs here; with more, the supernet's too (a few seconds each, with the
    # supernet this process has loaded), on one thread like a worker's, before the workers start.
    here = [j for j in jobs if workers == 1 or j.task is Task.SUPERNET]
    threads = torch.get_num_threads()
    try:
        for job in here:
            yield job, _guarded(job, *args, None if workers == 1 else 1)
    finally:
        torch.set_num_threads(threads)
    jobs = [j for j in jobs if j.task is not Task.SUPERNET] if workers > 1 else []
    if not jobs:
        return
    # One thread per worker: small networks use a core better this way, and each training's seconds are
    # then CPU-seconds of one core.
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = {pool.submit(_guarded, job, *args, 1): job for job in jobs}
        for future in cf.as_completed(futures):
            yield futures[future], future.result()


def _guarded(job: Job, data: dict[str, Any], split_seed: int, threads: int | None) -> list[dict[str, Any]]:
    # In a worker process too: Lightning's notices would break the progress bar's line.
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")  # Lightning's own use of a torch API
    try:
        return run_job(job, data, split_seed, threads)
    except Exception as err:  # recorded, never fatal: one failing network must not end the study
        reason = f"{type(err).__name__}: {err}".splitlines()[0][:300]
        traceback.print_exc()
        names = (*COSTS, *job.scores) if job.task is Task.SCORES else (job.evaluator,)
        arch = arch_hash(job.spec_yaml)
        trained = job.task in (Task.PROXY, Task.REFERENCE)
        epochs = job.training.epochs if trained and job.training is not None else 0
        return [
            {"network": job.name, "arch": arch, "macs": 0, "params": 0, "evaluator": e, "seed": job.seed,
             "epochs": epochs,
             "value": float("nan"), "seconds": float("nan"), "cpu_seconds": float("nan"), "error": reason}
            for e in names
        ]  # fmt: skip


__all__ = ["REFERENCE", "Inherited", "Study", "Training", "execute", "plan", "prepare", "reference_seeds"]
