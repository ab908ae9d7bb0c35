"""Training a supernet with Lightning: the sandwich rule and in-place distillation (BigNAS, Yu et al. 2020,
section 3.1), with Once-for-All's progressive shrinking and importance sorting of the expanded channels
(Cai et al. 2020, section 3.2)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import lightning as L
import torch
from torch import nn
from torch.nn import functional as F
from torchmetrics.classification import MulticlassAccuracy

from nas.errors import SpecError
from nas.records import Record, check_range
from nas.spaces import Label, SearchSpace
from nas.supernet._net import Extreme, Setting, Subnet, Supernet
from nas.supernet._sort import sort_channels
from nas.training import OptimSettings, ProxySettings, configure_optimizers, recalibrate_batch_norm

# The two subnets validated after every epoch, and the seed of their non-numeric choices (activation,
# skip), fixed so that epochs compare the same networks.
JUDGED = ("largest", "smallest")
_JUDGED_SEED = 0


@dataclass(frozen=True)
class Phase(Record):
    """A stage of progressive shrinking: for ``epochs`` epochs, only the options named in ``elastic`` (the
    last part of a space's parameter names: ``kernel``, ``repeats``, ``expand``, ``out``, ``se``,
    ``skip``, ``act``, ...) vary between the subnets of a step; every other option keeps the largest
    subnet's value. The last phase lasts until the training ends."""

    epochs: int
    elastic: tuple[str, ...] = ()

    def validate(self) -> None:
        check_range("epochs", self.epochs, 1)


@dataclass(frozen=True)
class Recipe(Record):
    """How a supernet trains beyond the optimizer: ``random`` subnets per step beside the largest and the
    smallest (the sandwich rule), distillation of every smaller subnet from the largest one's outputs,
    importance sorting of the expanded channels, the ``phases`` of progressive shrinking, and the batches
    batch norm is recalibrated on before a subnet is judged.

    Without phases every option is elastic from the first step and the channels are sorted at the start
    of every epoch after the first; with phases they are sorted when a phase first makes ``expand``
    elastic (Once-for-All sorts once per shrinking stage: a narrower expansion keeps the channels it was
    trained on)."""

    random: int = 2
    distill: bool = True
    sort_channels: bool = True
    calibration_batches: int = 20
    phases: tuple[Phase, ...] = ()

    def validate(self) -> None:
        check_range("random", self.random, 0)
        check_range("calibration_batches", self.calibration_batches, 1)
        for name in ("distill", "sort_channels"):
            if not isinstance(getattr(self, name), bool):
                raise SpecError(name, f"expected true or false; got {getattr(self, name)!r}")

    def phase(self, epoch: int) -> frozenset[str] | None:
        """The options elastic at ``epoch`` (0-based); ``None``: all of them."""
        if not self.phases:
            return None
        start = 0
        for phase in self.phases:
            start += phase.epochs
            if epoch < start:
                return frozenset(phase.elastic)
        return frozenset(self.phases[-1].elastic)

    def sorts_at(self, epoch: int) -> bool:
        """Whether the expanded channels are sorted at the start of ``epoch``."""
        if not self.sort_channels:
            return False
        if not self.phases:
            return epoch > 0
        now, before = self.phase(epoch), self.phase(epoch - 1) if epoch > 0 else frozenset()
        return "expand" in now and "expand" not in before

    def check_options(self, space: SearchSpace) -> None:
        """A :class:`SpecError` naming a phase's option that ``space`` does not have."""
        options = {name.rsplit(".", 1)[-1] for name in space.draw_params(Extreme(True, random.Random(0)))}
        for i, phase in enumerate(self.phases):
            for name in phase.elastic:
                if name not in options:
                    raise SpecError(
                        f"recipe.phases[{i}].elastic",
                        f"{space.name!r} has no option {name!r}; its options: {', '.join(sorted(options))}",
                    )


def sandwich(
    space: SearchSpace, rng: random.Random, extra: int, elastic: frozenset[str] | None = None
) -> list[dict[str, Label]]:
    """The largest subnet, the smallest, and ``extra`` drawn at random: one training step's networks.
    Options outside ``elastic`` (when given) keep the largest subnet's value; a subnet equal to an earlier
    one of the step is left out, so a step of the first, all-fixed phase trains the largest alone."""
    largest = space.draw_params(Extreme(True, rng))
    drawn = [space.draw_params(Extreme(False, rng)), *(space.draw_params(rng) for _ in range(extra))]
    subnets = [largest]
    for params in drawn:
        if elastic is not None:
            params = {k: (v if k.rsplit(".", 1)[-1] in elastic else largest[k]) for k, v in params.items()}
        if params not in subnets:
            subnets.append(params)
    return subnets


