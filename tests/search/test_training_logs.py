"""Each trained candidate's Lightning logs under the run directory by trial number, so that
``tensorboard --logdir RUN_DIR`` compares the candidates."""

from __future__ import annotations

import csv
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from nas.search import run
from tests.search.test_search import DATA, config


def test_every_trained_candidate_logs_csv_and_tensorboard_by_trial_number(tmp_path: Path) -> None:
    overrides = ["n_trials=2", "evaluator=train", "trainer.max_epochs=1", "baselines=[]", "budget=null"]
    cfg = config(tmp_path, *overrides, "space=families", "proxy.width=0.5", fast=DATA)
    run(cfg, tmp_path)
    for number in (0, 1):
        trial_dir = tmp_path / "trials" / f"{number:04d}"
        with (trial_dir / "csv" / "metrics.csv").open() as f:
            rows = list(csv.DictReader(f))
        assert any(r.get("val_acc") for r in rows)
        events = EventAccumulator(str(trial_dir / "tensorboard"))
        events.Reload()
        assert "val_acc" in events.Tags()["scalars"]
