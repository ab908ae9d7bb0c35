"""Zero-cost scores: hand-computed values on tiny models, invariants on real ones, and purity."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from torch import nn

import nas.search._zero_cost as zc
from nas import ArchSpec, build_model, load_spec, zoo
from nas.search._zero_cost import (
    NASWOT_SINGULAR,
    ZERO_COST,
    grad_norm,
    naswot,
    synflow,
    zero_cost_score,
)
from tests.strategies import arch_specs

TINY = """
name: tiny
resolution: 32
in_channels: 3
stem: [{block: conv, out: 8, stride: 2}]
stages: [{block: mbconv, out: 16, stride: 2, expand: 3, kernel: 3}]
head: {}
"""

# Every stochastic module a network can hold: head dropout and drop-path in the residual stage.
STOCHASTIC = """
name: stochastic
resolution: 16
drop_path: 0.3
stem: [{block: conv, out: 8, stride: 2, act: hswish}]
stages:
- {block: mbconv, out: 8, expand: 2, repeats: 2, se: {ratio: 0.25}}
- {block: conv, out: 16, stride: 2, act: swish}
head: {hidden: [{out: 12, dropout: 0.5}], dropout: 0.5}
"""


def _batch(
    n: int = 8, channels: int = 3, size: int = 32, classes: int = 10
) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(1234)
    images = torch.randn(n, channels, size, size, generator=gen)
    return images, torch.randint(0, classes, (n,), generator=gen)


def _widened(spec: ArchSpec, factor: int) -> ArchSpec:
    """The spec with every ``out`` (blocks, head conv, hidden layers) multiplied by ``factor``."""
    data = spec.to_data()
    head = data.get("head", {})
    for entry in [*data.get("stem", []), *data["stages"], head.get("conv", {}), *head.get("hidden", [])]:
        if "out" in entry:
            entry["out"] *= factor
    return load_spec(data)


def _state(model: nn.Module) -> tuple[dict[str, torch.Tensor], list[bool], list[bool], list[bool]]:
    tensors = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return (
        tensors,
        [m.training for m in model.modules()],
        [p.requires_grad for p in model.parameters()],
        [p.grad is None for p in model.parameters()],
    )


def _assert_same_state(before: tuple, after: tuple) -> None:
    assert before[0].keys() == after[0].keys()
    for key, value in before[0].items():
        assert torch.equal(value, after[0][key]), key
    assert before[1:] == after[1:]


# ---------------------------------------------------------------------------------------------------------
# Every score


@pytest.mark.parametrize("score", sorted(ZERO_COST))
def test_scores_are_finite_and_the_same_for_the_same_seed(score: str) -> None:
    spec, (images, labels) = load_spec(TINY), _batch()
    first = zero_cost_score(spec, images, labels, 10, score, seed=3)
    assert math.isfinite(first)
    assert zero_cost_score(spec, images, labels, 10, score, seed=3) == first


@pytest.mark.parametrize("score", ["naswot", "grad_norm"])
def test_other_seeds_give_other_networks_and_scores(score: str) -> None:
    spec, (images, labels) = load_spec(TINY), _batch()
    values = {zero_cost_score(spec, images, labels, 10, score, seed=s) for s in range(4)}
    assert len(values) > 1


@pytest.mark.parametrize("score", sorted(ZERO_COST))
@pytest.mark.parametrize("training", [True, False])
def test_the_given_model_is_left_untouched(score: str, training: bool) -> None:
    torch.manual_seed(0)
    model = build_model(load_spec(STOCHASTIC), num_classes=5).train(training)
    model.stem[0][0].weight.requires_grad_(False)  # a frozen layer must stay frozen
    images, labels = _batch(6, size=16, classes=5)
    before = _state(model)
    ZERO_COST[score](model, images, labels)
    _assert_same_state(before, _state(model))


@pytest.mark.parametrize("score", sorted(ZERO_COST))
def test_no_global_state_changes(score: str) -> None:
    spec, (images, labels) = load_spec(STOCHASTIC), _batch(6, size=16, classes=5)
    torch.manual_seed(99)
    rng = torch.get_rng_state()
    with torch.no_grad():
        zero_cost_score(spec, images, labels, 5, score, seed=7)
        assert not torch.is_grad_enabled()
    assert torch.is_grad_enabled()
    assert torch.equal(torch.get_rng_state(), rng)
    # The network's dropout and drop-path are off: the score itself draws nothing either.
    model = build_model(spec, num_classes=5)
    rng = torch.get_rng_state()
    ZERO_COST[score](model, images, labels)
    assert torch.equal(torch.get_rng_state(), rng)


@pytest.mark.parametrize("score", sorted(ZERO_COST))
def test_other_resolutions_and_one_channel_images(score: str) -> None:
    spec = load_spec(TINY).replace(in_channels=1)  # digits: 1 channel, 8x8, while the spec says 32
    images, labels = _batch(8, channels=1, size=8)
    assert math.isfinite(zero_cost_score(spec, images, labels, 10, score))


def test_an_unknown_score_names_the_choices() -> None:
    images, labels = _batch(2)
    with pytest.raises(ValueError, match="snip") as err:
        zero_cost_score(load_spec(TINY), images, labels, 10, score="snip")
    assert all(name in str(err.value) for name in ("synflow", "naswot", "grad_norm"))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arch_specs())
def test_every_block_kind_gives_scores_and_stays_untouched(spec: ArchSpec) -> None:
    images, labels = _batch(4, channels=spec.in_channels, size=spec.resolution, classes=3)
    model = build_model(spec, num_classes=3)
    before, rng = _state(model), torch.get_rng_state()
    assert math.isfinite(synflow(model, images, labels))
    assert naswot(model, images, labels) >= NASWOT_SINGULAR
    assert math.isfinite(grad_norm(model, images, labels))
    _assert_same_state(before, _state(model))
    assert torch.equal(torch.get_rng_state(), rng)


@pytest.mark.parametrize("score", ["naswot", "grad_norm"])
def test_batch_norm_uses_the_batch_statistics(score: str) -> None:
    # As a fresh network trains: what batch norm has accumulated so far plays no part.
    torch.manual_seed(0)
    model = build_model(load_spec(TINY), num_classes=10)
    images, labels = _batch()
    fresh = ZERO_COST[score](model, images, labels)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.fill_(3.0)
            m.running_var.fill_(0.01)
    assert ZERO_COST[score](model, images, labels) == pytest.approx(fresh, rel=1e-6)
    assert ZERO_COST[score](model.eval(), images, labels) == pytest.approx(fresh, rel=1e-6)


# ---------------------------------------------------------------------------------------------------------
# SynFlow


def _linear_chain(weights: list[torch.Tensor]) -> nn.Sequential:
    layers = [nn.Linear(w.shape[1], w.shape[0], bias=False) for w in weights]
    with torch.no_grad():
        for layer, w in zip(layers, weights, strict=True):
            layer.weight.copy_(w)
    return nn.Sequential(*layers)


def test_synflow_of_a_linear_chain_by_hand() -> None:
    # R = 1^T |V| |W| 1 = |v1| (|1| + |-2|) + |v2| (|3| + |4|) = 2 * 3 + 1 * 7 = 13, and each layer's
    # share sum |θ ∂R/∂θ| equals R (SynFlow's conservation law): S = 2 R.
    w = torch.tensor([[1.0, -2.0], [3.0, 4.0]])
    v = torch.tensor([[-2.0, 1.0]])
    images = torch.randn(5, 2)
    assert synflow(_linear_chain([w, v]), images, torch.zeros(5)) == pytest.approx(math.log(26.0), rel=1e-12)


def test_synflow_is_right_far_beyond_float64() -> None:
    # 400 layers of weight 10: R = 10^400 overflows float64; S = 400 R, log S = log 400 + 400 log 10.
    chain = _linear_chain([torch.full((1, 1), 10.0)] * 400)
    expected = math.log(400) + 400 * math.log(10)
    assert synflow(chain, torch.ones(3, 1), torch.zeros(3)) == pytest.approx(expected, rel=1e-12)


def test_synflow_rescaling_changes_nothing_it_need_not(monkeypatch: pytest.MonkeyPatch) -> None:
    spec, (images, labels) = load_spec(TINY), _batch(2)
    torch.manual_seed(0)
    model = build_model(spec, num_classes=10)
    plain = synflow(model, images, labels)
    monkeypatch.setattr(zc, "_RESCALE_ABOVE", 2.0)  # rescale after every block and layer of the trunk
    assert synflow(model, images, labels) == pytest.approx(plain, rel=1e-12)


def _literal_synflow(model: nn.Module, shape: tuple[int, ...]) -> float:
    """Tanaka et al.'s recipe word for word: |θ|, eval mode, ones in, nothing swapped, no rescaling."""
    net = _linear_copy(model)
    total = net(torch.ones((1, *shape), dtype=torch.float64)).sum()
    grads = torch.autograd.grad(total, list(net.parameters()))
    return math.log(
        sum(float((p.detach() * g).abs().sum()) for p, g in zip(net.parameters(), grads, strict=True))
    )


