"""Cost of a built module by running it: the ground truth the analytic cost model is tested against."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from nas.blocks.costs import BYTES_PER_ELEMENT, Cost

_aten = torch.ops.aten
# The ops that carry a convolution's or a fully connected layer's work, and the argument that is the
# feature map they read (the other operands are weights).
_FEATURE_ARG = {
    _aten.convolution.default: 0,
    _aten.mm.default: 0,
    _aten.addmm.default: 1,
    _aten.bmm.default: 0,
}


class _TrafficCounter(TorchDispatchMode):
    """Counts elements read and written by convolutions and matrix products, as ``activation_bytes``."""

    def __init__(self) -> None:
        super().__init__()
        self.elements = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        out = func(*args, **(kwargs or {}))
        index = _FEATURE_ARG.get(func)
        if index is not None:
            self.elements += args[index].numel() + out.numel()
        return out


def measure_cost(module: torch.nn.Module, input_size: Sequence[int]) -> Cost:
    """Run ``module`` once in eval mode on zeros of ``input_size`` (batch 1) and count what it did.

    MACs are ``FlopCounterMode``'s total divided by two; parameters are ``sum(p.numel())``.
    """
    if input_size[0] != 1:
        raise ValueError(f"measure_cost counts one image; got batch size {input_size[0]}")
    param = next(module.parameters(), None)
    x = torch.zeros(*input_size, device=param.device if param is not None else "cpu")
    was_training = module.training
    module.eval()
    try:
        flops = FlopCounterMode(display=False)
        traffic = _TrafficCounter()
        with torch.no_grad(), flops, traffic:
            module(x)
    finally:
        module.train(was_training)
    total_flops = flops.get_total_flops()
    assert total_flops % 2 == 0, "FlopCounterMode counts 2 FLOPs per multiply-add"
    params = sum(p.numel() for p in module.parameters())
    return Cost(total_flops // 2, params, traffic.elements * BYTES_PER_ELEMENT)
