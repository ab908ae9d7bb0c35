"""Residual blocks: ResNet's basic and bottleneck blocks (He et al., 2016), ResNeXt's grouped
bottleneck (Xie et al., 2017) and RegNet's (Radosavovic et al., 2020), with torchvision's conventions
(stride on the 3x3 convolution, "ResNet v1.5"; a 1x1 convolution and batch norm as the projection
shortcut), which timm's RegNet shares."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from nas.blocks import costs
from nas.blocks._base import Activation, Block
from nas.blocks._layers import ConvNormAct, DropPath, ResidualUnit, SqueezeExcite, se_module
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
    """1x1 reduce, 3x3 (strided, grouped), 1x1 expand (ResNet-50+, ResNeXt, RegNetX/Y).

    The mid (3x3) width is torchvision's by default: ``planes = out // expansion`` and
    ``int(planes * base_width / 64) * groups``, so ResNeXt-50 32x4d is ``groups: 32, base_width: 4`` and
    Wide ResNet-50-2 is ``base_width: 128``. RegNet (Radosavovic et al., 2020) writes it as its bottleneck
    ratio b, ``bottleneck_ratio``: ``round(out * b)`` (timm's expression), replacing ``expansion`` and
    ``base_width``; and ``group_width`` (channels per group) sets the 3x3's groups to ``mid //
    group_width``, replacing ``groups``. The spec gives RegNet's widths as adjusted to the group width
    (timm's ``adjust_widths_groups_comp``), so a group width must divide the mid width: nothing is rounded
    here. ``se`` puts squeeze-and-excitation on the mid width after the 3x3, where RegNetY has it (not
    after the last 1x1 as SE-ResNet); RegNetY squeezes to a ratio of the block input, ``base: input``.
    """

    kind = "bottleneck"

    groups: int = 1
    base_width: int = 64
    expansion: int = 4
    # Last, so that dumps of ResNet and ResNeXt blocks keep their text and hash.
    bottleneck_ratio: float | None = None
    group_width: int | None = None
    se: SqueezeExcite | None = None

    def validate(self) -> None:
        check_range("groups", self.groups, 1)
        check_range("base_width", self.base_width, 1)
        check_range("expansion", self.expansion, 1)
        if self.bottleneck_ratio is not None:
            check_range("bottleneck_ratio", self.bottleneck_ratio, 0.0, low_open=True)
            for name in ("expansion", "base_width"):
                if getattr(self, name) != _DEFAULTS[name]:  # they set the width a ratio replaces
                    raise SpecError(name, "give either bottleneck_ratio or expansion and base_width")
        if self.group_width is not None:
            check_range("group_width", self.group_width, 1)
            if self.groups != 1:
                raise SpecError("groups", "give either groups or group_width, not both")

    def width(self, cout: int) -> int:
        """The mid width: of the 3x3 convolution, and of the 1x1 convolutions' inner side."""
        if self.bottleneck_ratio is not None:
            return round(cout * self.bottleneck_ratio)  # timm's int(round(...))
        planes = cout // self.expansion
        # torchvision's expression, float division included, so that rounding matches.
        return int(planes * (self.base_width / 64.0)) * self.groups

    def groups_of(self, width: int) -> int:
        """Groups of the 3x3 convolution, for mid width ``width``."""
        return self.groups if self.group_width is None else width // self.group_width

    def check(self, cin: int, cout: int, stride: int) -> None:
        if self.bottleneck_ratio is None:
            check_divisible("out", cout, self.expansion, "expansion")
        width = self.width(cout)
        if width < 1:
            field = "base_width" if self.bottleneck_ratio is None else "bottleneck_ratio"
            raise SpecError(field, f"out {cout} leaves a mid width of {width}: no channel per group")
        if self.bottleneck_ratio is not None:  # torchvision's width is a multiple of groups by design
            check_divisible("groups", width, self.groups, "groups")
        if self.group_width is not None and width % self.group_width:
            raise SpecError(
                "group_width",
                f"{self.group_width} does not divide the mid width {width} (out {cout}); give the widths "
                "as RegNet adjusts them to the group width (timm's adjust_widths_groups_comp)",
            )

    def canonical(self, cin: int, cout: int, stride: int) -> Block:
        if self.group_width is None or self.bottleneck_ratio is None:
            return self  # without a ratio, groups also multiply the mid width: no other way to write it
        return self.replace(groups=self.groups_of(self.width(cout)), group_width=None)

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        width = self.width(cout)
        layers: list[nn.Module] = [
            ConvNormAct(cin, width, 1),
            ConvNormAct(width, width, 3, stride, self.groups_of(width)),
        ]
        if self.se is not None:  # only with SE, so that without it the weights keep their names
            layers.append(se_module(self.se, cin, width))
        layers.append(ConvNormAct(width, cout, 1, act=Activation.NONE))
        return _ResidualUnit(nn.Sequential(*layers), _shortcut(cin, cout, stride), drop_path)

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        width = self.width(cout)
        reduce, y = costs.conv(x, width, 1)
        spatial, y = costs.conv(y, width, 3, stride, self.groups_of(width))
        if self.se is not None:
            spatial += costs.squeeze_excite(width, self.se.squeezed(x.c, width))
        expand, y = costs.conv(y, cout, 1)
        return reduce + spatial + expand + _shortcut_cost(x, cout, stride), y


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Bottleneck)}
