"""ONNX: a network written with torch's exporter, and run with ONNX Runtime.

Two exporters come with torch 2.13: the TorchScript-based one (``dynamo=False``, deprecated since torch
2.9 but present) and the ``torch.export``-based one (``dynamo=True``, which needs onnxscript). Both
export one network of every block kind with a dynamic batch axis and match eager PyTorch within 1e-7 in
ONNX Runtime, and ONNX Runtime runs both graphs equally fast (MnasNet-A1 at 224 px, one thread: 9.9 and
9.4 ms, within this machine's noise). The TorchScript-based one is the default because it is 20-40 times
faster (0.02-0.2 s against 1.7-5.8 s per small network here), which counts for the latency back-end that
exports every part of a search space, and because it works with every torch this project accepts (2.4 on;
``dynamo=True`` arrived in 2.5). ``dynamo=True`` is the way on once torch drops the older exporter.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from nas.export._formats import Format, require
from nas.export._mode import eval_mode

OPSET = 17  # ONNX 1.12 (2022): every op the blocks need (HardSwish since 14), run by any recent runtime
INPUT, OUTPUT = "images", "logits"


def onnx_bytes(model: nn.Module, example: torch.Tensor, *, dynamo: bool = False) -> bytes:
    """``model`` in eval mode as a serialised ONNX model, traced on ``example`` (a batch), with a dynamic
    batch axis."""
    require(Format.ONNX, dynamo)
    with eval_mode(model), torch.no_grad():
        return _dynamo(model, example) if dynamo else _legacy(model, example)


def _legacy(model: nn.Module, example: torch.Tensor) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # Its deprecation notice, on every call; the module docstring says why it is the default.
        warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning, UserWarning))
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # see nas.export._torchscript
        torch.onnx.export(
            model,
            (example,),
            buffer,
            dynamo=False,
            opset_version=OPSET,
            training=torch.onnx.TrainingMode.EVAL,  # batch norm with its running statistics
            input_names=[INPUT],
            output_names=[OUTPUT],
            dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}},
        )
    return buffer.getvalue()


def _dynamo(model: nn.Module, example: torch.Tensor) -> bytes:
    batch = torch.export.Dim("batch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))
        program = torch.onnx.export(
            model,
            (example,),
            dynamo=True,
            input_names=[INPUT],
            output_names=[OUTPUT],
            dynamic_shapes=({0: batch},),  # by position: the network's forward takes one tensor
            verbose=False,
        )
    return program.model_proto.SerializeToString()


def export_onnx(model: nn.Module, path: str | Path, example: torch.Tensor, *, dynamo: bool = False) -> Path:
    """Write ``model`` (in eval mode) to ``path`` as ONNX, traced on ``example``; its batch axis is
    dynamic, its input named ``images`` and its output ``logits``."""
    path = Path(path)
    data = onnx_bytes(model, example, dynamo=dynamo)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def run_onnx(path: str | Path, x: torch.Tensor) -> torch.Tensor:
    """The output of the ONNX model at ``path`` on ``x``, run once by ONNX Runtime on the CPU."""
    require(Format.ONNX)
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    return torch.from_numpy(np.asarray(y))


def onnxruntime_version() -> str:
    require(Format.ONNX)
    import onnxruntime

    return f"onnxruntime {onnxruntime.__version__}"
