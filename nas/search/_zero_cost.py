"""Training-free ("zero-cost") scores of a network at initialisation, to rank candidates before training.

Each score is a pure function ``score(model, images, labels) -> float``: it works on a deep copy of the
model, so the caller's parameters, buffers, gradients and train/eval mode are untouched; it uses no
random numbers (dropout and drop-path are switched off), so the global RNG is untouched too; and it
restores the autograd mode it found. Higher is better for all three.

- :func:`synflow`: log of SynFlow (Tanaka et al., 2020) as a NAS proxy (Abdelfattah et al., 2021).
- :func:`naswot`: log |det K| of the activation-pattern kernel (Mellor et al., 2021).
- :func:`grad_norm`: norm of the loss gradient at initialisation (Abdelfattah et al., 2021).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nas.arch import ArchSpec, Network, build_model

# Activations that gate each unit on the sign of its input: zero (or a small negative value) for x < 0
# and (close to) the identity for x > 0, so "input > 0" marks the unit's linear region, the ReLU notion
# of an active unit that NASWOT's binary codes record. Gates (Sigmoid, Hardsigmoid: squeeze-and-
# excitation) and saturating squashers (Tanh) are not rectifiers: their output is a multiplier or a
# bounded value, and "input > 0" marks no linear region of theirs, so they contribute no codes.
RECTIFIERS: tuple[type[nn.Module], ...] = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ELU,
    nn.CELU,
    nn.SELU,
    nn.Hardswish,
    nn.SiLU,
    nn.GELU,
    nn.Mish,
)

# NASWOT's value when the kernel K is singular (e.g. two identical images give two identical codes).
# K has integer entries, so a non-singular K has |det K| >= 1 and a score >= 0: this floor ranks below
# every network whose codes tell the images apart, and unlike -inf it stays usable in an Optuna study.
NASWOT_SINGULAR = -1.0


def _private_copy(model: nn.Module) -> nn.Module:
    """A deep copy whose every parameter requires grad, so the scores may change it at will."""
    clone = copy.deepcopy(model)
    for p in clone.parameters():
        p.requires_grad_(True)
        p.grad = None
    return clone


def _batch_norm_train_only(model: nn.Module) -> nn.Module:
    """Batch norm on the batch's statistics (as a fresh network trains), everything else in eval mode:
    dropout and drop-path off, so the score is deterministic and draws no random numbers."""
    model.eval()
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.train()
    return model


def _rectifiers(model: nn.Module) -> Iterator[nn.Module]:
    return (m for m in model.modules() if isinstance(m, RECTIFIERS))


def _swap_rectifiers_for_identity(model: nn.Module) -> None:
    for parent in list(model.modules()):
        for name, child in parent.named_children():
            if isinstance(child, RECTIFIERS):
                setattr(parent, name, nn.Identity())


# ---------------------------------------------------------------------------------------------------------
# SynFlow


def synflow(model: nn.Module, images: Tensor, labels: Tensor) -> float:
    """Natural log of the SynFlow score S = sum over every parameter element of |θ · ∂R/∂θ|.

    Tanaka et al. (2020, eq. 3 and Alg. 1): replace every parameter by its absolute value, feed an input
    of ones, and take R = the sum of the outputs; for a ReLU network all pre-activations are then
    positive, R is a polynomial in |θ| (the network's path norm) and S sums each parameter's share of it.
    Here in float64, batch norm in eval mode (an all-ones batch has zero variance), one image of
    ``images``' shape; ``labels`` are unused (SynFlow needs no data).

    Three choices go beyond a literal reading of the recipe:

    - Rectifiers (:data:`RECTIFIERS`) are replaced by the identity. For ReLU networks this changes
      nothing (every input is positive), but ReLU6 would saturate at 6 on the growing positive signal and
      zero the gradient of everything before it: MobileNetV2 would score its classifier only. Gates
      (squeeze-and-excitation) are kept.
    - The log of S is returned (Abdelfattah et al. report S itself): the same ranking, and a value that
      stays finite where S itself would overflow float64.
    - R grows geometrically with depth, so where an output of the network's trunk (see
      :func:`_trunk`) exceeds 2^256 it is divided by a power of two and the log of the divisor added back.
      A network at initialisation (zero biases) without gates is positively homogeneous, so this is
      exact: S of a 400-layer chain is right far beyond float64; with gates it is an approximation.

    S = 0 (no path from input to output) gives -inf.
    """
    net = _private_copy(model).double().eval()
    _swap_rectifiers_for_identity(net)
    params = list(net.parameters())
    with torch.no_grad():
        for p in params:
            p.abs_()
    ones = torch.ones((1, *images.shape[1:]), dtype=torch.float64, device=images.device)
    exponents: list[int] = []  # log2 of every divisor the trunk's outputs were divided by
    handles = [m.register_forward_hook(_rescaler(exponents)) for m in _trunk(net)]
    try:
        with torch.enable_grad():
            total = net(ones).sum()
            grads = torch.autograd.grad(total, params, allow_unused=True)
    finally:
        for h in handles:
            h.remove()
    score = sum(
        float((p.detach() * g).abs().sum()) for p, g in zip(params, grads, strict=True) if g is not None
    )
    return math.log(score) + sum(exponents) * math.log(2.0) if score > 0 else float("-inf")


_RESCALE_ABOVE = 2.0**256  # far below float64's 2^1024, so no block or head can overflow before a rescale


def _rescaler(exponents: list[int]) -> Callable[[nn.Module, tuple[Tensor, ...], Tensor], Tensor | None]:
    """A forward hook dividing an output larger than :data:`_RESCALE_ABOVE` by a power of two (exact in
    floating point), a constant to autograd; R and every θ · ∂R/∂θ are divided by the same factor."""

    def rescale(module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> Tensor | None:
        largest = float(output.detach().abs().max()) if output.numel() else 0.0
        if not largest > _RESCALE_ABOVE:
            return None
        exponent = math.frexp(largest)[1]  # largest / 2^exponent lies in [0.5, 1)
        exponents.append(exponent)
        # A Python float power of two: torch.ldexp with an integer exponent back-propagates zero.
        return output * math.ldexp(1.0, -exponent)

    return rescale


def _trunk(model: nn.Module) -> Iterator[nn.Module]:
    """Modules every path from input to output goes through: the children of nested ``nn.Sequential``s,
    and of :class:`nas.arch.Network`'s stem and stages (not of a subclass with its own ``forward``,
    which may add a skip). Scaling a branch inside a block (a residual
    body) would change the block's function; scaling the whole signal between blocks does not."""
    if isinstance(model, Network):
        yield model.stem
        yield from _trunk(model.stem)
        yield model.stages
        yield from _trunk(model.stages)
    elif isinstance(model, nn.Sequential) and type(model).forward is nn.Sequential.forward:
        for child in model:
            yield child
            yield from _trunk(child)


