"""Depthwise-separable convolution (MobileNetV1; the separable convolution of Xception)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from nas.blocks import costs
from nas.blocks._base import Activation, Block, check_kernel
from nas.blocks._layers import ConvNormAct, Residual, SqueezeExcite, se_module
from nas.blocks.costs import Cost, Shape


@dataclass(frozen=True)
class Separable(Block):
    """Depthwise k x k convolution, then pointwise 1x1 convolution (Howard et al., 2017).

    ``dw_norm: false`` drops the batch norm and activation between the two convolutions, as in
    Xception's ``SeparableConv2d``; ``linear: true`` drops the activation after the pointwise one, as in
    MnasNet's first layer. ``se`` puts squeeze-and-excitation between the two, on the input width, as
    PP-LCNet does (Cui et al., 2021). ``skip`` adds a residual when stride and widths allow.
    """

    kind = "separable"

    kernel: int = 3
    act: Activation = Activation.RELU
    dw_norm: bool = True
    linear: bool = False
    skip: bool = False
    se: SqueezeExcite | None = None

    def validate(self) -> None:
        check_kernel("kernel", self.kernel)

    def canonical(self, cin: int, cout: int, stride: int) -> Block:
        return self.replace(skip=self.skip and stride == 1 and cin == cout)

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        dw_act = self.act if self.dw_norm else Activation.NONE
        layers: list[nn.Module] = [
            ConvNormAct(cin, cin, self.kernel, stride, groups=cin, act=dw_act, norm=self.dw_norm)
        ]
        if self.se is not None:  # only with SE, so that without it the weights keep their names
            layers.append(se_module(self.se, cin, cin))
        layers.append(ConvNormAct(cin, cout, 1, act=Activation.NONE if self.linear else self.act))
        body = nn.Sequential(*layers)
        if self.skip and stride == 1 and cin == cout:
            return Residual(body, drop_path)
        return body

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        total, y = costs.conv(x, x.c, self.kernel, stride, groups=x.c, norm=self.dw_norm)
        if self.se is not None:
            total += costs.squeeze_excite(x.c, self.se.squeezed(x.c, x.c))
        pw, z = costs.conv(y, cout, 1)
        return total + pw, z
