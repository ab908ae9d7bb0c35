"""``copy_weights``: load another implementation's weights into a module of ours (a timm or torchvision
network into the zoo network that equals it), matched by the order in which the layers run.

State-dict names differ between implementations and so does the order in which modules are registered;
the order in which the forward pass *runs* the layers that hold weights is what two implementations of
one network share. Both modules run once on an example input with forward hooks; our layers are paired
with theirs in that order, each taking the next unpaired layer of the same kind and shape within a few
places (two branches of a block, a shortcut and its body, may run in either order). Two conventions that
differ in form but not in function are paired too: a 1x1 convolution with a fully connected layer of the
same shape (a head written either way), and one grouped 1x1 convolution with one convolution per group
(timm's ``MixedConv2d`` for MixNet's ``a1.1``). Every tensor of both sides is paired exactly once, or
:class:`WeightMismatch` says which layer found no partner.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

LOOKAHEAD = 8  # how far ahead a layer may find its partner
_NORM = nn.modules.batchnorm._BatchNorm
_WEIGHTED = (nn.Conv2d, nn.Linear, _NORM)
_GEOMETRY = ("kernel_size", "stride", "groups", "dilation")


class WeightMismatch(ValueError):
    """The two modules' layers do not pair up: they are not the same network."""


def executed(model: nn.Module, example: torch.Tensor) -> list[nn.Module]:
    """The layers that hold weights (convolutions, fully connected layers, batch norms), in the order the
    forward pass first runs them."""
    order: dict[int, nn.Module] = {}

    def record(module: nn.Module, *_: object) -> None:
        order.setdefault(id(module), module)

    hooks = [m.register_forward_hook(record) for m in model.modules() if isinstance(m, _WEIGHTED)]
    try:
        with torch.no_grad():
            model(example)
    finally:
        for hook in hooks:
            hook.remove()
    return list(order.values())


def tensors(layer: nn.Module) -> dict[str, torch.Tensor]:
    """A layer's own parameters and buffers that define its function (not batch norm's step counter)."""
    found = {**dict(layer.named_parameters(recurse=False)), **dict(layer.named_buffers(recurse=False))}
    return {k: v for k, v in found.items() if k != "num_batches_tracked" and v is not None}


def _fits(ours: nn.Module, theirs: nn.Module) -> bool:
    """The same kind of layer, with tensors of the same names, sizes and output layout."""
    if isinstance(ours, _NORM) != isinstance(theirs, _NORM):
        return False
    convs = isinstance(ours, nn.Conv2d) and isinstance(theirs, nn.Conv2d)
    if convs and any(getattr(ours, g) != getattr(theirs, g) for g in _GEOMETRY):
        return False
    a, b = tensors(ours), tensors(theirs)
    return a.keys() == b.keys() and all(
        a[k].numel() == b[k].numel() and a[k].shape[0] == b[k].shape[0] for k in a
    )


def _split_partners(ours: nn.Module, free: list[nn.Module]) -> list[nn.Module] | None:
    """Our grouped 1x1 convolution against theirs written as one ungrouped convolution per group: the
    next ``groups`` of them that each read one group of the input and together write every output."""
    if not isinstance(ours, nn.Conv2d) or ours.groups in (1, ours.in_channels):
        return None
    part = ours.in_channels // ours.groups
    candidates = [
        t
        for t in free[:LOOKAHEAD]
        if isinstance(t, nn.Conv2d)
        and (t.groups, t.in_channels, t.kernel_size, t.stride) == (1, part, ours.kernel_size, ours.stride)
    ][: ours.groups]
    if len(candidates) == ours.groups and sum(t.out_channels for t in candidates) == ours.out_channels:
        return candidates
    return None


Pair = tuple[nn.Module, list[nn.Module]]  # one of our layers and its partners


def pair_layers(ours: list[nn.Module], theirs: list[nn.Module]) -> Iterator[Pair]:
    """Each of our layers with its partners in ``theirs`` (one, or one per group of a split convolution)."""
    free = list(theirs)
    for i, layer in enumerate(ours):
        match = next((t for t in free[:LOOKAHEAD] if _fits(layer, t)), None)
        partners = [match] if match is not None else _split_partners(layer, free)
        if partners is None:
            shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in tensors(layer).items())
            raise WeightMismatch(f"our layer {i} ({type(layer).__name__}: {shapes}) has no partner")
        for partner in partners:
            free.remove(partner)
        yield layer, partners
    if free:
        raise WeightMismatch(f"{len(free)} of their layers have no partner, the first {free[0]}")


def copy_weights(source: nn.Module, target: nn.Module, example: torch.Tensor) -> int:
    """Copy ``source``'s weights into ``target`` (ours), pairing layers as they run on ``example``; the
    number of layers copied. Raises :class:`WeightMismatch` (and copies nothing) when they do not pair."""
    pairs = list(pair_layers(executed(target, example), executed(source, example)))
    with torch.no_grad():
        for layer, partners in pairs:
            sources = [tensors(p) for p in partners]
            for key, value in tensors(layer).items():
                value.copy_(torch.cat([s[key] for s in sources]).reshape(value.shape))
    return len(pairs)


__all__ = ["WeightMismatch", "copy_weights", "executed", "pair_layers", "tensors"]
