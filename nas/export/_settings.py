"""What ``python -m nas.export`` is asked to do besides which network: typed, checked on construction."""

from __future__ import annotations

from dataclasses import dataclass

from nas.errors import SpecError
from nas.export._check import TOLERANCE
from nas.export._formats import Format
from nas.records import Record, check_range


@dataclass(frozen=True)
class ExportSettings(Record):
    format: Format = Format.ONNX
    checkpoint: str | None = None  # a nas.train checkpoint: its network and weights; None: fresh weights
    resolution: int | None = None  # the input's height and width; None: the spec's (or the checkpoint's)
    num_classes: int | None = None  # None: the checkpoint's, else 1000
    output: str | None = None  # a file (a directory with pareto); None: outputs/export/...
    pareto: bool = False  # a multi-objective search's run directory: every network of its Pareto front
    dynamo: bool = False  # ONNX through torch.export (needs onnxscript) instead of the TorchScript tracer
    seed: int = 0  # fresh weights are seeded, so that two exports of a spec are the same file
    tolerance: float = TOLERANCE

    def validate(self) -> None:
        if self.resolution is not None:
            check_range("resolution", self.resolution, 1)
        if self.num_classes is not None:
            check_range("num_classes", self.num_classes, 1)
        check_range("tolerance", self.tolerance, 0.0, low_open=True)
        if self.dynamo and self.format is not Format.ONNX:
            raise SpecError("dynamo", "chooses torch's ONNX exporter; it applies to format=onnx only")
