"""The Lightning module that trains any :class:`~nas.ArchSpec` for image classification."""

from __future__ import annotations

import math
import pickle
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import nn
from torch.nn import functional as F
from torch.optim.swa_utils import AveragedModel
from torchmetrics.classification import MulticlassAccuracy

from nas.arch import ArchSpec, build_model, dump_spec, load_spec
from nas.blocks import ConvNormAct, residual_bodies
from nas.errors import UsageError
from nas.training._augment import BatchAugment
from nas.training._optimizers import RMSpropTF
from nas.training._settings import Optimizer, OptimSettings, RecipeSettings


class Diverged(FloatingPointError):
    """The training loss stopped being a finite number."""


class ImageClassifier(L.LightningModule):
    """Cross-entropy with label smoothing; top-1 and top-5 accuracy; see :class:`OptimSettings` and
    :class:`RecipeSettings`, whose batch augmentations need the data's ``normalization`` (per-channel
    mean and std; ``None``: the batches are images in ``[0, 1]``).

    The spec travels in the hyper-parameters as YAML, so a checkpoint rebuilds its own network.
    """

    def __init__(
        self,
        spec: str | ArchSpec,
        num_classes: int,
        optim: dict[str, Any],
        channels_last: bool = False,
        recipe: dict[str, Any] | None = None,
        normalization: tuple[list[float], list[float]] | None = None,
    ) -> None:
        super().__init__()
        spec_yaml = dump_spec(spec) if isinstance(spec, ArchSpec) else spec
        hparams = {"spec": spec_yaml, "num_classes": num_classes, "optim": dict(optim)}
        self.save_hyperparameters({**hparams, "recipe": dict(recipe or {}), "normalization": normalization})
        self.spec = load_spec(spec_yaml)
        self.optim = OptimSettings.from_data(dict(optim), "optim")
        self.recipe = RecipeSettings.from_data(dict(recipe or {}), "recipe")
        self.channels_last = channels_last
        self.model = build_model(self.spec, num_classes)
        if self.optim.zero_init_residual:
            zero_init_residual(self.model)
        if self.optim.bn_momentum is not None:
            for m in self.model.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.momentum = self.optim.bn_momentum
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        # The EMA of the weights and of the BN buffers (a maintained implementation: torch's swa_utils);
        # validation uses it. Created after channels_last, so that it copies the same memory format.
        self.ema: AveragedModel | None = None
        if self.optim.ema_decay > 0:
            average = ema_with_warmup(self.optim.ema_decay)
            self.ema = AveragedModel(self.model, avg_fn=average, use_buffers=True)
        self.augment: BatchAugment | None = None
        if self.recipe.augments:
            channels = self.spec.in_channels
            mean, std = normalization or ([0.0] * channels, [1.0] * channels)
            self.augment = BatchAugment(self.recipe, num_classes, list(mean), list(std))
        top5 = min(5, num_classes)
        self.train_acc = MulticlassAccuracy(num_classes, average="micro")
        self.val_acc = MulticlassAccuracy(num_classes, average="micro")
        self.val_acc5 = MulticlassAccuracy(num_classes, top_k=top5, average="micro")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.model(x)

    @property
    def evaluated_network(self) -> nn.Module:
        """The network that validation scores, and the one to use from a checkpoint (which holds both):
        the weights' EMA when there is one, else the trained weights."""
        return self.ema.module if self.ema is not None else self.model

    def evaluated(self, x: torch.Tensor) -> torch.Tensor:
        """The logits validation scores: of the weights' EMA when there is one, else of the weights."""
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.evaluated_network(x)

    def on_validation_epoch_start(self) -> None:
        # Within fit only: not in the sanity check, nor in a validation on its own (no training data then).
        fitting = self.trainer.state.fn == "fit" and not self.trainer.sanity_checking
        if self.optim.bn_recalibration and fitting:
            model = self.ema.module if self.ema is not None else self.model
            loader = self.trainer.datamodule.train_dataloader()
            recalibrate_batch_norm(model, loader, self.optim.bn_recalibration, self.channels_last)

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.ema is not None:
            self.ema.update_parameters(self.model)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        images, labels = batch
        targets = labels  # or, in a mixed batch, class probabilities
        if self.augment is not None:
            images, targets = self.augment(images, labels, self.current_epoch, batch_idx, self.global_rank)
        logits = self(images)
        loss = F.cross_entropy(logits, targets, label_smoothing=self.optim.label_smoothing)
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
        logits = self.evaluated(images)
        self.val_acc(logits, labels)
        self.val_acc5(logits, labels)
        self.log("val_loss", F.cross_entropy(logits, labels), prog_bar=True)
        self.log("val_acc", self.val_acc, prog_bar=True)
        self.log("val_acc5", self.val_acc5)

    def configure_optimizers(self) -> dict[str, Any]:
        return configure_optimizers(self.model, self.optim, self.trainer)


