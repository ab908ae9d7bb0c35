"""The file formats a network is exported to, and the optional packages each needs."""

from __future__ import annotations

import enum
import importlib
from pathlib import Path

from nas.errors import UsageError

EXTRA = 'pip install "lightweight-nas[export]"'


class Format(enum.Enum):
    ONNX = "onnx"
    TORCHSCRIPT = "torchscript"

    @property
    def suffix(self) -> str:
        return ".onnx" if self is Format.ONNX else ".pt"

    @classmethod
    def of(cls, path: Path) -> Format:
        """The format a file is in, from its suffix (``.onnx``, ``.pt``)."""
        for member in cls:
            if Path(path).suffix == member.suffix:
                return member
        raise UsageError(f"{path}: not an exported network (expected a .onnx or .pt file)")


def require(fmt: Format, dynamo: bool = False) -> None:
    """A :class:`UsageError` naming the ``export`` extra when a package ``fmt`` needs is missing.

    ONNX needs onnx (the model format), onnxruntime (the check, and the latency back-end) and, for torch's
    newer exporter, onnxscript; TorchScript needs torch alone.
    """
    if fmt is Format.TORCHSCRIPT:
        return
    needed = ["onnx", "onnxruntime", *(["onnxscript"] if dynamo else [])]
    missing = [name for name in needed if not _importable(name)]
    if missing:
        raise UsageError(f"format=onnx needs {' and '.join(missing)}, which is not installed: {EXTRA}")


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True
