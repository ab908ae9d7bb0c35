"""Training a scaled spec on the proxy task, with its resolution scaled too.

The proxy trains the base at the data's resolution (``data.resolution``, 32 px for digits, stem stride
from ``proxy.stem_stride``), not at the spec's 224 px. Resolution scaling must reach the proxy, or
compound and resolution-only scaling would train the same network as width and depth scaling alone:
a spec at ``r`` px trains at ``data.resolution * r / base.resolution``, rounded (γ^φ times the base's
proxy resolution). One data module per proxy resolution, loaded on first use.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import optuna

from nas.arch import ArchSpec, count_cost
from nas.blocks.costs import Cost
from nas.search import ProxyTask, TrainEvaluator
from nas.study import first_line, record, record_extra


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

    def train(self, spec: ArchSpec, trial: optuna.Trial) -> float:
        return self.evaluator(self.resolution(spec)).evaluate(spec, trial)

    def describe(self) -> dict[str, Any]:
        described = self.evaluator(self.data_resolution).describe()
        return {**described, "resolution_rule": "data.resolution * spec.resolution / base.resolution"}


def record_training(trainer: ProxyTrainer, spec: ArchSpec, trial: optuna.Trial) -> float:
    """Train ``spec`` for ``trial``, recording the proxy network's cost, and the error when it fails."""
    cost = trainer.proxy_cost(spec)
    record_extra(trial, {"proxy_resolution": trainer.resolution(spec), "proxy_macs": cost.macs})
    try:
        return trainer.train(spec, trial)
    except Exception as err:
        record(trial, error=f"{type(err).__name__}: {first_line(err)}")
        raise
