"""``copy_weights``: another implementation's weights into our module, paired by the order layers run."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nas import build_model, zoo
from nas.arch import WeightMismatch, copy_weights


def _randomised(model: nn.Module) -> nn.Module:
    """Every parameter and batch-norm statistic away from its initial value, so that a wrong pairing
    changes the output."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.2)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=generator) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=generator) + 0.5)
    return model.eval()


def test_a_zoo_network_takes_the_weights_of_another_build_of_itself() -> None:
    spec = zoo.get("mixnet_s").replace(resolution=64)
    source, target = _randomised(build_model(spec, 10)), build_model(spec, 10).eval()
    x = torch.randn(2, 3, 64, 64)
    assert not torch.allclose(source(x), target(x))
    assert copy_weights(source, target, x) == sum(
        isinstance(m, (nn.Conv2d, nn.Linear, nn.BatchNorm2d)) for m in target.modules()
    )
    assert torch.equal(source(x), target(x))


class _Block(nn.Module):
    """conv-BN-ReLU, then a shortcut: the modules registered in an order other than the one they run in."""

    def __init__(self, reverse: bool) -> None:
        super().__init__()
        if reverse:
            self.shortcut = nn.Conv2d(3, 8, 1)
            self.norm = nn.BatchNorm2d(8)
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
        else:
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.norm = nn.BatchNorm2d(8)
            self.shortcut = nn.Conv2d(3, 8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.norm(self.conv(x))) + self.shortcut(x)


def test_layers_pair_by_the_order_they_run_not_the_order_they_are_registered() -> None:
    source, target = _randomised(_Block(reverse=True)), _Block(reverse=False).eval()
    x = torch.randn(2, 3, 8, 8)
    copy_weights(source, target, x)
    assert torch.equal(source(x), target(x))


class _SplitConv(nn.Module):
    """timm's MixedConv2d for a 1x1 of two groups: one ungrouped conv per half of the input."""

    def __init__(self) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(2, 4, 1, bias=False) for _ in range(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([conv(part) for conv, part in zip(self.convs, x.split(2, dim=1), strict=True)], 1)


def test_one_grouped_conv_takes_the_weights_of_one_conv_per_group() -> None:
    source, target = _randomised(_SplitConv()), nn.Conv2d(4, 8, 1, groups=2, bias=False)
    x = torch.randn(2, 4, 5, 5)
    assert copy_weights(source, target, x) == 1
    assert torch.allclose(source(x), target(x), atol=1e-6)


def test_a_fully_connected_layer_takes_the_weights_of_a_1x1_conv() -> None:
    source = _randomised(nn.Sequential(nn.Conv2d(6, 3, 1), nn.Flatten(1)))
    target = nn.Sequential(nn.Flatten(1), nn.Linear(6, 3))
    x = torch.randn(2, 6, 1, 1)
    copy_weights(source, target, x)
    assert torch.allclose(source(x), target(x), atol=1e-6)


def test_networks_that_differ_are_refused_and_nothing_is_copied() -> None:
    spec = zoo.get("mobilenet_v2").replace(resolution=32)
    other = zoo.get("mnasnet1_0").replace(resolution=32)
    source, target = build_model(other, 10).eval(), build_model(spec, 10).eval()
    before = {k: v.clone() for k, v in target.state_dict().items()}
    with pytest.raises(WeightMismatch, match=r"our layer \d+ \(\w+: weight"):
        copy_weights(source, target, torch.randn(1, 3, 32, 32))
    assert all(torch.equal(before[k], v) for k, v in target.state_dict().items())
