"""Loaders in use: the same batches with worker processes as without, and a Lightning fit."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch
from torch import nn

from nas.data import DigitsDataModule, SyntheticDataModule


def test_workers_do_not_change_the_batches() -> None:
    batches = []
    for workers in (0, 2):
        dm = DigitsDataModule(16, batch_size=50, limit_train=200, seed=4, num_workers=workers)
        loader = dm.train_dataloader()
        batches.append([b for _ in range(2) for b in loader])  # two epochs
    assert len(batches[0]) == len(batches[1]) == 8
    for (x0, y0), (x1, y1) in zip(*batches, strict=True):
        assert torch.equal(x0, x1) and torch.equal(y0, y1)


class TinyNet(L.LightningModule):
    def __init__(self, channels: int, classes: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, classes),
        )  # fmt: skip

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> torch.Tensor:
        return nn.functional.cross_entropy(self.net(batch[0]), batch[1])

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> None:
        self.log("val_loss", nn.functional.cross_entropy(self.net(batch[0]), batch[1]))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_lightning_fit_runs_on_a_data_module(tmp_path: Path) -> None:
    dm = SyntheticDataModule(8, train_samples=33, val_samples=10, num_classes=3, batch_size=16)
    trainer = L.Trainer(
        accelerator="cpu", max_epochs=2, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path,
    )  # fmt: skip
    trainer.fit(TinyNet(dm.in_channels, dm.num_classes), datamodule=dm)
    assert trainer.global_step == 4  # 33 images in batches of 16: the last batch of one is dropped
    assert "val_loss" in trainer.callback_metrics


def test_set_epoch_replays_that_epoch() -> None:
    """What Lightning calls before each epoch: a resumed run sees the epochs of the uninterrupted one."""
    dm = DigitsDataModule(8, batch_size=40, limit_train=80, seed=9)
    loader = dm.train_dataloader()
    uninterrupted = [[y for _, y in loader] for _ in range(3)]
    resumed = dm.train_dataloader()
    resumed.sampler.set_epoch(2)
    for a, b in zip([y for _, y in resumed], uninterrupted[2], strict=True):
        assert torch.equal(a, b)
    assert not torch.equal(uninterrupted[0][0], uninterrupted[1][0])
