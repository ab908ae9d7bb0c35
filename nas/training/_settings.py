"""Typed training settings: the optimizer and schedule (``conf/optim``), and the proxy task a search uses."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass

from nas.arch import ArchSpec
from nas.errors import SpecError
from nas.records import Record, check_one_of, check_range
from nas.scaling import Coefficients, scale


class Optimizer(enum.Enum):
    SGD = "sgd"
    RMSPROP = "rmsprop"
    ADAMW = "adamw"


@dataclass(frozen=True)
class OptimSettings(Record):
    """Optimizer, weight decay, label smoothing and a cosine schedule with linear warm-up.

    Weight decay applies to convolution and linear weights only, never to biases or norm parameters
    (decaying BN's scale fights the normalisation and hurts small networks; Goyal et al. 2017, sec. 5.1).
    """

    name: Optimizer = Optimizer.SGD
    lr: float = 0.02
    momentum: float = 0.9
    nesterov: bool = True  # SGD only
    weight_decay: float = 4e-5
    alpha: float = 0.9  # RMSprop's decay, as in MnasNet and EfficientNet
    eps: float = 1e-3  # RMSprop's epsilon (TensorFlow's, which those papers used)
    warmup_epochs: float = 0.0
    min_lr: float = 0.0
    label_smoothing: float = 0.0
    betas: tuple[float, ...] = (0.9, 0.999)  # AdamW only
    # Short-run aids, each measured on the Fashion-MNIST proxy (benchmarks/recipe.py):
    ema_decay: float = 0.0  # > 0: validate an exponential moving average of the weights (and BN buffers)
    zero_init_residual: bool = False  # the last BN's scale in every residual branch starts at 0
    bn_momentum: float | None = None  # batch norm's running-statistics momentum; None: PyTorch's 0.1
    bn_recalibration: int = 0  # > 0: before each validation, BN statistics anew over this many batches

    def validate(self) -> None:
        check_range("lr", self.lr, 0.0, low_open=True)
        check_range("momentum", self.momentum, 0.0, 1.0, high_open=True)
        check_range("weight_decay", self.weight_decay, 0.0)
        check_range("alpha", self.alpha, 0.0, 1.0, high_open=True)
        check_range("eps", self.eps, 0.0, low_open=True)
        check_range("warmup_epochs", self.warmup_epochs, 0.0)
        check_range("min_lr", self.min_lr, 0.0, self.lr)
        check_range("label_smoothing", self.label_smoothing, 0.0, 1.0, high_open=True)
        check_range("ema_decay", self.ema_decay, 0.0, 1.0, high_open=True)
        check_range("bn_recalibration", self.bn_recalibration, 0)
        if self.bn_momentum is not None:
            check_range("bn_momentum", self.bn_momentum, 0.0, 1.0, low_open=True)
        if len(self.betas) != 2:
            raise SpecError("betas", f"expected two numbers; got {list(self.betas)}")
        for beta in self.betas:
            check_range("betas", beta, 0.0, 1.0, high_open=True)


@dataclass(frozen=True)
class ProxySettings(Record):
    """How a network is trained cheaply, as a search does: a width multiplier, and a stem stride that
    lets small inputs (digits, CIFAR's 32 px) keep a useful feature-map size. The spec is otherwise
    unchanged; resolution, epochs and subset sizes belong to the data and trainer settings."""

    width: float = 1.0
    stem_stride: int | None = None  # None: the spec's own

    def validate(self) -> None:
        check_range("width", self.width, 0.0, low_open=True)
        if self.stem_stride is not None:
            check_one_of("stem_stride", self.stem_stride, (1, 2))


def proxy_spec(spec: ArchSpec, proxy: ProxySettings, resolution: int) -> ArchSpec:
    """The network a proxy task trains: ``spec`` at ``resolution``, width-scaled, stem stride overridden."""
    if proxy.width != 1.0:
        spec = scale(spec, Coefficients(width=proxy.width))
    stem = spec.stem
    if proxy.stem_stride is not None:
        if not stem:
            raise SpecError("proxy.stem_stride", f"{spec.name} has no stem to change the stride of")
        stem = (dataclasses.replace(stem[0], stride=proxy.stem_stride), *stem[1:])
    return dataclasses.replace(spec, stem=stem, resolution=resolution)
