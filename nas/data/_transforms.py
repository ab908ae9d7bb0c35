"""Image transforms in plain torch, each drawing its randomness from a generator it is handed.

A transform maps one image ``float32 [C, H, W]`` to another. Random transforms take their numbers from the
``torch.Generator`` passed with the image (the data set seeds one per sample), never from the global
generator unless they are handed ``None``; that is what makes augmentation independent of the number of
workers and identical between two runs with the same seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

Generator = torch.Generator | None


def _uniform(gen: Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand((), generator=gen))


def _randint(gen: Generator, low: int, high: int) -> int:
    """An integer in ``[low, high]``, both included."""
    return int(torch.randint(low, high + 1, (), generator=gen))


def resize(image: Tensor, height: int, width: int) -> Tensor:
    """Bilinear resize of ``[C, H, W]`` or ``[N, C, H, W]``; antialiased when shrinking, so that
    down-sampled photos do not alias."""
    if image.shape[-2:] == (height, width):
        return image
    shrink = height < image.shape[-2] or width < image.shape[-1]
    batch = image if image.ndim == 4 else image[None]
    out = F.interpolate(batch, size=(height, width), mode="bilinear", align_corners=False, antialias=shrink)
    return out if image.ndim == 4 else out[0]


class Transform:
    """Base of the transforms: ``transform(image, generator)``; ``text`` names a random one, else ``""``."""

    text = ""

    def __call__(self, image: Tensor, gen: Generator = None) -> Tensor:
        raise NotImplementedError


class Compose(Transform):
    def __init__(self, steps: Sequence[Transform]) -> None:
        self.steps = list(steps)

    @property
    def text(self) -> str:  # type: ignore[override]
        return " + ".join(s.text for s in self.steps if s.text) or "none"

    def __call__(self, image: Tensor, gen: Generator = None) -> Tensor:
        for step in self.steps:
            image = step(image, gen)
        return image


class Resize(Transform):
    """To ``size`` x ``size`` regardless of the aspect ratio (the in-memory data sets are square)."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, image: Tensor, gen: Generator = None) -> Tensor:
        return resize(image, self.size, self.size)


class ResizeCenterCrop(Transform):
    """The shorter side to ``size``, keeping the aspect ratio, then the central square: evaluation crops."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, image: Tensor, gen: Generator = None) -> Tensor:
        h, w = image.shape[-2:]
        scale = self.size / min(h, w)
        h, w = max(self.size, round(h * scale)), max(self.size, round(w * scale))
        image = resize(image, h, w)
        top, left = (h - self.size) // 2, (w - self.size) // 2
        return image[:, top : top + self.size, left : left + self.size]


class RandomPadCrop(Transform):
    """Zero-pad by ``padding``, cut a random square and resize it back: a random shift and, when
    ``scale`` is not ``(1, 1)``, a random zoom (the cut square is ``size / s`` for ``s`` in ``scale``).

    ``RandomPadCrop(4)`` on 32x32 images is the classic CIFAR crop.
    """

    def __init__(self, padding: int, scale: tuple[float, float] = (1.0, 1.0)) -> None:
        self.padding = padding
        self.scale = scale

    @property
    def text(self) -> str:  # type: ignore[override]
        crop = f"random crop (pad {self.padding})"
        return crop if self.scale == (1.0, 1.0) else f"{crop}, scale {self.scale[0]:g}-{self.scale[1]:g}"

    def __call__(self, image: Tensor, gen: Generator = None) -> Tensor:
        h, w = image.shape[-2:]
        p = self.padding
        padded = F.pad(image, (p, p, p, p))
        s = _uniform(gen, *self.scale)
        # A zoom-out larger than the padding allows is cut to the padded image.
        ch, cw = min(h + 2 * p, max(1, round(h / s))), min(w + 2 * p, max(1, round(w / s)))
        top, left = _randint(gen, 0, h + 2 * p - ch), _randint(gen, 0, w + 2 * p - cw)
        return resize(padded[:, top : top + ch, left : left + cw], h, w)


class RandomResizedCrop(Transform):
    """A random part of the image (``scale`` of its area, aspect ratio in ``ratio``), resized to ``size``.

    The sampling of torchvision's ``RandomResizedCrop``: ten tries, then the central crop. The default
    smallest area is 25% rather than torchvision's 8%, as the short proxy trainings of a search do not
    last long enough to profit from crops that strong.
    """

    def __init__(
        self, size: int, scale: tuple[float, float] = (0.25, 1.0), ratio: tuple[float, float] = (3 / 4, 4 / 3)
    ) -> None:
        self.size = size
        self.scale = scale
        self.ratio = ratio

    @property
    def text(self) -> str:  # type: ignore[override]
        return f"random resized crop (area {self.scale[0]:g}-{self.scale[1]:g})"

    def box(self, height: int, width: int, gen: Generator) -> tuple[int, int, int, int]:
        """``(top, left, h, w)`` of the part to keep."""
        area = height * width
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target = area * _uniform(gen, *self.scale)
            aspect = math.exp(_uniform(gen, *log_ratio))
            w = round(math.sqrt(target * aspect))
            h = round(math.sqrt(target / aspect))
            if 0 < w <= width and 0 < h <= height:
                return _randint(gen, 0, height - h), _randint(gen, 0, width - w), h, w
        # No try fitted (a very elongated image): the largest central crop within the ratio range.
        aspect = width / height
        if aspect < self.ratio[0]:
            w, h = width, round(width / self.ratio[0])
        elif aspect > self.ratio[1]:
            w, h = round(height * self.ratio[1]), height
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, image: Tensor, gen: Generator = None) -> Tensor:
        top, left, h, w = self.box(image.shape[-2], image.shape[-1], gen)
        return resize(image[:, top : top + h, left : left + w], self.size, self.size)


class HorizontalFlip(Transform):
    """Mirror left-right with probability 1/2."""

    text = "horizontal flip"

    def __call__(self, image: Tensor, gen: Generator = None) -> Tensor:
        return image.flip(-1) if float(torch.rand((), generator=gen)) < 0.5 else image


class Normalize(Transform):
    """Subtract the per-channel mean and divide by the standard deviation."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        # A constant channel (std 0) is only shifted, not blown up to infinity.
        self.mean = torch.tensor(mean, dtype=torch.float32)[:, None, None]
        self.std = torch.tensor([s if s > 0 else 1.0 for s in std], dtype=torch.float32)[:, None, None]

    def __call__(self, image: Tensor, gen: Generator = None) -> Tensor:
        return (image - self.mean) / self.std
