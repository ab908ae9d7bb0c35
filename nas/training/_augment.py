"""The batch augmentations of a training recipe, all kornia's: RandAugment or TrivialAugment, random erasing,
mixup and cutmix, applied to whole training batches inside the Lightning module.

On whole batches because mixing needs pairs of images, and because kornia costs about 25 times more per
image called one image at a time (RandAugment on 64 Fashion-MNIST images: 7 ms as a batch, 170 ms image by
image, here). kornia's RandAugment draws its operations once per batch (the sign of each magnitude per
image), where timm's draws them per image.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from nas.data import derive_seed
from nas.training._settings import Policy, RecipeSettings

# timm's Mixup: with mixup and cutmix both on, each mixed batch uses one of them at even odds (switch_prob).
CUTMIX_SHARE = 0.5


class BatchAugment:
    """``(images, labels, epoch, batch[, rank]) -> (images, targets)`` for normalized training batches.

    ``targets`` are the labels, or class probabilities ``[N, classes]`` in a mixed batch (for
    ``F.cross_entropy``, which smooths them as it smooths labels). The random numbers come from the global
    generator forked and seeded by ``(seed, epoch, batch, rank)``: the same batch gets the same
    augmentation in every run with that seed, a resumed one included, and nothing else's numbers shift.

    Not a module of the network: kornia's operations hold parameters (their probabilities, for
    differentiable augmentation search) that have no place among the trained weights or in a checkpoint.
    They follow the images' device, frozen.
    """

    def __init__(self, recipe: RecipeSettings, num_classes: int, mean: list[float], std: list[float]) -> None:
        # kornia takes 3-4 s to import: only runs that augment pay for it.
        from kornia.augmentation import RandomCutMixV2, RandomErasing, RandomMixUpV2
        from kornia.augmentation.auto import RandAugment, TrivialAugment

        self.seed = recipe.seed
        self.num_classes = num_classes
        self.mix_prob = recipe.mix_prob
        self.mean = torch.tensor(mean).view(1, -1, 1, 1)
        self.std = torch.tensor(std).view(1, -1, 1, 1)
        policies = {
            Policy.NONE: lambda: None,
            Policy.RANDAUGMENT: lambda: RandAugment(n=recipe.ops, m=recipe.magnitude),
            Policy.TRIVIALAUGMENT: lambda: TrivialAugment(),
        }
        self.policy: nn.Module | None = policies[recipe.augment]()
        # timm's random erasing: area 2-33% of the image, aspect ratio 0.3-3.3, per image. Applied to the
        # normalized images with the value 0, the data's mean: timm's mode "const" (its EfficientNet runs
        # fill with noise, mode "pixel", which kornia does not offer).
        self.erasing = RandomErasing(p=recipe.erasing) if recipe.erasing > 0 else None
        keys = ["input", "class"]
        self.mixup = RandomMixUpV2(lambda_val=(0.0, recipe.mixup), data_keys=keys) if recipe.mixup else None
        self.cutmix = (
            RandomCutMixV2(beta=recipe.cutmix, data_keys=keys, use_correct_lambda=True)
            if recipe.cutmix
            else None
        )
        for m in self.modules():
            m.requires_grad_(False)

    def modules(self) -> list[nn.Module]:
        return [m for m in (self.policy, self.erasing, self.mixup, self.cutmix) if m is not None]

    def __call__(
        self, images: Tensor, labels: Tensor, epoch: int, batch: int, rank: int = 0
    ) -> tuple[Tensor, Tensor]:
        if self.mean.device != images.device:
            self.mean, self.std = self.mean.to(images.device), self.std.to(images.device)
            for m in self.modules():
                m.to(images.device).requires_grad_(False)
        devices = [images.device] if images.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            # The process's rank too: under DDP each process augments its own shard differently.
            torch.manual_seed(derive_seed(self.seed, f"augment epoch {epoch} batch {batch} rank {rank}"))
            if self.policy is not None:
                images = self._policy(images)
            if self.erasing is not None:
                images = self.erasing(images)
            return self._mix(images, labels)

    def _policy(self, images: Tensor) -> Tensor:
        """The policy on the images in [0, 1], as it expects them; grey images as three equal channels."""
        x = (images * self.std + self.mean).clamp(0.0, 1.0)
        grey = x.shape[1] == 1
        x = self.policy(x.expand(-1, 3, -1, -1) if grey else x)  # type: ignore[misc]
        x = x.mean(1, keepdim=True) if grey else x
        return (x - self.mean) / self.std

    def _mix(self, images: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        mixers = [m for m in (self.mixup, self.cutmix) if m is not None]
        if not mixers or float(torch.rand(())) >= self.mix_prob:
            return images, labels
        use_cutmix = self.cutmix is not None and (self.mixup is None or float(torch.rand(())) < CUTMIX_SHARE)
        if use_cutmix:
            images, mixed = self.cutmix(images, labels)  # type: ignore[misc]
            first, second, kept = mixed[0].unbind(-1)  # one cut; its lambda: the first image's share
            share = 1.0 - kept
        else:
            images, mixed = self.mixup(images, labels)  # type: ignore[misc]
            first, second, share = mixed.unbind(-1)  # lambda: the second image's share
        one_hot = [F.one_hot(y.long(), self.num_classes).to(images.dtype) for y in (first, second)]
        share = share.to(images.dtype)[:, None]
        return images, one_hot[0] * (1.0 - share) + one_hot[1] * share
