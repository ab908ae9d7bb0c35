"""MBConv and fused MBConv: what the spec asks for is what is built (issue 20's two silent bugs)."""

from __future__ import annotations

import pickle

import pytest
import torch
from torch import nn

from nas import Shape, SpecError, build_model, count_cost, load_spec, measure_cost
from nas.blocks import Block, FusedMBConv, GhostBottleneck, MBConv, TFSameConv2d
from tests.blocks._layout import conv_layout


@pytest.mark.parametrize(("cls", "default"), [(MBConv, 6.0), (FusedMBConv, 4.0), (GhostBottleneck, 3.0)])
def test_expand_beside_mid_is_an_error_even_at_its_default(cls: type[Block], default: float) -> None:
    with pytest.raises(SpecError, match=r"^mid: give either expand or mid, not both$"):
        cls(expand=default, mid=100)  # type: ignore[call-arg]
    assert cls(mid=100).hidden(24) == 100  # type: ignore[call-arg, attr-defined]
    # A ratio written at its default is the default: it compares and dumps as if left out.
    assert cls(expand=default) == cls()  # type: ignore[call-arg]
    assert cls(expand=default).to_data() == {}  # type: ignore[call-arg]


def test_expand_beside_mid_in_yaml_is_one_line_naming_the_field() -> None:
    text = "stages:\n- {block: mbconv, out: 24, expand: 6.0, mid: 100}\n"
    with pytest.raises(SpecError) as err:
        load_spec(text)
    assert str(err.value) == "stages[0].mid: give either expand or mid, not both"


def test_a_default_ratio_survives_copies_and_pickling() -> None:
    # Width scaling and canonical forms replace ``mid`` on a copy: the copy must still know that the
    # ratio was left out.
    block = pickle.loads(pickle.dumps(MBConv(kernel=5)))
    assert block.replace(mid=40).hidden(16) == 40


# An MBConv on 16 channels whose expansion conv keeps 16 channels, as timm 1.0.31 builds
# ``ir_r1_k3_s1_e1_c16`` (InvertedResidual, exp_ratio 1.0): conv_pw 16x16 + BN, depthwise 3x3 + BN,
# conv_pwl 16x16 + BN = 256 + 32 + 144 + 32 + 256 + 32 parameters; (256 + 144 + 256) MACs per pixel.
IR_E1_PARAMS = 752
IR_E1_MACS_PER_PIXEL = 656


@pytest.mark.parametrize("block", [MBConv(mid=16), MBConv(expand=1.1), MBConv(expand=1.02, divisor=1)])
def test_an_expansion_landing_on_the_input_width_is_built(block: MBConv) -> None:
    assert block.hidden(16) == 16
    module = block.build(16, 16, 1)
    assert conv_layout(module) == [(16, 16, 1, 1, 1), (16, 16, 3, 1, 16), (16, 16, 1, 1, 1)]
    cost, _ = block.cost(Shape(16, 8, 8), 16, 1)
    assert (cost.params, cost.macs) == (IR_E1_PARAMS, IR_E1_MACS_PER_PIXEL * 64)
    assert measure_cost(module, (1, 16, 8, 8)) == cost


def test_expand_1_is_the_one_way_to_write_no_expansion_conv() -> None:
    module = MBConv(expand=1).build(16, 16, 1)
    assert conv_layout(module) == [(16, 16, 3, 1, 16), (16, 16, 1, 1, 1)]
    cost, _ = MBConv(expand=1).cost(Shape(16, 8, 8), 16, 1)
    assert cost.params == IR_E1_PARAMS - 256 - 32


def test_fused_expansion_landing_on_the_input_width_is_built() -> None:
    # The k x k conv keeps 16 channels, then a 1x1 projection to the output (timm's FusedMBConv
    # with exp_ratio 1 on 16 channels and 24 out); with expand: 1 the k x k conv goes straight to 24.
    assert conv_layout(FusedMBConv(mid=16).build(16, 24, 1)) == [(16, 16, 3, 1, 1), (16, 24, 1, 1, 1)]
    assert conv_layout(FusedMBConv(expand=1).build(16, 24, 1)) == [(16, 24, 3, 1, 1)]
    block = FusedMBConv(expand=1.1)  # 17.6 channels, rounded to 16
    assert block.hidden(16) == 16
    module = block.build(16, 24, 2)
    assert measure_cost(module, (1, 16, 9, 9)) == block.cost(Shape(16, 9, 9), 24, 2)[0]


