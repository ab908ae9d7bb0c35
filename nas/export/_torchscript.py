"""TorchScript: a network traced on an example batch, saved with ``torch.jit.save``.

Traced, not scripted: every block is a fixed graph of tensor operations with no data-dependent control
flow, which tracing records exactly, and the batch size is read from the input (``x.size(0)``), so the
traced module takes any batch. Its height and width are those it was traced at: TensorFlow's padding
(``padding: tf_same``) is computed from them and recorded as a constant, which the tracer warns about.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from nas.export._mode import eval_mode


def export_torchscript(model: nn.Module, path: str | Path, example: torch.Tensor) -> Path:
    """Write ``model`` (in eval mode) to ``path`` as a traced TorchScript module."""
    path = Path(path)
    with eval_mode(model), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript's notice, in favour of torch.export
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # the padding constants (see above)
        # check_trace runs the network again to compare; check_export does that on the saved file.
        traced = torch.jit.trace(model, example, check_trace=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.jit.save(traced, str(path))
    return path


def run_torchscript(path: str | Path, x: torch.Tensor) -> torch.Tensor:
    """The output of the TorchScript module at ``path`` on ``x``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        module = torch.jit.load(str(path), map_location="cpu")
    with torch.no_grad():
        return module(x)
