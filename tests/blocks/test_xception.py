from __future__ import annotations

import pytest
import torch
from torch import nn

from nas import Shape, measure_cost
from nas.blocks._layers import Residual
from nas.blocks.xception import XceptionBlock
from nas.errors import SpecError
from tests.blocks._layout import conv_layout


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"reps": 0}, "reps"),
        ({"start_with_relu": 1}, "start_with_relu"),
        ({"grow_first": "no"}, "grow_first"),
    ],
)
def test_invalid_options_are_named(options: dict, field: str) -> None:
    with pytest.raises(SpecError) as err:
        XceptionBlock.from_data(options)
    assert err.value.path == field


def test_grow_first_chooses_which_separable_widens() -> None:
    # Entry flow: the first separable convolution widens; exit flow: the last one does.
    entry = conv_layout(XceptionBlock(reps=2).build(8, 16, 2))
    assert entry == [
        (8, 8, 3, 1, 8),
        (8, 16, 1, 1, 1),
        (16, 16, 3, 1, 16),
        (16, 16, 1, 1, 1),
        (8, 16, 1, 2, 1),
    ]
    exit_ = conv_layout(XceptionBlock(reps=2, grow_first=False).build(8, 16, 2))
    assert exit_ == [(8, 8, 3, 1, 8), (8, 8, 1, 1, 1), (8, 8, 3, 1, 8), (8, 16, 1, 1, 1), (8, 16, 1, 2, 1)]


def test_middle_flow_block_is_an_identity_residual() -> None:
    block = XceptionBlock().build(16, 16, 1)
    assert isinstance(block, Residual)
    assert sum(isinstance(m, nn.ReLU) for m in block.modules()) == 3
    assert not any(isinstance(m, nn.MaxPool2d) for m in block.modules())


def test_start_with_relu_false_drops_only_the_first_relu() -> None:
    block = XceptionBlock(reps=2, start_with_relu=False).build(8, 16, 2)
    assert sum(isinstance(m, nn.ReLU) for m in block.modules()) == 1


def test_forward_leaves_the_input_intact_for_the_shortcut() -> None:
    # timm makes the block's first ReLU out of place for this reason; with an in-place one the identity
    # shortcut would add the rectified input.
    module = XceptionBlock().build(8, 8, 1).eval()
    x = torch.randn(1, 8, 5, 5)
    before = x.clone()
    with torch.no_grad():
        y = module(x)
        expected = module.body(before) + before
    assert torch.equal(x, before)
    torch.testing.assert_close(y, expected)


@pytest.mark.parametrize(
    ("block", "cin", "cout", "stride", "size", "out_size", "params", "macs"),
    [
        # timm 1.0.31 timm.models.xception.Block(in, out, reps, strides, start_with_relu, grow_first) as
        # legacy_xception builds block1, block4 and block12, at the size they see at 299: sum of parameter
        # numels, FlopCounterMode total // 2; also checked to give the same output once timm's state dict
        # is loaded into ours.
        (XceptionBlock(reps=2, start_with_relu=False), 64, 128, 2, 147, 74, 35_264, 613_262_528),  # entry
        (XceptionBlock(reps=3), 728, 728, 1, 19, 19, 1_613_976, 581_068_488),  # middle
        (XceptionBlock(reps=2, grow_first=False), 728, 1024, 2, 19, 10, 2_039_584, 539_717_360),  # exit
    ],
)
def test_cost_matches_timm(
    block: XceptionBlock, cin: int, cout: int, stride: int, size: int, out_size: int, params: int, macs: int
) -> None:
    cost, shape = block.cost(Shape(cin, size, size), cout, stride)
    assert (cost.params, cost.macs) == (params, macs)
    assert shape == Shape(cout, out_size, out_size)
    assert measure_cost(block.build(cin, cout, stride), (1, cin, size, size)) == cost
