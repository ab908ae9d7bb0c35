"""Data modules built from plain configs and loaded once per process: what worker processes share."""

from __future__ import annotations

import json
from typing import Any

import torch
from hydra.utils import instantiate

from nas.data._base import ImageDataModule

_LOADED: dict[str, ImageDataModule] = {}


def cached_datamodule(config: dict[str, Any]) -> ImageDataModule:
    """The data module of ``config`` (``_target_`` and arguments, as plain data), set up; the same object
    for the same config within a process, so that a worker loads a data set once for all its jobs."""
    key = json.dumps(config, sort_keys=True, default=str)
    if key not in _LOADED:
        module = instantiate(config)
        module.setup("fit")
        _LOADED[key] = module
    return _LOADED[key]


def first_batch(module: ImageDataModule, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``size`` training images of the epoch-0 order (the same for every network)."""
    images, labels = [], []
    for x, y in module.train_dataloader():
        images.append(x)
        labels.append(y)
        if sum(len(b) for b in images) >= size:
            break
    return torch.cat(images)[:size], torch.cat(labels)[:size]
