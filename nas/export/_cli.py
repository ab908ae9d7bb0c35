"""``python -m nas.export arch=NAME_OR_PATH format=onnx|torchscript``: write a network for deployment,
then prove the file computes what PyTorch does."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from nas.arch import ArchSpec
from nas.cli import arch_from_config, exits_on_usage_error, hydra_argv
from nas.export._check import Check, check_export
from nas.export._formats import Format, require
from nas.export._onnx import export_onnx
from nas.export._settings import ExportSettings
from nas.export._sources import ToExport, networks_to_export
from nas.export._torchscript import export_torchscript
from nas.paths import CONF

_ARCH_KEYS = ("arch", "arch_file")  # which network: read here, not part of the settings


class ExportMismatch(RuntimeError):
    """An exported file whose output differs from eager PyTorch's by more than the tolerance."""


@dataclass(frozen=True)
class Exported:
    network: ToExport
    path: Path
    check: Check


@exits_on_usage_error
def run(cfg: DictConfig) -> list[Exported]:
    """Export and check every network asked for; one line each. Raises :class:`ExportMismatch` (after
    writing and checking them all) when a file's output is off by more than ``tolerance``."""
    data = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(data, dict)
    settings = ExportSettings.from_data({k: v for k, v in data.items() if k not in _ARCH_KEYS})
    require(settings.format, settings.dynamo)  # before anything is built or read
    done = []
    for network in networks_to_export(_given(cfg), settings):
        done.append(export_one(network, settings))
        print(f"wrote {done[-1].path}: {network.describe()}; {done[-1].check.line()}")
    off = [e for e in done if not e.check.passed(settings.tolerance)]
    if off:
        names = ", ".join(
            f"{e.path} ({e.check.max_abs_diff:.1e}, relative {e.check.relative:.1e})" for e in off
        )
        limit = f"{settings.tolerance:.0e} (absolute or relative)"
        raise ExportMismatch(f"differs from eager PyTorch by more than {limit}: {names}")
    return done


def export_one(network: ToExport, settings: ExportSettings) -> Exported:
    example = network.example()
    if settings.format is Format.ONNX:
        path = export_onnx(network.model, network.output, example, dynamo=settings.dynamo)
    else:
        path = export_torchscript(network.model, network.output, example)
    return Exported(network, path, check_export(path, network.model, network.input_shape))


def _given(cfg: DictConfig) -> ArchSpec | Path | None:
    """``arch=``: a zoo network or spec file (a spec), a search's run directory (a path), or nothing."""
    if cfg.get("arch_file") and Path(str(cfg.arch_file)).is_dir():
        return Path(str(cfg.arch_file))
    if cfg.get("arch_file") or cfg.get("arch") is not None:
        return arch_from_config(cfg)
    return None


@hydra.main(version_base="1.3", config_path=str(CONF), config_name="export")
def _main(cfg: DictConfig) -> None:
    try:
        run(cfg)
    except ExportMismatch as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(1) from None


def main() -> None:
    hydra_argv("export")
    _main()
