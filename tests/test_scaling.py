"""Width, depth and resolution scaling, and EfficientNet's compound coefficients."""

from __future__ import annotations

import dataclasses
import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nas import count_cost, dump_spec, zoo
from nas.errors import SpecError
from nas.scaling import (
    EFFICIENTNET,
    RULES,
    Coefficients,
    DepthRounding,
    compound,
    scale,
    scale_depth,
    scale_width,
)


@given(st.integers(1, 2048), st.floats(0.25, 4.0).filter(lambda m: m != 1.0))
def test_width_is_a_multiple_of_8_never_more_than_10_percent_below(channels: int, multiplier: float) -> None:
    width = scale_width(channels, multiplier)
    target = channels * multiplier
    assert width % 8 == 0
    assert width >= 0.9 * target
    assert abs(width - target) <= 8 or width == 8


@given(st.integers(1, 20), st.floats(0.5, 4.0))
def test_depth_rounds_up_per_stage(repeats: int, multiplier: float) -> None:
    assert scale_depth(repeats, multiplier) == math.ceil(repeats * multiplier)


def test_unit_coefficients_change_nothing() -> None:
    assert scale_width(12, 1.0) == 12  # an unscaled width is left as its spec wrote it
    base = zoo.get("efficientnet_b0")
    assert scale(base, Coefficients()) == base


def test_scaling_never_mutates_the_base() -> None:
    base = zoo.get("mobilenet_v3_large")
    before = dump_spec(base)
    bigger = scale(base, Coefficients(width=1.4, depth=1.5, resolution=256))
    assert dump_spec(base) == before
    assert bigger.resolution == 256
    # absolute expanded widths (mid) are channel counts and scale with the rest
    assert bigger.stages[1].block.mid == scale_width(base.stages[1].block.mid, 1.4)
    assert count_cost(bigger).macs > count_cost(base).macs


def test_table_scaling_multiplies_depth_per_stage_and_keeps_the_stem() -> None:
    base, b4 = zoo.get("efficientnet_b0"), zoo.get("efficientnet_b4")
    assert len(b4.stem) == len(base.stem)
    assert [s.repeats for s in b4.stages] == [math.ceil(s.repeats * 1.8) for s in base.stages]
    assert [s.out for s in b4.stages] == [scale_width(s.out, 1.4) for s in base.stages]
    assert (b4.resolution, b4.head.dropout) == (380, 0.4)


def test_compound_formula_departs_from_the_published_b7() -> None:
    # Solving phi from B7's published depth (3.1 = 1.2^phi) gives width ~1.81 and resolution ~533,
    # not the released 2.0 and 600.
    phi = math.log(EFFICIENTNET["b7"].depth) / math.log(1.2)
    c = compound(phi)
    assert c.depth == pytest.approx(3.1)
    assert c.width == pytest.approx(1.81, abs=0.01)
    assert c.resolution == pytest.approx(533, abs=1)


def test_compound_flops_roughly_double_per_phi() -> None:
    base = zoo.get("efficientnet_b0")
    macs = [count_cost(scale(base, compound(phi))).macs for phi in range(4)]
    ratios = [b / a for a, b in itertools.pairwise(macs)]
    # alpha * beta^2 * gamma^2 = 1.92: about 2x per step, give or take the rounding of widths and depths
    assert all(1.5 < r < 3.0 for r in ratios), ratios
    assert macs[3] / macs[0] == pytest.approx(1.92**3, rel=0.2)


def test_depth_rounds_to_the_nearest_for_tinynet() -> None:
    # timm 1.0.31 _scale_stage_depth with depth_trunc="round": max(1, round(repeats * multiplier)),
    # Python's round (halves to even).
    nearest = DepthRounding.ROUND
    assert [scale_depth(r, 0.85, nearest) for r in (1, 2, 3, 4)] == [1, 2, 3, 3]
    assert [scale_depth(r, 0.85) for r in (1, 2, 3, 4)] == [1, 2, 3, 4]
    assert scale_depth(2, 1.25, nearest) == 2  # 2.5 rounds to even
    assert scale_depth(1, 0.3, nearest) == 1  # never below one block
    assert scale_depth(0, 1.5, nearest) == 0  # an empty stage of a space stays empty


