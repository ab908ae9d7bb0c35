"""Training a scaled spec on the proxy task, with its resolution scaled too.

The proxy trains the base at the data's resolution (``data.resolution``: 28 px for Fashion-MNIST unless
set lower, 32 px for digits; stem stride from ``proxy.stem_stride``), not at the spec's 224 px.
Resolution scaling must reach the proxy, or compound and resolution-only scaling would train the same
network as width and depth scaling alone: a spec at ``r`` px trains at ``data.resolution * r /
base.resolution``, rounded (γ^φ times the base's proxy resolution). One data module per proxy
resolution, loaded on first use.

Seeds: a network is trained once per seed index k; :func:`training_seed` derives the training's seed
from the run's seed, the study (grid or family) and k, never from a trial number, so a resumed run
trains exactly what an uninterrupted one would. Every network of a study trained at k gets the same
seed, so that paired comparisons compare trainings on the same order of images; the family's seeds
differ from the grid's, so that compound φ = 1 (the grid's chosen point) is trained afresh, not
re-read from the trainings it was chosen on (which would carry the choice's upward bias along).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import optuna

from nas.arch import ArchSpec, count_cost
from nas.blocks.costs import Cost
from nas.data import derive_seed
from nas.search import ProxyTask, TrainEvaluator
from nas.study import Attr, first_line, record, record_extra

log = logging.getLogger("nas.scale")

SEED_INDEX = "seed_index"  # the trial attribute: which of the run's seeds a training is (0..seeds-1)
TRAINING_SEED = "training_seed"  # the seed it trained with (data order and Lightning's generators)
# Derived seeds lie in [2^20, 2^31): inside what Lightning and numpy accept, and apart from the small
# seeds (run seed + trial number) a search's own trainings use.
_LOWEST, _HIGHEST = 2**20, 2**31


def training_seed(run_seed: int, study: str, k: int) -> int:
    """The seed of every training at seed index ``k`` in ``study`` ("grid" or "family") of a run."""
    return _LOWEST + derive_seed(run_seed, f"nas.scale {study} seed {k}") % (_HIGHEST - _LOWEST)


def proxy_resolution(data_resolution: int, spec_resolution: int, base_resolution: int) -> int:
    """The proxy's input side for a spec at ``spec_resolution`` whose base is at ``base_resolution``."""
    return max(1, round(data_resolution * spec_resolution / base_resolution))


class ProxyTrainer:
    """Trains specs scaled from a base at ``base_resolution``; each trial logs to ``logs/trials/NNNN``."""

    def __init__(self, task: ProxyTask, logs: Path, base_resolution: int) -> None:
        self.task = dataclasses.replace(task, run_dir=logs)
        self.base_resolution = base_resolution
        self._evaluators: dict[int, TrainEvaluator] = {}

    @property
    def data_resolution(self) -> int:
        return int(self.task.data["resolution"])

    def resolution(self, spec: ArchSpec) -> int:
        return proxy_resolution(self.data_resolution, spec.resolution, self.base_resolution)

    def evaluator(self, resolution: int) -> TrainEvaluator:
        if resolution not in self._evaluators:
            task = self.task.at_resolution(resolution)
            self._evaluators[resolution] = TrainEvaluator(task, pruning=False)
        return self._evaluators[resolution]

    def proxy_cost(self, spec: ArchSpec) -> Cost:
        """The cost of the network the proxy trains (its resolution, stem stride and classes)."""
        proxy = self.evaluator(self.resolution(spec)).proxy
        return count_cost(proxy.spec(spec), num_classes=proxy.datamodule.num_classes)

    def train(self, spec: ArchSpec, trial: optuna.Trial, seed: int) -> float:
        """Train ``spec`` with ``seed``: the order of the training images and Lightning's generators
        (initial weights, dropout). The split and the ``limit_*`` subsets stay the run's (``split_seed``),
        so every training is validated on the same images."""
        evaluator = self.evaluator(self.resolution(spec))
        metrics = evaluator.train(spec, seed, f"trials/{trial.number:04d}", data_seed=seed)
        record_extra(trial, {key: metrics[key] for key in ("val_acc", "val_loss", "train_seconds", "epochs")})
        return float(metrics["val_acc"])

    def describe(self) -> dict[str, Any]:
        described = self.evaluator(self.data_resolution).describe()
        return {
            **described,
            "seed": self.task.seed,  # the run's; each training's own is its trial's training_seed
            "resolution_rule": "data.resolution * spec.resolution / base.resolution",
        }


def train_trial(
    study: optuna.Study, trainer: ProxyTrainer, spec: ArchSpec, trial: optuna.Trial, k: int, seed: int
) -> float | None:
    """Train ``spec`` for ``trial`` at seed index ``k`` and tell ``study``: the accuracy, or None when
    the training failed (the trial failed, its error recorded; a rerun tries it again). The proxy
    network's cost is recorded first, so that a failed trial still says what it was."""
    cost = trainer.proxy_cost(spec)
    record_extra(
        trial,
        {
            SEED_INDEX: k,
            TRAINING_SEED: seed,
            "proxy_resolution": trainer.resolution(spec),
            "proxy_macs": cost.macs,
        },
    )
    try:
        accuracy = trainer.train(spec, trial, seed)
    except Exception as err:  # one failed network must not stop the others (nor lose their trainings)
        record(trial, error=f"{type(err).__name__}: {first_line(err)}")
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        log.warning("trial %d: training failed (%s)", trial.number, trial.user_attrs.get(Attr.ERROR.value))
        return None
    study.tell(trial, accuracy)
    return accuracy


def seed_index(t: optuna.trial.FrozenTrial) -> int | None:
    """The seed index of a training; None for a point never trained, or a trial of the one-seed
    protocol before ``seeds=`` (seeded with its trial number, so it matches no seed index)."""
    value = t.user_attrs.get(SEED_INDEX)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
