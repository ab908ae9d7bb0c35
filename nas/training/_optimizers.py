"""RMSprop with TensorFlow's semantics, which MnasNet's and EfficientNet's hyper-parameters were tuned for.

Neither torch nor any package installed here has it (PyTorch's ``RMSprop`` puts epsilon outside the square
root and starts the mean square at zero), so this is timm's ``RMSpropTF`` (``timm/optim/rmsprop_tf.py``,
Apache-2.0), reduced to what the recipe uses: not centered, L2 weight decay, learning rate in the momentum.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch


class RMSpropTF(torch.optim.Optimizer):
    """Per step: ``v = alpha v + (1 - alpha) g^2`` (``v`` starting at 1), then ``b = momentum b + lr g /
    sqrt(v + eps)`` and ``p -= b``; with ``weight_decay``, ``g`` includes ``weight_decay p`` (L2).

    Epsilon inside the square root floors the denominator at ``sqrt(1e-3) = 0.032`` for TensorFlow's
    1e-3, where PyTorch's floors it at 0.001: for parameters with small gradients, steps up to 30 times
    smaller. The mean square starting at 1 keeps the first steps from being ``lr / sqrt(1 - alpha)``
    large; the learning rate kept in the momentum buffer (TensorFlow's order) makes a schedule's change
    take effect gradually.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 0.01,
        alpha: float = 0.9,
        eps: float = 1e-3,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = {"lr": lr, "alpha": alpha, "eps": eps, "momentum": momentum, "weight_decay": weight_decay}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, group)
        return loss

    def _update(self, p: torch.Tensor, group: dict[str, Any]) -> None:
        state = self.state[p]
        if not state:
            state["square_avg"] = torch.ones_like(p)  # TensorFlow's start; PyTorch's is zero
            state["momentum_buffer"] = torch.zeros_like(p)
        grad = p.grad
        if group["weight_decay"]:
            grad = grad.add(p, alpha=group["weight_decay"])
        square_avg = state["square_avg"]
        square_avg.add_(grad * grad - square_avg, alpha=1.0 - group["alpha"])
        rms = square_avg.add(group["eps"]).sqrt_()  # epsilon inside the root: TensorFlow's
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf.mul_(group["momentum"]).addcdiv_(grad, rms, value=group["lr"])
            p.sub_(buf)
        else:
            p.addcdiv_(grad, rms, value=-group["lr"])