@dataclass(frozen=True)
class Trained:
    """The network a ``python -m nas.train`` checkpoint holds."""

    spec: ArchSpec  # as trained: the proxy's width and stem stride, the data's channels and resolution
    num_classes: int
    model: nn.Module  # in eval mode, with the weights validation scored: their EMA when the run kept one
    ema: bool


def load_trained(path: str | Path, key: str = "checkpoint") -> Trained:
    """The network, spec and weights of a ``nas.train`` checkpoint (``RUN/checkpoints/last.ckpt``); a
    missing or foreign file is a :class:`UsageError` naming ``key``, the setting that gave the path."""
    where = Path(path)
    if not where.is_file():
        raise UsageError(f"{key}: no checkpoint at {where}")
    try:
        # Lightning's checkpoints hold the hyper-parameters as plain Python objects, not only tensors.
        checkpoint = torch.load(where, map_location="cpu", weights_only=False)
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UsageError(f"{key}: {where} is not a readable checkpoint ({reason})") from None
    hparams = checkpoint.get("hyper_parameters", {}) if isinstance(checkpoint, Mapping) else {}
    if not {"spec", "num_classes", "optim"} <= set(hparams):
        raise UsageError(
            f"{key}: {where} is not a nas.train checkpoint (a supernet's subnets are trained with "
            f"python -m nas.train init={where} first, then exported from that run's checkpoint)"
        )
    module = ImageClassifier(hparams["spec"], hparams["num_classes"], hparams["optim"])
    module.load_state_dict(checkpoint["state_dict"])
    model = module.ema.module if module.ema is not None else module.model
    return Trained(module.spec, int(hparams["num_classes"]), model.eval(), module.ema is not None)


def ema_with_warmup(decay: float):  # type: ignore[no-untyped-def]
    """The EMA update of :class:`AveragedModel` with timm's warm-up: after ``n`` updates the decay is
    ``min(decay, (1 + n) / (10 + n))``. A fixed decay of 0.99 over a 3-epoch proxy (about 140 steps) kept
    a quarter of the random initial weights in the average, and every network validated at chance
    (``results/recipe_fashion_mnist.md``)."""

    def average(averaged: torch.Tensor, current: torch.Tensor, updates: torch.Tensor) -> torch.Tensor:
        n = float(updates)
        d = min(decay, (1.0 + n) / (10.0 + n))
        return averaged + (current - averaged) * (1.0 - d)

    return average


