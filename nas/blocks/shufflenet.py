"""ShuffleNet units: v1 (grouped pointwise convolutions and a channel shuffle) and v2 (channel split)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from nas.blocks import costs
from nas.blocks._base import Activation, Block, check_kernel
from nas.blocks._layers import ConvNormAct, Residual, channel_shuffle
from nas.blocks.costs import Cost, Shape
from nas.errors import SpecError
from nas.records import check_divisible, check_range

# ---------------------------------------------------------------------------------------------------------
# shufflenet_v1


class Shuffle(nn.Module):
    """Channel shuffle as a layer, so that it shows in the module's printout."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return channel_shuffle(x, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


class _ShuffleV1Unit(nn.Module):
    """The branch added to the input (stride 1) or concatenated after a 3x3 average pooling of it
    (stride 2, pooled input first as in megvii's code); ReLU last."""

    def __init__(self, branch: nn.Module, stride: int, drop_path: float) -> None:
        super().__init__()
        if stride == 1:
            self.residual: nn.Module | None = Residual(branch, drop_path)
        else:
            self.residual = None
            self.pool = nn.AvgPool2d(3, stride, 1)
            self.branch = branch
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.residual is not None:
            return self.act(self.residual(x))
        return self.act(torch.cat((self.pool(x), self.branch(x)), dim=1))


@dataclass(frozen=True)
class ShuffleV1(Block):
    """ShuffleNet unit (Zhang et al., 2018, fig. 2b/2c), bottleneck width a quarter of the unit's output
    as in the paper and megvii's reference ShuffleNet-Series code.

    At stride 2 the branch outputs ``out - cin`` channels, concatenated to the average-pooled input.
    ``group_first: false`` keeps the first pointwise convolution dense: the paper does so for the first
    unit of stage 2, whose 24 input channels are too few to split into groups.
    """

    kind = "shufflenet_v1"

    groups: int = 3
    group_first: bool = True

    def validate(self) -> None:
        check_range("groups", self.groups, 1)

    def widths(self, cin: int, cout: int, stride: int) -> tuple[int, int]:
        """Bottleneck width and branch output width."""
        return cout // 4, cout if stride == 1 else cout - cin

    def check(self, cin: int, cout: int, stride: int) -> None:
        mid, branch = self.widths(cin, cout, stride)
        if stride == 1 and cin != cout:
            raise SpecError("out", f"a stride-1 unit adds its input: out must equal in ({cin}); got {cout}")
        if branch < 1:
            raise SpecError("out", f"a stride-2 unit concatenates its input: out must exceed in ({cin})")
        if mid < 1:
            raise SpecError("out", f"the bottleneck is out // 4 channels: out must be >= 4; got {cout}")
        widths = {"the input": cin} if self.group_first else {}
        widths |= {"the bottleneck (out // 4)": mid, "the branch output": branch}
        for what, width in widths.items():
            if width % self.groups:
                raise SpecError("groups", f"{what} ({width} channels) is not divisible by {self.groups}")

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        mid, out = self.widths(cin, cout, stride)
        first_groups = self.groups if self.group_first else 1
        branch = nn.Sequential(
            ConvNormAct(cin, mid, 1, groups=first_groups),
            Shuffle(self.groups) if self.groups > 1 else nn.Identity(),
            ConvNormAct(mid, mid, 3, stride, groups=mid, act=Activation.NONE),
            ConvNormAct(mid, out, 1, groups=self.groups, act=Activation.NONE),
        )
        return _ShuffleV1Unit(branch, stride, drop_path)

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        mid, out = self.widths(x.c, cout, stride)
        first, y = costs.conv(x, mid, 1, groups=self.groups if self.group_first else 1)
        dw, y = costs.conv(y, mid, 3, stride, groups=mid)
        last, y = costs.conv(y, out, 1, groups=self.groups)
        return first + dw + last, Shape(cout, y.h, y.w)


# ---------------------------------------------------------------------------------------------------------
# shufflenet_v2


class _ShuffleV2Unit(nn.Module):
    """Stride 1: half the channels pass through, the other half go through the branch. Stride 2: both
    branches see the whole input. Concatenated, then shuffled in 2 groups (torchvision's convention)."""

    def __init__(self, branch1: nn.Module | None, branch2: nn.Module) -> None:
        super().__init__()
        self.branch1 = branch1
        self.branch2 = branch2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.branch1 is None:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


@dataclass(frozen=True)
class ShuffleV2(Block):
    """ShuffleNet V2 unit (Ma et al., 2018, fig. 3c/3d), with torchvision's ``InvertedResidual``
    conventions: each branch outputs ``out // 2`` channels, depthwise convolutions without bias and with
    batch norm but no activation. A larger odd ``kernel`` widens the depthwise convolutions for search."""

    kind = "shufflenet_v2"

    kernel: int = 3
    act: Activation = Activation.RELU

    def validate(self) -> None:
        check_kernel("kernel", self.kernel)

    def check(self, cin: int, cout: int, stride: int) -> None:
        check_divisible("out", cout, 2, "the 2 branches")
        if stride == 1 and cin != cout:
            raise SpecError(
                "out", f"a stride-1 unit splits its input in two: out must equal in ({cin}); got {cout}"
            )

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        half = cout // 2
        branch1 = None
        if stride > 1:
            branch1 = nn.Sequential(
                ConvNormAct(cin, cin, self.kernel, stride, groups=cin, act=Activation.NONE),
                ConvNormAct(cin, half, 1, act=self.act),
            )
        branch2 = nn.Sequential(
            ConvNormAct(cin if stride > 1 else half, half, 1, act=self.act),
            ConvNormAct(half, half, self.kernel, stride, groups=half, act=Activation.NONE),
            ConvNormAct(half, half, 1, act=self.act),
        )
        return _ShuffleV2Unit(branch1, branch2)

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        half = cout // 2
        total = costs.ZERO
        if stride > 1:
            dw, y = costs.conv(x, x.c, self.kernel, stride, groups=x.c)
            pw, _ = costs.conv(y, half, 1)
            total += dw + pw
        else:
            x = Shape(half, x.h, x.w)
        first, y = costs.conv(x, half, 1)
        dw, y = costs.conv(y, half, self.kernel, stride, groups=half)
        last, y = costs.conv(y, half, 1)
        return total + first + dw + last, Shape(cout, y.h, y.w)
