"""Evaluators: how good a candidate is, by training it on the proxy task or by a training-free score.

An evaluator is one method, ``evaluate(spec, trial) -> float`` (higher is better), plus ``describe()``
for the summary. It may raise :class:`optuna.TrialPruned` (a poor candidate stopped early, or screened
out) and records what it measured as the trial's user attributes. Each is built from its config group
(``conf/evaluator/NAME.yaml``, whose ``_target_`` names the class) and the run's :class:`ProxyTask`: a new
evaluator is one class and one YAML file.
"""

from __future__ import annotations

import abc
import dataclasses
from pathlib import Path
from typing import Any

import lightning as L
import optuna
import torch
from hydra.utils import instantiate
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from nas.arch import ArchSpec
from nas.data import first_batch
from nas.errors import UsageError, check_count
from nas.search._zero_cost import ZERO_COST, zero_cost_score
from nas.spaces import SearchSpace
from nas.study import Attr, TrialRecord, record, record_extra
from nas.training import OptimSettings, ProxySettings, TrainingFailed, fit, proxy_spec


class Evaluator(abc.ABC):
    quality: str  # what evaluate() returns: "val_acc" or the zero-cost score's name
    pruning: bool = False  # whether Optuna's pruner may stop a candidate by epoch
    epochs: int = 0  # epochs a candidate trains (the pruner's resource)

    @abc.abstractmethod
    def evaluate(self, spec: ArchSpec, trial: optuna.Trial) -> float:
        """The candidate's quality; raises :class:`optuna.TrialPruned` to stop it early."""

    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """What the evaluation was, for the summary and the trials' attributes."""

    def prepare(self, space: SearchSpace) -> None:  # noqa: B027 - most evaluators need nothing here
        """Refuse, before the first trial, a space this evaluator cannot judge (a usage error)."""


@dataclasses.dataclass(frozen=True)
class ProxyTask:
    """What every evaluator of a run shares: the proxy task's data (``conf/data``: a ``_target_`` and its
    arguments), Lightning's trainer options (``conf/trainer``), the optimizer, the proxy network's
    settings, the run's seed (a candidate trains with ``seed + trial number``) and where logs go."""

    data: dict[str, Any]
    trainer: dict[str, Any]
    optim: OptimSettings
    proxy: ProxySettings
    seed: int
    run_dir: Path

    def __post_init__(self) -> None:
        for name in ("data", "trainer"):
            if "_target_" not in getattr(self, name):
                raise UsageError(f"{name}: expected a _target_ to instantiate")
        check_count("seed", self.seed, 0)

    @property
    def epochs(self) -> int:
        return int(self.trainer.get("max_epochs", 1))

    def at_resolution(self, resolution: int) -> ProxyTask:
        """The same task with the images resized to ``resolution`` px."""
        return dataclasses.replace(self, data={**self.data, "resolution": resolution})


