"""Width, depth and resolution scaling, and EfficientNet's compound coefficients."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nas import count_cost, dump_spec, zoo
from nas.scaling import EFFICIENTNET, Coefficients, compound, scale, scale_depth, scale_width


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
