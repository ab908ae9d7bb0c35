"""A network block by block, as the report's tables show it: one row per stage of the spec."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from nas.arch import ArchSpec, load_spec

COLUMNS = ("stage", "block", "kernel", "expansion", "SE", "activation", "width", "repeats", "stride")


@dataclass(frozen=True)
class StageRow:
    stage: str  # "stem 0", "1", ...
    block: str
    kernel: str
    expansion: str
    se: str
    activation: str
    width: int  # output channels of the stage (derived ones included: pooling, dense layers)
    repeats: int
    stride: int

    def cells(self) -> tuple[str, ...]:
        return (
            self.stage,
            self.block,
            self.kernel,
            self.expansion,
            self.se,
            self.activation,
            str(self.width),
            str(self.repeats),
            str(self.stride),
        )


def structure(spec: ArchSpec | str) -> list[StageRow]:
    """The stem and stages of ``spec`` (a spec or its YAML text), with each stage's output width."""
    if isinstance(spec, str):
        spec = load_spec(spec)
    width = {}  # (group, stage) -> output channels of its last repeat
    for layer in spec.layers():
        width[layer.group, layer.stage] = layer.cout
    found = []
    for group, stages in (("stem", spec.stem), ("stages", spec.stages)):
        for i, stage in enumerate(stages):
            block = stage.block
            found.append(
                StageRow(
                    stage=f"stem {i}" if group == "stem" else str(i + 1),
                    block=block.kind,
                    kernel=_text(getattr(block, "kernel", None)),
                    expansion=_expansion(block),
                    se=_se(getattr(block, "se", None)),
                    activation=_text(getattr(block, "act", None)),
                    width=width[group, i],
                    repeats=stage.repeats,
                    stride=stage.stride,
                )
            )
    return found


def _expansion(block: Any) -> str:
    """``x6`` for a ratio, ``mid 48`` for MBConv's absolute hidden width (which wins over the ratio)."""
    if getattr(block, "mid", None) is not None:
        return f"mid {block.mid}"
    expand = getattr(block, "expand", None)
    return "-" if expand is None else f"x{expand:g}"


def _se(se: Any) -> str:
    if se is None:
        return "-"
    return f"{se.ratio:g} of {_text(se.base)}, {_text(se.gate)} gate"


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, tuple):  # MixConv's kernels, one per channel group: 3/5/7
        return "/".join(map(str, value))
    return str(value)
