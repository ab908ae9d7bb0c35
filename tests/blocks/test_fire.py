from __future__ import annotations

import pytest
import torch
from torch import nn

from nas import Shape, measure_cost
from nas.blocks.fire import Fire
from nas.errors import SpecError


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"squeeze_ratio": 0.0}, "squeeze_ratio"),
        ({"squeeze_ratio": 1.5}, "squeeze_ratio"),
        ({"pct3x3": 0.0}, "pct3x3"),
        ({"pct3x3": 1.0}, "pct3x3"),
        ({"norm": "yes"}, "norm"),
    ],
)
def test_invalid_options_are_named(options: dict, field: str) -> None:
    with pytest.raises(SpecError) as err:
        Fire.from_data(options)
    assert err.value.path == field


@pytest.mark.parametrize(
    ("block", "cout", "field"),
    [
        (Fire(squeeze_ratio=0.125), 3, "squeeze_ratio"),  # 0.375 squeeze channels round to none
        (Fire(pct3x3=0.95), 8, "pct3x3"),  # all 8 expand channels would be 3x3
        (Fire(pct3x3=0.1), 4, "pct3x3"),  # no 3x3 channel left
    ],
)
def test_impossible_widths_are_named(block: Fire, cout: int, field: str) -> None:
    with pytest.raises(SpecError) as err:
        block.check(16, cout, 1)
    assert err.value.path == field


def test_widths_follow_the_paper() -> None:
    # SqueezeNet's Fire modules: SR 0.125 and pct3x3 0.5, e.g. fire2 squeeze 16, expand 64 + 64.
    assert Fire().widths(128) == (16, 64, 64)
    # Rounded half up, not to even, and despite 0.29 * 100 == 28.999999999999996.
    assert Fire(squeeze_ratio=0.25, pct3x3=0.29).widths(100) == (25, 71, 29)
    assert Fire(squeeze_ratio=0.5, pct3x3=0.5).widths(5) == (3, 2, 3)


@pytest.mark.parametrize(
    ("cin", "cout", "size", "params", "macs"),
    [
        # torchvision 0.29.1 torchvision.models.squeezenet.Fire(inplanes, squeeze, e1x1, e3x3), measured with
        # sum(p.numel()) and FlopCounterMode / 2 on a batch-1 input of the size it sees in squeezenet1_0;
        # also checked to give the same output once its state dict is loaded into ours.
        (96, 128, 54, 11_920, 34_338_816),  # Fire(96, 16, 64, 64), fire2
        (128, 256, 27, 45_344, 32_845_824),  # Fire(128, 32, 128, 128), fire4
        (512, 512, 13, 197_184, 33_226_752),  # Fire(512, 64, 256, 256), fire9
    ],
)
def test_matches_torchvision(cin: int, cout: int, size: int, params: int, macs: int) -> None:
    cost, shape = Fire().cost(Shape(cin, size, size), cout, 1)
    assert (cost.params, cost.macs, shape) == (params, macs, Shape(cout, size, size))
    assert measure_cost(Fire().build(cin, cout, 1), (1, cin, size, size)) == cost


def test_norm_replaces_biases_with_batch_norm() -> None:
    module = Fire(norm=True).build(96, 128, 1)
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    assert all(c.bias is None for c in convs)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in module.modules()) == 3
    # Each conv loses its bias (16 + 64 + 64) and gains a scale and a shift per channel.
    assert measure_cost(module, (1, 96, 8, 8)).params == 11_920 + 16 + 64 + 64


def test_expand_outputs_are_concatenated_1x1_first() -> None:
    module = Fire().build(8, 16, 1).eval()
    x = torch.randn(1, 8, 6, 6)
    s = module.squeeze(x)
    torch.testing.assert_close(module(x), torch.cat((module.expand1x1(s), module.expand3x3(s)), dim=1))
    assert module.expand3x3[0].kernel_size == (3, 3)
