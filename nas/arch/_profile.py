"""``profile_model``: the cost of a network the user brings, counted by thop under our conventions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from nas.blocks.costs import BYTES_PER_ELEMENT, Cost


def _zero(module: nn.Module, inputs: Any, output: Any) -> None:
    module.total_ops += 0


# thop's defaults count more than multiply-adds of convolutions and fully connected layers: 2 ops per
# element for batch norm (4 when affine), one per element and window for average pooling and for
# upsampling, and softmax/PReLU arithmetic. The papers, torchvision's GFLOPS and FlopCounterMode count
# none of these, so they are zeroed here. thop's convolution (bias not counted), linear and functional
# matmul rules already count one multiply-add per weight use, which is our convention.
_NOT_MACS: tuple[type[nn.Module], ...] = (
    nn.modules.batchnorm._NormBase,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.AvgPool1d,
    nn.AvgPool2d,
    nn.AvgPool3d,
    nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveAvgPool3d,
    nn.Upsample,
    nn.Softmax,
    nn.LogSoftmax,
    nn.Softmin,
    nn.Softmax2d,
    nn.PReLU,
)


def profile_model(module: nn.Module, input_size: Sequence[int]) -> Cost:
    """MACs, parameters and activation bytes of any module, run once on zeros of ``input_size``.

    ``input_size`` is ``(1, C, H, W)`` or ``(C, H, W)``. thop counts modules (and functional matrix
    products); a convolution called through ``torch.nn.functional`` is invisible to it, so for such
    networks use ``FlopCounterMode``. Parameters are counted directly (``sum(p.numel())``), which also
    sees parameters held by non-leaf modules.
    """
    import thop  # here, not at the top: `import nas` should not pay for thop's import
    from thop.vision import basic_hooks as hooks

    size = tuple(input_size) if len(input_size) == 4 else (1, *input_size)
    if len(size) != 4 or size[0] != 1:
        raise ValueError(f"input_size: expected (1, C, H, W) or (C, H, W); got {tuple(input_size)}")
    traffic = [0]

    def conv_or_linear(rule: Any) -> Any:
        def count(m: nn.Module, inputs: Any, output: torch.Tensor) -> None:
            rule(m, inputs, output)
            traffic[0] += inputs[0].numel() + output.numel()

        return count

    custom_ops: dict[type[nn.Module], Any] = {t: _zero for t in _NOT_MACS}
    # thop registers each concrete class, which it finds before any base class of ours: override each
    for conv in (nn.Conv1d, nn.Conv2d, nn.Conv3d):
        custom_ops[conv] = conv_or_linear(hooks.count_convNd)
    for conv in (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d):
        custom_ops[conv] = conv_or_linear(hooks.count_convtNd)
    custom_ops[nn.Linear] = conv_or_linear(hooks.count_linear)
    param = next(module.parameters(), None)
    x = torch.zeros(size, device=param.device if param is not None else "cpu")
    macs, _ = thop.profile(module, inputs=(x,), custom_ops=custom_ops, verbose=False)
    params = sum(p.numel() for p in module.parameters())
    return Cost(int(macs), params, traffic[0] * BYTES_PER_ELEMENT)