class _Proxy:
    """The proxy task's data, loaded once: the network ``spec`` becomes at the data's resolution."""

    def __init__(self, task: ProxyTask) -> None:
        self.settings = task.proxy
        self.datamodule = instantiate(task.data)
        self.datamodule.setup("fit")
        if getattr(self.datamodule, "validates_on_test", False):
            raise UsageError(
                "data.split=test: a search must never select on the test set; search on the validation "
                "hold-out (data.split=val) and report the test accuracy with python -m nas.train"
            )

    def spec(self, spec: ArchSpec) -> ArchSpec:
        proxied = proxy_spec(spec, self.settings, self.datamodule.resolution)
        return proxied.replace(in_channels=self.datamodule.in_channels)

    def batch(self, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The first training batch of ``size`` images (the same for every candidate)."""
        return first_batch(self.datamodule, size)

    def describe(self) -> dict[str, Any]:
        return {
            **self.datamodule.describe(),
            "width": self.settings.width,
            "stem_stride": self.settings.stem_stride,
        }


class TrainEvaluator(Evaluator):
    """Train the proxy network for the trainer's epochs; validation accuracy is the quality. With
    ``pruning``, Optuna's pruner (Hyperband) stops a candidate whose accuracy by epoch lags behind."""

    quality = "val_acc"

    def __init__(self, task: ProxyTask, pruning: bool = True) -> None:
        self.task, self.pruning, self.epochs = task, pruning, task.epochs
        self.proxy = _Proxy(task)

    def evaluate(self, spec: ArchSpec, trial: optuna.Trial) -> float:
        from optuna_integration import PyTorchLightningPruningCallback

        callbacks = [PyTorchLightningPruningCallback(trial, "val_acc")] if self.pruning else []
        try:
            metrics = self.train(spec, self.task.seed + trial.number, f"trials/{trial.number:04d}", callbacks)
        except TrainingFailed as err:
            if isinstance(err.__cause__, optuna.TrialPruned):  # the pruning callback stopped it
                raise err.__cause__ from None
            raise
        record_extra(trial, {key: metrics[key] for key in ("val_acc", "val_loss", "train_seconds", "epochs")})
        if self.pruning:
            callbacks[0].check_pruned()  # raises TrialPruned once the trainer has stopped for it
        return float(metrics["val_acc"])

    def train(
        self,
        spec: ArchSpec,
        seed: int,
        folder: str,
        callbacks: list[Any] | None = None,
        data_seed: int | None = None,
    ) -> dict[str, Any]:
        """Train the proxy of ``spec`` seeded ``seed`` (weights, dropout), logging under ``RUN_DIR/folder``;
        its metrics. ``data_seed``: the order of the training images too (a repetition of a training);
        None keeps the run's, which every candidate of a search shares. The split never changes."""
        L.seed_everything(seed, workers=True, verbose=False)
        datamodule = self.proxy.datamodule
        run_order = datamodule.seed
        datamodule.seed = run_order if data_seed is None else data_seed  # read by its train loader
        try:
            return self._fit(spec, folder, callbacks)
        finally:
            datamodule.seed = run_order

    def _fit(self, spec: ArchSpec, folder: str, callbacks: list[Any] | None) -> dict[str, Any]:
        log_dir = self.task.run_dir / folder
        log_dir.mkdir(parents=True, exist_ok=True)
        # Each candidate's CSV and TensorBoard logs under RUN_DIR/trials/NNNN, so that
        # `tensorboard --logdir RUN_DIR` compares the trained candidates by trial number.
        loggers = [
            CSVLogger(log_dir, name="csv", version=""),
            TensorBoardLogger(log_dir, name="tensorboard", version=""),
        ]
        trainer = instantiate(
            self.task.trainer,
            callbacks=callbacks or [],
            logger=loggers,
            default_root_dir=str(log_dir),
            **_spawned(self.task.trainer),
        )
        return fit(self.proxy.spec(spec), self.proxy.datamodule, trainer, self.task.optim.to_data())

    def describe(self) -> dict[str, Any]:
        return {"evaluator": "train", **self.proxy.describe(), "epochs": self.task.epochs}


def _spawned(trainer: dict[str, Any]) -> dict[str, Any]:
    """``strategy=ddp`` as ``ddp_spawn`` inside a search.

    Lightning's ``ddp`` starts each further process by running the command again, which here would
    start a whole search per device. ``ddp_spawn`` starts processes for the training alone, with the
    trial pickled into them; optuna-integration's pruning callback reports from rank 0 only and
    broadcasts its decision to the others."""
    return {"strategy": "ddp_spawn"} if trainer.get("strategy") == "ddp" else {}


class ZeroCostEvaluator(Evaluator):
    """A training-free score of the proxy network on one batch (the same batch for every candidate)."""

    def __init__(
        self, task: ProxyTask, score: str = "synflow", batch_size: int = 32, proxy: _Proxy | None = None
    ) -> None:
        if score not in ZERO_COST:
            raise UsageError(
                f"evaluator.score: unknown score {score!r}; expected one of {', '.join(ZERO_COST)}"
            )
        check_count("evaluator.batch_size", batch_size, 1)
        self.seed, self.quality = task.seed, score
        self.proxy = proxy or _Proxy(task)
        self.images, self.labels = self.proxy.batch(batch_size)

    def evaluate(self, spec: ArchSpec, trial: optuna.Trial) -> float:
        num_classes = self.proxy.datamodule.num_classes
        value = zero_cost_score(
            self.proxy.spec(spec), self.images, self.labels, num_classes, self.quality, self.seed
        )
        record_extra(trial, {self.quality: value})
        return value

    def describe(self) -> dict[str, Any]:
        return {
            "evaluator": "zero_cost",
            "score": self.quality,
            "batch": len(self.images),
            **self.proxy.describe(),
        }


class CombinedEvaluator(Evaluator):
    """Screen with a zero-cost score, train the most promising: a candidate is trained when its score
    is in the top ``keep`` fraction of the scores screened so far (after ``warmup`` screened ones);
    otherwise it is pruned, its score kept. Baselines are always trained."""

    quality = "val_acc"

    def __init__(
        self,
        task: ProxyTask,
        score: str = "synflow",
        batch_size: int = 32,
        keep: float = 0.25,
        warmup: int = 6,
        pruning: bool = True,
    ) -> None:
        if isinstance(keep, bool) or not isinstance(keep, int | float) or not 0.0 < keep <= 1.0:
            raise UsageError(f"evaluator.keep: expected a fraction in (0, 1]; got {keep!r}")
        check_count("evaluator.warmup", warmup, 0)
        self.train = TrainEvaluator(task, pruning)
        self.screen = ZeroCostEvaluator(task, score, batch_size, self.train.proxy)
        self.keep, self.warmup, self.pruning, self.epochs = keep, warmup, pruning, self.train.epochs

    def evaluate(self, spec: ArchSpec, trial: optuna.Trial) -> float:
        score = self.screen.evaluate(spec, trial)
        if not trial.user_attrs.get(Attr.BASELINE.value):
            finished = [TrialRecord.of(t) for t in _finished(trial.study)]
            seen = [
                r.extra[self.screen.quality]
                for r in finished
                if self.screen.quality in r.extra and not r.baseline
            ]
            if len(seen) < self.warmup or score < _quantile(seen, 1.0 - self.keep):
                record(trial, screened_out=True)
                raise optuna.TrialPruned(f"{self.screen.quality} {score:.4g} below the top {self.keep:.0%}")
        return self.train.evaluate(spec, trial)

    def describe(self) -> dict[str, Any]:
        return {
            **self.train.describe(),
            "evaluator": "combined",
            "screen": self.screen.quality,
            "keep": self.keep,
            "warmup": self.warmup,
        }


def _finished(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return study.get_trials(deepcopy=False, states=states)


def _quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank, so that it is always one of them)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]
