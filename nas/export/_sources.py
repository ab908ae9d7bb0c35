"""Which networks an export writes, with which weights, to which files: a spec (fresh, seeded weights),
a ``nas.train`` checkpoint (its network as trained), or a search's run directory (its best network, or
every network of its Pareto front)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from nas import zoo
from nas.arch import ArchSpec, build_model, count_cost
from nas.errors import UsageError
from nas.export._settings import ExportSettings
from nas.training import load_trained, recalibrate_batch_norm

OUTPUTS = Path("outputs") / "export"  # relative to the current directory, as every command's outputs
DEFAULT_CLASSES = 1000  # a spec without a checkpoint: ImageNet's classifier, as nas.cost counts it
# Fresh weights' batch norm is measured on 2 batches of random images, as many as hold 16 images of 32 px
# (16 at 32 px, 2 at 224): at a small resolution the last layers' maps are 1x1, and 4 images of 32 px
# left channels with a variance so near zero that MobileNetV2's ONNX Runtime output was 8.7e-5 off
# PyTorch's (3.8e-5 with 16; 5e-6 at 224 px with 4).
CALIBRATION_BATCHES, CALIBRATION_PIXELS = 2, 16 * 32 * 32


@dataclass(frozen=True)
class ToExport:
    """One network to write: its module (eval mode), input shape, where its weights come from, its file."""

    spec: ArchSpec
    model: nn.Module
    num_classes: int
    weights: str
    output: Path

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.spec.in_channels, self.spec.resolution, self.spec.resolution)

    def example(self) -> torch.Tensor:
        """The batch of one image the exporters trace (its values do not matter: tracing records shapes)."""
        return torch.zeros(1, *self.input_shape)

    def describe(self) -> str:
        r = self.spec.resolution
        return f"{self.spec.name} at {r}x{r}, {self.num_classes} classes, {self.weights}"


def networks_to_export(given: ArchSpec | Path | None, settings: ExportSettings) -> list[ToExport]:
    """What ``arch=`` (a spec, a search's run directory, or nothing) and ``checkpoint=`` ask for."""
    named = _specs(given, settings)
    if settings.checkpoint:
        return [_trained(named, settings)]
    if not named:
        raise UsageError(
            "arch: give a zoo name (arch=mobilenet_v2), a spec file, a search's run directory, "
            "or a nas.train checkpoint (checkpoint=RUN/checkpoints/last.ckpt)"
        )
    classes = settings.num_classes or DEFAULT_CLASSES
    return [_fresh(spec, stem, classes, settings) for stem, spec in named]


def _specs(given: ArchSpec | Path | None, settings: ExportSettings) -> list[tuple[str, ArchSpec]]:
    """(file stem, spec) of each network named; a run directory's Pareto networks keep their file names."""
    if isinstance(given, ArchSpec):
        if settings.pareto:
            raise UsageError("pareto: exports a search's Pareto front; give its run directory as arch=")
        return [(given.name, given)]
    if given is None:
        return []
    # Here, not at the top: nas.study loads Optuna (a second and more), and only a run directory needs it.
    from nas.study import read_outputs

    saved = read_outputs(given)
    if saved.best is not None:
        if settings.pareto:
            raise UsageError(f"pareto: {given} is a one-objective search (its best network); leave it out")
        spec = zoo.resolve(str(saved.best))
        return [(spec.name, spec)]
    if not settings.pareto:
        raise UsageError(
            f"pareto: {given} holds a Pareto front of {len(saved.pareto)} networks; "
            "add pareto=true to export them all"
        )
    return [(path.stem, zoo.resolve(str(path))) for path in saved.pareto]


def _fresh(spec: ArchSpec, stem: str, classes: int, settings: ExportSettings) -> ToExport:
    spec = spec.replace(resolution=settings.resolution or spec.resolution)
    count_cost(spec, num_classes=classes)  # a resolution the network cannot take: one line, naming the layer
    with torch.random.fork_rng(devices=[]):  # seeded, so that two exports write the same weights
        torch.manual_seed(settings.seed)
        model = build_model(spec, num_classes=classes)
        _calibrate(model, spec)
    weights = f"fresh weights (seed {settings.seed}; no checkpoint given)"
    return ToExport(spec, model, classes, weights, _output(stem, settings))


def _calibrate(model: nn.Module, spec: ArchSpec) -> None:
    """Batch norm's running statistics measured on random images; the model left in eval mode.

    A fresh batch norm's statistics (mean 0, variance 1) are far from what its layer sees, so a fresh
    network's outputs vanish or explode (at 96 px: MobileNetV2's logits reach 3e-9, DenseNet-121's 2e6),
    and no difference from PyTorch would mean anything at those scales. Measured on random images every
    layer sees inputs of unit scale, as after training (the same networks' logits: 2.1 and 1.1).
    """
    images = min(max(2, math.ceil(CALIBRATION_PIXELS / spec.resolution**2)), 256)
    shape = (images, spec.in_channels, spec.resolution, spec.resolution)
    batches = [(torch.randn(shape), None) for _ in range(CALIBRATION_BATCHES)]
    with torch.no_grad():
        recalibrate_batch_norm(model, batches, CALIBRATION_BATCHES)
    model.eval()


def _trained(named: list[tuple[str, ArchSpec]], settings: ExportSettings) -> ToExport:
    """The network of a nas.train checkpoint, as trained; ``arch=``, when given too, must name it."""
    assert settings.checkpoint is not None
    if len(named) > 1:
        raise UsageError("checkpoint: holds one network; export a Pareto front's networks one by one")
    trained = load_trained(settings.checkpoint)
    if named and named[0][1].name != trained.spec.name:
        raise UsageError(
            f"checkpoint: {settings.checkpoint} holds network {trained.spec.name!r}, not arch "
            f"{named[0][1].name!r}; leave arch= out to export the checkpoint's network"
        )
    if settings.num_classes is not None and settings.num_classes != trained.num_classes:
        raise UsageError(
            f"num_classes: the checkpoint's classifier has {trained.num_classes} classes; "
            f"got {settings.num_classes}"
        )
    spec = trained.spec.replace(resolution=settings.resolution or trained.spec.resolution)
    count_cost(spec, num_classes=trained.num_classes)
    kind = "the EMA of its weights" if trained.ema else "its weights"
    weights = f"{kind} from {settings.checkpoint}"
    return ToExport(spec, trained.model, trained.num_classes, weights, _output(spec.name, settings))


def _output(stem: str, settings: ExportSettings) -> Path:
    suffix = settings.format.suffix
    if settings.pareto:  # a directory of files
        return Path(settings.output or OUTPUTS) / f"{stem}{suffix}"
    if settings.output is None:
        return OUTPUTS / f"{stem}{suffix}"
    if Path(settings.output).suffix != suffix:
        raise UsageError(f"output: a {settings.format.value} file ends in {suffix}; got {settings.output}")
    return Path(settings.output)