def _linear_copy(model: nn.Module) -> nn.Module:
    net = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    return net


def test_synflow_of_a_relu_network_is_tanakas() -> None:
    spec = load_spec(TINY.replace("kernel: 3}", "kernel: 3, act: relu}"))
    torch.manual_seed(0)
    model = build_model(spec, num_classes=10)
    images, labels = _batch(2)
    assert synflow(model, images, labels) == pytest.approx(_literal_synflow(model, (3, 32, 32)), rel=1e-12)


def test_synflow_ignores_where_relu6_would_saturate() -> None:
    # ReLU and ReLU6 networks of the same weights have the same linearisation, though the literal
    # recipe saturates ReLU6 (MobileNetV2's default) at 6 and scores the ReLU6 network lower.
    relu6 = load_spec(TINY)
    relu = load_spec(TINY.replace("kernel: 3}", "kernel: 3, act: relu}"))
    images, labels = _batch(2)
    assert zero_cost_score(relu6, images, labels, 10) == zero_cost_score(relu, images, labels, 10)


def test_synflow_grows_with_width() -> None:
    images, labels = _batch(2)
    for spec in (load_spec(TINY), load_spec(STOCHASTIC)):
        wide = _widened(spec, 2)
        for seed in range(3):
            narrow_score = zero_cost_score(spec, images, labels, 10, seed=seed)
            assert zero_cost_score(wide, images, labels, 10, seed=seed) > narrow_score


