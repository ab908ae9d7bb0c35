"""A tiny space and fast protocols: every test of nas.fidelity composes the real conf/fidelity.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from nas.cli import config_groups, rewrite_overrides
from nas.fidelity import FidelitySettings, settings_from
from nas.paths import CONF

TINY_SPACE = """
name: tiny
description: a tiny MBConv space for tests
resolution: 32
shared: {act: [relu, swish]}
scale: {width: [1.0], depth: [1.0], resolution: [1.0]}
stem:
  - {block: conv, out: 8, stride: 2, act: $act}
stages:
  - block: mbconv
    out: [8, 16]
    repeats: [1, 2]
    stride: 2
    expand: [1, 3]
    kernel: [3, 5]
    se: [null, {ratio: 0.25, act: $act}]
    skip: [true, false]
    act: $act
  - {block: mbconv, out: [16, 24], repeats: [1, 2], stride: 2, expand: [1, 3], kernel: [3], act: $act}
head: {conv: {out: 32, act: $act}, dropout: 0.1}
"""
# Synthetic data at 16 px, a few images, one epoch everywhere: a second a training.
FAST = [
    "data=synthetic",
    "data.train_samples=64",
    "data.val_samples=32",
    "budget=null",
    "n=4",
    "proxy_epochs=[1]",
    "proxy.limit_train=null",
    "proxy.limit_val=null",
    "proxy.batch_size=16",
    "proxy.resolution=16",
    "proxy.proxy.width=1.0",  # the spec's own network: a training then clearly costs more than a score
    "proxy.proxy.stem_stride=null",
    "zero_cost_batch=8",
    "combined.epochs=1",
    "reference.training.epochs=2",
    "reference.training.limit_train=null",
    "reference.training.limit_val=null",
    "reference.training.batch_size=16",
    "reference.training.resolution=16",
    "bootstrap=200",
    "workers=1",
]


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """The studies here (workers=1) on one thread, as a worker's: on a busy machine (2 cores shared with
    other work) two threads per tiny training made a test study 20x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def tiny_space(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_SPACE)
    return path


def settings(*overrides: str) -> tuple[FidelitySettings, dict]:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("fidelity", overrides=rewrite_overrides(list(overrides), config_groups()))
    return settings_from(cfg)