def test_width_rounds_to_the_family_divisor_and_minimum() -> None:
    # GhostNet rounds to multiples of 4 (timm's _make_divisible(c * width, 4)): 24 * 0.5 = 12.
    assert scale_width(24, 0.5, divisor=4) == 12
    assert scale_width(24, 0.5) == 16
    assert scale_width(16, 0.25) == 8 and scale_width(16, 0.25, minimum=16) == 16
    spec = scale(zoo.get("ghostnet"), Coefficients(width=0.5, divisor=4))
    assert all(s.out % 4 == 0 for s in spec.stages) and any(s.out % 8 for s in spec.stages)


def test_mnasnet_0_5_derives_from_1_0_with_its_head_fixed() -> None:
    # torchvision scales MnasNet's stem and stages but keeps the 1280-wide head; the zoo's hand-written
    # mnasnet0_5 equals torchvision's in parameters and MACs (test_zoo).
    derived = scale(zoo.get("mnasnet1_0"), Coefficients(width=0.5, fixed_head=True), name="mnasnet0_5")
    assert derived == zoo.get("mnasnet0_5")
    assert scale(zoo.get("mnasnet1_0"), Coefficients(width=0.5), name="mnasnet0_5") != derived


def test_a_fixed_stem_and_head_keep_their_widths() -> None:
    base = zoo.get("mobilenet_v3_large")  # head: conv 960, then a hidden layer of 1280
    c = Coefficients(width=0.75, fixed_stem=True, fixed_head=True)
    spec = scale(base, c)
    assert [s.out for s in spec.stem] == [s.out for s in base.stem]
    assert spec.head.hidden[0].out == 1280  # the features the classifier reads (timm's num_features)
    assert spec.head.conv is not None and spec.head.conv.out == scale_width(960, 0.75)
    assert [s.out for s in spec.stages] == [scale_width(s.out, 0.75) for s in base.stages]
    assert scale(base, Coefficients(width=0.75)).stem[0].out == scale_width(16, 0.75)


def test_tinynet_derives_from_b0_with_repeats_rounded_to_the_nearest() -> None:
    # timm 1.0.31 _gen_tinynet: B0's blocks, depth 1.2 rounded (not ceiled), stem and head kept.
    base, tinynet_a = zoo.get("efficientnet_b0"), zoo.get("tinynet_a")
    rules = {"depth_rounding": DepthRounding.ROUND, "fixed_stem": True, "fixed_head": True}
    assert scale(base, Coefficients(1.0, 1.2, 192, **rules), name="tinynet_a") == tinynet_a
    assert [s.repeats for s in tinynet_a.stages] == [round(s.repeats * 1.2) for s in base.stages]
    ceiled = scale(base, Coefficients(1.0, 1.2, 192, **(rules | {"depth_rounding": DepthRounding.CEIL})))
    assert [s.repeats for s in ceiled.stages] == [math.ceil(s.repeats * 1.2) for s in base.stages]
    assert count_cost(ceiled).macs > count_cost(tinynet_a).macs  # 1.2 and 2.4 round down, ceil up


def test_tinynet_c_keeps_its_stem_and_the_features_its_classifier_reads() -> None:
    base, tinynet_c = zoo.get("efficientnet_b0"), zoo.get("tinynet_c")
    assert tinynet_c.stem[0].out == base.stem[0].out == 32  # timm's fix_stem, not 0.54 * 32 -> 16
    assert tinynet_c.head.conv is not None and tinynet_c.head.conv.out == 1280
    assert [s.out for s in tinynet_c.stages] == [scale_width(s.out, 0.54) for s in base.stages]
    unfixed = scale(base, Coefficients(0.54, 0.85, 184, depth_rounding=DepthRounding.ROUND))
    assert unfixed.stem[0].out == scale_width(32, 0.54) == 16
    assert unfixed.head.conv is not None and unfixed.head.conv.out == scale_width(1280, 0.54)


