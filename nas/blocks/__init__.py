"""The block library: one table of block kinds, shared by the spec parser, the builder and the cost model.

Each entry maps the YAML name of a kind (``block: mbconv``) to its options record, which validates,
builds and costs itself (see :class:`nas.blocks.Block`).
"""

from __future__ import annotations

from nas.blocks._base import Activation, Block, make_divisible
from nas.blocks._layers import SEBase, SqueezeExcite
from nas.blocks.conv import Conv, NormAct, Pool, PoolMode
from nas.blocks.mbconv import FusedMBConv, MBConv
from nas.blocks.separable import Separable

BLOCKS: dict[str, type[Block]] = {
    cls.kind: cls
    for cls in (
        Conv,
        Pool,
        NormAct,
        Separable,
        MBConv,
        FusedMBConv,
    )
}

__all__ = [
    "BLOCKS",
    "Activation",
    "Block",
    "Conv",
    "FusedMBConv",
    "MBConv",
    "NormAct",
    "Pool",
    "PoolMode",
    "SEBase",
    "Separable",
    "SqueezeExcite",
    "make_divisible",
]