def sandwich_losses(
    supernet: Supernet,
    subnets: list[Subnet],
    images: torch.Tensor,
    labels: torch.Tensor,
    distill: bool = True,
    label_smoothing: float = 0.0,
) -> list[torch.Tensor]:
    """Each subnet's loss on one batch, the first (the largest) against the labels, the others against
    its predictions when ``distill`` (in-place distillation), else against the labels."""
    losses: list[torch.Tensor] = []
    teacher = None
    for subnet in subnets:
        logits = supernet(images, subnet)
        if teacher is None or not distill:
            losses.append(F.cross_entropy(logits, labels, label_smoothing=label_smoothing))
        else:
            losses.append(torch.sum(-teacher * F.log_softmax(logits, dim=1), dim=1).mean())
        if teacher is None:
            teacher = F.softmax(logits.detach(), dim=1)
    return losses


class SupernetModule(L.LightningModule):
    """A :class:`Supernet` trained with the sandwich rule. Its hyper-parameters hold the space itself (its
    file's data), so a checkpoint rebuilds the supernet without the file; see :func:`nas.supernet.load`."""

    def __init__(
        self,
        space: dict[str, Any],
        setting: dict[str, Any],
        optim: dict[str, Any],
        recipe: dict[str, Any],
        data: dict[str, Any],
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.space = SearchSpace.from_data(space)
        self.save_hyperparameters(
            {
                "space": space,
                "space_name": self.space.name,
                "fingerprint": self.space.fingerprint(),
                "setting": setting,
                "optim": optim,
                "recipe": recipe,
                "data": data,
                "seed": seed,
            }
        )
        self.optim = OptimSettings.from_data(dict(optim), "optim")
        self.recipe = Recipe.from_data(dict(recipe), "recipe")
        self.recipe.check_options(self.space)
        proxy = ProxySettings.from_data(dict(setting["proxy"]), "proxy")
        self.supernet = Supernet(
            self.space, Setting(proxy, setting["in_channels"], setting["num_classes"], setting["resolution"])
        )
        self.seed = seed
        num_classes = setting["num_classes"]
        self.val_acc = nn.ModuleDict(
            {name: MulticlassAccuracy(num_classes, average="micro") for name in JUDGED}
        )
        self._judged: dict[str, nn.Module] = {}

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        images, labels = batch
        rng = random.Random(f"{self.seed}-{self.global_step}")  # the same subnets when a run resumes
        elastic = self.recipe.phase(self.current_epoch)
        drawn = sandwich(self.space, rng, self.recipe.random, elastic)
        subnets = [self.supernet.subnet(p) for p in drawn]
        losses = sandwich_losses(
            self.supernet, subnets, images, labels, self.recipe.distill, self.optim.label_smoothing
        )
        self.log("train_loss", losses[0], prog_bar=True)  # the largest subnet's
        total = torch.stack(losses).sum()
        if not torch.isfinite(total):
            raise FloatingPointError(f"the training loss is {total.item()} at step {self.global_step}")
        self.log("train_loss_sandwich", total)
        self.log("train_subnets", float(len(drawn)))
        return total

    def on_train_epoch_start(self) -> None:
        if self.recipe.sorts_at(self.current_epoch):
            optimizer = self.optimizers()
            sort_channels(self.supernet, getattr(optimizer, "optimizer", optimizer))

    def judged(self) -> dict[str, Subnet]:
        rng = random.Random(_JUDGED_SEED)
        return {
            name: self.supernet.subnet(self.space.draw_params(Extreme(name == "largest", rng)))
            for name in JUDGED
        }

    def on_validation_epoch_start(self) -> None:
        """The largest and smallest subnets extracted and their batch norm recalibrated, as a search
        evaluates a candidate."""
        loader = self.trainer.datamodule.train_dataloader()
        self._judged = {}
        for name, subnet in self.judged().items():
            model = self.supernet.extract(subnet)
            recalibrate_batch_norm(model, loader, self.recipe.calibration_batches)
            self._judged[name] = model.eval()

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        images, labels = batch
        for name, model in self._judged.items():
            self.val_acc[name](model(images), labels)
            self.log(f"val_acc_{name}", self.val_acc[name], prog_bar=True)

    def on_validation_epoch_end(self) -> None:
        self._judged = {}

    def configure_optimizers(self) -> dict[str, Any]:
        return configure_optimizers(self.supernet, self.optim, self.trainer)
