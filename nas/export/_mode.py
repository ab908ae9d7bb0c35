"""Eval mode for the length of an export or a check, whatever mode the caller's module was in."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from torch import nn


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """``model`` in eval mode inside the block (batch norm on its running statistics, dropout and
    drop-path off, as a deployed network runs), its own mode again after it."""
    training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(training)
