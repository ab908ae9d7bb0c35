from __future__ import annotations

from typing import NamedTuple

from nas.blocks import Block


class BlockCase(NamedTuple):
    """A block with the input it is applied to: ``out`` is the stage's ``out`` (None for derived widths)."""

    block: Block
    cin: int
    out: int | None
    stride: int
    size: int  # input height and width
