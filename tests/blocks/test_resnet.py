from __future__ import annotations

import pytest
import torch

from nas import Shape, measure_cost
from nas.blocks.resnet import BasicBlock, Bottleneck
from nas.errors import SpecError
from tests.blocks._layout import conv_layout


@pytest.mark.parametrize(
    ("options", "field"),
    [({"groups": 0}, "groups"), ({"base_width": 0}, "base_width"), ({"expansion": 0}, "expansion")],
)
def test_bottleneck_invalid_options_are_named(options: dict, field: str) -> None:
    with pytest.raises(SpecError) as err:
        Bottleneck.from_data(options)
    assert err.value.path == field


@pytest.mark.parametrize(
    ("block", "cout", "field"),
    [
        (Bottleneck(), 258, "out"),  # not divisible by the expansion 4
        (Bottleneck(groups=32, base_width=4), 32, "base_width"),  # 8 planes * 4 / 64 rounds to 0 per group
    ],
)
def test_bottleneck_impossible_widths_are_named(block: Bottleneck, cout: int, field: str) -> None:
    with pytest.raises(SpecError) as err:
        block.check(64, cout, 1)
    assert err.value.path == field


def test_resnext_bottleneck_strides_its_grouped_3x3() -> None:
    # torchvision's "ResNet v1.5": the stride is on the 3x3, not on the first 1x1 as in the paper;
    # ResNeXt-50 32x4d's second stage: width int(128 * 4 / 64) * 32 = 256.
    convs = conv_layout(Bottleneck(groups=32, base_width=4).build(256, 512, 2))
    assert convs == [(256, 256, 1, 1, 1), (256, 256, 3, 2, 32), (256, 512, 1, 1, 1), (256, 512, 1, 2, 1)]


def test_shortcut_is_identity_only_when_shapes_match() -> None:
    assert len(conv_layout(BasicBlock().build(64, 64, 1))) == 2
    assert conv_layout(BasicBlock().build(64, 64, 2))[-1] == (64, 64, 1, 2, 1)
    assert conv_layout(BasicBlock().build(64, 128, 1))[-1] == (64, 128, 1, 1, 1)


@pytest.mark.parametrize(
    ("block", "cin", "cout", "stride", "size", "params", "macs"),
    [
        # torchvision 0.29.1 resnet.BasicBlock(64, 128, 2, downsample=conv1x1(64, 128, 2) + BN), and
        # resnet.Bottleneck(256, 128, 2, downsample=conv1x1(256, 512, 2) + BN, groups=32, base_width=4):
        # sum of parameter numels, FlopCounterMode total // 2 on a 1x64x56x56 / 1x256x56x56 input.
        (BasicBlock(), 64, 128, 2, 56, 230144, 179830784),
        (Bottleneck(groups=32, base_width=4), 256, 512, 2, 56, 349184, 425492480),
        # resnet.Bottleneck(256, 64, base_width=128): Wide ResNet-50-2's identity block.
        (Bottleneck(base_width=128), 256, 256, 1, 56, 214016, 667942912),
    ],
)
def test_cost_matches_torchvision(
    block: BasicBlock | Bottleneck, cin: int, cout: int, stride: int, size: int, params: int, macs: int
) -> None:
    cost, _ = block.cost(Shape(cin, size, size), cout, stride)
    assert (cost.params, cost.macs) == (params, macs)
    assert measure_cost(block.build(cin, cout, stride), (1, cin, size, size)) == cost


@pytest.mark.parametrize("block", [BasicBlock(), Bottleneck()])
def test_drop_path_drops_the_branch_not_the_shortcut(block: BasicBlock | Bottleneck) -> None:
    torch.manual_seed(0)
    unit = block.build(16, 16, 1, drop_path=0.5).train()
    x = torch.randn(32, 16, 4, 4)
    y = unit(x)
    dropped = [torch.equal(y[i], torch.relu(x[i])) for i in range(len(x))]
    assert any(dropped) and not all(dropped)
