"""One network of every block kind exports to ONNX and TorchScript and computes what eager PyTorch does;
the check catches a file that does not; a missing extra is one line naming it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from nas import build_model
from nas.blocks import BLOCKS
from nas.errors import UsageError
from nas.export import (
    EXTRA,
    TOLERANCE,
    Format,
    check_export,
    export_onnx,
    export_torchscript,
    onnx_bytes,
    require,
)
from tests.export._networks import KIND_SPECS, trained_like

KINDS = sorted(KIND_SPECS)
SHAPE = (3, 32, 32)


def export(fmt: Format, model: torch.nn.Module, path: Path, **kwargs) -> Path:
    example = torch.zeros(1, *SHAPE)
    if fmt is Format.ONNX:
        return export_onnx(model, path, example, **kwargs)
    return export_torchscript(model, path, example)


def test_every_block_kind_has_a_network() -> None:
    assert sorted(BLOCKS) == KINDS
    for kind, spec in KIND_SPECS.items():
        assert kind in {layer.block.kind for layer in spec.layers()}


@pytest.mark.parametrize("fmt", list(Format), ids=lambda f: f.value)
@pytest.mark.parametrize("kind", KINDS)
def test_every_block_kind_exports_and_matches(kind: str, fmt: Format, tmp_path: Path) -> None:
    model = trained_like(build_model(KIND_SPECS[kind], num_classes=10))
    path = export(fmt, model, tmp_path / f"{kind}{fmt.suffix}")
    check = check_export(path, model, SHAPE)
    assert check.scale > 0.05, "outputs too small for the check to mean anything"
    assert check.max_abs_diff <= TOLERANCE and check.passed()
    assert check.batch == 2  # traced on one image, run on two: the batch axis is not fixed


@pytest.mark.parametrize("kind", ["mbconv", "shufflenet_v2"])  # SE with a hard gate; a channel shuffle
def test_the_dynamo_exporter_matches_too(kind: str, tmp_path: Path) -> None:
    model = trained_like(build_model(KIND_SPECS[kind], num_classes=10))
    check = check_export(export(Format.ONNX, model, tmp_path / "m.onnx", dynamo=True), model, SHAPE)
    assert check.passed() and check.scale > 0.05


@pytest.mark.parametrize("fmt", list(Format), ids=lambda f: f.value)
def test_the_check_fails_a_file_of_other_weights(fmt: Format, tmp_path: Path) -> None:
    spec = KIND_SPECS["mbconv"]
    path = export(fmt, trained_like(build_model(spec, num_classes=10), seed=1), tmp_path / f"m{fmt.suffix}")
    check = check_export(path, trained_like(build_model(spec, num_classes=10), seed=2), SHAPE)
    assert not check.passed() and check.max_abs_diff > 100 * TOLERANCE


@pytest.mark.parametrize("fmt", list(Format), ids=lambda f: f.value)
def test_batch_norm_is_exported_in_eval_mode_and_the_mode_is_restored(fmt: Format, tmp_path: Path) -> None:
    model = trained_like(build_model(KIND_SPECS["basic"], num_classes=10)).train()
    path = export(fmt, model, tmp_path / f"m{fmt.suffix}")
    assert model.training  # as it was
    assert check_export(path, model, SHAPE).passed()  # against eval mode: the running statistics
    assert model.training


def test_onnx_bytes_is_what_export_onnx_writes(tmp_path: Path) -> None:
    model = trained_like(build_model(KIND_SPECS["ghost"], num_classes=10))
    example = torch.zeros(1, *SHAPE)
    assert export_onnx(model, tmp_path / "g.onnx", example).read_bytes() == onnx_bytes(model, example)


@pytest.mark.parametrize("module", ["onnxruntime", "onnx"])
def test_a_missing_extra_is_one_line_naming_it(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed: importing it raises ImportError
    with pytest.raises(UsageError) as info:
        require(Format.ONNX)
    message = str(info.value)
    assert message == f"format=onnx needs {module}, which is not installed: {EXTRA}"
    assert 'pip install "lightweight-nas[export]"' in message and "\n" not in message
    require(Format.TORCHSCRIPT)  # needs torch alone
    with pytest.raises(UsageError, match="needs"):
        onnx_bytes(build_model(KIND_SPECS["conv"]), torch.zeros(1, *SHAPE))


def test_an_unknown_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"not an exported network \(expected a .onnx or .pt file\)"):
        check_export(tmp_path / "m.tflite", build_model(KIND_SPECS["conv"]), SHAPE)
