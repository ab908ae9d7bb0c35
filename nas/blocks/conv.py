"""Plain layers: conv-BN-activation (VGG, AlexNet, stems, 1x1 heads), pooling, and a lone BN-activation."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from torch import nn

from nas.blocks import costs
from nas.blocks._base import Activation, Block, check_kernel
from nas.blocks._layers import ConvNormAct
from nas.blocks.costs import Cost, Shape
from nas.errors import SpecError
from nas.records import check_divisible, check_range

# ---------------------------------------------------------------------------------------------------------
# conv


@dataclass(frozen=True)
class Conv(Block):
    """Convolution, batch norm, activation. ``norm: false`` with ``bias: true`` gives VGG/AlexNet layers."""

    kind = "conv"
    strides = (1, 2, 4)  # 4: AlexNet's first layer

    kernel: int = 3
    act: Activation = Activation.RELU
    groups: int = 1
    norm: bool = True
    bias: bool = False
    padding: int | None = None  # None: kernel // 2; Xception's and SqueezeNet's stems use 0

    def validate(self) -> None:
        check_kernel("kernel", self.kernel)
        check_range("groups", self.groups, 1)
        if self.padding is not None:
            check_range("padding", self.padding, 0, self.kernel // 2)

    def check(self, cin: int, cout: int, stride: int) -> None:
        check_divisible("groups", cin, self.groups, "groups")
        check_divisible("groups", cout, self.groups, "groups")

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        return ConvNormAct(
            cin, cout, self.kernel, stride, self.groups, self.act,
            padding=self.padding, norm=self.norm, bias=self.bias,
        )  # fmt: skip

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        return costs.conv(
            x, cout, self.kernel, stride, self.groups, self.padding, bias=self.bias, norm=self.norm
        )


# ---------------------------------------------------------------------------------------------------------
# pooling


class PoolMode(enum.Enum):
    MAX = "max"
    AVG = "avg"


@dataclass(frozen=True)
class Pool(Block):
    """Max or average pooling between stages (ResNet's and GoogLeNet's stems, SqueezeNet, VGG)."""

    kind = "pool"
    sets_channels = False

    mode: PoolMode = PoolMode.MAX
    kernel: int = 3
    padding: int = 0
    ceil_mode: bool = False  # torchvision's GoogLeNet and SqueezeNet round the output size up

    def validate(self) -> None:
        check_range("kernel", self.kernel, 1)
        check_range("padding", self.padding, 0, self.kernel // 2)

    def out_channels(self, cin: int, out: int | None) -> int:
        return cin

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        if self.mode is PoolMode.MAX:
            return nn.MaxPool2d(self.kernel, stride, self.padding, ceil_mode=self.ceil_mode)
        return nn.AvgPool2d(self.kernel, stride, self.padding, ceil_mode=self.ceil_mode)

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        if x.h + 2 * self.padding < self.kernel or x.w + 2 * self.padding < self.kernel:
            raise SpecError("kernel", f"a {self.kernel}x{self.kernel} window does not fit a {x.h}x{x.w} map")
        return costs.ZERO, costs.pool(x, self.kernel, stride, self.padding, self.ceil_mode)


# ---------------------------------------------------------------------------------------------------------
# norm_act


@dataclass(frozen=True)
class NormAct(Block):
    """Batch norm and activation with no convolution: closes pre-activation networks (DenseNet's norm5)."""

    kind = "norm_act"
    strides = (1,)
    sets_channels = False

    act: Activation = Activation.RELU

    def out_channels(self, cin: int, out: int | None) -> int:
        return cin

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        return nn.Sequential(nn.BatchNorm2d(cin), self.act.module())

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        return costs.norm(x.c), x
