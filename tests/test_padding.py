"""TensorFlow's "same" padding: the outputs of TensorFlow's convolutions, the counts of PyTorch's."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nas import SpecError, build_model, count_cost, dump_spec, load_spec, measure_cost
from nas.blocks import Padding, TFSameConv2d

SPEC = """
resolution: 30
padding: tf_same
stem:
- {block: conv, out: 16, stride: 2}
stages:
- {block: mbconv, out: 24, stride: 2, kernel: 5}
- {block: fused_mbconv, out: 32, stride: 2}
- {block: conv, out: 32, kernel: 3, stride: 2, padding: 0}
head: {conv: {out: 64}}
"""


def tensorflow_same(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """The convolution as TensorFlow computes ``padding="same"``: pad the total that gives
    ceil(in / stride) outputs, its smaller half before the map, the rest after (tf.nn.convolution)."""

    def pads(size: int, k: int, s: int, d: int) -> list[int]:
        total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
        return [total // 2, total - total // 2]

    (kh, kw), (sh, sw), (dh, dw) = conv.kernel_size, conv.stride, conv.dilation
    # F.pad takes the last axis first: (left, right, top, bottom)
    padded = F.pad(x, pads(x.shape[-1], kw, sw, dw) + pads(x.shape[-2], kh, sh, dh))
    return F.conv2d(padded, conv.weight, conv.bias, conv.stride, 0, conv.dilation, conv.groups)


@pytest.mark.parametrize("size", [7, 8, 9, 14, 15])
@pytest.mark.parametrize(
    ("kernel", "stride", "dilation", "groups"),
    [(3, 2, 1, 1), (5, 2, 1, 4), (3, 2, 2, 1), (1, 2, 1, 1), (3, 1, 1, 4), (7, 3, 1, 1)],
)
def test_a_tf_same_conv_computes_what_tensorflow_does(
    size: int, kernel: int, stride: int, dilation: int, groups: int
) -> None:
    torch.manual_seed(size)
    conv = TFSameConv2d(8, 8, kernel, stride, dilation=dilation, groups=groups, bias=True)
    x = torch.randn(2, 8, size, size + 1)
    y = conv(x)
    assert y.shape[-2:] == (math.ceil(size / stride), math.ceil((size + 1) / stride))
    torch.testing.assert_close(y, tensorflow_same(x, conv))


def _twin(spec_text: str) -> tuple[nn.Module, nn.Module]:
    """The spec built with TensorFlow's padding and with PyTorch's, sharing the same weights."""
    same = build_model(load_spec(spec_text)).eval()
    symmetric = build_model(load_spec(spec_text.replace("padding: tf_same\n", ""))).eval()
    symmetric.load_state_dict(same.state_dict())
    return same, symmetric


def test_strided_convs_with_the_usual_padding_pad_as_tensorflow() -> None:
    same, _ = _twin(SPEC)
    strided = [m for m in same.modules() if isinstance(m, nn.Conv2d) and m.stride != (1, 1)]
    assert [isinstance(m, TFSameConv2d) for m in strided] == [True, True, True, False]  # padding 0 stays
    x = torch.randn(1, 3, 30, 30)
    stem_conv = same.stem[0][0]
    torch.testing.assert_close(stem_conv(x), tensorflow_same(x, stem_conv))


def test_counts_are_unchanged_and_outputs_differ() -> None:
    spec = load_spec(SPEC)
    symmetric_spec = load_spec(SPEC.replace("padding: tf_same\n", ""))
    assert spec.padding is Padding.TF_SAME
    assert count_cost(spec) == count_cost(symmetric_spec)
    same, symmetric = _twin(SPEC)
    measured = measure_cost(same, (1, 3, 30, 30))
    # MACs and parameters as counted; the activation bytes measured also see PyTorch's padded copy of each
    # strided map, which TensorFlow and inference runtimes do not make.
    assert (measured.macs, measured.params) == count_cost(spec)[:2]
    x = torch.randn(2, 3, 30, 30)
    assert same(x).shape == symmetric(x).shape == (2, 1000)
    assert not torch.allclose(same(x), symmetric(x))


def test_padding_round_trips_and_is_named_when_wrong() -> None:
    spec = load_spec(SPEC)
    assert "padding: tf_same" in dump_spec(spec)
    assert load_spec(dump_spec(spec)) == spec
    with pytest.raises(SpecError) as err:
        load_spec(SPEC.replace("padding: tf_same", "padding: same"))
    assert str(err.value) == "padding: expected one of 'symmetric', 'tf_same'; got 'same'"
