"""VoVNet's one-shot aggregation module (Lee et al., 2019) with VoVNetV2's residual and effective
squeeze-excitation (Lee & Park, 2020), with timm's conventions (timm 1.0.31, ``timm.models.vovnet``
``OsaBlock`` and ``OsaStage``, as ``ese_vovnet19b_dw`` builds them)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from nas.blocks import costs
from nas.blocks._base import Block
from nas.blocks._layers import ConvNormAct, Residual
from nas.blocks.costs import Cost, Shape
from nas.errors import SpecError
from nas.records import check_range


class _EffectiveSE(nn.Module):
    """CenterMask's effective SE: global average pooling, one 1x1 convolution with bias that keeps the
    width (no squeeze, so no channel information is lost), hard-sigmoid gate."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.fc = nn.Conv2d(channels, channels, 1)
        self.gate = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(self.fc(x.mean((2, 3), keepdim=True)))


class _Aggregation(nn.Module):
    """Layers applied one after another, each to the previous one's output; the block input and every
    layer's output are concatenated once, at the end, and fused by a 1x1 convolution."""

    def __init__(
        self, reduction: nn.Module, layers: list[nn.Module], concat: nn.Module, ese: nn.Module
    ) -> None:
        super().__init__()
        self.reduction = reduction
        self.layers = nn.ModuleList(layers)
        self.concat = concat
        self.ese = ese

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = [x]
        y = self.reduction(x)
        for layer in self.layers:
            y = layer(y)
            outputs.append(y)
        return self.ese(self.concat(torch.cat(outputs, dim=1)))


def _separable_layer(channels: int) -> nn.Module:
    """timm's ``SeparableConvNormAct``: depthwise 3x3 and pointwise 1x1, both without bias and nothing
    between them, then BN and ReLU."""
    return nn.Sequential(
        nn.Conv2d(channels, channels, 3, 1, 1, groups=channels, bias=False),
        ConvNormAct(channels, channels, 1),
    )


@dataclass(frozen=True)
class OSA(Block):
    """One-shot aggregation: ``layers`` 3x3 conv-BN-ReLU layers of width ``mid`` in sequence; the block
    input and all their outputs concatenated, then a 1x1 conv-BN-ReLU to ``out``.

    ``depthwise`` makes each layer depthwise-separable (VoVNet-19-DW), after a 1x1 conv-BN-ReLU reduction
    to ``mid`` where the input width differs. ``ese`` ends the block with the effective SE; ``residual``
    adds the input back (with drop-path on the block) when stride is 1 and widths match. Stride 2 is
    VoVNet's down-sampling between stages: a 3x3 max pooling (stride 2, ceil mode) before the block.
    """

    kind = "osa"
    channel_fields = ("mid",)

    mid: int
    layers: int = 3
    depthwise: bool = False
    ese: bool = False
    residual: bool = False

    def validate(self) -> None:
        check_range("mid", self.mid, 1)
        check_range("layers", self.layers, 1)

    def _reduces(self, cin: int) -> bool:
        return self.depthwise and cin != self.mid

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        mid = self.mid
        reduction = ConvNormAct(cin, mid, 1) if self._reduces(cin) else nn.Identity()
        if self.depthwise:
            layers = [_separable_layer(mid) for _ in range(self.layers)]
        else:
            layers = [ConvNormAct(cin if i == 0 else mid, mid, 3) for i in range(self.layers)]
        concat = ConvNormAct(cin + self.layers * mid, cout, 1)
        ese = _EffectiveSE(cout) if self.ese else nn.Identity()
        block = _Aggregation(reduction, layers, concat, ese)
        if stride > 1:
            return nn.Sequential(nn.MaxPool2d(3, stride, ceil_mode=True), block)
        if self.residual and cin == cout:
            return Residual(block, drop_path)
        return block

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        if stride > 1:
            if x.h < 3 or x.w < 3:
                raise SpecError("stride", f"the 3x3 down-sampling pool does not fit a {x.h}x{x.w} map")
            x = costs.pool(x, 3, stride, 0, ceil_mode=True)
        total, y = costs.conv(x, self.mid, 1) if self._reduces(x.c) else (costs.ZERO, x)
        for _ in range(self.layers):
            if self.depthwise:
                dw, y = costs.conv(y, y.c, 3, groups=y.c, norm=False)
                pw, y = costs.conv(y, self.mid, 1)
                total += dw + pw
            else:
                layer, y = costs.conv(y, self.mid, 3)
                total += layer
        concat, z = costs.conv(Shape(x.c + self.layers * self.mid, x.h, x.w), cout, 1)
        total += concat
        if self.ese:
            total += costs.linear(cout, cout)
        return total, z