def test_efficientnet_lite_keeps_its_first_and_last_stage_repeats() -> None:
    # timm 1.0.31 _gen_efficientnet_lite: decode_arch_def(..., fix_first_last=True); Lite1 has B1's
    # coefficients, whose depth 1.1 would ceil the single blocks at either end to 2.
    base, lite1 = zoo.get("tf_efficientnet_lite0"), zoo.get("tf_efficientnet_lite1")
    rules = Coefficients(fixed_stem=True, fixed_head=True, fixed_first_last=True)
    b1 = EFFICIENTNET["b1"]
    derived = scale(base, b1.replace(**{k: getattr(rules, k) for k in RULES}), name=lite1.name)
    assert derived == lite1
    assert [s.repeats for s in lite1.stages] == [1, 3, 3, 4, 4, 5, 1]
    assert [s.repeats for s in scale(base, b1).stages] == [2, 3, 3, 4, 4, 5, 2]
    assert (lite1.bn, lite1.padding) == (base.bn, base.padding)  # TensorFlow's eps and padding carry over


def test_a_single_stage_is_both_first_and_last() -> None:
    one = dataclasses.replace(zoo.get("efficientnet_b0"), stages=zoo.get("efficientnet_b0").stages[1:2])
    assert scale(one, Coefficients(depth=2.0, fixed_first_last=True)).stages[0].repeats == 2  # kept


def test_coefficients_name_the_bad_field() -> None:
    with pytest.raises(SpecError, match=r"^divisor: expected a value >= 1; got 0$"):
        Coefficients(divisor=0)
    with pytest.raises(SpecError, match=r"^depth_rounding: expected one of 'ceil', 'round'; got 'floor'$"):
        Coefficients(depth_rounding="floor")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match=r"^fixed_first_last: expected true or false; got 1$"):
        Coefficients(fixed_first_last=1)  # type: ignore[arg-type]


def test_the_zoo_scaled_form_takes_multipliers_and_rules() -> None:
    data = {
        "name": "tiny",
        "scaled": {
            "base": "efficientnet_b0",
            "coefficients": {"width": 0.54, "depth": 0.85, "resolution": 184},
            "depth_rounding": "round",
            "fixed_stem": True,
            "fixed_head": True,
        },
    }
    assert zoo.from_data(data) == dataclasses.replace(zoo.get("tinynet_c"), name="tiny")
    named = {"scaled": {"base": "efficientnet_b0", "coefficients": "b3", "divisor": 16}}
    assert all(s.out % 16 == 0 for s in zoo.from_data(named).stages)
    assert zoo.from_data({"scaled": {"base": "efficientnet_b0", "coefficients": "b3"}}) == zoo.get(
        "efficientnet_b3"
    ).replace(name="efficientnet_b0")


@pytest.mark.parametrize(
    ("scaled", "message"),
    [
        ({"base": "efficientnet_b0", "coefficients": "b9"}, "scaled.coefficients: expected one of 'b0'"),
        ({"base": "efficientnet_b0"}, "scaled: missing required key 'coefficients'"),
        ({"base": "mobilenet_v9", "coefficients": "b1"}, "scaled.base: unknown network 'mobilenet_v9'"),
        (
            {"base": "efficientnet_b0", "coefficients": "b1", "fix_stem": True},
            "scaled: unknown key 'fix_stem'; expected one of base, coefficients, divisor",
        ),
        (
            {"base": "efficientnet_b0", "coefficients": {"width": 0.5, "fixed_stem": True}},
            "scaled.coefficients: unknown key 'fixed_stem'; .* give it beside coefficients",
        ),
        (
            {"base": "efficientnet_b0", "coefficients": {"width": -1}},
            r"scaled.coefficients.width: expected a value > 0.0; got -1",
        ),
        (
            {"base": "efficientnet_b0", "coefficients": "b1", "depth_rounding": "floor"},
            "scaled.depth_rounding: expected one of 'ceil', 'round'; got 'floor'",
        ),
        (
            {"base": "efficientnet_b0", "coefficients": "b1", "min_width": 0},
            "scaled.min_width: expected a value >= 1; got 0",
        ),
        ("efficientnet_b0", "scaled: expected a mapping"),
    ],
)
def test_the_zoo_scaled_form_names_the_bad_field(scaled: object, message: str) -> None:
    with pytest.raises(SpecError, match=f"^{message}"):
        zoo.from_data({"scaled": scaled})
