"""Width, depth and resolution scaling, and EfficientNet's compound coefficients."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nas import count_cost, dump_spec, zoo
from nas.scaling import EFFICIENTNET, Coefficients, DepthRounding, compound, scale, scale_depth, scale_width


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
