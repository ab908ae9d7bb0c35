"""The units of work of a fidelity study and the function that does one, in a worker process or not.

A job is one network's zero-cost scores, its accuracy with a supernet's weights, or one training of it (a
proxy or a reference seed). Each gives rows of the study's journal (``fidelity_<space>_<data>_runs.csv``);
a job whose rows are there is done.
"""

from __future__ import annotations

import enum
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from nas.arch import ArchSpec, count_cost, load_spec
from nas.data import cached_datamodule, first_batch
from nas.errors import UsageError
from nas.fidelity._settings import COSTS, SUPERNET, TRAIN_PREFIX, Training
from nas.search import zero_cost_score
from nas.supernet import Supernet, extract, inherited_accuracy, load, validation_set
from nas.training import proxy_spec, quick_fit

REFERENCE = "reference"  # the journal's evaluator name for a reference training
FIELDS = (
    "network", "arch", "macs", "params", "evaluator", "seed", "epochs", "value",
    "seconds", "cpu_seconds", "protocol",
)  # fmt: skip


class Task(enum.Enum):
    SCORES = "scores"  # costs and zero-cost scores
    PROXY = "proxy"
    REFERENCE = "reference"
    SUPERNET = "supernet"  # the accuracy with a supernet's weights


@dataclass(frozen=True)
class Job:
    """One unit of work on the network ``name`` (its spec as YAML, so that it pickles plainly)."""

    task: Task
    name: str
    spec_yaml: str
    seed: int
    # The protocol trained; for SCORES the proxy's data and network, for SUPERNET the proxy's data.
    training: Training | None = None
    scores: tuple[str, ...] = ()  # SCORES
    batch: int = 64  # SCORES: images in the scoring batch
    ckpt: str | None = None  # SUPERNET: the supernet's checkpoint
    identity: str = ""  # SUPERNET: the checkpoint's identity (supernet_of), part of the rows' protocol
    calibration_batches: int = 0  # SUPERNET: batches of the proxy data batch norm is recalibrated on

    @property
    def evaluator(self) -> str:
        if self.task is Task.REFERENCE:
            return REFERENCE
        if self.task is Task.SUPERNET:
            return SUPERNET
        assert self.training is not None
        return f"{TRAIN_PREFIX}{self.training.epochs}ep"


def arch_hash(spec_yaml: str) -> str:
    return hashlib.sha256(spec_yaml.encode()).hexdigest()[:12]