def test_canonical_forms_tell_a_conv_at_the_input_width_from_none() -> None:
    assert MBConv(mid=16).canonical(16, 16, 1) != MBConv(expand=1).canonical(16, 16, 1)
    assert MBConv(mid=16).canonical(16, 16, 1) == MBConv(expand=1.1).canonical(16, 16, 1)
    assert MBConv(expand=2.3).canonical(80, 80, 1) == MBConv(mid=184).canonical(80, 80, 1)
    for block in (MBConv(mid=16), MBConv(expand=1)):
        canonical = block.canonical(16, 16, 1)
        assert conv_layout(canonical.build(16, 16, 1)) == conv_layout(block.build(16, 16, 1))


@pytest.mark.parametrize("kernel", [9, 11])
def test_any_odd_kernel_is_accepted(kernel: int) -> None:
    # MixNet's depthwise kernels go up to 11; padding kernel // 2 keeps the map at stride 1.
    block = load_spec(f"stages:\n- {{block: mbconv, out: 24, kernel: {kernel}}}\n").stages[0].block
    module = block.build(16, 24, 1)
    assert conv_layout(module)[1] == (96, 96, kernel, 1, 96)
    cost, shape = block.cost(Shape(16, 14, 14), 24, 1)
    assert shape == Shape(24, 14, 14)
    assert cost.params == 16 * 96 + 96 * kernel * kernel + 96 * 24 + 2 * (96 + 96 + 24)
    assert measure_cost(module, (1, 16, 14, 14)) == cost


@pytest.mark.parametrize("kind", ["mbconv", "fused_mbconv", "ghost_bottleneck", "shufflenet_v2"])
@pytest.mark.parametrize("kernel", [0, 4, -3])
def test_a_kernel_that_is_not_odd_is_named(kind: str, kernel: int) -> None:
    with pytest.raises(SpecError) as err:
        load_spec(f"stages:\n- {{block: {kind}, out: 24, kernel: {kernel}}}\n")
    assert str(err.value) == f"stages[0].kernel: expected an odd kernel size >= 1; got {kernel}"


# ---------------------------------------------------------------------------------------------------------
# MixConv and grouped 1x1 convs (MixNet, Tan & Le 2019), as timm 1.0.31's MixedConv2d builds them: input
# and output channels split by timm's _split_channels, equal parts with the remainder to the first group.


def test_a_kernel_list_splits_the_depthwise_channels_as_timm_does() -> None:
    block = MBConv(mid=50, kernel=[3, 5, 7])  # 50 channels over 3 kernels: 18, 16, 16
    module = block.build(16, 24, 2)
    assert conv_layout(module) == [
        (16, 50, 1, 1, 1),
        (18, 18, 3, 2, 18),
        (16, 16, 5, 2, 16),
        (16, 16, 7, 2, 16),
        (50, 24, 1, 1, 1),
    ]
    cost, shape = block.cost(Shape(16, 15, 15), 24, 2)
    assert shape == Shape(24, 8, 8)
    depthwise = 18 * 3 * 3 + 16 * 5 * 5 + 16 * 7 * 7
    assert cost.params == 16 * 50 + depthwise + 50 * 24 + 2 * (50 + 50 + 24)
    assert cost.macs == 16 * 50 * 15 * 15 + (depthwise + 50 * 24) * 8 * 8
    assert measure_cost(module, (1, 16, 15, 15)) == cost


def test_each_kernel_sees_its_own_channels() -> None:
    # A one-hot input in the last channel reaches only the last group's 7x7 kernel: the output there is
    # that kernel's weights (its centre at a pixel), and every other channel stays zero.
    conv = MBConv(expand=1, kernel=[3, 7]).build(4, 5, 1)[0][0]  # the MixConv: channels [2, 2]
    x = torch.zeros(1, 4, 9, 9)
    x[0, 3, 4, 4] = 1.0
    y = conv(x)
    assert torch.count_nonzero(y[0, :3]) == 0
    torch.testing.assert_close(y[0, 3, 1:8, 1:8], conv.convs[1].weight[1, 0].flip(0, 1))


