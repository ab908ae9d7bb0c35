"""The block library: one table of block kinds, shared by the spec parser, the builder and the cost model.

Each entry maps the YAML name of a kind (``block: mbconv``) to its options record, which validates,
builds and costs itself (see :class:`nas.blocks.Block`).
"""

from __future__ import annotations

from nas.blocks._base import Activation, Block, make_divisible
from nas.blocks._layers import BatchNorm, ConvNormAct, ResidualUnit, SEBase, SqueezeExcite, residual_bodies
from nas.blocks._padding import Padding, TFSameConv2d, use_tf_same_padding
from nas.blocks.conv import Conv, NormAct, Pool, PoolMode
from nas.blocks.densenet import DenseLayer, Transition
from nas.blocks.fire import Fire
from nas.blocks.ghost import Ghost, GhostBottleneck
from nas.blocks.inception import Inception
from nas.blocks.mbconv import FusedMBConv, MBConv
from nas.blocks.resnet import BasicBlock, Bottleneck
from nas.blocks.separable import Separable
from nas.blocks.shufflenet import ShuffleV1, ShuffleV2
from nas.blocks.uib import UIB
from nas.blocks.vovnet import OSA
from nas.blocks.xception import XceptionBlock

BLOCKS: dict[str, type[Block]] = {
    cls.kind: cls
    for cls in (
        Conv,
        Pool,
        NormAct,
        Separable,
        MBConv,
        FusedMBConv,
        UIB,
        ShuffleV1,
        ShuffleV2,
        Fire,
        Ghost,
        GhostBottleneck,
        BasicBlock,
        Bottleneck,
        DenseLayer,
        Transition,
        Inception,
        XceptionBlock,
        OSA,
    )
}

__all__ = [
    "BLOCKS",
    "OSA",
    "UIB",
    "Activation",
    "BasicBlock",
    "BatchNorm",
    "Block",
    "Bottleneck",
    "Conv",
    "ConvNormAct",
    "DenseLayer",
    "Fire",
    "FusedMBConv",
    "Ghost",
    "GhostBottleneck",
    "Inception",
    "MBConv",
    "NormAct",
    "Padding",
    "Pool",
    "PoolMode",
    "ResidualUnit",
    "SEBase",
    "Separable",
    "ShuffleV1",
    "ShuffleV2",
    "SqueezeExcite",
    "TFSameConv2d",
    "Transition",
    "XceptionBlock",
    "make_divisible",
    "residual_bodies",
    "use_tf_same_padding",
]