def test_synflow_is_finite_for_deep_networks() -> None:
    images, labels = _batch(2)
    deep = load_spec(TINY.replace("kernel: 3}", "kernel: 3, repeats: 60}"))
    shallow_score = zero_cost_score(load_spec(TINY), images, labels, 10)
    deep_score = zero_cost_score(deep, images, labels, 10)
    assert math.isfinite(deep_score) and deep_score > shallow_score
    v3 = zoo.get("mobilenet_v3_large").replace(resolution=32)
    assert math.isfinite(zero_cost_score(v3, images, labels, 10))


# ---------------------------------------------------------------------------------------------------------
# NASWOT


def test_naswot_of_a_tiny_network_by_hand() -> None:
    model = nn.Sequential(nn.Linear(2, 3, bias=False), nn.ReLU())
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    images = torch.tensor([[1.0, -1.0], [-1.0, 2.0], [2.0, 1.0]])
    # Pre-activations (1, -1, 0), (-1, 2, 1), (2, 1, 3): codes 100, 011, 111. Agreeing bits:
    # K = [[3, 0, 1], [0, 3, 2], [1, 2, 3]], det K = 3 (9 - 4) + 1 (0 - 3) = 12.
    assert naswot(model, images, torch.zeros(3)) == pytest.approx(math.log(12.0), rel=1e-12)


