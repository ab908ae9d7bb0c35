"""Candidates judged with a trained supernet's weights (``evaluator=supernet supernet.ckpt=PATH``): each
is extracted with its inherited weights, its batch norm recalibrated on the same training images for
every candidate, and its accuracy measured on the validation hold-out. Seconds a candidate instead of a
training; one supernet serves every budget of the space."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import optuna

from nas.arch import ArchSpec
from nas.errors import UsageError, check_count
from nas.search._evaluate import Evaluator, ProxyTask, _Proxy
from nas.spaces import SearchSpace
from nas.study import record_extra
from nas.supernet import check_fits, inherited_accuracy, load, validation_set


class SupernetEvaluator(Evaluator):
    quality = "val_acc"

    def __init__(self, task: ProxyTask, ckpt: str | None = None, calibration_batches: int = 8) -> None:
        if not ckpt:
            raise UsageError(
                "supernet.ckpt: evaluator=supernet needs a checkpoint of python -m nas.supernet train "
                "(supernet.ckpt=RUN_DIR/checkpoints/last.ckpt)"
            )
        self.ckpt = str(ckpt)
        self.batches = check_count("supernet.calibration_batches", calibration_batches, 1)
        self.supernet = load(self.ckpt)
        own = self.supernet.setting.proxy
        if task.proxy != own:
            raise UsageError(
                f"supernet.ckpt: {self.ckpt} was trained for proxy {own.to_data()}; this search's proxy is "
                f"{task.proxy.to_data()}"
            )
        self.proxy = _Proxy(task)
        self.data = self.proxy.datamodule.describe()
        size = self.proxy.datamodule.batch_size
        images, _ = self.proxy.batch(self.batches * size)
        self.calibration = images.split(size)
        self.val_images, self.val_labels = validation_set(self.proxy.datamodule)

    def prepare(self, space: SearchSpace) -> None:
        check_fits(self.supernet, space, self.data, self.ckpt)

    def evaluate(self, spec: ArchSpec, trial: optuna.Trial) -> float:
        start = time.perf_counter()
        model = self.supernet.extract(self.supernet.subnet(trial.params))
        accuracy = inherited_accuracy(model, self.calibration, self.val_images, self.val_labels)
        record_extra(trial, {"val_acc": accuracy, "eval_seconds": round(time.perf_counter() - start, 3)})
        return accuracy

    def describe(self) -> dict[str, Any]:
        record = self.supernet.record
        return {
            "evaluator": "supernet",
            "supernet": Path(self.ckpt).name,
            "supernet_space": f"{record['space_name']} ({record['fingerprint']})",
            "supernet_recipe": record["recipe"],
            "calibration_images": sum(len(b) for b in self.calibration),
            **self.proxy.describe(),
        }
