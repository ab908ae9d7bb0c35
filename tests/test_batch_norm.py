"""Batch-norm settings: per spec, overridden per stage, matching the references that depart from PyTorch's
defaults, and never changing a count."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nas import SpecError, build_model, count_cost, dump_spec, load_spec, zoo
from nas.blocks import BatchNorm

SPEC = """
resolution: 32
bn: {eps: 0.001, momentum: 0.01}
stem:
- {block: conv, out: 16, stride: 2}
stages:
- {block: mbconv, out: 24, stride: 2, bn: {momentum: 0.1}}
- {block: inception, c1: 8, c3_reduce: 8, c3: 8, c5_reduce: 4, c5: 4, pool_proj: 4}
head: {conv: {out: 64}}
"""


def _settings(module: nn.Module) -> set[tuple[float, float | None]]:
    return {(m.eps, m.momentum) for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)}


def test_the_spec_sets_every_batch_norm_and_a_stage_overrides_it() -> None:
    model = build_model(load_spec(SPEC))
    assert _settings(model.stem) == {(1e-3, 0.01)}
    assert _settings(model.stages[0]) == {(1e-3, 0.1)}  # eps from the spec, momentum from the stage
    assert _settings(model.stages[1]) == {(1e-3, 0.01)}
    assert _settings(model.head) == {(1e-3, 0.01)}


def test_left_out_the_blocks_keep_their_own() -> None:
    plain = SPEC.replace("bn: {eps: 0.001, momentum: 0.01}\n", "").replace(", bn: {momentum: 0.1}", "")
    model = build_model(load_spec(plain))
    assert _settings(model.stages[0]) == {(1e-5, 0.1)}  # PyTorch's defaults
    assert _settings(model.stages[1]) == {(1e-3, 0.1)}  # torchvision's Inception epsilon


def test_settings_change_no_count_and_round_trip() -> None:
    spec = load_spec(SPEC)
    plain = spec.replace(bn=BatchNorm(), stages=tuple(s.replace(bn=BatchNorm()) for s in spec.stages))
    assert count_cost(spec) == count_cost(plain)
    assert load_spec(dump_spec(spec)) == spec
    assert "bn:" in dump_spec(spec) and "bn:" not in dump_spec(plain)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("bn: {eps: 0.0, momentum: 0.01}", "bn.eps: expected a value > 0.0; got 0.0"),
        ("bn: {eps: 0.001, momentum: 1.5}", "bn.momentum: expected a value >= 0.0 and <= 1.0; got 1.5"),
        ("bn: {eps: 0.001, decay: 0.9}", "bn: unknown key 'decay'; expected one of eps, momentum"),
    ],
)
def test_invalid_settings_name_the_field(edit: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        load_spec(SPEC.replace("bn: {eps: 0.001, momentum: 0.01}", edit))
    assert str(err.value) == message


def test_a_stage_setting_is_named_with_its_stage() -> None:
    with pytest.raises(SpecError) as err:
        load_spec(SPEC.replace("bn: {momentum: 0.1}", "bn: {momentum: -1}"))
    assert str(err.value) == "stages[0].bn.momentum: expected a value >= 0.0 and <= 1.0; got -1.0"


# (eps, momentum) of every batch norm in the reference, from torchvision 0.29.1's source:
# mobilenetv3.py and efficientnet.py (B5-B7) pass partial(nn.BatchNorm2d, eps=0.001, momentum=0.01);
# googlenet.py's BasicConv2d has BatchNorm2d(eps=0.001); mnasnet.py uses momentum 1 - 0.9997;
# efficientnet.py B0-B4 keep nn.BatchNorm2d's defaults.
REFERENCES = {
    "mobilenet_v3_large": (1e-3, 0.01),
    "mobilenet_v3_small": (1e-3, 0.01),
    "efficientnet_b0": (1e-5, 0.1),
    "efficientnet_b4": (1e-5, 0.1),
    "efficientnet_b5": (1e-3, 0.01),
    "efficientnet_b7": (1e-3, 0.01),
    "googlenet": (1e-3, 0.1),
    "mnasnet1_0": (1e-5, 1 - 0.9997),
    "mnasnet0_5": (1e-5, 1 - 0.9997),
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_zoo_batch_norms_match_their_references(name: str) -> None:
    with torch.device("meta"):  # settings only: no weights to allocate
        model = build_model(zoo.get(name))
    ((eps, momentum),) = _settings(model)
    assert (eps, momentum) == pytest.approx(REFERENCES[name])
