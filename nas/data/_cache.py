"""Data modules built from plain configs and loaded once per process: what worker processes share."""

from __future__ import annotations

import json
from typing import Any

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
