from __future__ import annotations

import pytest
import torch
from torch import nn

from nas import Shape, measure_cost
from nas.blocks.inception import Inception
from nas.errors import SpecError

# GoogLeNet's inception (3a) (Szegedy et al., 2015, Table 1).
INCEPTION_3A = {"c1": 64, "c3_reduce": 96, "c3": 128, "c5_reduce": 16, "c5": 32, "pool_proj": 32}


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({**INCEPTION_3A, "c3": 0}, "c3"),
        ({**INCEPTION_3A, "pool_proj": -1}, "pool_proj"),
        ({**INCEPTION_3A, "five_kernel": 4}, "five_kernel"),
        ({**INCEPTION_3A, "c1": 1.5}, "c1"),
    ],
)
def test_invalid_options_are_named(options: dict, field: str) -> None:
    with pytest.raises(SpecError) as err:
        Inception.from_data(options)
    assert err.value.path == field


def test_branch_widths_are_required() -> None:
    with pytest.raises(SpecError, match="missing required key 'c5'"):
        Inception.from_data({k: v for k, v in INCEPTION_3A.items() if k != "c5"})


def test_output_concatenates_the_four_branches() -> None:
    block = Inception(**INCEPTION_3A)
    assert block.out_channels(192, None) == 64 + 128 + 32 + 32
    y = block.build(192, 256, 1).eval()(torch.randn(1, 192, 5, 5))
    assert y.shape == (1, 256, 5, 5)


@pytest.mark.parametrize(("five_kernel", "params"), [(3, 155872), (5, 155872 + 16 * 32 * (25 - 9))])
def test_cost_matches_torchvision(five_kernel: int, params: int) -> None:
    # torchvision 0.29.1 googlenet.Inception(192, 64, 96, 128, 16, 32, 32): 155872 parameters (sum of
    # numels) and 121626624 MACs (FlopCounterMode total // 2) on a 1x192x28x28 input; its "5x5" branch
    # is 3x3. The paper's 5x5 adds 16 * 32 * (25 - 9) weights and that many MACs per pixel.
    block = Inception(**INCEPTION_3A, five_kernel=five_kernel)
    cost, shape = block.cost(Shape(192, 28, 28), 256, 1)
    assert (cost.params, cost.macs) == (params, 121626624 + (params - 155872) * 28 * 28)
    assert shape == Shape(256, 28, 28)
    assert measure_cost(block.build(192, 256, 1), (1, 192, 28, 28)) == cost


def test_batch_norm_uses_torchvision_epsilon() -> None:
    norms = [
        m for m in Inception(**INCEPTION_3A).build(192, 256, 1).modules() if isinstance(m, nn.BatchNorm2d)
    ]
    assert len(norms) == 6
    assert all(m.eps == 1e-3 for m in norms)
