from __future__ import annotations

import pytest
import torch

from nas import Shape, StageSpec, measure_cost
from nas.blocks.densenet import DenseLayer, Transition
from nas.errors import SpecError


@pytest.mark.parametrize(("options", "field"), [({"growth": 0}, "growth"), ({"bn_size": 0}, "bn_size")])
def test_dense_layer_invalid_options_are_named(options: dict, field: str) -> None:
    with pytest.raises(SpecError) as err:
        DenseLayer.from_data(options)
    assert err.value.path == field


@pytest.mark.parametrize(("stage", "field"), [({"stride": 2}, "stride"), ({"out": 96}, "out")])
def test_dense_layer_stage_keeps_stride_1_and_derives_its_width(stage: dict, field: str) -> None:
    with pytest.raises(SpecError) as err:
        StageSpec(block=DenseLayer(), **stage)
    assert err.value.path == field


def test_dense_layer_concatenates_new_features_after_its_input() -> None:
    layer = DenseLayer(growth=12).build(20, 32, 1).eval()
    x = torch.randn(1, 20, 9, 9)
    y = layer(x)
    assert DenseLayer(growth=12).out_channels(20, None) == 32
    assert y.shape == (1, 32, 9, 9)
    torch.testing.assert_close(y[:, :20], x)


@pytest.mark.parametrize(
    ("block", "cin", "cout", "stride", "size", "params", "macs"),
    [
        # torchvision 0.29.1 densenet._DenseLayer(224, 32, 4, 0.0) (the last layer of DenseNet-121's first
        # dense block) and densenet._Transition(256, 128): sum of parameter numels, FlopCounterMode
        # total // 2 on a 1 x cin x 56 x 56 input.
        (DenseLayer(), 224, 256, 1, 56, 66240, 205520896),
        (Transition(), 256, 128, 2, 56, 33280, 102760448),
    ],
)
def test_cost_matches_torchvision(
    block: DenseLayer | Transition, cin: int, cout: int, stride: int, size: int, params: int, macs: int
) -> None:
    cost, _ = block.cost(Shape(cin, size, size), cout, stride)
    assert (cost.params, cost.macs) == (params, macs)
    assert measure_cost(block.build(cin, cout, stride), (1, cin, size, size)) == cost


@pytest.mark.parametrize(("stride", "size"), [(1, 7), (2, 3)])
def test_transition_pools_only_at_stride_2(stride: int, size: int) -> None:
    assert Transition().cost(Shape(8, 7, 7), 4, stride)[1] == Shape(4, size, size)
    assert Transition().build(8, 4, stride)(torch.randn(1, 8, 7, 7)).shape == (1, 4, size, size)


def test_transition_pooling_must_fit() -> None:
    with pytest.raises(SpecError) as err:
        Transition().cost(Shape(8, 1, 1), 4, 2)
    assert err.value.path == "stride"
