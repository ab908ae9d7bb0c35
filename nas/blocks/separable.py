"""Depthwise-separable convolution (MobileNetV1; the separable convolution of Xception)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from nas.blocks import costs
from nas.blocks._base import Activation, Block, check_kernel
from nas.blocks._layers import ConvNormAct, Residual
from nas.blocks.costs import Cost, Shape


@dataclass(frozen=True)
class Separable(Block):
    """Depthwise k x k convolution, then pointwise 1x1 convolution (Howard et al., 2017).

    ``dw_norm: false`` drops the batch norm and activation between the two convolutions, as in
    Xception's ``SeparableConv2d``; ``linear: true`` drops the activation after the pointwise one, as in
    MnasNet's first layer. ``skip`` adds a residual when stride and widths allow.
    """

    kind = "separable"

    kernel: int = 3
    act: Activation = Activation.RELU
    dw_norm: bool = True
    linear: bool = False
    skip: bool = False

    def validate(self) -> None:
        check_kernel("kernel", self.kernel)

    def canonical(self, cin: int, cout: int, stride: int) -> Block:
        return self.replace(skip=self.skip and stride == 1 and cin == cout)

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        dw_act = self.act if self.dw_norm else Activation.NONE
        body = nn.Sequential(
            ConvNormAct(cin, cin, self.kernel, stride, groups=cin, act=dw_act, norm=self.dw_norm),
            ConvNormAct(cin, cout, 1, act=Activation.NONE if self.linear else self.act),
        )
        if self.skip and stride == 1 and cin == cout:
            return Residual(body, drop_path)
        return body

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        dw, y = costs.conv(x, x.c, self.kernel, stride, groups=x.c, norm=self.dw_norm)
        pw, z = costs.conv(y, cout, 1)
        return dw + pw, z
