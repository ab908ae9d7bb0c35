"""The back-ends a latency is measured in: one small interface, one class per runtime.

A back-end turns a module and an input into a no-argument forward pass (traced, compiled or exported
once, beforehand), says whether it can run on a device, and names what its timings depend on beyond
torch (a runtime's version and options), which a lookup table records in its environment key.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import nn

from nas.errors import UsageError
from nas.export import EXTRA, OPSET, Format, onnx_bytes, require


class Backend(ABC):
    """How a module runs while it is timed."""

    name: ClassVar[str]

    def check(self, device: str) -> None:  # noqa: B027 (most back-ends run anywhere torch does)
        """A ``ValueError`` naming ``backend`` where this back-end cannot run on ``device`` here."""

    def runtime(self, threads: int) -> str:
        """What a measurement depends on beyond torch and the setting ("" for torch alone)."""
        return ""

    @abstractmethod
    def prepare(self, model: nn.Module, x: torch.Tensor, threads: int) -> Callable[[], Any]:
        """A no-argument forward pass of ``model`` (in eval mode, on ``x``'s device) on ``x``."""


class Eager(Backend):
    name = "eager"

    def prepare(self, model: nn.Module, x: torch.Tensor, threads: int) -> Callable[[], Any]:
        def run() -> Any:
            with torch.inference_mode():
                return model(x)

        return run


class TorchScript(Backend):
    name = "torchscript"

    def prepare(self, model: nn.Module, x: torch.Tensor, threads: int) -> Callable[[], Any]:
        # Deprecated in favour of torch.compile, but still what many deployments ship; freezing inlines
        # the weights, as such an export does.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            traced = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(model, x)))
        return Eager().prepare(traced, x, threads)


class Compile(Backend):
    name = "compile"

    def prepare(self, model: nn.Module, x: torch.Tensor, threads: int) -> Callable[[], Any]:
        return Eager().prepare(torch.compile(model), x, threads)


class OnnxRuntime(Backend):
    """The module exported to ONNX (:func:`nas.export.onnx_bytes`, as ``python -m nas.export`` writes
    it) and run by ONNX Runtime's CPU provider, as small CNNs are usually served on a CPU."""

    name = "onnxruntime"

    def check(self, device: str) -> None:
        if device != "cpu":
            raise ValueError(
                f"backend: onnxruntime times on the CPU (its CPU package); got device {device!r}"
            )
        try:
            require(Format.ONNX)
        except UsageError:
            raise ValueError(f"backend: onnxruntime is not installed: {EXTRA}") from None

    def runtime(self, threads: int) -> str:
        import onnxruntime

        o = session_options(threads)
        options = {
            "intra_op_num_threads": o.intra_op_num_threads,
            "inter_op_num_threads": o.inter_op_num_threads,
            "execution_mode": o.execution_mode.name,
            "graph_optimization_level": o.graph_optimization_level.name,
        }
        listed = ", ".join(f"{k}={v}" for k, v in options.items())
        return f"onnxruntime {onnxruntime.__version__} (torch.onnx exporter, opset {OPSET}): {listed}"

    def prepare(self, model: nn.Module, x: torch.Tensor, threads: int) -> Callable[[], Any]:
        import onnxruntime

        data = onnx_bytes(model, x)
        session = onnxruntime.InferenceSession(
            data, session_options(threads), providers=["CPUExecutionProvider"]
        )
        feed = {session.get_inputs()[0].name: x.numpy()}

        def run() -> Any:
            return session.run(None, feed)

        return run


def session_options(threads: int) -> Any:
    """ONNX Runtime's options for a timing: ``threads`` intra-op threads (what ``torch.set_num_threads``
    sets for eager), nodes run one at a time (a CNN at batch 1 is a chain with little to run side by side;
    the inter-op pool is then unused, so it is sized 1), every graph optimisation (the runtime's default)."""
    import onnxruntime

    o = onnxruntime.SessionOptions()
    o.intra_op_num_threads = threads
    o.inter_op_num_threads = 1
    o.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    o.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    o.log_severity_level = 3  # errors only: its warnings about unused initializers are noise here
    return o


BACKENDS: dict[str, Backend] = {b.name: b for b in (Eager(), TorchScript(), Compile(), OnnxRuntime())}
