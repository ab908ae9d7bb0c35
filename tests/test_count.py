"""count_cost is exact: it equals what the built model does, for hundreds of random networks."""

from __future__ import annotations

import itertools

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nas import (
    ArchSpec,
    SpecError,
    build_model,
    cost_table,
    count_cost,
    load_spec,
    measure_cost,
    profile_model,
)
from tests.strategies import arch_specs

RANDOM_SPECS = settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)


@RANDOM_SPECS
@given(arch_specs(), st.sampled_from([32, 56, 77]), st.integers(2, 12))
def test_count_cost_equals_flop_counter_and_parameters(spec: ArchSpec, other: int, classes: int) -> None:
    model = build_model(spec, num_classes=classes)
    for resolution in (spec.resolution, other):
        try:
            predicted = count_cost(spec, resolution, num_classes=classes)
        except SpecError:  # this network cannot take that resolution; the spec's own is always fine
            assert resolution != spec.resolution
            continue
        assert measure_cost(model, (1, spec.in_channels, resolution, resolution)) == predicted
    logits = model.eval()(torch.randn(2, spec.in_channels, spec.resolution, spec.resolution))
    assert logits.shape == (2, classes)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arch_specs())
def test_profile_model_follows_the_same_convention(spec: ArchSpec) -> None:
    model = build_model(spec)
    assert profile_model(model, (spec.in_channels, spec.resolution, spec.resolution)) == count_cost(spec)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arch_specs())
def test_cost_table_adds_up_to_the_total(spec: ArchSpec) -> None:
    rows = cost_table(spec)
    assert sum((r.cost for r in rows[1:]), rows[0].cost) == count_cost(spec)
    assert rows[-1].path == "head" and rows[-1].y.c == 1000
    for before, after in itertools.pairwise(rows):
        assert before.y == after.x


def test_a_stride_that_shrinks_the_map_below_one_pixel_is_named() -> None:
    layer = "- {block: conv, out: 8, kernel: 3, padding: 0, stride: 2}\n"
    text = "stages:\n" + layer * 2
    spec = load_spec(text.replace("stages:", "resolution: 32\nstages:"))
    with pytest.raises(SpecError, match=r"^stages\[1\]\.stride: the feature map shrinks from 1x1 to"):
        count_cost(spec, 3)
    with pytest.raises(SpecError, match=r"stages\[1\]\.stride"):
        load_spec(text.replace("stages:", "resolution: 5\nstages:"))


def test_profile_model_counts_only_convolutions_and_linear_layers() -> None:
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, bias=True),
        torch.nn.BatchNorm2d(8),
        torch.nn.AvgPool2d(2),
        torch.nn.Upsample(scale_factor=2),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(8, 5),
    )
    cost = profile_model(model, (1, 3, 10, 10))
    assert cost.macs == 8 * 27 * 8 * 8 + 8 * 5
    assert cost.params == sum(p.numel() for p in model.parameters())
    assert cost.activation_bytes == 4 * ((3 * 100 + 8 * 64) + (8 + 5))
