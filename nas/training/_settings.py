"""Typed training settings: the optimizer and schedule (``conf/optim``), the proxy task a search uses, and
the training recipe (``conf/recipe``)."""

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
    RMSPROP = "rmsprop"  # PyTorch's: epsilon outside the square root
    RMSPROP_TF = "rmsprop_tf"  # TensorFlow's, as timm's RMSpropTF: epsilon inside (nas.training.RMSpropTF)
    ADAMW = "adamw"


class Policy(enum.Enum):
    """The automatic augmentation of a recipe (kornia's implementations)."""

    NONE = "none"
    RANDAUGMENT = "randaugment"  # Cubuk et al. 2020
    TRIVIALAUGMENT = "trivialaugment"  # Müller & Hutter 2021: one operation, a random magnitude, no knob


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
    eps: float = 1e-3  # RMSprop's epsilon (TensorFlow's value; inside the square root only for rmsprop_tf)
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


@dataclass(frozen=True)
class RecipeSettings(Record):
    """What a recipe adds to the optimizer settings: batch augmentations, mixing and drop-path.

    ``proxy`` (the defaults) adds nothing: the short training a search runs. ``full`` (``conf/recipe/full``)
    is timm's EfficientNet practice; its optimizer, EMA and label smoothing are ``optim`` settings that
    the recipe's config sets. The augmentations apply to training batches only, seeded by ``seed``, the
    epoch and the batch's index (:class:`~nas.training.BatchAugment`).
    """

    name: str = "proxy"
    augment: Policy = Policy.NONE
    ops: int = 2  # RandAugment's N: operations per image
    magnitude: int = 9  # RandAugment's M on kornia's scale, 1-29 (timm's and TensorFlow's M is out of 10)
    erasing: float = 0.0  # probability that an image gets a random rectangle erased
    mixup: float = 0.0  # > 0: mixup, the second image's share drawn uniformly in [0, mixup]
    cutmix: float = 0.0  # > 0: cutmix, its area drawn from Beta(cutmix, cutmix)
    mix_prob: float = 1.0  # the share of batches mixed (with both on, mixup or cutmix at even odds)
    drop_path: float | None = None  # the spec's drop_path (stochastic depth of the last block); None: as is
    seed: int = 0

    def validate(self) -> None:
        check_range("ops", self.ops, 1, 15)  # kornia's RandAugment draws without replacement from 15
        check_range("magnitude", self.magnitude, 1, 29)
        check_range("erasing", self.erasing, 0.0, 1.0)
        check_range("mixup", self.mixup, 0.0, 1.0)
        check_range("cutmix", self.cutmix, 0.0)
        check_range("mix_prob", self.mix_prob, 0.0, 1.0)
        if self.drop_path is not None:
            check_range("drop_path", self.drop_path, 0.0, 1.0, high_open=True)

    @property
    def augments(self) -> bool:
        """Whether training batches are changed at all."""
        mixes = (self.mixup > 0 or self.cutmix > 0) and self.mix_prob > 0
        return self.augment is not Policy.NONE or self.erasing > 0 or mixes

    def describe(self, optim: OptimSettings, spec: ArchSpec) -> dict[str, object]:
        """The recipe as run, for a run's ``metrics.json``: with the optimizer settings it relies on and
        the drop-path rate of the network as built."""
        policy = self.augment.value
        if self.augment is Policy.RANDAUGMENT:
            policy = f"randaugment n{self.ops} m{self.magnitude}"
        return {
            "name": self.name,
            "optimizer": optim.name.value,
            "lr": optim.lr,
            "warmup_epochs": optim.warmup_epochs,
            "ema_decay": optim.ema_decay,
            "label_smoothing": optim.label_smoothing,
            "augment": policy,
            "erasing": self.erasing,
            "mixup": self.mixup,
            "cutmix": self.cutmix,
            "mix_prob": self.mix_prob,
            "drop_path": spec.drop_path,
        }


def recipe_spec(spec: ArchSpec, recipe: RecipeSettings) -> ArchSpec:
    """``spec`` with the recipe's drop-path rate, if it sets one (no parameter or MAC changes)."""
    return spec if recipe.drop_path is None else spec.replace(drop_path=recipe.drop_path)
