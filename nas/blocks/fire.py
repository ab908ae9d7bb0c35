"""SqueezeNet's Fire module (Iandola et al., 2016)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from nas.blocks import costs
from nas.blocks._base import Block
from nas.blocks._layers import ConvNormAct
from nas.blocks.costs import Cost, Shape
from nas.errors import SpecError
from nas.records import check_range


def _round(value: float) -> int:
    # Half up rather than Python's half to even, and immune to 0.29 * 100 == 28.999999999999996.
    return int(value + 0.5)


class _FireModule(nn.Module):
    def __init__(self, squeeze: nn.Module, expand1x1: nn.Module, expand3x3: nn.Module) -> None:
        super().__init__()
        self.squeeze = squeeze
        self.expand1x1 = expand1x1
        self.expand3x3 = expand3x3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.squeeze(x)
        return torch.cat((self.expand1x1(s), self.expand3x3(s)), dim=1)


@dataclass(frozen=True)
class Fire(Block):
    """Squeeze 1x1 convolution, then 1x1 and 3x3 expand convolutions side by side, concatenated; each
    convolution with bias and ReLU, as in the paper and torchvision.

    Parameterized as the paper's design-space exploration (section 5): the stage's ``out`` is the expand
    width e1x1 + e3x3, ``pct3x3`` the share of it that is 3x3 and ``squeeze_ratio`` (SR) the squeeze
    width relative to it; SqueezeNet itself uses SR 0.125 and pct3x3 0.5 throughout. ``norm: true`` puts
    batch norm after each convolution (and drops their bias), for search spaces trained with it.
    """

    kind = "fire"
    strides = (1,)  # SqueezeNet downsamples with max pooling between Fire modules

    squeeze_ratio: float = 0.125
    pct3x3: float = 0.5
    norm: bool = False

    def validate(self) -> None:
        check_range("squeeze_ratio", self.squeeze_ratio, 0.0, 1.0, low_open=True)
        check_range("pct3x3", self.pct3x3, 0.0, 1.0, low_open=True, high_open=True)

    def widths(self, cout: int) -> tuple[int, int, int]:
        """Squeeze, 1x1 expand and 3x3 expand widths."""
        e3 = _round(cout * self.pct3x3)
        return _round(cout * self.squeeze_ratio), cout - e3, e3

    def check(self, cin: int, cout: int, stride: int) -> None:
        squeeze, e1, e3 = self.widths(cout)
        if squeeze < 1:
            raise SpecError("squeeze_ratio", f"squeezes {cout} channels to none")
        if e1 < 1 or e3 < 1:
            raise SpecError("pct3x3", f"leaves no {'1x1' if e1 < 1 else '3x3'} expand channels out of {cout}")

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        squeeze, e1, e3 = self.widths(cout)
        bias = not self.norm
        return _FireModule(
            ConvNormAct(cin, squeeze, 1, norm=self.norm, bias=bias),
            ConvNormAct(squeeze, e1, 1, norm=self.norm, bias=bias),
            ConvNormAct(squeeze, e3, 3, norm=self.norm, bias=bias),
        )

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        squeeze, e1, e3 = self.widths(cout)
        bias = not self.norm
        total, s = costs.conv(x, squeeze, 1, bias=bias, norm=self.norm)
        expand1, y = costs.conv(s, e1, 1, bias=bias, norm=self.norm)
        expand3, _ = costs.conv(s, e3, 3, bias=bias, norm=self.norm)
        return total + expand1 + expand3, Shape(cout, y.h, y.w)