# ---------------------------------------------------------------------------------------------------------
# NASWOT


def naswot(model: nn.Module, images: Tensor, labels: Tensor) -> float:
    """log |det K|, K[i, j] = how many rectifier units agree on being active for images i and j.

    Mellor et al. (2021, Section 3): each image's binary code c_i holds, for every unit of every
    rectifier layer (:data:`RECTIFIERS`), whether its input is > 0; K[i, j] = N_A - Hamming(c_i, c_j),
    i.e. the agreeing bits, and the score is log |det K|. As in the paper's code, the freshly
    initialised network sees one minibatch with batch norm on the batch statistics (train mode);
    dropout and drop-path are off. ``labels`` are unused. A singular K (e.g. duplicate images, or no
    rectifier at all) gives :data:`NASWOT_SINGULAR`. Needs at least two images.
    """
    if images.shape[0] < 2:
        raise ValueError(f"naswot needs a batch of at least 2 images; got {images.shape[0]}")
    net = _batch_norm_train_only(_private_copy(model))
    kernel = torch.zeros(images.shape[0], images.shape[0], dtype=torch.float64, device=images.device)

    def add_codes(module: nn.Module, inputs: tuple[Tensor, ...]) -> None:
        # A pre-hook reads the input before an in-place ReLU overwrites it.
        kernel.add_(_agreement(inputs[0].detach().flatten(1) > 0))

    handles = [m.register_forward_pre_hook(add_codes) for m in _rectifiers(net)]
    try:
        with torch.no_grad():
            net(images)
    finally:
        for h in handles:
            h.remove()
    return _log_abs_det(kernel)


