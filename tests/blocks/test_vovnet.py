from __future__ import annotations

import pytest
import torch
from torch import nn

from nas import Shape, measure_cost
from nas.blocks._layers import Residual
from nas.blocks.vovnet import OSA
from nas.errors import SpecError
from tests.blocks._layout import conv_layout


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"mid": 0}, "mid"),
        ({"mid": 8, "layers": 0}, "layers"),
        ({"mid": 8, "depthwise": 1}, "depthwise"),
        ({"mid": 8, "ese": "yes"}, "ese"),
        ({"mid": 8, "residual": None}, "residual"),
    ],
)
def test_invalid_options_are_named(options: dict, field: str) -> None:
    with pytest.raises(SpecError) as err:
        OSA.from_data(options)
    assert err.value.path == field


def test_mid_is_required() -> None:
    with pytest.raises(SpecError, match="missing required key 'mid'"):
        OSA.from_data({"layers": 3})


def test_down_sampling_pool_does_not_fit_a_tiny_map() -> None:
    with pytest.raises(SpecError) as err:
        OSA(mid=4).cost(Shape(8, 2, 2), 8, 2)
    assert err.value.path == "stride"


def test_depthwise_reduces_only_when_widths_differ() -> None:
    block = OSA(mid=8, layers=2, depthwise=True)
    dw, pw, concat = (8, 8, 3, 1, 8), (8, 8, 1, 1, 1), (24, 12, 1, 1, 1)
    assert conv_layout(block.build(8, 12, 1)) == [dw, pw, dw, pw, concat]
    assert conv_layout(block.build(6, 12, 1)) == [(6, 8, 1, 1, 1), dw, pw, dw, pw, (22, 12, 1, 1, 1)]


def test_plain_layers_concatenate_the_input_and_every_layer() -> None:
    convs = conv_layout(OSA(mid=4, layers=3).build(6, 10, 1))
    assert convs == [(6, 4, 3, 1, 1), (4, 4, 3, 1, 1), (4, 4, 3, 1, 1), (18, 10, 1, 1, 1)]


def test_stride_pools_first_with_ceil_mode() -> None:
    # timm's OsaStage: MaxPool2d(3, 2, ceil_mode=True) before the block; 16 -> 8, where floor would give 7.
    block = OSA(mid=4)
    module = block.build(6, 10, 2)
    assert isinstance(module[0], nn.MaxPool2d) and module[0].ceil_mode
    assert block.cost(Shape(6, 16, 16), 10, 2)[1] == Shape(10, 8, 8)
    assert module(torch.randn(1, 6, 16, 16)).shape == (1, 10, 8, 8)


def test_residual_only_when_shapes_allow() -> None:
    block = OSA(mid=4, residual=True)
    assert isinstance(block.build(8, 8, 1), Residual)
    assert not isinstance(block.build(8, 10, 1), Residual)
    assert not isinstance(block.build(8, 8, 2), Residual)


@pytest.mark.parametrize(
    ("block", "cin", "cout", "stride", "size", "params", "macs"),
    [
        # timm 1.0.31 timm.models.vovnet.OsaStage(in, mid, out, 1, layers, downsample, residual=True,
        # depthwise, attn='ese'): the stages of ese_vovnet19b_dw (first and second) and ese_vovnet39b's
        # second, at the size they see at 224; and OsaBlock(1024, 224, 1024, 5, residual=True, attn='ese'),
        # ese_vovnet39b's last block. Sum of parameter numels, FlopCounterMode total // 2; also checked to
        # give the same output once timm's state dict is loaded into ours.
        (OSA(mid=128, depthwise=True, ese=True), 64, 256, 1, 56, 242_816, 550_395_904),
        (OSA(mid=160, depthwise=True, ese=True), 256, 512, 2, 56, 763_872, 391_409_152),
        (OSA(mid=160, layers=5, ese=True), 256, 512, 2, 56, 2_096_192, 1_435_697_152),
        (OSA(mid=224, layers=5, ese=True, residual=True), 1024, 1024, 1, 7, 7_120_064, 298_291_200),
    ],
)
def test_cost_matches_timm(
    block: OSA, cin: int, cout: int, stride: int, size: int, params: int, macs: int
) -> None:
    cost, _ = block.cost(Shape(cin, size, size), cout, stride)
    assert (cost.params, cost.macs) == (params, macs)
    assert measure_cost(block.build(cin, cout, stride), (1, cin, size, size)) == cost
