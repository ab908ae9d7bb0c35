"""What a built block is made of, for tests that check a reference's layer layout."""

from __future__ import annotations

from torch import nn


def conv_layout(module: nn.Module) -> list[tuple[int, int, int, int, int]]:
    """(in, out, kernel, stride, groups) of every convolution, in module order."""
    return [
        (m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0], m.groups)
        for m in module.modules()
        if isinstance(m, nn.Conv2d)
    ]
