"""The Lightning module that trains any :class:`~nas.ArchSpec` for image classification."""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import torch
from torch import nn
from torch.nn import functional as F
from torchmetrics.classification import MulticlassAccuracy

from nas._build import build_model
from nas._spec import ArchSpec, dump_spec, load_spec
from nas.training._settings import Optimizer, OptimSettings


class Diverged(FloatingPointError):
    """The training loss stopped being a finite number."""


class ImageClassifier(L.LightningModule):
    """Cross-entropy with label smoothing; top-1 and top-5 accuracy; see :class:`OptimSettings`.

    The spec travels in the hyper-parameters as YAML, so a checkpoint rebuilds its own network.
    """

    def __init__(
        self, spec: str | ArchSpec, num_classes: int, optim: dict[str, Any], channels_last: bool = False
    ) -> None:
        super().__init__()
        spec_yaml = dump_spec(spec) if isinstance(spec, ArchSpec) else spec
        self.save_hyperparameters({"spec": spec_yaml, "num_classes": num_classes, "optim": dict(optim)})
        self.spec = load_spec(spec_yaml)
        self.optim = OptimSettings.from_data(dict(optim), "optim")
        self.channels_last = channels_last
        self.model = build_model(self.spec, num_classes)
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        top5 = min(5, num_classes)
        self.train_acc = MulticlassAccuracy(num_classes, average="micro")
        self.val_acc = MulticlassAccuracy(num_classes, average="micro")
        self.val_acc5 = MulticlassAccuracy(num_classes, top_k=top5, average="micro")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.model(x)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        images, labels = batch
        logits = self(images)
        loss = F.cross_entropy(logits, labels, label_smoothing=self.optim.label_smoothing)
        if not torch.isfinite(loss):
            raise Diverged(
                f"the training loss is {loss.item()} at epoch {self.current_epoch}, step {batch_idx}"
            )
        self.train_acc(logits, labels)
        self.log("train_loss", loss, prog_bar=True)
        self.log("train_acc", self.train_acc, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        images, labels = batch
        logits = self(images)
        self.val_acc(logits, labels)
        self.val_acc5(logits, labels)
        self.log("val_loss", F.cross_entropy(logits, labels), prog_bar=True)
        self.log("val_acc", self.val_acc, prog_bar=True)
        self.log("val_acc5", self.val_acc5)

    def configure_optimizers(self) -> dict[str, Any]:
        decay, no_decay = _weight_decay_groups(self.model)
        groups = [
            {"params": decay, "weight_decay": self.optim.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        o = self.optim
        if o.name is Optimizer.SGD:
            optimizer: torch.optim.Optimizer = torch.optim.SGD(
                groups, lr=o.lr, momentum=o.momentum, nesterov=o.nesterov and o.momentum > 0
            )
        else:
            optimizer = torch.optim.RMSprop(groups, lr=o.lr, alpha=o.alpha, eps=o.eps, momentum=o.momentum)
        total = max(1, int(self.trainer.estimated_stepping_batches))
        per_epoch = total / max(1, self.trainer.max_epochs or 1)
        schedule = warmup_cosine(total, round(o.warmup_epochs * per_epoch), o.min_lr / o.lr)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def _weight_decay_groups(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """Convolution and linear weights (decayed), and biases and norm parameters (not decayed)."""
    decay, no_decay = [], []
    for module in model.modules():
        for name, param in module.named_parameters(recurse=False):
            is_weight = name == "weight" and isinstance(module, nn.Conv2d | nn.Linear)
            (decay if is_weight else no_decay).append(param)
    return decay, no_decay


def warmup_cosine(total_steps: int, warmup_steps: int, floor: float = 0.0):  # type: ignore[no-untyped-def]
    """Learning-rate factor per step: linear warm-up from 0, then half a cosine down to ``floor``."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor
