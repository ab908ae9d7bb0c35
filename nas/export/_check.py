"""The check every export ends with: the written file, run once in its own runtime, against eager
PyTorch on the same random input."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from nas.export._formats import Format
from nas.export._mode import eval_mode
from nas.export._onnx import onnxruntime_version, run_onnx
from nas.export._torchscript import run_torchscript

TOLERANCE = 1e-4  # largest absolute difference from eager PyTorch that passes
CHECK_BATCH = 2  # the file is traced on one image; two show that its batch axis is not fixed at 1
_SEED = 0


@dataclass(frozen=True)
class Check:
    """How far the exported file's output is from eager PyTorch's.

    The difference must be within ``tolerance`` in absolute terms and relative to the outputs' scale
    (their largest magnitude): freshly initialised zoo networks output logits of about 1e-9 (MobileNetV2
    and MnasNet-A1 at 64 px), where an absolute bound alone would pass any file.
    """

    max_abs_diff: float
    scale: float  # the largest |output| of eager PyTorch
    runtime: str  # what ran the file ("onnxruntime 1.23.2", "TorchScript (torch 2.13.0)")
    batch: int

    @property
    def relative(self) -> float:
        return self.max_abs_diff / self.scale if self.scale > 0 else 0.0

    def passed(self, tolerance: float = TOLERANCE) -> bool:
        # Written so that a NaN anywhere fails: every comparison with NaN is false.
        return self.max_abs_diff <= tolerance and self.relative <= tolerance

    def line(self) -> str:
        return (
            f"{self.runtime} against eager PyTorch on {self.batch} random images: max abs difference "
            f"{self.max_abs_diff:.1e} (outputs up to {self.scale:.1e}, relative {self.relative:.1e})"
        )


def check_export(path: str | Path, model: nn.Module, input_shape: tuple[int, int, int]) -> Check:
    """Run the exported ``path`` (ONNX in ONNX Runtime, TorchScript in torch's runtime) once on a seeded
    random batch of ``input_shape`` (channels, height, width), and compare it with ``model`` in eval mode.
    The global random generator is left as it was."""
    fmt = Format.of(Path(path))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(_SEED)
        x = torch.randn(CHECK_BATCH, *input_shape)
    with eval_mode(model), torch.no_grad():
        expected = model(x)
    if fmt is Format.ONNX:
        got, runtime = run_onnx(path, x), onnxruntime_version()
    else:
        got, runtime = run_torchscript(path, x), f"TorchScript (torch {torch.__version__})"
    scale = float(expected.abs().max())
    if got.shape != expected.shape:  # never silently broadcast
        return Check(float("inf"), scale, runtime, CHECK_BATCH)
    return Check(float((got - expected).abs().max()), scale, runtime, CHECK_BATCH)
