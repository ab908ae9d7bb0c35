"""The UCI handwritten digits that scikit-learn ships: the default data set, which needs no download."""

from __future__ import annotations

from typing import Any

import torch

from nas.data._base import ImageDataModule, Split, TensorSource, check_fraction, moments, stratified_split
from nas.data._transforms import RandomPadCrop, Resize, Transform, resize

# load_digits() holds 17 grey levels, 0 (background) to 16 (ink).
_LEVELS = 16


class DigitsDataModule(ImageDataModule):
    """1,797 8x8 grey images of the digits 0-9, split per class (``val_fraction`` for validation), resized
    bilinearly to ``resolution``.

    Augmentation is a small random shift and zoom (pad and crop): no flips, digits are not mirror-symmetric.
    """

    name = "digits"

    def __init__(self, resolution: int = 32, *, val_fraction: float = 0.2, **common: Any) -> None:
        super().__init__(resolution, **common)
        self.val_fraction = val_fraction
        self.num_classes = 10

    def check_args(self) -> None:
        super().check_args()
        check_fraction(self.val_fraction)

    def load(self) -> Split:
        # Imported here: scikit-learn takes a second to import, which only this data set needs.
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = torch.tensor(digits.images, dtype=torch.float32)[:, None] / _LEVELS
        labels = torch.tensor(digits.target, dtype=torch.int64)
        train, val = stratified_split(labels, self.val_fraction, self.split_seed)
        # Statistics of the resized images: interpolation smooths the 8x8 digits, and their spread at
        # 32x32 is some 14% below that of the originals.
        resized = (resize(chunk, self.resolution, self.resolution) for chunk in images[train].split(256))
        mean, std = moments(resized)
        source = TensorSource(images, labels, self.in_channels)
        return Split(
            source, train, source, val, mean * self.in_channels, std * self.in_channels,
            info={
                "source": "sklearn.datasets.load_digits",
                "split": f"stratified, val_fraction {self.val_fraction:g}",
                "preprocessing": f"bilinear resize 8->{self.resolution}, normalize",
            },
        )  # fmt: skip

    def train_transforms(self) -> list[Transform]:
        if not self.augment:
            return [Resize(self.resolution)]
        # Shift by up to 1/16 of the side (half a pixel of the 8x8 original) and zoom by up to 5%, after
        # resizing, so that the shift is finer than the original pixels. Light on purpose: the digits fill
        # their 8x8 frame, and a whole-pixel shift with 10% zoom (tried first) cut strokes off and cost
        # MobileNetV2 several points of validation accuracy.
        return [Resize(self.resolution), RandomPadCrop(max(1, self.resolution // 16), scale=(0.95, 1.05))]

    def val_transforms(self) -> list[Transform]:
        return [Resize(self.resolution)]
