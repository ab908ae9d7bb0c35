"""GoogLeNet's Inception module (Szegedy et al., 2015), with torchvision's conventions."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from nas.blocks import costs
from nas.blocks._base import Block, check_kernel
from nas.blocks._layers import ConvNormAct
from nas.blocks.costs import Cost, Shape
from nas.records import check_range

# torchvision's BasicConv2d uses the batch-norm epsilon of the TensorFlow Inception code; matching it
# lets a spec-built module load torchvision's weights and compute the same outputs.
_BN_EPS = 1e-3


def _basic_conv(cin: int, cout: int, kernel: int) -> nn.Module:
    """Conv (no bias), BN, ReLU: torchvision's ``BasicConv2d``."""
    layer = ConvNormAct(cin, cout, kernel)
    layer[1].eps = _BN_EPS
    return layer


class _Branches(nn.Module):
    """Runs every branch on the input and concatenates their outputs along the channels."""

    def __init__(self, *branches: nn.Module) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=1)


@dataclass(frozen=True)
class Inception(Block):
    """Four branches concatenated: 1x1; 1x1 reduce then 3x3; 1x1 reduce then "5x5"; 3x3 max pooling
    (stride 1, ceil mode) then a 1x1 projection. Every convolution is conv, BN, ReLU. The output width is
    ``c1 + c3 + c5 + pool_proj``.
    """

    kind = "inception"
    strides = (1,)
    sets_channels = False

    c1: int
    c3_reduce: int
    c3: int
    c5_reduce: int
    c5: int
    pool_proj: int
    # The paper's third branch is 5x5; torchvision's GoogLeNet uses 3x3 there (a known bug kept for its
    # pretrained weights, pytorch/vision#906), so 3 reproduces torchvision and 5 the paper.
    five_kernel: int = 3

    def validate(self) -> None:
        for name in ("c1", "c3_reduce", "c3", "c5_reduce", "c5", "pool_proj"):
            check_range(name, getattr(self, name), 1)
        check_kernel("five_kernel", self.five_kernel)

    def out_channels(self, cin: int, out: int | None) -> int:
        return self.c1 + self.c3 + self.c5 + self.pool_proj

    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        return _Branches(
            _basic_conv(cin, self.c1, 1),
            nn.Sequential(_basic_conv(cin, self.c3_reduce, 1), _basic_conv(self.c3_reduce, self.c3, 3)),
            nn.Sequential(
                _basic_conv(cin, self.c5_reduce, 1), _basic_conv(self.c5_reduce, self.c5, self.five_kernel)
            ),
            nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), _basic_conv(cin, self.pool_proj, 1)),
        )

    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        # The stride-1, padding-1 pooling keeps the size, so every branch sees and outputs x.h by x.w.
        total = costs.conv(x, self.c1, 1)[0] + costs.conv(x, self.pool_proj, 1)[0]
        for reduce, width, kernel in (
            (self.c3_reduce, self.c3, 3),
            (self.c5_reduce, self.c5, self.five_kernel),
        ):
            first, y = costs.conv(x, reduce, 1)
            total += first + costs.conv(y, width, kernel)[0]
        return total, Shape(cout, x.h, x.w)
