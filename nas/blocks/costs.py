"""The cost of a network, and the arithmetic of the layers every block is made of: the public toolkit a
block's ``cost`` method is written with (a new block kind returns its :class:`Cost` and output
:class:`Shape` from these, so that its cost is exact without building it).

Conventions (the README repeats them for users):

* ``macs``: multiply-adds of convolutions and fully connected layers, batch 1. Bias additions, batch
  norm, activations, pooling and element-wise additions are not counted. This is the convention of the
  MobileNet/ShuffleNet/EfficientNet papers, of torchvision's published GFLOPS, and exactly half of what
  ``torch.utils.flop_counter.FlopCounterMode`` reports.
* ``params``: learnable parameters, ``sum(p.numel() for p in model.parameters())``; batch-norm running
  statistics are buffers, not parameters.
* ``activation_bytes``: float32 bytes of the feature maps each convolution and fully connected layer
  reads and writes, batch 1. With batch norm folded and activations fused into the convolutions, as
  inference runtimes do, this is the feature-map traffic that ShuffleNetV2's guidelines G1-G3 are about
  and that MACs alone do not show.

Everything here is a pure function of integers: no module is built and no tensor is run.
"""

from __future__ import annotations

import math
from typing import NamedTuple

BYTES_PER_ELEMENT = 4  # float32


class Cost(NamedTuple):
    """Multiply-adds, parameters and activation traffic of a network or a part of one.

    Immutable; ``+`` adds field by field. (A named tuple rather than a frozen dataclass because
    the cost model creates thousands of these per search step and tuples are several times cheaper.)
    """

    macs: int = 0
    params: int = 0
    activation_bytes: int = 0

    def __add__(self, other: Cost) -> Cost:  # type: ignore[override]
        return _new(Cost, (self[0] + other[0], self[1] + other[1], self[2] + other[2]))

    def __mul__(self, times: int) -> Cost:  # type: ignore[override]
        return Cost(self.macs * times, self.params * times, self.activation_bytes * times)

    __rmul__ = __mul__


ZERO = Cost()
_new = tuple.__new__  # skips the named tuples' argument parsing on the cost model's hot path


class Shape(NamedTuple):
    """A feature map of one image: channels, height, width."""

    c: int
    h: int
    w: int

    @property
    def numel(self) -> int:
        return self.c * self.h * self.w


def conv_out(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    """Output length of a convolution or floor-mode pooling along one axis (PyTorch's formula)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def pool_out(size: int, kernel: int, stride: int, padding: int, ceil_mode: bool) -> int:
    """Output length of a max or average pooling along one axis, ceil mode included.

    In ceil mode PyTorch drops a last window that would start inside the right padding only.
    """
    if not ceil_mode:
        return conv_out(size, kernel, stride, padding)
    out = math.ceil((size + 2 * padding - kernel) / stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


def conv(
    x: Shape,
    out: int,
    kernel: int,
    stride: int = 1,
    groups: int = 1,
    padding: int | None = None,
    *,
    bias: bool = False,
    norm: bool = True,
    dilation: int = 1,
) -> tuple[Cost, Shape]:
    """A 2-d convolution, optionally followed by batch norm (2 parameters per channel).

    ``padding=None`` means the usual ``dilation * (kernel - 1) // 2``, which keeps the size at stride 1.
    """
    # conv_out, inlined: this is the cost model's hot path
    cin, hin, win = x
    span = dilation * (kernel - 1)
    reach = 2 * (span // 2 if padding is None else padding) - span - 1
    h = (hin + reach) // stride + 1
    w = (win + reach) // stride + 1
    weights = out * (cin // groups) * kernel * kernel
    params = weights + out if bias else weights
    if norm:
        params += 2 * out
    return (
        _new(Cost, (weights * h * w, params, (cin * hin * win + out * h * w) * BYTES_PER_ELEMENT)),
        _new(Shape, (out, h, w)),
    )


def split_channels(channels: int, groups: int) -> list[int]:
    """timm's ``_split_channels`` (MixConv, Tan & Le 2019): equal parts, the remainder to the first."""
    split = [channels // groups] * groups
    split[0] += channels - sum(split)
    return split


def mixed_conv(
    x: Shape, out: int, kernels: tuple[int, ...], stride: int = 1, *, depthwise: bool = False
) -> tuple[Cost, Shape]:
    """A MixConv (timm's ``MixedConv2d``) with batch norm: input and output channels split by
    :func:`split_channels` into one group per kernel, each group its own convolution (depthwise or full).
    Kernels all 1 is MixNet's grouped pointwise conv (``a1.1``, ``p1.1``: two groups)."""
    total, h, w = ZERO, x.h, x.w
    parts = zip(split_channels(x.c, len(kernels)), split_channels(out, len(kernels)), kernels, strict=True)
    for cin, cout, kernel in parts:
        cost, y = conv(Shape(cin, x.h, x.w), cout, kernel, stride, groups=cin if depthwise else 1)
        total, h, w = total + cost, y.h, y.w
    return total, Shape(out, h, w)


def linear(features: int, out: int, *, bias: bool = True) -> Cost:
    """A fully connected layer on one vector."""
    return Cost(features * out, features * out + (out if bias else 0), (features + out) * BYTES_PER_ELEMENT)


def norm(channels: int) -> Cost:
    """A batch norm without a convolution before it (pre-activation networks): scale and shift."""
    return Cost(0, 2 * channels, 0)


def pool(x: Shape, kernel: int, stride: int, padding: int = 0, ceil_mode: bool = False) -> Shape:
    """Pooling changes the shape only: it has no parameters and, by convention, no MACs."""
    return Shape(
        x.c,
        pool_out(x.h, kernel, stride, padding, ceil_mode),
        pool_out(x.w, kernel, stride, padding, ceil_mode),
    )


def squeeze_excite(channels: int, squeezed: int) -> Cost:
    """Global pooling, then two 1x1 convolutions with bias on the pooled vector (Hu et al., 2018)."""
    weights = 2 * channels * squeezed
    return _new(Cost, (weights, weights + channels + squeezed, 2 * (channels + squeezed) * BYTES_PER_ELEMENT))


__all__ = [
    "BYTES_PER_ELEMENT",
    "ZERO",
    "Cost",
    "Shape",
    "conv",
    "conv_out",
    "linear",
    "mixed_conv",
    "norm",
    "pool",
    "pool_out",
    "split_channels",
    "squeeze_excite",
]
