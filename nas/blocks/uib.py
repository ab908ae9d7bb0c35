"""MobileNetV4's universal inverted bottleneck (Qin et al., 2024, "MobileNetV4: Universal Models for the
Mobile Ecosystem", section 3.1 and its figure of the UIB block)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from torch import nn

from nas.blocks import costs
from nas.blocks._base import Activation, Block, check_kernel, make_divisible
from nas.blocks._layers import ConvNormAct, Residual
from nas.blocks.costs import Cost, Shape
from nas.blocks.mbconv import DefaultRatio, canonical_expansion
from nas.errors import SpecError
from nas.records import check_range


def _check_dw_kernel(name: str, kernel: int) -> None:
    if kernel != 0:  # 0: the block has no such convolution, as in timm's block strings (a0, k0)
        check_kernel(name, kernel)


@dataclass(frozen=True)
class UIB(Block):
    """Universal inverted bottleneck: an optional depthwise conv before the 1x1 expansion
    (``start_dw_kernel``), the 1x1 expansion with activation, an optional depthwise conv on the expanded
    width (``mid_dw_kernel``, with activation), and the linear 1x1 projection; residual with drop-path
    when the stride is 1, the widths match and ``skip`` is true.

    The paper's four instances are one kind: IB (the middle depthwise only: MobileNetV2's inverted
    residual), ConvNeXt-like (the start one only), ExtraDW (both) and FFN (neither). As timm 1.0.31's
    ``UniversalInvertedResidual`` builds it: the start depthwise conv has batch norm but no activation; the
    stride goes to the middle depthwise conv, or to the start one when there is no middle one (an FFN, with
    no depthwise conv, cannot stride); the expansion conv is always built, ``cin * expand`` rounded to
    ``divisor`` (timm's ``make_divisible``, also at ``expand: 1``), or ``mid`` channels as given.
    """

    kind = "uib"
    channel_fields = ("mid",)

    expand: float = DefaultRatio(4.0)  # MobileNetV4-Conv's most frequent ratio
    start_dw_kernel: int = 0  # 0: no depthwise conv before the expansion
    mid_dw_kernel: int = 3  # 0: no depthwise conv after the expansion
    act: Activation = Activation.RELU
    skip: bool = True
    mid: int | None = None  # absolute expanded width; replaces expand
    divisor: int = 8  # rounding of cin * expand

    def validate(self) -> None:
        check_range("expand", self.expand, 0.0, low_open=True)
        if self.mid is not None:
            check_range("mid", self.mid, 1)
            if not isinstance(self.expand, DefaultRatio):
                raise SpecError("mid", "give either expand or mid, not both")
        _check_dw_kernel("start_dw_kernel", self.start_dw_kernel)
        _check_dw_kernel("mid_dw_kernel", self.mid_dw_kernel)
        check_range("divisor", self.divisor, 1)

    def check(self, cin: int, cout: int, stride: int) -> None:
        if stride > 1 and not (self.start_dw_kernel or self.mid_dw_kernel):
            raise SpecError(
                "stride",
                f"a uib without depthwise convs (an FFN) cannot take stride {stride}; "
                "give start_dw_kernel or mid_dw_kernel",
            )

    def hidden(self, cin: int) -> int:
        """The expanded width."""
        return self.mid if self.mid is not None else make_divisible(cin * self.expand, self.divisor)

    def start_stride(self, stride: int) -> int:
        """The start depthwise conv strides only when there is no middle one to do it."""
        return 1 if self.mid_dw_kernel else stride

    def canonical(self, cin: int, cout: int, stride: int) -> Block:
        return canonical_expansion(self, cin, cout, stride, self.skip)

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        hidden = self.hidden(cin)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        if self.start_dw_kernel:
            start_stride = self.start_stride(stride)
            layers["dw_start"] = ConvNormAct(
                cin, cin, self.start_dw_kernel, start_stride, groups=cin, act=Activation.NONE
            )
        layers["pw_exp"] = ConvNormAct(cin, hidden, 1, act=self.act)
        if self.mid_dw_kernel:
            layers["dw_mid"] = ConvNormAct(
                hidden, hidden, self.mid_dw_kernel, stride, groups=hidden, act=self.act
            )
        layers["pw_proj"] = ConvNormAct(hidden, cout, 1, act=Activation.NONE)
        body = nn.Sequential(layers)
        if self.skip and stride == 1 and cin == cout:
            return Residual(body, drop_path)
        return body

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        hidden = self.hidden(x.c)
        total, y = costs.ZERO, x
        if self.start_dw_kernel:
            total, y = costs.conv(x, x.c, self.start_dw_kernel, self.start_stride(stride), groups=x.c)
        expand, y = costs.conv(y, hidden, 1)
        total += expand
        if self.mid_dw_kernel:
            dw, y = costs.conv(y, hidden, self.mid_dw_kernel, stride, groups=hidden)
            total += dw
        project, y = costs.conv(y, cout, 1)
        return total + project, y