@torch.no_grad()
def recalibrate_batch_norm(model: nn.Module, loader: Any, batches: int, channels_last: bool = False) -> None:
    """Batch norm's running statistics recomputed as the plain average over ``batches`` training batches
    with the final weights ("precise BN", Wu & Johnson 2021; Once-for-All resets them the same way for
    each sub-network). After a short training the running averages still mix in the statistics of the
    early weights, which can put validation accuracy far below what the weights achieve."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    was_training = model.training
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches below
    model.train()
    device = next(model.parameters()).device
    for i, (images, _) in enumerate(loader):
        if i >= batches:
            break
        images = images.to(device)
        model(images.contiguous(memory_format=torch.channels_last) if channels_last else images)
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum
    model.train(was_training)


@torch.no_grad()
def fold_batch_norm(model: nn.Module) -> int:
    """Fold each batch norm that follows a convolution in a :class:`ConvNormAct` into that convolution's
    weights and bias, and let the activation after it run in place: the same outputs in eval mode, and
    less time on a CPU, where batch norm and the activation are separate passes over memory (a supernet
    candidate's evaluation fell from 1.86 to 1.05 CPU-s, results/fidelity_mnas_fashion_mnist.md). For
    inference only; the model is changed. Returns how many were folded."""
    count = 0
    for unit in model.modules():
        if not (isinstance(unit, ConvNormAct) and len(unit) > 1 and isinstance(unit[1], nn.BatchNorm2d)):
            continue
        conv, norm = unit[0], unit[1]
        if norm.running_var is None or norm.training:
            raise ValueError("fold_batch_norm: batch norm in training mode or without running statistics")
        scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
        shift = norm.bias - norm.running_mean * scale
        if conv.bias is not None:
            shift = shift + conv.bias * scale
        conv.weight.mul_(scale.view(-1, *([1] * (conv.weight.dim() - 1))))
        conv.bias = nn.Parameter(shift)
        unit[1] = nn.Identity()
        if len(unit) > 2 and hasattr(unit[2], "inplace"):
            unit[2].inplace = True  # its input, the convolution's fresh output, is read by nothing else
        count += 1
    return count


def zero_init_residual(model: nn.Module) -> int:
    """Set to zero the scale of the last batch norm of every residual branch, so that each residual block
    starts as the identity (Goyal et al. 2017, sec. 5.1; ResNet's and timm's ``zero_init_last``): a deep
    network then trains from the start like a shallow one. Returns how many were set."""
    count = 0
    for body in residual_bodies(model):
        norms = [n for n in body.modules() if isinstance(n, nn.modules.batchnorm._BatchNorm)]
        if norms and norms[-1].weight is not None:
            nn.init.zeros_(norms[-1].weight)
            count += 1
    return count


def configure_optimizers(model: nn.Module, o: OptimSettings, trainer: L.Trainer) -> dict[str, Any]:
    """The optimizer ``o`` names over ``model``'s parameters, and its warm-up and cosine schedule per step
    over the ``trainer``'s run (Lightning's ``configure_optimizers`` answer)."""
    decay, no_decay = _weight_decay_groups(model)
    groups = [
        {"params": decay, "weight_decay": o.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    if o.name is Optimizer.SGD:
        optimizer: torch.optim.Optimizer = torch.optim.SGD(
            groups, lr=o.lr, momentum=o.momentum, nesterov=o.nesterov and o.momentum > 0
        )
    elif o.name is Optimizer.RMSPROP:
        optimizer = torch.optim.RMSprop(groups, lr=o.lr, alpha=o.alpha, eps=o.eps, momentum=o.momentum)
    elif o.name is Optimizer.RMSPROP_TF:
        optimizer = RMSpropTF(groups, lr=o.lr, alpha=o.alpha, eps=o.eps, momentum=o.momentum)
    else:
        optimizer = torch.optim.AdamW(groups, lr=o.lr, betas=tuple(o.betas))
    total = max(1, int(trainer.estimated_stepping_batches))
    per_epoch = total / max(1, trainer.max_epochs or 1)
    schedule = warmup_cosine(total, round(o.warmup_epochs * per_epoch), o.min_lr / o.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def _weight_decay_groups(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """Convolution and linear weights (decayed), and biases and norm parameters (not decayed): told
    apart by their dimensions, so that weights held outside their layers (a supernet's) split alike."""
    decay, no_decay = [], []
    for param in model.parameters():
        (decay if param.dim() >= 2 else no_decay).append(param)
    return decay, no_decay


def warmup_cosine(total_steps: int, warmup_steps: int, floor: float = 0.0):  # type: ignore[no-untyped-def]
    """Learning-rate factor per step: linear warm-up from 0, then half a cosine down to ``floor``."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor
