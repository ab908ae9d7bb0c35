"""Xception's residual block of separable convolutions (Chollet, 2017), with timm's ``legacy_xception``
conventions (timm 1.0.31, ``timm.models.xception.Block``)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from nas.blocks import costs
from nas.blocks._base import Activation, Block
from nas.blocks._layers import ConvNormAct, Projected, Residual
from nas.blocks.costs import Cost, Shape
from nas.records import check_range


def _separable(cin: int, cout: int) -> nn.Sequential:
    """Xception's ``SeparableConv2d`` and its batch norm: depthwise 3x3 and pointwise 1x1 with nothing
    between them (the paper found an activation there hurts) and no bias, then BN."""
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, 1, 1, groups=cin, bias=False),
        ConvNormAct(cin, cout, 1, act=Activation.NONE),
    )


@dataclass(frozen=True)
class XceptionBlock(Block):
    """``reps`` times (ReLU, separable 3x3, BN), a 3x3 max pooling when strided, plus a shortcut.

    One kind covers Xception's three flows (paper, fig. 5): the entry flow's blocks (``reps: 2``, stride
    2; the first one ``start_with_relu: false``, as its input is already rectified by the stem), the
    middle flow's (``reps: 3``, stride 1, identity shortcut) and the exit flow's (``reps: 2``, stride 2,
    ``grow_first: false``: the last separable convolution widens, not the first). The shortcut is a
    strided 1x1 convolution with BN when stride or width change, else the identity (with drop-path on
    the branch).
    """

    kind = "xception"

    reps: int = 3
    start_with_relu: bool = True
    grow_first: bool = True

    def validate(self) -> None:
        check_range("reps", self.reps, 1)

    def widths(self, cin: int, cout: int) -> list[tuple[int, int]]:
        """Input and output width of each separable convolution."""
        if self.grow_first:
            return [(cin if i == 0 else cout, cout) for i in range(self.reps)]
        return [(cin, cin if i < self.reps - 1 else cout) for i in range(self.reps)]

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(self.widths(cin, cout)):
            if i > 0 or self.start_with_relu:
                # The first ReLU must not work in place: the shortcut still reads the block's input.
                layers.append(nn.ReLU(inplace=i > 0))
            layers.append(_separable(a, b))
        if stride > 1:
            layers.append(nn.MaxPool2d(3, stride, 1))
        body = nn.Sequential(*layers)
        if stride == 1 and cin == cout:
            return Residual(body, drop_path)
        return Projected(body, ConvNormAct(cin, cout, 1, stride, act=Activation.NONE))

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        total, y = costs.ZERO, x
        for a, b in self.widths(x.c, cout):
            dw, y = costs.conv(y, a, 3, groups=a, norm=False)
            pw, y = costs.conv(y, b, 1)
            total += dw + pw
        if stride > 1:
            y = costs.pool(y, 3, stride, 1)
        if not (stride == 1 and x.c == cout):
            total += costs.conv(x, cout, 1, stride)[0]
        return total, y
