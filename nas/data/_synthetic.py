"""Seeded random images, for tests and benchmarks: no files, any size, learnable labels."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from nas.data._base import ImageDataModule, Split, derive_seed, generator
from nas.data._transforms import Transform, resize
from nas.errors import UsageError

# Each class has a smooth pattern of PATTERN x PATTERN random values, upsampled: a network can learn the
# labels, while the noise keeps it from being trivial. Weights chosen so that pixels have about unit
# variance and zero mean: the images need no normalization.
PATTERN = 4
NOISE, SIGNAL = 0.8, 0.6


class SyntheticSource:
    """``size`` images made on access, each from its own seed: memory does not grow with the data set."""

    def __init__(self, labels: Tensor, patterns: Tensor, resolution: int, seed: int, split: str) -> None:
        self.labels = labels
        self.patterns = patterns  # [classes, C, PATTERN, PATTERN]
        self.resolution = resolution
        self.seed = seed
        self.split = split

    def __len__(self) -> int:
        return len(self.labels)

    def image(self, index: int) -> Tensor:
        gen = torch.Generator().manual_seed(derive_seed(self.seed, f"{self.split} image {index}"))
        channels, r = self.patterns.shape[1], self.resolution
        pattern = resize(self.patterns[int(self.labels[index])], r, r)
        return NOISE * torch.randn(channels, r, r, generator=gen) + SIGNAL * pattern


class SyntheticDataModule(ImageDataModule):
    """``train_samples`` and ``val_samples`` random images of ``num_classes`` balanced classes.

    The data depend on ``split_seed`` (default: ``seed``) and ``resolution`` only; there is no augmentation.
    """

    name = "synthetic"

    def __init__(
        self,
        resolution: int = 32,
        *,
        train_samples: int = 512,
        val_samples: int = 128,
        num_classes: int = 10,
        **common: Any,
    ) -> None:
        super().__init__(resolution, **common)
        self.train_samples = train_samples
        self.val_samples = val_samples
        self.num_classes = num_classes

    def check_args(self) -> None:
        super().check_args()
        for key in ("train_samples", "val_samples", "num_classes"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"data.{key}: expected a positive integer; got {value!r}")

    def load(self) -> Split:
        gen = generator(self.split_seed, "patterns")
        patterns = torch.randn(self.num_classes, self.in_channels, PATTERN, PATTERN, generator=gen)
        train, val = (
            SyntheticSource(self._labels(size, split), patterns, self.resolution, self.split_seed, split)
            for size, split in ((self.train_samples, "train"), (self.val_samples, "val"))
        )
        return Split(
            train, torch.arange(len(train)), val, torch.arange(len(val)),
            [0.0] * self.in_channels, [1.0] * self.in_channels,
            info={"preprocessing": "none (generated standardized)"},
        )  # fmt: skip

    def _labels(self, size: int, purpose: str) -> Tensor:
        """Balanced labels (as equal counts as ``size`` allows), in a seeded random order."""
        order = torch.randperm(size, generator=generator(self.split_seed, f"labels {purpose}"))
        return order % self.num_classes

    def train_transforms(self) -> list[Transform]:
        return []

    def val_transforms(self) -> list[Transform]:
        return []
