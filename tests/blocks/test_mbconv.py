"""MBConv and fused MBConv: what the spec asks for is what is built (issue 20's two silent bugs)."""

from __future__ import annotations

import pickle

import pytest

from nas import Shape, SpecError, load_spec, measure_cost
from nas.blocks import Block, FusedMBConv, GhostBottleneck, MBConv
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
