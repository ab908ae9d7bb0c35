"""TensorFlow's "same" padding, which every ``tf_`` port of timm (EfficientNet, EfficientNet-Lite,
EfficientNetV2, MobileNetV3) needs to compute what the TensorFlow original computes.

PyTorch pads ``dilation * (kernel - 1) // 2`` on both sides. TensorFlow pads just enough for
``ceil(size / stride)`` outputs and puts the smaller half of that before the map: at stride 2 on an even
map, a 3x3 convolution gets no padding before and one pixel after. For the odd kernels of the spec
language both give ``ceil(size / stride)`` outputs, so the counts are the same; the outputs differ.
"""

from __future__ import annotations

import enum
import math

import torch
import torch.nn.functional as F
from torch import nn


class Padding(enum.Enum):
    """How convolutions with the usual padding pad: PyTorch's way, or TensorFlow's ``"same"``."""

    SYMMETRIC = "symmetric"
    TF_SAME = "tf_same"


def tf_same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's "same" padding along one axis: (before, after)."""
    total = max((math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


class TFSameConv2d(nn.Conv2d):
    """A convolution padded as TensorFlow's ``padding="same"``, from the size of each input (at stride 2
    the padding depends on the input's parity, so it cannot be fixed when the layer is built)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        top, bottom = tf_same_pads(x.shape[-2], kh, sh, dh)
        left, right = tf_same_pads(x.shape[-1], kw, sw, dw)
        x = F.pad(x, (left, right, top, bottom))
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def use_tf_same_padding(module: nn.Module) -> None:
    """Make every strided convolution of ``module`` that has the usual padding a :class:`TFSameConv2d`
    with the same weights, in place. At stride 1 an odd kernel pads the same either way, and a
    convolution written with other padding (AlexNet's, say) keeps it."""
    for name, child in module.named_children():
        if isinstance(child, nn.Conv2d) and max(child.stride) > 1 and _usual_padding(child):
            setattr(module, name, _tf_same(child))
        else:
            use_tf_same_padding(child)


def _usual_padding(conv: nn.Conv2d) -> bool:
    usual = tuple(d * (k - 1) // 2 for k, d in zip(conv.kernel_size, conv.dilation, strict=True))
    return conv.padding == usual


def _tf_same(conv: nn.Conv2d) -> TFSameConv2d:
    same = TFSameConv2d(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,  # type: ignore[arg-type]
        conv.stride,  # type: ignore[arg-type]
        padding=0,
        dilation=conv.dilation,  # type: ignore[arg-type]
        groups=conv.groups,
        bias=conv.bias is not None,
        device="meta",  # the weights are the convolution's own, not new ones
    )
    same.weight = conv.weight
    same.bias = conv.bias
    return same