def protocol_hash(data: dict[str, Any], training: Training | None, extra: dict[str, Any]) -> str:
    """A short fingerprint of everything a row's value depends on besides the network and the seed."""
    text = json.dumps(
        {"data": data, "training": training.to_data() if training else None, **extra},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def data_for(data: dict[str, Any], training: Training, seed: int, split_seed: int) -> dict[str, Any]:
    """The data config of one training: the protocol's subset sizes, the training's seed, and the study's
    one hold-out split (``split_seed``), the same for every training."""
    return {**data, **training.data_overrides(), "seed": seed, "split_seed": split_seed}


def run_job(job: Job, data: dict[str, Any], split_seed: int, threads: int | None) -> list[dict[str, Any]]:
    """Do ``job``; its journal rows without ``protocol`` (the caller knows it)."""
    if threads is not None:
        torch.set_num_threads(threads)
    spec = load_spec(job.spec_yaml)
    cost = count_cost(spec)
    base = {"network": job.name, "arch": arch_hash(job.spec_yaml), "macs": cost.macs, "params": cost.params}
    if job.task is Task.SCORES:
        return [{**base, **row} for row in _scores(job, spec, data, split_seed)]
    if job.task is Task.SUPERNET:
        return [{**base, **_inherited(job, spec, data, split_seed)}]
    assert job.training is not None
    t = job.training
    module = cached_datamodule(data_for(data, t, job.seed, split_seed))
    proxied = proxy_spec(spec, t.proxy, module.resolution).replace(in_channels=module.in_channels)
    m = quick_fit(proxied, module, t.optim.to_data(), t.epochs, job.seed)
    row = {
        "evaluator": job.evaluator, "seed": job.seed, "epochs": t.epochs, "value": m["val_acc"],
        "seconds": m["train_seconds"], "cpu_seconds": m["cpu_seconds"],
    }  # fmt: skip
    return [{**base, **row}]


def _scores(job: Job, spec: ArchSpec, data: dict[str, Any], split_seed: int) -> list[dict[str, Any]]:
    rows = []
    start, cpu = time.perf_counter(), time.process_time()
    cost = count_cost(spec)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    for name in COSTS:
        rows.append(
            {"evaluator": name, "value": getattr(cost, name), "seconds": seconds, "cpu_seconds": cpu_seconds}
        )
    assert job.training is not None  # the proxy protocol: its data and its network changes
    module = cached_datamodule(data_for(data, job.training, split_seed, split_seed))
    images, labels = first_batch(module, job.batch)
    proxied = proxy_spec(spec, job.training.proxy, module.resolution).replace(in_channels=module.in_channels)
    for name in job.scores:
        start, cpu = time.perf_counter(), time.process_time()
        value = zero_cost_score(proxied, images, labels, module.num_classes, name, job.seed)
        rows.append({
            "evaluator": name, "value": value, "seconds": time.perf_counter() - start,
            "cpu_seconds": time.process_time() - cpu,
        })  # fmt: skip
    return [{**r, "seed": job.seed, "epochs": 0} for r in rows]


# The supernet a process has loaded (it takes seconds), with its identity, by its file's path and version;
# and the images its networks are judged on, by the data's config and the number of calibration batches.
_SUPERNETS: dict[tuple[str, int, int], tuple[Supernet, str]] = {}
_IMAGES: dict[str, tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...], torch.Tensor]] = {}
_CHUNK = 1 << 20


def supernet_of(ckpt: str) -> tuple[Supernet, str]:
    """The supernet of the checkpoint ``ckpt`` and its identity, loaded once per process (again only if
    the file changes). The identity, ``<space fingerprint>-<sha256 of the file>``, changes with any
    retraining, so that the journal's rows of another supernet are never taken for this one's."""
    path = Path(ckpt)
    if not path.is_file():
        raise UsageError(f"supernet.ckpt: no checkpoint at {path}")
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _SUPERNETS:
        supernet = load(path)
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
        identity = f"{supernet.record.get('fingerprint', '?')}-{digest.hexdigest()[:16]}"
        _SUPERNETS.clear()  # one supernet at a time: a study has one
        _SUPERNETS[key] = (supernet, identity)
    return _SUPERNETS[key]


def _inherited(job: Job, spec: ArchSpec, data: dict[str, Any], split_seed: int) -> dict[str, Any]:
    assert job.training is not None and job.ckpt is not None  # the proxy protocol: its data
    supernet, identity = supernet_of(job.ckpt)
    if identity != job.identity:
        raise UsageError(f"supernet.ckpt: {job.ckpt} changed during the study ({job.identity} -> {identity})")
    config = data_for(data, job.training, job.seed, split_seed)
    key = json.dumps([config, job.calibration_batches], sort_keys=True, default=str)
    if key not in _IMAGES:
        module = cached_datamodule(config)
        size = module.batch_size
        images, _ = first_batch(module, job.calibration_batches * size)  # the same for every network
        _IMAGES[key] = (images.split(size), *validation_set(module))
    calibration, val_images, val_labels = _IMAGES[key]
    start, cpu = time.perf_counter(), time.process_time()
    accuracy = inherited_accuracy(extract(supernet, spec), calibration, val_images, val_labels)
    return {
        "evaluator": SUPERNET, "seed": job.seed, "epochs": 0, "value": accuracy,
        "seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu,
    }  # fmt: skip
