from __future__ import annotations

import pytest
import torch

from nas import Shape, measure_cost
from nas.blocks import SEBase, SqueezeExcite
from nas.blocks._layers import SqueezeExciteModule
from nas.blocks.resnet import BasicBlock, Bottleneck
from nas.errors import SpecError
from tests.blocks._layout import conv_layout


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"groups": 0}, "groups"),
        ({"base_width": 0}, "base_width"),
        ({"expansion": 0}, "expansion"),
        ({"bottleneck_ratio": 0.0}, "bottleneck_ratio"),
        ({"group_width": 0}, "group_width"),
        # A ratio replaces expansion and base_width, a group width the number of groups.
        ({"bottleneck_ratio": 1.0, "expansion": 1}, "expansion"),
        ({"bottleneck_ratio": 1.0, "base_width": 4}, "base_width"),
        ({"group_width": 8, "groups": 2}, "groups"),
    ],
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
        # RegNet's widths are given as timm adjusts them: a group width of 8 does not divide 60 channels.
        (Bottleneck(bottleneck_ratio=1.0, group_width=8), 60, "group_width"),
        (Bottleneck(bottleneck_ratio=0.5, groups=7), 64, "groups"),  # 32 mid channels in 7 groups
        (Bottleneck(bottleneck_ratio=0.1), 4, "bottleneck_ratio"),  # round(0.4): no mid channel
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


def test_regnet_bottleneck_takes_its_groups_from_the_group_width() -> None:
    # RegNetX-200MF's third stage: 152 channels, bottleneck ratio 1, 8 channels per group: 19 groups.
    convs = conv_layout(Bottleneck(bottleneck_ratio=1.0, group_width=8).build(56, 152, 2))
    assert convs == [(56, 152, 1, 1, 1), (152, 152, 3, 2, 19), (152, 152, 1, 1, 1), (56, 152, 1, 2, 1)]
    # A ratio of 0.25 is ResNet's expansion 4, written RegNet's way.
    assert conv_layout(Bottleneck(bottleneck_ratio=0.25).build(256, 256, 1)) == conv_layout(
        Bottleneck().build(256, 256, 1)
    )


def test_regnety_se_sits_after_the_grouped_3x3_and_squeezes_the_block_input() -> None:
    # timm's RegNetY: conv1, conv2 (grouped 3x3), SE on the mid width, conv3; round(0.25 * in_chs).
    unit = Bottleneck(bottleneck_ratio=1.0, group_width=16, se=SqueezeExcite()).build(64, 128, 2)
    layers = list(unit.body)
    kinds = ["ConvNormAct", "ConvNormAct", "SqueezeExciteModule", "ConvNormAct"]
    assert [type(m).__name__ for m in layers] == kinds
    se = layers[2]
    assert isinstance(se, SqueezeExciteModule)
    assert (se.fc1.in_channels, se.fc1.out_channels) == (128, 16)
    # base: expanded squeezes the mid width instead.
    expanded = Bottleneck(bottleneck_ratio=1.0, se=SqueezeExcite(base=SEBase.EXPANDED)).build(64, 128, 2)
    assert sum(isinstance(m, SqueezeExciteModule) for m in expanded.modules()) == 1
    assert next(m for m in expanded.modules() if isinstance(m, SqueezeExciteModule)).fc1.out_channels == 32


def test_group_width_and_groups_have_one_canonical_form() -> None:
    by_width = Bottleneck(bottleneck_ratio=1.0, group_width=8).canonical(56, 152, 2)
    assert by_width == Bottleneck(bottleneck_ratio=1.0, groups=19).canonical(56, 152, 2)
    assert conv_layout(by_width.build(56, 152, 2)) == conv_layout(
        Bottleneck(bottleneck_ratio=1.0, group_width=8).build(56, 152, 2)
    )


def test_resnet_dumps_keep_their_text() -> None:
    # The RegNet options come last and default to None: a ResNeXt block dumps as before.
    assert Bottleneck(groups=32, base_width=4).to_data() == {"groups": 32, "base_width": 4}


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
        # timm 1.0.31 regnet.Bottleneck(64, 128, stride=2, bottle_ratio=1, group_size=16, se_ratio=0.25)
        # (RegNetY-800MF's second stage) and regnet.Bottleneck(96, 96, bottle_ratio=0.5, group_size=8,
        # se_ratio=0), on a 1x64x28x28 / 1x96x28x28 input.
        (Bottleneck(bottleneck_ratio=1, group_width=16, se=SqueezeExcite()), 64, 128, 2, 28, 56464, 14856192),
        (Bottleneck(bottleneck_ratio=0.5, group_width=8), 96, 96, 1, 28, 13056, 9934848),
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
