"""Layers shared by several block families: conv-BN-activation, squeeze-and-excitation, drop-path."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import torch
from torch import nn

from nas.blocks._base import GATES, Activation, make_divisible
from nas.blocks.costs import split_channels
from nas.errors import SpecError
from nas.records import Record, check_one_of, check_range


class ConvNormAct(nn.Sequential):
    """Convolution, then batch norm (optional), then activation: the unit of every CNN here."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int,
        stride: int = 1,
        groups: int = 1,
        act: Activation = Activation.RELU,
        *,
        padding: int | None = None,
        norm: bool = True,
        bias: bool = False,
        dilation: int = 1,
    ) -> None:
        pad = dilation * (kernel - 1) // 2 if padding is None else padding
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, kernel, stride, pad, dilation=dilation, groups=groups, bias=bias)
        ]
        if norm:
            layers.append(nn.BatchNorm2d(cout))
        if act is not Activation.NONE:
            layers.append(act.module())
        super().__init__(*layers)


class MixedConv2d(nn.Module):
    """MixConv (Tan & Le, 2019) as timm's ``MixedConv2d`` builds it: input and output channels split by
    timm's ``_split_channels`` into one group per kernel, each group its own convolution, concatenated."""

    def __init__(self, cin: int, cout: int, kernels: tuple[int, ...], stride: int, depthwise: bool) -> None:
        super().__init__()
        ins, outs = split_channels(cin, len(kernels)), split_channels(cout, len(kernels))
        self.splits = ins
        self.convs = nn.ModuleList(
            nn.Conv2d(i, o, k, stride, k // 2, groups=i if depthwise else 1, bias=False)
            for i, o, k in zip(ins, outs, kernels, strict=True)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = x.split(self.splits, 1)
        return torch.cat([conv(part) for conv, part in zip(self.convs, parts, strict=True)], 1)


def mixed_conv_norm_act(
    cin: int, cout: int, kernels: tuple[int, ...], stride: int, act: Activation, *, depthwise: bool = False
) -> nn.Module:
    """Conv-BN-activation whose conv is a MixConv over ``kernels``; one conv where that is the same
    thing: one kernel, a depthwise conv with one kernel size, or equal groups of one kernel (a grouped
    conv, FBNet's and ShuffleNet's grouped 1x1)."""
    n = len(kernels)
    if len(set(kernels)) == 1 and (depthwise or (cin % n == 0 and cout % n == 0)):
        return ConvNormAct(cin, cout, kernels[0], stride, groups=cin if depthwise else n, act=act)
    layers = [MixedConv2d(cin, cout, kernels, stride, depthwise), nn.BatchNorm2d(cout)]
    if act is not Activation.NONE:
        layers.append(act.module())
    return nn.Sequential(*layers)


@dataclass(frozen=True)
class BatchNorm(Record):
    """Batch-norm settings where a reference departs from PyTorch's (eps 1e-5, momentum 0.1).

    TensorFlow's defaults differ, and so do the references ported from it: torchvision's MobileNetV3 and
    EfficientNet B5-B7 (eps 1e-3, momentum 0.01), GoogLeNet (eps 1e-3), MnasNet (momentum 0.0003, i.e.
    TensorFlow's decay 0.9997). A field left out keeps what is already there: the spec's setting on a
    stage, and what the block builds on the spec (PyTorch's defaults; 1e-3 in Inception modules).
    Neither changes a parameter or a MAC; ``momentum`` matters to training only.
    """

    eps: float | None = None
    momentum: float | None = None

    def validate(self) -> None:
        if self.eps is not None:
            check_range("eps", self.eps, 0.0, low_open=True)
        if self.momentum is not None:
            check_range("momentum", self.momentum, 0.0, 1.0)

    def over(self, base: BatchNorm) -> BatchNorm:
        """These settings, with the fields left out taken from ``base``."""
        return BatchNorm(
            base.eps if self.eps is None else self.eps,
            base.momentum if self.momentum is None else self.momentum,
        )

    def apply(self, module: nn.Module) -> None:
        """Set every batch norm of ``module`` to the fields given."""
        for m in module.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                if self.eps is not None:
                    m.eps = self.eps
                if self.momentum is not None:
                    m.momentum = self.momentum


class SEBase(enum.Enum):
    """What the squeeze ratio is relative to: the block input (EfficientNet, MnasNet) or the expanded
    width the SE sits on (MobileNetV3, GhostNet)."""

    INPUT = "input"
    EXPANDED = "expanded"


@dataclass(frozen=True)
class SqueezeExcite(Record):
    """Squeeze-and-excitation options (Hu et al., 2018), with each convention of the literature explicit.

    EfficientNet: ratio 0.25 of the block input, swish, sigmoid gate, no rounding.
    MobileNetV3: ratio 0.25 of the expanded width, relu, hard-sigmoid gate, rounded to multiples of 8.
    """

    ratio: float = 0.25
    base: SEBase = SEBase.INPUT
    act: Activation = Activation.RELU
    gate: Activation = Activation.SIGMOID
    divisor: int = 1  # 1: round down, as torchvision's EfficientNet; else make_divisible

    def validate(self) -> None:
        check_range("ratio", self.ratio, 0.0, 1.0, low_open=True)
        check_one_of("gate", self.gate, GATES)
        if self.act in GATES or self.act is Activation.NONE:
            raise SpecError("act", f"expected a hidden activation, not {self.act.value}")
        check_range("divisor", self.divisor, 1)

    def squeezed(self, cin: int, expanded: int) -> int:
        """Channels of the squeezed vector, for a block with input ``cin`` and SE width ``expanded``."""
        base = cin if self.base is SEBase.INPUT else expanded
        width = int(base * self.ratio)
        return max(1, width) if self.divisor == 1 else make_divisible(width, self.divisor)


class SqueezeExciteModule(nn.Module):
    def __init__(self, channels: int, squeezed: int, act: Activation, gate: Activation) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeezed, 1)
        self.act = act.module()
        self.fc2 = nn.Conv2d(squeezed, channels, 1)
        self.gate = gate.module()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(self.fc2(self.act(self.fc1(self.pool(x)))))


def se_module(se: SqueezeExcite | None, cin: int, expanded: int) -> nn.Module:
    if se is None:
        return nn.Identity()
    return SqueezeExciteModule(expanded, se.squeezed(cin, expanded), se.act, se.gate)


class DropPath(nn.Module):
    """Stochastic depth (Huang et al., 2016): drop the residual branch per sample while training."""

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0.0:
            return x
        keep = 1.0 - self.rate
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"rate={self.rate}"


class ResidualUnit(nn.Module):
    """Base of the blocks that add a branch ``body`` to a shortcut: what zero-init of the branch's last
    batch norm (:func:`residual_bodies`) finds."""

    body: nn.Module


def residual_bodies(model: nn.Module) -> list[nn.Module]:
    """The branch of every residual unit in ``model``, in module order."""
    return [m.body for m in model.modules() if isinstance(m, ResidualUnit)]


class Residual(ResidualUnit):
    """``x + drop_path(body(x))``."""

    def __init__(self, body: nn.Module, drop_path: float = 0.0) -> None:
        super().__init__()
        self.body = body
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.drop_path(self.body(x))


class Projected(ResidualUnit):
    """``body(x) + shortcut(x)``: a residual block whose stride or widths rule out the identity."""

    def __init__(self, body: nn.Module, shortcut: nn.Module) -> None:
        super().__init__()
        self.body = body
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.shortcut(x)


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Interleave the channels of ``groups`` groups so that information crosses groups (ShuffleNet)."""
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)