def test_grouped_1x1_convs_split_channels_as_timm_does() -> None:
    # Even splits are one grouped conv (FBNet's grouped 1x1) ...
    even = MBConv(mid=48, expand_groups=2, project_groups=4).build(16, 24, 1)
    assert conv_layout(even) == [(16, 48, 1, 1, 2), (48, 48, 3, 1, 48), (48, 24, 1, 1, 4)]
    # ... uneven ones timm's MixedConv2d of 1x1 kernels: 15 -> 8 + 7 in, 25 -> 13 + 12 out.
    block = MBConv(mid=48, expand_groups=2, project_groups=2)
    uneven = block.build(15, 25, 1)
    assert conv_layout(uneven) == [
        (8, 24, 1, 1, 1),
        (7, 24, 1, 1, 1),
        (48, 48, 3, 1, 48),
        (24, 13, 1, 1, 1),
        (24, 12, 1, 1, 1),
    ]
    cost, _ = block.cost(Shape(15, 6, 6), 25, 1)
    weights = 15 * 24 + 48 * 9 + 24 * 13 + 24 * 12
    assert (cost.params, cost.macs) == (weights + 2 * (48 + 48 + 25), weights * 36)
    assert measure_cost(uneven, (1, 15, 6, 6)) == cost


def test_one_kernel_is_todays_block_and_dump() -> None:
    assert MBConv(kernel=[5]) == MBConv(kernel=5)
    assert MBConv(kernel=[5]).to_data() == {"kernel": 5}
    assert MBConv(kernel=[3, 5], expand_groups=2).to_data() == {"kernel": [3, 5], "expand_groups": 2}
    assert MBConv(kernel=(3, 3)).kernels == (3, 3)
    # Equal kernels build one depthwise conv, so their canonical form is the plain kernel.
    assert MBConv(kernel=(3, 3)).canonical(8, 8, 1) == MBConv(kernel=3).canonical(8, 8, 1)
    assert conv_layout(MBConv(kernel=(3, 3)).build(8, 8, 1)) == conv_layout(MBConv(kernel=3).build(8, 8, 1))
    assert MBConv(kernel=(3, 5)).canonical(8, 8, 1) != MBConv(kernel=3).canonical(8, 8, 1)
    assert conv_layout(MBConv(kernel=[5]).build(8, 8, 1)) == conv_layout(MBConv(kernel=5).build(8, 8, 1))
    block = load_spec("stages:\n- {block: mbconv, out: 24, kernel: [3, 5, 7]}\n").stages[0].block
    assert block == MBConv(kernel=(3, 5, 7))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("kernel: [3, 4]", "kernel[1]: expected an odd kernel size >= 1; got 4"),
        ("kernel: []", "kernel: expected a kernel size or a list of them; got an empty list"),
        ("kernel: true", "kernel: expected an integer; got True"),
        ("kernel: [3, '5']", "kernel[1]: expected an integer; got '5'"),
        ("expand: 1, expand_groups: 2", "expand_groups: expand: 1 has no expansion conv to group"),
        ("project_groups: 0", "project_groups: expected a value >= 1; got 0"),
        ("mid: 2, kernel: [3, 5, 7]", "kernel: 3 groups need at least 3 expanded channels; got 2"),
        (
            "project_groups: 32",
            "project_groups: 32 groups need at least 32 expanded and output channels; got 24",
        ),
    ],
)
def test_impossible_mixconv_options_are_named(options: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        load_spec(f"stages:\n- {{block: mbconv, out: 24, {options}}}\n")
    assert str(err.value) == f"stages[0].{message}"


def test_tf_same_padding_reaches_every_group_of_a_mixconv() -> None:
    spec = load_spec("padding: tf_same\nstages:\n- {block: mbconv, out: 24, stride: 2, kernel: [3, 5]}\n")
    model = build_model(spec)
    strided = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.stride[0] == 2]
    assert [type(m) for m in strided] == [TFSameConv2d, TFSameConv2d]
    measured, counted = measure_cost(model, (1, 3, 17, 17)), count_cost(spec, 17)
    # (activation bytes differ by PyTorch's padded copies, which the cost model leaves out: see the README)
    assert (measured.params, measured.macs) == (counted.params, counted.macs)
