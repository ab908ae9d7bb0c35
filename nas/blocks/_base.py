"""What every block kind is: a typed options record that can check, build and cost itself."""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass
from typing import ClassVar

from torch import nn

from nas.blocks.costs import Cost, Shape
from nas.errors import SpecError
from nas.records import Record


class Activation(enum.Enum):
    """Activation functions by their YAML names; ``silu`` is accepted as another name for ``swish``."""

    NONE = "none"
    RELU = "relu"
    RELU6 = "relu6"
    HSWISH = "hswish"
    SWISH = "swish"
    SIGMOID = "sigmoid"
    HSIGMOID = "hsigmoid"
    GELU = "gelu"

    @classmethod
    def _missing_(cls, value: object) -> Activation | None:
        return cls.SWISH if value == "silu" else None

    def module(self) -> nn.Module:
        return _ACTIVATION_MODULES[self]()


_ACTIVATION_MODULES: dict[Activation, type[nn.Module] | type] = {
    Activation.NONE: nn.Identity,
    Activation.RELU: lambda: nn.ReLU(inplace=True),
    Activation.RELU6: lambda: nn.ReLU6(inplace=True),
    Activation.HSWISH: nn.Hardswish,
    Activation.SWISH: nn.SiLU,
    Activation.SIGMOID: nn.Sigmoid,
    Activation.HSIGMOID: nn.Hardsigmoid,
    Activation.GELU: nn.GELU,
}

GATES = (Activation.SIGMOID, Activation.HSIGMOID)


def make_divisible(value: float, divisor: int = 8, minimum: int | None = None) -> int:
    """Round ``value`` to the nearest multiple of ``divisor``, never below ``minimum`` (default: the
    divisor) and never more than 10% below ``value``.

    Channel counts that are multiples of 8 map well onto SIMD lanes and tensor cores, which is why the
    MobileNet and EfficientNet reference code rounds every width this way; reproducing a published
    network to the parameter requires the exact same rule. ``divisor=1`` rounds to the nearest integer.
    """
    floor = divisor if minimum is None else minimum
    rounded = max(floor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:  # rounding down must not remove more than 10% of the channels
        rounded += divisor
    return rounded


def check_kernel(name: str, kernel: int) -> None:
    """Kernels are odd, so that padding ``kernel // 2`` keeps the feature map centred."""
    if kernel < 1 or kernel % 2 == 0:
        raise SpecError(name, f"expected an odd kernel size >= 1; got {kernel}")


@dataclass(frozen=True)
class Block(Record, abc.ABC):
    """Options of one block kind: the single table entry its parser, builder and cost model share.

    A stage repeats its block ``repeats`` times; the first repeat gets the stage's stride and input
    channels, the others stride 1 and the stage's output channels.
    """

    kind: ClassVar[str]
    strides: ClassVar[tuple[int, ...]] = (1, 2)
    # False for blocks whose output width follows from their input and options (pooling, a dense
    # layer, an Inception module): their stage must not set ``out``.
    sets_channels: ClassVar[bool] = True
    # Options that are channel counts, which width scaling multiplies (MBConv's absolute ``mid``).
    channel_fields: ClassVar[tuple[str, ...]] = ()

    def out_channels(self, cin: int, out: int | None) -> int:
        """Channels this block outputs, given its input and the stage's ``out``."""
        assert out is not None
        return out

    def check(self, cin: int, cout: int, stride: int) -> None:
        """Checks that involve the channel counts; raise :class:`SpecError` naming the field."""

    def canonical(self, cin: int, cout: int, stride: int) -> Block:
        """This block written one way: two records that build the same module for these channels and
        stride have equal canonical forms (a search space's ``encode`` compares networks this way)."""
        return self

    @abc.abstractmethod
    def build(self, cin: int, cout: int, stride: int, drop_path: float = 0.0) -> nn.Module:
        """The module, for an input of ``cin`` channels."""

    @abc.abstractmethod
    def cost(self, x: Shape, cout: int, stride: int) -> tuple[Cost, Shape]:
        """MACs, parameters and activation traffic for input ``x``, and the output shape."""
