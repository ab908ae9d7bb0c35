"""DenseNet's layers (Huang et al., 2017): the pre-activation bottleneck layer whose output is concatenated
to its input (DenseNet-BC), and the transition between dense blocks; torchvision's conventions."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from nas.blocks import costs
from nas.blocks._base import Activation, Block
from nas.blocks._layers import ConvNormAct
from nas.blocks.costs import Cost, Shape
from nas.errors import SpecError
from nas.records import check_range

# ---------------------------------------------------------------------------------------------------------
# dense_layer


class _DenseLayer(nn.Module):
    """``cat(x, body(x))``: a stage of n such layers is a dense block, each layer seeing all earlier
    feature maps in the same order as torchvision's ``_DenseBlock`` concatenates them."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((x, self.body(x)), dim=1)


@dataclass(frozen=True)
class DenseLayer(Block):
    """BN, ReLU, 1x1 conv to ``bn_size * growth``, BN, ReLU, 3x3 conv to ``growth``; output ``in + growth``.

    Has no identity residual, so no drop-path: its stochastic-depth rate is ignored.
    """

    kind = "dense_layer"
    strides = (1,)
    sets_channels = False

    growth: int = 32
    bn_size: int = 4  # bottleneck width as a multiple of the growth rate (the "B" of DenseNet-BC)

    def validate(self) -> None:
        check_range("growth", self.growth, 1)
        check_range("bn_size", self.bn_size, 1)

    def out_channels(self, cin: int, out: int | None) -> int:
        return cin + self.growth

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        mid = self.bn_size * self.growth
        # Pre-activation: the batch norm of a layer normalises its input, not its convolution's output.
        body = nn.Sequential(
            nn.BatchNorm2d(cin),
            nn.ReLU(inplace=True),
            ConvNormAct(cin, mid, 1),
            ConvNormAct(mid, self.growth, 3, act=Activation.NONE, norm=False),
        )
        return _DenseLayer(body)

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        reduce, y = costs.conv(x, self.bn_size * self.growth, 1)
        spatial, y = costs.conv(y, self.growth, 3, norm=False)
        return costs.norm(x.c) + reduce + spatial, Shape(x.c + self.growth, y.h, y.w)


# ---------------------------------------------------------------------------------------------------------
# transition


@dataclass(frozen=True)
class Transition(Block):
    """BN, ReLU, 1x1 conv to ``out``, then 2x2 average pooling with stride 2 (none at stride 1).

    DenseNet-BC halves the channels here (compression 0.5): the stage's ``out`` says how many remain.
    """

    kind = "transition"

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        layers: list[nn.Module] = [
            nn.BatchNorm2d(cin),
            nn.ReLU(inplace=True),
            ConvNormAct(cin, cout, 1, act=Activation.NONE, norm=False),
        ]
        if stride > 1:
            layers.append(nn.AvgPool2d(stride, stride))
        return nn.Sequential(*layers)

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        if x.h < stride or x.w < stride:
            raise SpecError("stride", f"a {stride}x{stride} pooling does not fit a {x.h}x{x.w} map")
        conv, y = costs.conv(x, cout, 1, norm=False)
        return costs.norm(x.c) + conv, costs.pool(y, stride, stride)
