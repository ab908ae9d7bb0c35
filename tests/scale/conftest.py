"""A tiny base and fast proxy settings: every test of nas.scale composes the real conf/scale.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from nas.cli import config_groups, rewrite_overrides
from nas.paths import CONF

TINY = """
name: tiny
resolution: 32
stem:
- {block: conv, out: 8, stride: 2}
stages:
- {block: mbconv, out: 8, expand: 2.0}
- {block: mbconv, out: 16, repeats: 2, stride: 2, kernel: 5, se: {ratio: 0.25}}
- {block: mbconv, out: 24, stride: 2}
head: {conv: {out: 32}, dropout: 0.1}
"""
# Synthetic data at 16 px (the tiny base's 32 px halved), a few samples, one epoch: a second a training.
FAST = [
    "data=synthetic",
    "data.resolution=16",
    "data.train_samples=48",
    "data.val_samples=24",
    "data.batch_size=16",
    "trainer.max_epochs=1",
    "trainer.accelerator=cpu",
    "trainer.devices=1",
]
# 8 points, 3 of them within |α·β²·γ² - 2| <= 0.1: (1.0, 1.2, 1.2) 2.07, then (1.4, 1.0, 1.2) and
# (1.4, 1.2, 1.0) 2.02.
SMALL_GRID = ["grid.alpha=[1.0,1.4]", "grid.beta=[1.0,1.2]", "grid.gamma=[1.0,1.2]", "tolerance=0.1"]


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def config(*overrides: str) -> DictConfig:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("scale", overrides=rewrite_overrides(list(overrides), config_groups()))
