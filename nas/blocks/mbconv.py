"""Inverted residuals: MBConv (MobileNetV2, MnasNet, MobileNetV3, EfficientNet) and fused MBConv
(EfficientNetV2)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TypeVar

from torch import nn

from nas.blocks import costs
from nas.blocks._base import Activation, Block, check_kernel, make_divisible
from nas.blocks._layers import ConvNormAct, Residual, SqueezeExcite, mixed_conv_norm_act, se_module
from nas.blocks.costs import Cost, Shape
from nas.errors import SpecError
from nas.records import check_range

B = TypeVar("B", bound=Block)


class DefaultRatio(float):
    """An expansion ratio the spec left at its default. It equals the number, so records compare, hash and
    dump as before, but validation can tell it from a ratio the spec gave: ``expand`` beside ``mid`` is an
    error whatever its value, not only when it differs from the default."""

    __slots__ = ()


def expanded_width(cin: int, expand: float, mid: int | None, divisor: int) -> int:
    """Width of the expanded (hidden) layer: ``mid`` when a table gives it, else ``cin * expand``
    rounded as the reference code rounds it; ``expand == 1`` keeps the input width."""
    if mid is not None:
        return mid
    if expand == 1.0:
        return cin
    return make_divisible(cin * expand, divisor)


def has_expansion(expand: float, mid: int | None) -> bool:
    """Whether an inverted residual has its expansion conv: always, unless the spec says ``expand: 1``.

    A ``mid`` or a ratio whose width lands on the input width still gets its conv (timm's ``ir_e1``
    blocks, FBNet): the builder never drops a layer the spec asks for."""
    return mid is not None or expand != 1.0


def canonical_expansion(block: B, cin: int, cout: int, stride: int, skip: bool | None = None) -> B:
    """``block`` with its expanded width written absolutely (``mid``) and ``skip`` false where no
    residual can apply, so that ``expand: 2.3`` at 80 input channels equals ``mid: 184``. A block without
    an expansion conv is written ``expand: 1``, as a ``mid`` always has one."""
    defaults = {f.name: f.default for f in dataclasses.fields(block)}
    expands = getattr(block, "expands", True)
    changes: dict[str, object] = {
        "mid": block.hidden(cin) if expands else None,  # type: ignore[attr-defined]
        "expand": defaults["expand"] if expands else 1.0,
        "divisor": defaults["divisor"],
    }
    if skip is not None:
        changes["skip"] = skip and stride == 1 and cin == cout
    return dataclasses.replace(block, **changes)


def _check_kernels(kernel: int | tuple[int, ...]) -> None:
    if not isinstance(kernel, tuple):
        check_kernel("kernel", kernel)
        return
    if not kernel:
        raise SpecError("kernel", "expected a kernel size or a list of them; got an empty list")
    for i, k in enumerate(kernel):
        check_kernel(f"kernel[{i}]", k)


def _check_split(name: str, groups: int, channels: int, which: str) -> None:
    if groups > channels:
        raise SpecError(name, f"{groups} groups need at least {groups} {which} channels; got {channels}")


def _check_expansion(expand: float, mid: int | None) -> None:
    check_range("expand", expand, 1.0)
    if mid is not None:
        check_range("mid", mid, 1)
        if not isinstance(expand, DefaultRatio):
            raise SpecError("mid", "give either expand or mid, not both")


# ---------------------------------------------------------------------------------------------------------
# mbconv


@dataclass(frozen=True)
class MBConv(Block):
    """Inverted residual with linear bottleneck (Sandler et al., 2018), optional SE (Howard et al., 2019).

    1x1 expansion (none with ``expand: 1``), depthwise k x k with the stride, optional
    squeeze-and-excitation, linear 1x1 projection; residual with drop-path when stride is 1, widths match
    and ``skip`` is true.
    """

    kind = "mbconv"
    channel_fields = ("mid",)

    expand: float = DefaultRatio(6.0)
    # A list is a MixConv (Tan & Le, 2019): the depthwise channels split into one group per kernel.
    kernel: int | tuple[int, ...] = 3
    act: Activation = Activation.RELU6
    se: SqueezeExcite | None = None
    skip: bool = True
    mid: int | None = None  # absolute expanded width, as MobileNetV3's table lists it; replaces expand
    divisor: int = 8  # rounding of cin * expand
    # Groups of the 1x1 expansion and projection convs, channels split as MixConv splits them (MixNet's
    # ``a1.1`` and ``p1.1``: two groups; FBNet's grouped 1x1). Last, so that dumps without them keep
    # their text and hash.
    expand_groups: int = 1
    project_groups: int = 1

    def validate(self) -> None:
        _check_expansion(self.expand, self.mid)
        if isinstance(self.kernel, tuple) and len(self.kernel) == 1:
            object.__setattr__(self, "kernel", self.kernel[0])  # [5] is the plain 5x5 conv it builds
        _check_kernels(self.kernel)  # any odd sizes: MixNet uses 9 and 11
        check_range("divisor", self.divisor, 1)
        check_range("expand_groups", self.expand_groups, 1)
        check_range("project_groups", self.project_groups, 1)
        if self.expand_groups > 1 and not self.expands:
            raise SpecError("expand_groups", "expand: 1 has no expansion conv to group")

    def check(self, cin: int, cout: int, stride: int) -> None:
        # Every group of timm's _split_channels needs a channel: as many channels as groups.
        hidden = self.hidden(cin)
        _check_split("kernel", len(self.kernels), hidden, "expanded")
        _check_split("expand_groups", self.expand_groups, min(cin, hidden), "input and expanded")
        _check_split("project_groups", self.project_groups, min(hidden, cout), "expanded and output")

    @property
    def kernels(self) -> tuple[int, ...]:
        """The depthwise kernel sizes, one per channel group."""
        return self.kernel if isinstance(self.kernel, tuple) else (self.kernel,)

    @property
    def expands(self) -> bool:
        return has_expansion(self.expand, self.mid)

    def hidden(self, cin: int) -> int:
        return expanded_width(cin, self.expand, self.mid, self.divisor)

    def canonical(self, cin: int, cout: int, stride: int) -> Block:
        block = canonical_expansion(self, cin, cout, stride, self.skip)
        if len(set(self.kernels)) == 1:  # [3, 3] is one depthwise 3x3: splitting it changes nothing
            block = dataclasses.replace(block, kernel=self.kernels[0])
        return block

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        hidden = self.hidden(cin)
        layers: list[nn.Module] = []
        if self.expands:
            layers.append(mixed_conv_norm_act(cin, hidden, (1,) * self.expand_groups, 1, self.act))
        layers += [
            mixed_conv_norm_act(hidden, hidden, self.kernels, stride, self.act, depthwise=True),
            se_module(self.se, cin, hidden),
            mixed_conv_norm_act(hidden, cout, (1,) * self.project_groups, 1, Activation.NONE),
        ]
        body = nn.Sequential(*layers)
        if self.skip and stride == 1 and cin == cout:
            return Residual(body, drop_path)
        return body

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        hidden = self.hidden(x.c)
        total, y = costs.mixed_conv(x, hidden, (1,) * self.expand_groups) if self.expands else (costs.ZERO, x)
        dw, y = costs.mixed_conv(y, hidden, self.kernels, stride, depthwise=True)
        total += dw
        if self.se is not None:
            total += costs.squeeze_excite(hidden, self.se.squeezed(x.c, hidden))
        project, z = costs.mixed_conv(y, cout, (1,) * self.project_groups)
        return total + project, z


# ---------------------------------------------------------------------------------------------------------
# fused_mbconv


@dataclass(frozen=True)
class FusedMBConv(Block):
    """EfficientNetV2's fused MBConv (Tan & Le, 2021): the 1x1 expansion and depthwise k x k become one
    full k x k convolution. With ``expand: 1``, that convolution maps straight to the output width."""

    kind = "fused_mbconv"
    channel_fields = ("mid",)

    expand: float = DefaultRatio(4.0)
    kernel: int = 3
    act: Activation = Activation.SWISH
    se: SqueezeExcite | None = None
    skip: bool = True
    mid: int | None = None
    divisor: int = 8

    def validate(self) -> None:
        _check_expansion(self.expand, self.mid)
        check_kernel("kernel", self.kernel)
        check_range("divisor", self.divisor, 1)

    @property
    def expands(self) -> bool:
        return has_expansion(self.expand, self.mid)

    def hidden(self, cin: int) -> int:
        return expanded_width(cin, self.expand, self.mid, self.divisor)

    def canonical(self, cin: int, cout: int, stride: int) -> Block:
        return canonical_expansion(self, cin, cout, stride, self.skip)

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        if self.expands:
            hidden = self.hidden(cin)
            layers = [
                ConvNormAct(cin, hidden, self.kernel, stride, act=self.act),
                se_module(self.se, cin, hidden),
                ConvNormAct(hidden, cout, 1, act=Activation.NONE),
            ]
        else:
            layers = [
                ConvNormAct(cin, cout, self.kernel, stride, act=self.act),
                se_module(self.se, cin, cout),
            ]
        body = nn.Sequential(*layers)
        if self.skip and stride == 1 and cin == cout:
            return Residual(body, drop_path)
        return body

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        width = self.hidden(x.c) if self.expands else cout
        total, y = costs.conv(x, width, self.kernel, stride)
        if self.se is not None:
            total += costs.squeeze_excite(width, self.se.squeezed(x.c, width))
        if self.expands:
            project, y = costs.conv(y, cout, 1)
            total += project
        return total, y
