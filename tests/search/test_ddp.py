"""Training one candidate on several devices goes through Lightning's DDP; here two CPU processes (gloo).

* ``python -m nas.train ... trainer.strategy=ddp trainer.devices=2``: Lightning re-runs the command for
  rank 1; the run's outputs are written once (rank 0).
* In a search (``ddp`` runs as ``ddp_spawn`` there, see ``_evaluate._spawned``), Optuna's pruning
  callback reports from rank 0 only, and a pruning decision stops both processes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import torch.distributed as dist

from nas import zoo
from nas.cli import compose
from nas.search import TrainEvaluator, proxy_task

TWO_CPU_PROCESSES = ["trainer.accelerator=cpu", "trainer.devices=2", "trainer.strategy=ddp"]
TINY = ["data=synthetic", "data.train_samples=64", "data.val_samples=32", "data.batch_size=16"]

pytestmark = pytest.mark.skipif(not dist.is_gloo_available(), reason="torch has no gloo backend here")


def test_train_with_ddp_on_two_cpu_processes_writes_its_outputs_once(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "nas.train",
            "arch=mobilenet_v3_small",
            *TINY,
            *TWO_CPU_PROCESSES,
            "trainer.max_epochs=1",
            "trainer.enable_progress_bar=false",
            f"hydra.run.dir={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("val_acc=") == 1  # one line, from rank 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and 0.0 <= metrics["val_acc"] <= 1.0
    assert "ddp" in (tmp_path / "config.yaml").read_text()


class SpyTrial(optuna.Trial):
    """A trial that notes, in a file, which process reports to it (it is pickled into each process)."""

    def __init__(self, study: optuna.Study, trial_id: int, log: Path) -> None:
        super().__init__(study, trial_id)
        self.log = log

    def report(self, value: float, step: int) -> None:
        rank = dist.get_rank() if dist.is_initialized() else -1
        with self.log.open("a") as f:
            f.write(f"{rank} {step}\n")
        super().report(value, step)


def test_pruning_reports_from_rank_0_only_and_stops_both_processes(tmp_path: Path) -> None:
    cfg = compose("search", overrides=["evaluator=train", *TINY, *TWO_CPU_PROCESSES, "trainer.max_epochs=3"])
    # Any accuracy below 1.01 is pruned at the first report: the trial must stop after epoch 0.
    study = optuna.create_study(
        storage=f"sqlite:///{tmp_path / 'study.db'}",  # DDP pruning needs a database storage
        direction="maximize",
        pruner=optuna.pruners.ThresholdPruner(lower=1.01),
    )
    trial = SpyTrial(study, study.ask()._trial_id, tmp_path / "reports.txt")
    evaluator = TrainEvaluator(proxy_task(cfg, tmp_path), pruning=True)
    spec = zoo.get("mobilenet_v3_small")
    with pytest.raises(optuna.TrialPruned, match="epoch 0"):
        evaluator.evaluate(spec, trial)
    # Epoch 0 reported by rank 0 in the training processes (rank 1 never reports), then copied once
    # into the trial by the search's own process (-1: outside the process group) after the fit.
    assert (tmp_path / "reports.txt").read_text().splitlines() == ["0 0", "-1 0"]
    assert study.trials[0].intermediate_values.keys() == {0}
    assert study.trials[0].system_attrs["ddp_pl:pruned"] is True