def _agreement(codes: Tensor) -> Tensor:
    """Agreeing bits of every pair of rows of a boolean matrix: c c^T + (1 - c)(1 - c)^T, expanded to
    2 c c^T - r_i - r_j + N (r: row sums, N: columns) to save a product. Exact: float64 integers."""
    c = codes.to(torch.float64)
    ones = c.sum(dim=1)
    return 2 * (c @ c.T) - ones[:, None] - ones[None, :] + c.shape[1]


def _log_abs_det(kernel: Tensor) -> float:
    """log det of the symmetric positive semi-definite K (a sum of Gram matrices), from its eigenvalues;
    :data:`NASWOT_SINGULAR` when the smallest is zero to within the usual rank tolerance."""
    eigenvalues = torch.linalg.eigvalsh(kernel)
    tolerance = kernel.shape[0] * torch.finfo(torch.float64).eps * float(eigenvalues[-1].abs())
    if float(eigenvalues[0]) <= tolerance:
        return NASWOT_SINGULAR
    return float(eigenvalues.log().sum())


# ---------------------------------------------------------------------------------------------------------
# Gradient norm


def grad_norm(model: nn.Module, images: Tensor, labels: Tensor) -> float:
    """Euclidean norm, over all parameters together, of the gradient of the mean cross-entropy on one batch.

    Abdelfattah et al. (2021, Section 3) sum per-layer norms of Conv/Linear weight gradients; the
    single norm over every parameter is the same signal without the layer bookkeeping. Batch norm uses
    the batch statistics, as in training; dropout and drop-path are off.
    """
    net = _batch_norm_train_only(_private_copy(model))
    params = list(net.parameters())
    with torch.enable_grad():
        loss = F.cross_entropy(net(images), labels)
        grads = torch.autograd.grad(loss, params, allow_unused=True)
    squares = sum(float(g.double().square().sum()) for g in grads if g is not None)
    return math.sqrt(squares)


# ---------------------------------------------------------------------------------------------------------
# By name, from a spec

ZERO_COST: dict[str, Callable[[nn.Module, Tensor, Tensor], float]] = {
    "synflow": synflow,
    "naswot": naswot,
    "grad_norm": grad_norm,
}


def zero_cost_score(
    spec: ArchSpec,
    images: Tensor,
    labels: Tensor,
    num_classes: int,
    score: str = "synflow",
    seed: int = 0,
) -> float:
    """Score ``score`` of the network ``spec`` freshly initialised from ``seed``, on one batch.

    The weights come from a forked RNG, so the same seed gives the same network and the caller's
    global RNG state is left as it was. The network is fully convolutional up to global pooling, so the
    images may have another resolution than ``spec.resolution``; their channels must be
    ``spec.in_channels``.
    """
    if score not in ZERO_COST:
        raise ValueError(f"unknown zero-cost score {score!r}; expected one of {', '.join(ZERO_COST)}")
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = build_model(spec, num_classes=num_classes)
    return ZERO_COST[score](model.to(images.device), images, labels)


__all__ = [
    "NASWOT_SINGULAR",
    "RECTIFIERS",
    "ZERO_COST",
    "grad_norm",
    "naswot",
    "synflow",
    "zero_cost_score",
]
