"""GhostNet (Han et al., 2020): the Ghost module, and the Ghost bottleneck built from two of them."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from nas.blocks import costs
from nas.blocks._base import Activation, Block, check_kernel
from nas.blocks._layers import ConvNormAct, Projected, Residual, SqueezeExcite, se_module
from nas.blocks.costs import Cost, Shape
from nas.blocks.mbconv import DefaultRatio, _check_expansion, canonical_expansion, expanded_width
from nas.records import check_range

# ---------------------------------------------------------------------------------------------------------
# ghost


class GhostModule(nn.Module):
    """A primary convolution to ``ceil(out / ratio)`` channels, then a cheap depthwise convolution that
    derives ``ratio - 1`` more maps from each; the two concatenated and cut to ``out`` (timm's layout)."""

    def __init__(
        self, cin: int, cout: int, kernel: int, stride: int, ratio: int, dw_kernel: int, act: Activation
    ) -> None:
        super().__init__()
        self.out = cout
        primary = math.ceil(cout / ratio)
        self.primary_conv = ConvNormAct(cin, primary, kernel, stride, act=act)
        self.cheap_operation = ConvNormAct(primary, primary * (ratio - 1), dw_kernel, groups=primary, act=act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.primary_conv(x)
        return torch.cat((y, self.cheap_operation(y)), dim=1)[:, : self.out]


def ghost_cost(
    x: Shape, cout: int, kernel: int, stride: int, ratio: int, dw_kernel: int
) -> tuple[Cost, Shape]:
    primary = math.ceil(cout / ratio)
    first, y = costs.conv(x, primary, kernel, stride)
    cheap, _ = costs.conv(y, primary * (ratio - 1), dw_kernel, groups=primary)
    return first + cheap, Shape(cout, y.h, y.w)


@dataclass(frozen=True)
class Ghost(Block):
    """Ghost module (Han et al., 2020, section 3.1) in place of a convolution: ``kernel`` and the stride
    belong to the primary convolution, ``dw_kernel`` to the cheap one (the paper's d), ``ratio`` is the
    paper's s. ``act: none`` gives the linear module that closes a Ghost bottleneck."""

    kind = "ghost"

    kernel: int = 1
    dw_kernel: int = 3
    ratio: int = 2
    act: Activation = Activation.RELU

    def validate(self) -> None:
        check_kernel("kernel", self.kernel)
        check_kernel("dw_kernel", self.dw_kernel)
        check_range("ratio", self.ratio, 2)

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        return GhostModule(cin, cout, self.kernel, stride, self.ratio, self.dw_kernel, self.act)

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        return ghost_cost(x, cout, self.kernel, stride, self.ratio, self.dw_kernel)


# ---------------------------------------------------------------------------------------------------------
# ghost_bottleneck


@dataclass(frozen=True)
class GhostBottleneck(Block):
    """Ghost bottleneck (Han et al., 2020, fig. 3) with timm's ``ghostnet_100`` conventions.

    A Ghost module expands to ``mid`` (or ``cin * expand`` rounded to ``divisor``, as timm rounds
    GhostNet's widths to 4), a depthwise k x k convolution with batch norm and no activation carries the
    stride (stride 2 only), optional squeeze-and-excitation on the expanded width (GhostNet's is
    ``SqueezeExcite(base: expanded, gate: hsigmoid, divisor: 4)``), a linear Ghost module projects to
    ``out``. The shortcut is the identity, with drop-path on the body, when stride is 1 and widths match;
    else a depthwise k x k convolution with the stride, then a 1x1 convolution, each with batch norm.
    """

    kind = "ghost_bottleneck"
    channel_fields = ("mid",)

    expand: float = DefaultRatio(3.0)
    kernel: int = 3
    act: Activation = Activation.RELU
    se: SqueezeExcite | None = None
    mid: int | None = None  # absolute expanded width, as GhostNet's table lists it; replaces expand
    divisor: int = 4  # rounding of cin * expand
    ratio: int = 2  # of both Ghost modules
    dw_kernel: int = 3  # of both Ghost modules' cheap operations

    def validate(self) -> None:
        _check_expansion(self.expand, self.mid)
        check_kernel("kernel", self.kernel)
        check_range("divisor", self.divisor, 1)
        check_range("ratio", self.ratio, 2)
        check_kernel("dw_kernel", self.dw_kernel)

    def hidden(self, cin: int) -> int:
        return expanded_width(cin, self.expand, self.mid, self.divisor)

    def canonical(self, cin: int, cout: int, stride: int) -> Block:
        return canonical_expansion(self, cin, cout, stride)

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        hidden = self.hidden(cin)
        layers: list[nn.Module] = [GhostModule(cin, hidden, 1, 1, self.ratio, self.dw_kernel, self.act)]
        if stride > 1:
            layers.append(
                ConvNormAct(hidden, hidden, self.kernel, stride, groups=hidden, act=Activation.NONE)
            )
        layers += [
            se_module(self.se, cin, hidden),
            GhostModule(hidden, cout, 1, 1, self.ratio, self.dw_kernel, Activation.NONE),
        ]
        body = nn.Sequential(*layers)
        if stride == 1 and cin == cout:
            return Residual(body, drop_path)
        shortcut = nn.Sequential(
            ConvNormAct(cin, cin, self.kernel, stride, groups=cin, act=Activation.NONE),
            ConvNormAct(cin, cout, 1, act=Activation.NONE),
        )
        return Projected(body, shortcut)

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        hidden = self.hidden(x.c)
        total, y = ghost_cost(x, hidden, 1, 1, self.ratio, self.dw_kernel)
        if stride > 1:
            dw, y = costs.conv(y, hidden, self.kernel, stride, groups=hidden)
            total += dw
        if self.se is not None:
            total += costs.squeeze_excite(hidden, self.se.squeezed(x.c, hidden))
        project, z = ghost_cost(y, cout, 1, 1, self.ratio, self.dw_kernel)
        total += project
        if not (stride == 1 and x.c == cout):
            dw, y = costs.conv(x, x.c, self.kernel, stride, groups=x.c)
            pw, _ = costs.conv(y, cout, 1)
            total += dw + pw
        return total, z
