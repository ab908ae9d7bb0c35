"""Width, depth and resolution scaling of any spec (Tan & Le, 2019, "EfficientNet", section 3.3).

Width and depth scaling are separate pure functions of one channel count or one repeat count; a whole
spec is scaled by applying them to every stage. Two ways to choose the multipliers:

* :data:`EFFICIENTNET`, the published per-model coefficients of B0-B7, which the released networks use;
* :func:`compound`, the paper's formula for any φ: depth α^φ, width β^φ, resolution γ^φ.

The two disagree for the larger models (``results/efficientnet_scaling.md`` shows them side by side).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass

from nas.arch import ArchSpec, ConvHead, HeadSpec, StageSpec
from nas.blocks import Block, make_divisible
from nas.records import Record, check_range

WIDTH_DIVISOR = 8  # channel counts stay multiples of 8 (see make_divisible)


class DepthRounding(enum.Enum):
    """How a scaled repeat count is rounded: up (EfficientNet's official code, torchvision), or to the
    nearest (TinyNet, timm's ``depth_trunc="round"``; Python's ``round``, halves to even, as timm)."""

    CEIL = "ceil"
    ROUND = "round"


def scale_width(
    channels: int, multiplier: float, divisor: int = WIDTH_DIVISOR, minimum: int | None = None
) -> int:
    """``channels * multiplier`` rounded to a multiple of ``divisor``, never below ``minimum`` (default:
    the divisor) nor more than 10% below the product."""
    if multiplier == 1.0:
        return channels
    return make_divisible(channels * multiplier, divisor, minimum)


def scale_depth(repeats: int, multiplier: float, rounding: DepthRounding = DepthRounding.CEIL) -> int:
    """``repeats * multiplier`` rounded per stage: up by default (torchvision's and the official code's
    rule); to the nearest, but at least 1, for TinyNet. A stage of 0 repeats stays empty."""
    if rounding is DepthRounding.CEIL:
        return math.ceil(repeats * multiplier)
    return 0 if repeats == 0 else max(1, round(repeats * multiplier))


def scale_resolution(resolution: int, multiplier: float) -> int:
    return round(resolution * multiplier)


@dataclass(frozen=True)
class Coefficients(Record):
    """Multipliers for width and depth, and the absolute input resolution and dropout they go with; and
    how a family rounds them (the fields of :data:`RULES`): EfficientNet's way by default (widths to
    multiples of 8, depths up, stem and head scaled). Other families keep their stem (TinyNet,
    EfficientNet-Lite) or the 1280 features their classifier reads (torchvision's MnasNet, timm's
    TinyNet, EfficientNet-Lite and MobileNetV3), keep the repeats of their first and last stage
    (EfficientNet-Lite), round widths to another divisor (GhostNet: 4) or depths to the nearest
    (TinyNet)."""

    width: float = 1.0
    depth: float = 1.0
    resolution: int | None = None  # None: keep the base's
    dropout: float | None = None  # None: keep the base's
    divisor: int = WIDTH_DIVISOR  # of every scaled width
    min_width: int | None = None  # None: the divisor
    depth_rounding: DepthRounding = DepthRounding.CEIL
    fixed_stem: bool = False
    # The width of the features the classifier reads (timm's num_features) kept: the head's hidden
    # layers, or its conv when it has none; a conv before hidden layers (MobileNetV3's 960) still scales.
    fixed_head: bool = False
    # The first and last stage keep their repeats (timm's fix_first_last: EfficientNet-Lite's single
    # blocks at either end, which the TFLite models keep for quantization); the stages between scale.
    fixed_first_last: bool = False

    def validate(self) -> None:
        check_range("width", self.width, 0.0, low_open=True)
        check_range("depth", self.depth, 0.0, low_open=True)
        if self.resolution is not None:
            check_range("resolution", self.resolution, 1)
        if self.dropout is not None:
            check_range("dropout", self.dropout, 0.0, 1.0, high_open=True)
        check_range("divisor", self.divisor, 1)
        if self.min_width is not None:
            check_range("min_width", self.min_width, 1)


# The fields of Coefficients that are multipliers (the zoo's ``scaled: {coefficients: ...}``); the
# others are a family's rounding rules, given beside them.
MULTIPLIERS = ("width", "depth", "resolution", "dropout")
RULES = tuple(f.name for f in dataclasses.fields(Coefficients) if f.name not in MULTIPLIERS)

# Width, depth, resolution, dropout of the released EfficientNets: Tan & Le (2019), and the
# efficientnet_params table of the official TensorFlow code, which torchvision reproduces.
EFFICIENTNET: dict[str, Coefficients] = {
    "b0": Coefficients(1.0, 1.0, 224, 0.2),
    "b1": Coefficients(1.0, 1.1, 240, 0.2),
    "b2": Coefficients(1.1, 1.2, 260, 0.3),
    "b3": Coefficients(1.2, 1.4, 300, 0.3),
    "b4": Coefficients(1.4, 1.8, 380, 0.4),
    "b5": Coefficients(1.6, 2.2, 456, 0.4),
    "b6": Coefficients(1.8, 2.6, 528, 0.5),
    "b7": Coefficients(2.0, 3.1, 600, 0.5),
}

# The grid-searched constants of EfficientNet's section 3.3, with alpha * beta^2 * gamma^2 ~ 2.
ALPHA, BETA, GAMMA = 1.2, 1.1, 1.15


def compound(
    phi: float, base_resolution: int = 224, alpha: float = ALPHA, beta: float = BETA, gamma: float = GAMMA
) -> Coefficients:
    """The paper's compound scaling for coefficient φ: depth α^φ, width β^φ, resolution γ^φ.

    FLOPs grow by about (α·β²·γ²)^φ = 2^φ.
    """
    return Coefficients(
        width=beta**phi, depth=alpha**phi, resolution=scale_resolution(base_resolution, gamma**phi)
    )


def scale_block(
    block: Block, width: float, *, divisor: int = WIDTH_DIVISOR, minimum: int | None = None
) -> Block:
    """A block with its channel-count options (``Block.channel_fields``) scaled."""
    changes = {
        name: scale_width(value, width, divisor, minimum)
        for name in block.channel_fields
        if (value := getattr(block, name)) is not None
    }
    return dataclasses.replace(block, **changes) if changes else block


def scale_stage(
    stage: StageSpec,
    width: float,
    depth: float,
    *,
    divisor: int = WIDTH_DIVISOR,
    minimum: int | None = None,
    rounding: DepthRounding = DepthRounding.CEIL,
) -> StageSpec:
    return dataclasses.replace(
        stage,
        block=scale_block(stage.block, width, divisor=divisor, minimum=minimum),
        out=None if stage.out is None else scale_width(stage.out, width, divisor, minimum),
        repeats=scale_depth(stage.repeats, depth, rounding),
    )


def scale_head(
    head: HeadSpec,
    width: float,
    dropout: float | None,
    *,
    divisor: int = WIDTH_DIVISOR,
    minimum: int | None = None,
    fixed: bool = False,
) -> HeadSpec:
    """The head scaled; ``fixed`` keeps the features the classifier reads (see :class:`Coefficients`)."""

    def scaled(channels: int, keep: bool) -> int:
        return channels if keep else scale_width(channels, width, divisor, minimum)

    conv = None
    if head.conv is not None:
        conv = ConvHead(scaled(head.conv.out, fixed and not head.hidden), head.conv.act)
    hidden = tuple(d.replace(out=scaled(d.out, fixed)) for d in head.hidden)
    return dataclasses.replace(
        head, conv=conv, hidden=hidden, dropout=head.dropout if dropout is None else dropout
    )


def scale(spec: ArchSpec, coefficients: Coefficients, name: str | None = None) -> ArchSpec:
    """``spec`` scaled: every width (stem, stages, block channel options, head) by ``width``, every
    stage's repeats by ``depth`` (the stem is not repeated), and the resolution and dropout replaced;
    the stem's or head's widths, or the first and last stage's repeats, are kept where the coefficients
    fix them.

    A new spec; ``spec`` itself is frozen and never modified.
    """
    c = coefficients
    rounding = {"divisor": c.divisor, "minimum": c.min_width}
    stem_width = 1.0 if c.fixed_stem else c.width
    return dataclasses.replace(  # the spec's other settings (batch norm, padding) carry over unchanged
        spec,
        stem=tuple(scale_stage(s, stem_width, 1.0, **rounding) for s in spec.stem),
        stages=tuple(
            scale_stage(s, c.width, depth, rounding=c.depth_rounding, **rounding)
            for s, depth in zip(spec.stages, _stage_depths(c, len(spec.stages)), strict=True)
        ),
        head=scale_head(spec.head, c.width, c.dropout, fixed=c.fixed_head, **rounding),
        name=name or spec.name,
        resolution=spec.resolution if c.resolution is None else c.resolution,
    )


def _stage_depths(c: Coefficients, stages: int) -> list[float]:
    """The depth multiplier of each stage: 1 at either end where ``fixed_first_last`` keeps them."""
    ends = {0, stages - 1} if c.fixed_first_last else set()
    return [1.0 if i in ends else c.depth for i in range(stages)]


__all__ = [
    "ALPHA",
    "BETA",
    "EFFICIENTNET",
    "GAMMA",
    "MULTIPLIERS",
    "RULES",
    "Coefficients",
    "DepthRounding",
    "compound",
    "scale",
    "scale_block",
    "scale_depth",
    "scale_head",
    "scale_resolution",
    "scale_stage",
    "scale_width",
]