def test_naswot_concatenates_the_codes_of_every_rectifier() -> None:
    gen = torch.Generator().manual_seed(5)
    first, second = torch.randn(16, 4, generator=gen), torch.randn(12, 16, generator=gen)
    model = nn.Sequential(
        nn.Linear(4, 16, bias=False),
        nn.ReLU(inplace=True),
        nn.Linear(16, 12, bias=False),
        nn.PReLU(init=-0.5),  # negative slope: the output's sign is not the input's
        nn.Sigmoid(),
    )
    with torch.no_grad():
        model[0].weight.copy_(first)
        model[2].weight.copy_(second)
    images = torch.randn(5, 4, generator=gen)
    # Independently, in numpy: codes of both rectifiers (not the sigmoid gate), K = N_A - Hamming.
    hidden = images.numpy() @ first.numpy().T
    out = np.maximum(hidden, 0) @ second.numpy().T
    codes = np.concatenate([hidden > 0, out > 0], axis=1)
    hamming = (codes[:, None, :] != codes[None, :, :]).sum(axis=2)
    sign, logdet = np.linalg.slogdet(codes.shape[1] - hamming)
    assert sign > 0
    assert naswot(model, images, torch.zeros(5)) == pytest.approx(logdet, rel=1e-9)


def test_naswot_floors_a_singular_kernel() -> None:
    torch.manual_seed(0)
    model = build_model(load_spec(TINY), num_classes=10)
    images, labels = _batch(4)
    images[2] = images[0]  # two identical images, two identical rows of K
    assert naswot(model, images, labels) == NASWOT_SINGULAR
    no_rectifier = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 4), nn.Sigmoid())
    assert naswot(no_rectifier, images, labels) == NASWOT_SINGULAR


def test_naswot_lies_between_the_floor_and_hadamards_bound() -> None:
    # K is an integer matrix, so a non-singular one has |det K| >= 1; Hadamard: det K <= prod K_ii.
    model = build_model(zoo.get("mobilenet_v2").replace(resolution=32), num_classes=10)
    images, labels = _batch(16)
    units = []
    hooks = [
        m.register_forward_pre_hook(lambda m, x: units.append(x[0][0].numel())) for m in zc._rectifiers(model)
    ]
    with torch.no_grad():
        model.eval()(images[:1])
    for h in hooks:
        h.remove()
    score = naswot(model, images, labels)
    assert 0.0 <= score <= 16 * math.log(sum(units))


def test_naswot_needs_two_images() -> None:
    images, labels = _batch(1)
    with pytest.raises(ValueError, match="at least 2"):
        naswot(build_model(load_spec(TINY), num_classes=10), images, labels)


# ---------------------------------------------------------------------------------------------------------
# Gradient norm


def test_grad_norm_of_a_linear_model_by_hand() -> None:
    gen = torch.Generator().manual_seed(2)
    model = nn.Linear(3, 4)
    with torch.no_grad():
        model.weight.copy_(torch.randn(4, 3, generator=gen))
        model.bias.copy_(torch.randn(4, generator=gen))
    images, labels = torch.randn(5, 3, generator=gen), torch.tensor([0, 3, 1, 1, 2])
    # Mean cross-entropy of softmax(x W^T + b): dL/dz = (softmax(z) - onehot) / n, dW = dz^T x, db = sum dz.
    x, w, b = images.numpy().astype(np.float64), model.weight.detach().numpy(), model.bias.detach().numpy()
    z = x @ w.T + b
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    dz = (p - np.eye(4)[labels.numpy()]) / len(x)
    expected = math.sqrt(float(((dz.T @ x) ** 2).sum() + (dz.sum(axis=0) ** 2).sum()))
    assert grad_norm(model, images, labels) == pytest.approx(expected, rel=1e-5)
