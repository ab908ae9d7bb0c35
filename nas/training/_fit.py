"""One training run: build the proxy network, fit it, and record exactly what was done."""

from __future__ import annotations

import json
import time
import traceback
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from nas.arch import ArchSpec, count_cost, dump_spec
from nas.data import ImageDataModule
from nas.training._module import ImageClassifier
from nas.training._settings import RecipeSettings


class TrainingFailed(RuntimeError):
    """A run that could not finish: the loss diverged or a training step raised."""


class Throughput(Callback):
    """Images per second of the training loop, data loading included and validation excluded."""

    def __init__(self) -> None:
        self.images = 0
        self.seconds = 0.0
        self._epoch_start = 0.0
        self._last = 0.0

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._epoch_start = self._last = time.perf_counter()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:  # type: ignore[no-untyped-def]
        self.images += len(batch[1])
        self._last = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.seconds += self._last - self._epoch_start

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else 0.0


def run_callbacks_and_loggers(run_dir: Path) -> tuple[list[Callback], list[Any]]:
    """The last checkpoint, rewritten after every epoch so that a stopped run resumes from its last
    finished epoch (``ckpt_path=``), and CSV and TensorBoard logs, all inside ``run_dir``."""
    # One file kept, the newest (no monitor), named last.ckpt. Lightning's save_last with save_top_k=0
    # writes it only when the whole training ends, so a run stopped halfway had nothing to resume from.
    checkpoint = ModelCheckpoint(
        dirpath=run_dir / "checkpoints", filename="last", save_top_k=1, enable_version_counter=False
    )
    callbacks: list[Callback] = [checkpoint]
    loggers = [
        CSVLogger(run_dir, name="csv", version=""),
        TensorBoardLogger(run_dir, name="tensorboard", version=""),
    ]
    return callbacks, loggers


def fit(
    spec: ArchSpec,
    datamodule: L.LightningDataModule,
    trainer: L.Trainer,
    optim: dict[str, Any],
    *,
    ckpt_path: str | None = None,
    channels_last: bool = False,
    init: dict[str, Any] | None = None,
    recipe: RecipeSettings | None = None,
) -> dict[str, Any]:
    """Train ``spec`` on ``datamodule`` and return its metrics (``val_acc``, ``val_loss``, cost, speed).

    ``init``: a state dict of ``spec``'s network to start from (fine-tuning inherited weights).
    ``recipe``: its batch augmentations (its drop-path is the spec's: :func:`recipe_spec`).
    Raises :class:`TrainingFailed` with a one-line reason when the run cannot finish; the traceback
    is kept in ``error.log`` of the trainer's root directory.
    """
    throughput = Throughput()
    trainer.callbacks.append(throughput)
    recipe = recipe or RecipeSettings()
    normalization = None
    if recipe.augments and isinstance(datamodule, ImageDataModule):
        normalization = datamodule.normalization
    model = ImageClassifier(
        spec, datamodule.num_classes, optim, channels_last, recipe.to_data(), normalization
    )
    if init is not None:  # weights to start from (a supernet's, inherited), instead of a fresh start
        model.model.load_state_dict(init)
    start = time.perf_counter()
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
    except KeyboardInterrupt:
        raise
    except Exception as err:
        log = Path(trainer.default_root_dir) / "error.log"
        log.write_text(traceback.format_exc())
        where = f"epoch {trainer.current_epoch}"
        raise TrainingFailed(
            f"training failed at {where}: {type(err).__name__}: {err} (traceback in {log})"
        ) from err
    seconds = time.perf_counter() - start
    cost = count_cost(spec, num_classes=datamodule.num_classes)
    logged = {k: float(v) for k, v in trainer.callback_metrics.items()}
    return {
        "val_acc": logged.get("val_acc"),
        "val_acc5": logged.get("val_acc5"),
        "val_loss": logged.get("val_loss"),
        "train_loss": logged.get("train_loss"),
        "params": cost.params,
        "macs": cost.macs,
        "activation_bytes": cost.activation_bytes,
        "epochs": trainer.current_epoch,
        "train_seconds": round(seconds, 3),
        "images_per_second": round(throughput.images_per_second, 1),
    }


def write_run(run_dir: Path, spec: ArchSpec, metrics: dict[str, Any]) -> None:
    """``metrics.json`` and the trained network's ``spec.yaml`` beside the logs and checkpoint."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (run_dir / "spec.yaml").write_text(dump_spec(spec))


def quick_fit(
    spec: ArchSpec,
    datamodule: L.LightningDataModule,
    optim: dict[str, Any],
    epochs: int,
    seed: int,
    *,
    callbacks: list[Callback] | None = None,
    trainer_options: dict[str, Any] | None = None,
    recipe: RecipeSettings | None = None,
) -> dict[str, Any]:
    """:func:`fit` with a quiet trainer of ``epochs`` epochs (no logger, checkpoint, bar or summary), seeded
    with ``seed``: one proxy training, as the fidelity study and the benchmarks run it. ``spec`` is trained
    as given (see :func:`~nas.training.proxy_spec`). Validation runs once, after the last epoch (nothing
    here reads the earlier ones). Adds ``cpu_seconds`` (this process's CPU time)."""
    L.seed_everything(seed, workers=True, verbose=False)
    options = {
        "accelerator": "cpu",
        "devices": 1,
        "check_val_every_n_epoch": epochs,
        "num_sanity_val_steps": 0,
        **(trainer_options or {}),
    }
    trainer = L.Trainer(
        max_epochs=epochs,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=list(callbacks or []),
        **options,
    )
    cpu = time.process_time()
    metrics = fit(spec, datamodule, trainer, optim, recipe=recipe)
    metrics["cpu_seconds"] = round(time.process_time() - cpu, 3)
    return metrics
