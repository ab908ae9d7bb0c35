"""Judging a subnet by its inherited weights: batch norm recalibrated, then accuracy on held-out images."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from nas.training import fold_batch_norm, recalibrate_batch_norm

VAL_BATCH = 500  # validation images per forward pass: fewer, larger calls are faster on a CPU


def validation_set(datamodule: Any) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    """The datamodule's validation images (in batches of :data:`VAL_BATCH`) and labels, loaded once."""
    batches = list(datamodule.val_dataloader())
    images = torch.cat([x for x, _ in batches])
    return images.split(VAL_BATCH), torch.cat([y for _, y in batches])


@torch.no_grad()
def inherited_accuracy(
    model: nn.Module,
    calibration: tuple[torch.Tensor, ...],
    images: tuple[torch.Tensor, ...],
    labels: torch.Tensor,
) -> float:
    """Top-1 accuracy of an extracted subnet on ``images`` after its batch norm statistics are recomputed
    over the ``calibration`` batches: the running statistics a supernet keeps mix every subnet's, so each
    subnet gets its own (Once-for-All, section 3.2; BigNAS, section 3.3). Then batch norm is folded into
    the convolutions (:func:`nas.training.fold_batch_norm`; ``model`` is changed) and the images run
    channels-last: both faster on CPUs, with the same predictions."""
    model = model.to(memory_format=torch.channels_last)
    batches = [(b.contiguous(memory_format=torch.channels_last), None) for b in calibration]
    recalibrate_batch_norm(model, batches, len(batches))
    fold_batch_norm(model.eval())
    predicted = [model(b.contiguous(memory_format=torch.channels_last)).argmax(dim=1) for b in images]
    return float((torch.cat(predicted) == labels).float().mean())
