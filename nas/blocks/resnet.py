"""Residual blocks: ResNet's basic and bottleneck blocks (He et al., 2016), and ResNeXt's grouped
bottleneck (Xie et al., 2017), with torchvision's conventions (stride on the 3x3 convolution, "ResNet
v1.5"; a 1x1 convolution and batch norm as the projection shortcut)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from nas.blocks import costs
from nas.blocks._base import Activation, Block
from nas.blocks._layers import ConvNormAct, DropPath, ResidualUnit
from nas.blocks.costs import Cost, Shape
from nas.errors import SpecError
from nas.records import check_divisible, check_range


class _ResidualUnit(ResidualUnit):
    """``relu(drop_path(body(x)) + shortcut(x))``: the ReLU comes after the addition (post-activation)."""

    def __init__(self, body: nn.Module, shortcut: nn.Module, drop_path: float) -> None:
        super().__init__()
        self.body = body
        self.shortcut = shortcut
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.drop_path(self.body(x)) + self.shortcut(x))


def _needs_projection(cin: int, cout: int, stride: int) -> bool:
    return stride != 1 or cin != cout


def _shortcut(cin: int, cout: int, stride: int) -> nn.Module:
    """Identity where shapes allow, else the projection (option B of the paper): strided 1x1 conv + BN."""
    if not _needs_projection(cin, cout, stride):
        return nn.Identity()
    return ConvNormAct(cin, cout, 1, stride, act=Activation.NONE)


def _shortcut_cost(x: Shape, cout: int, stride: int) -> Cost:
    if not _needs_projection(x.c, cout, stride):
        return costs.ZERO
    return costs.conv(x, cout, 1, stride)[0]


# ---------------------------------------------------------------------------------------------------------
# basic


@dataclass(frozen=True)
class BasicBlock(Block):
    """Two 3x3 conv-BN layers, ReLU between them and after the addition (ResNet-18/34)."""

    kind = "basic"

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        body = nn.Sequential(
            ConvNormAct(cin, cout, 3, stride),
            ConvNormAct(cout, cout, 3, act=Activation.NONE),
        )
        return _ResidualUnit(body, _shortcut(cin, cout, stride), drop_path)

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        first, y = costs.conv(x, cout, 3, stride)
        second, y = costs.conv(y, cout, 3)
        return first + second + _shortcut_cost(x, cout, stride), y


# ---------------------------------------------------------------------------------------------------------
# bottleneck


@dataclass(frozen=True)
class Bottleneck(Block):
    """1x1 reduce, 3x3 (strided, grouped), 1x1 expand by ``expansion`` (ResNet-50+, ResNeXt).

    ``planes = out // expansion``; the 3x3 width is ``int(planes * base_width / 64) * groups`` as in
    torchvision, so ResNeXt-50 32x4d is ``groups: 32, base_width: 4`` and Wide ResNet-50-2 is
    ``base_width: 128``.
    """

    kind = "bottleneck"

    groups: int = 1
    base_width: int = 64
    expansion: int = 4

    def validate(self) -> None:
        check_range("groups", self.groups, 1)
        check_range("base_width", self.base_width, 1)
        check_range("expansion", self.expansion, 1)

    def width(self, cout: int) -> int:
        planes = cout // self.expansion
        # torchvision's expression, float division included, so that rounding matches.
        return int(planes * (self.base_width / 64.0)) * self.groups

    def check(self, cin: int, cout: int, stride: int) -> None:
        check_divisible("out", cout, self.expansion, "expansion")
        if self.width(cout) < 1:
            raise SpecError(
                "base_width",
                f"out {cout} / expansion {self.expansion} * base_width {self.base_width} / 64 "
                "leaves no channel per group",
            )

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        width = self.width(cout)
        body = nn.Sequential(
            ConvNormAct(cin, width, 1),
            ConvNormAct(width, width, 3, stride, self.groups),
            ConvNormAct(width, cout, 1, act=Activation.NONE),
        )
        return _ResidualUnit(body, _shortcut(cin, cout, stride), drop_path)

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        width = self.width(cout)
        reduce, y = costs.conv(x, width, 1)
        spatial, y = costs.conv(y, width, 3, stride, self.groups)
        expand, y = costs.conv(y, cout, 1)
        return reduce + spatial + expand + _shortcut_cost(x, cout, stride), y
