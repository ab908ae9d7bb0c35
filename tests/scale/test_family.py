"""The family and its single-dimension rivals: the scaling rules, matched MACs, the budget's φ."""

from __future__ import annotations

import math

import pytest

from nas import count_cost, zoo
from nas.scale import GridPoint, largest_phi, match_multiplier, plan_family, single
from nas.scaling import scale_width
from nas.search import parse_budget

B0 = zoo.get("efficientnet_b0")
PAPER = GridPoint(1.2, 1.1, 1.15)


def test_match_multiplier_takes_the_nearest_step_of_a_monotone_cost() -> None:
    steps = lambda m: 100 * math.floor(4 * m)  # noqa: E731 - a step function: 400 at 1, 500 at 1.25, ...
    assert match_multiplier(steps, 500) == 1.25
    assert match_multiplier(steps, 540) == 1.25  # 500 is nearer than 600
    assert match_multiplier(steps, 590) == 1.5
    assert match_multiplier(steps, 300) == 1.0  # already over: the base itself
    assert match_multiplier(steps, 10_000) == 25.0  # beyond the first doubling


def test_compound_members_follow_the_scaling_rules() -> None:
    members = {m.key: m for m in plan_family(B0, PAPER, 2, 1000)}
    for phi in (1, 2):
        spec = members[f"compound@{phi}"].spec
        assert spec.resolution == round(224 * 1.15**phi)
        for ours, base in zip(spec.stages, B0.stages, strict=True):
            assert ours.repeats == math.ceil(base.repeats * 1.2**phi)  # depth α^φ, ceil per stage
            assert ours.out == scale_width(base.out, 1.1**phi)  # width β^φ, to a multiple of 8
        assert spec.head.conv.out == scale_width(1280, 1.1**phi)


def test_single_dimension_rivals_match_the_compound_macs_and_change_one_dimension() -> None:
    members = plan_family(B0, PAPER, 2, 1000)
    compound = {m.phi: m for m in members if m.kind == "compound"}
    for m in members:
        if m.kind in ("width", "depth", "resolution"):
            assert abs(m.macs / compound[m.phi].macs - 1) < 0.06, m.key
            s = m.spec
            assert (s.resolution != 224) == (m.kind == "resolution")
            assert ([x.repeats for x in s.stages] != [x.repeats for x in B0.stages]) == (m.kind == "depth")
            assert ([x.out for x in s.stages] != [x.out for x in B0.stages]) == (m.kind == "width")
    assert [m.key for m in members][:2] == ["base@0", "compound@1"]


def test_resolution_and_width_macs_follow_their_rules() -> None:
    # Convolution MACs grow with the square of the side (the classifier does not); pointwise
    # convolutions, most of an MBConv network's MACs, with the square of the width.
    base = count_cost(B0, num_classes=1000).macs
    twice = count_cost(B0.replace(resolution=448), num_classes=1000).macs
    assert 3.9 < twice / base <= 4.0
    from nas.scaling import scale

    wide = count_cost(scale(B0, single(B0, "width", 2.0)), num_classes=1000).macs
    assert 3.0 < wide / base < 4.1


@pytest.mark.parametrize("budget", ["600MFLOPs", "1.5GFLOPs", "12Mparams", "[2GFLOPs,9Mparams]"])
def test_the_budgets_phi_is_the_largest_that_fits(budget: str) -> None:
    budgets = parse_budget(budget)
    phi = largest_phi(B0, PAPER, budgets, 1000)

    def fits(phi: int) -> bool:
        c = count_cost(PAPER.scaled(B0, phi), num_classes=1000)
        return all(b.violation(c.macs, c.params) <= 0 for b in budgets)

    assert fits(phi) and not fits(phi + 1)
