"""Export: a network written as ONNX or TorchScript for deployment, and checked against eager PyTorch.

``python -m nas.export arch=NAME_OR_PATH format=onnx|torchscript`` writes a zoo network, a spec file or a
search's result (its run directory: the best network, or with ``pareto=true`` every Pareto network), with
fresh seeded weights or a ``nas.train`` checkpoint's (``checkpoint=``), then runs the file once in its
runtime (ONNX Runtime, or TorchScript's) on random input and prints the largest absolute difference from
eager PyTorch; above ``tolerance`` (1e-4) it exits with status 1.

- :func:`export_onnx`, :func:`export_torchscript`: any module, in eval mode, traced on an example batch,
  with a dynamic batch axis.
- :func:`check_export`: the written file against the module.
- :func:`onnx_bytes`: the ONNX model in memory (the latency back-end ``onnxruntime`` times parts with it).

ONNX needs the optional ``export`` extra (onnx, onnxscript, onnxruntime): ``pip install
"lightweight-nas[export]"``; without it, ``format=onnx`` is one line naming that command (exit status 2).
"""

from __future__ import annotations

from nas.export._check import CHECK_BATCH, TOLERANCE, Check, check_export
from nas.export._formats import EXTRA, Format, require
from nas.export._mode import eval_mode
from nas.export._onnx import OPSET, export_onnx, onnx_bytes, onnxruntime_version, run_onnx
from nas.export._settings import ExportSettings
from nas.export._torchscript import export_torchscript, run_torchscript

__all__ = [
    "CHECK_BATCH",
    "EXTRA",
    "OPSET",
    "TOLERANCE",
    "Check",
    "ExportSettings",
    "Format",
    "check_export",
    "eval_mode",
    "export_onnx",
    "export_torchscript",
    "onnx_bytes",
    "onnxruntime_version",
    "require",
    "run_onnx",
    "run_torchscript",
]
