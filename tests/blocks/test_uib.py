"""The universal inverted bottleneck (MobileNetV4): each form builds the layers its spec asks for, with
the stride where timm 1.0.31's UniversalInvertedResidual puts it."""

from __future__ import annotations

import pytest
from torch import nn

from nas import Shape, SpecError, load_spec, measure_cost
from nas.blocks import UIB, ResidualUnit
from nas.blocks._layers import Residual
from tests.blocks._layout import conv_layout

# (start_dw_kernel, mid_dw_kernel) -> the convs on 16 channels expanded x4 to 64, out 24, stride 2:
# (in, out, kernel, stride, groups) in module order.
FORMS = {
    "IB": ((0, 3), [(16, 64, 1, 1, 1), (64, 64, 3, 2, 64), (64, 24, 1, 1, 1)]),
    "ConvNeXt": ((5, 0), [(16, 16, 5, 2, 16), (16, 64, 1, 1, 1), (64, 24, 1, 1, 1)]),
    "ExtraDW": ((3, 5), [(16, 16, 3, 1, 16), (16, 64, 1, 1, 1), (64, 64, 5, 2, 64), (64, 24, 1, 1, 1)]),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_each_form_builds_its_convs_with_the_stride_in_place(form: str) -> None:
    (start, middle), layout = FORMS[form]
    block = UIB(start_dw_kernel=start, mid_dw_kernel=middle, expand=4)
    module = block.build(16, 24, 2)
    assert conv_layout(module) == layout
    cost, y = block.cost(Shape(16, 15, 15), 24, 2)
    assert y == Shape(24, 8, 8)
    assert measure_cost(module, (1, 16, 15, 15)) == cost


def test_an_ffn_has_its_two_1x1_convs_only_and_cannot_stride() -> None:
    block = UIB(start_dw_kernel=0, mid_dw_kernel=0, expand=2)
    assert conv_layout(block.build(16, 16, 1)) == [(16, 32, 1, 1, 1), (32, 16, 1, 1, 1)]
    message = r"^stride: a uib without depthwise convs \(an FFN\) cannot take stride 2"
    with pytest.raises(SpecError, match=message):
        block.check(16, 16, 2)
    text = "stages:\n- {block: uib, out: 16, stride: 2, mid_dw_kernel: 0}\n"
    with pytest.raises(SpecError, match=r"^stages\[0\]\.stride: a uib without depthwise convs"):
        load_spec(text)


def test_activations_follow_the_expansion_and_the_middle_dw_only() -> None:
    # timm: dw_start has batch norm and no activation; pw_exp and dw_mid have both; pw_proj is linear.
    body = UIB(start_dw_kernel=3, mid_dw_kernel=3, act="hswish").build(8, 16, 1)
    acts = {
        name: [type(m) for m in stage if not isinstance(m, nn.Conv2d | nn.BatchNorm2d)]
        for name, stage in body.named_children()
    }
    assert acts == {"dw_start": [], "pw_exp": [nn.Hardswish], "dw_mid": [nn.Hardswish], "pw_proj": []}
    assert all(isinstance(stage[1], nn.BatchNorm2d) for stage in body.children())


def test_skip_at_stride_1_and_equal_widths_only_with_drop_path() -> None:
    block = UIB(start_dw_kernel=3)
    assert isinstance(block.build(16, 16, 1, drop_path=0.2), Residual)
    assert not isinstance(block.build(16, 24, 1), ResidualUnit)
    assert not isinstance(block.build(16, 16, 2), ResidualUnit)
    assert not isinstance(block.replace(skip=False).build(16, 16, 1), ResidualUnit)
    assert block.build(16, 16, 1, drop_path=0.2).drop_path.rate == 0.2


def test_expansion_is_rounded_as_timm_rounds_it_also_at_ratio_1() -> None:
    # make_divisible(cin * e, 8): 20 * 1 -> 24, 96 * 3 -> 288, 13 * 2.3 -> 32 (29.9 rounds to 32)
    assert [UIB(expand=e).hidden(c) for c, e in ((20, 1.0), (96, 3.0), (13, 2.3))] == [24, 288, 32]
    assert UIB(expand=1.0, divisor=1).hidden(20) == 20
    assert UIB(mid=40).hidden(16) == 40
    assert UIB(expand=2.3).canonical(80, 80, 1) == UIB(mid=184).canonical(80, 80, 1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"start_dw_kernel": 4}, "start_dw_kernel: expected an odd kernel size >= 1; got 4"),
        ({"mid_dw_kernel": -1}, "mid_dw_kernel: expected an odd kernel size >= 1; got -1"),
        ({"expand": 0}, "expand: expected a value > 0.0; got 0.0"),
        ({"expand": 4, "mid": 64}, "mid: give either expand or mid, not both"),
        ({"mid_dw_kernel": "3"}, "mid_dw_kernel: expected an integer; got '3'"),
    ],
)
def test_a_bad_option_is_named(options: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError) as err:
        UIB.from_data(options)
    assert str(err.value) == message
