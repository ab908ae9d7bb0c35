"""The head's hidden layers with batch norm and without bias (MobileNetV4, FBNetV3): built, counted and
set by the spec's batch-norm settings exactly as the stages' layers are."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nas import SpecError, build_model, count_cost, dump_spec, load_spec, measure_cost, zoo
from nas.arch import Dense
from nas.scaling import Coefficients, scale

SPEC = """
resolution: 32
bn: {eps: 0.001, momentum: 0.01}
stages:
- {block: conv, out: 16, stride: 2}
head:
  hidden:
  - {out: 40, bias: false, norm: true, act: hswish}
  - {out: 24}
"""


def test_a_normed_layer_without_bias_is_built_as_the_spec_says() -> None:
    model = build_model(load_spec(SPEC), num_classes=10)
    linear, norm, act = [m for m in model.head.classifier if not isinstance(m, nn.Dropout)][:3]
    assert isinstance(linear, nn.Linear) and linear.bias is None and linear.out_features == 40
    assert isinstance(norm, nn.BatchNorm1d) and norm.num_features == 40
    assert (norm.eps, norm.momentum) == (1e-3, 0.01)  # the spec's bn settings reach the head
    assert isinstance(act, nn.Hardswish)
    plain = [m for m in model.head.classifier if isinstance(m, nn.Linear)][1]
    assert plain.bias is not None  # the defaults: a bias, no batch norm


def test_count_equals_the_built_model() -> None:
    spec = load_spec(SPEC)
    cost = count_cost(spec, num_classes=10)
    assert measure_cost(build_model(spec, num_classes=10), (1, 3, 32, 32)) == cost
    # 16 * 40 weights and 2 * 40 batch-norm parameters, no bias; then 40 * 24 + 24 and 24 * 10 + 10
    default = count_cost(load_spec(SPEC.replace("bias: false, norm: true, ", "")), num_classes=10)
    assert default.params - cost.params == 40 - 2 * 40
    assert default.macs == cost.macs


def test_a_dense_layer_at_its_defaults_dumps_as_before() -> None:
    assert Dense(out=1280).to_data() == {"out": 1280}
    text = dump_spec(zoo.get("mobilenet_v3_large"))
    assert "bias" not in text and "norm" not in text
    spec = load_spec(SPEC)
    assert load_spec(dump_spec(spec)) == spec
    assert "bias: false" in dump_spec(spec) and "norm: true" in dump_spec(spec)


def test_scaling_keeps_the_options() -> None:
    spec = scale(load_spec(SPEC), Coefficients(width=2.0))
    assert spec.head.hidden[0] == Dense(out=80, act="hswish", bias=False, norm=True)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("norm: 1", "head.hidden[0].norm: expected true or false; got 1"),
        ("bias: none, norm: true", "head.hidden[0].bias: expected true or false; got 'none'"),
        (
            "bias: false, bn: true",
            "head.hidden[0]: unknown key 'bn'; expected one of out, act, dropout, bias, norm",
        ),
    ],
)
def test_a_bad_option_is_named(edit: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        load_spec(SPEC.replace("bias: false, norm: true", edit))
    assert str(err.value) == message


def test_a_forward_pass_in_training_takes_a_batch() -> None:
    model = build_model(load_spec(SPEC), num_classes=10).train()
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
