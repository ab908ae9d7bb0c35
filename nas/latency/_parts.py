"""A network as the parts a latency table times separately: each layer of its stem and stages at its
input shape, and its head.

Two layers share a table entry when they build the same inference module for the same input: the key
is the block in canonical form (``mid: 184`` and ``expand: 2.3`` at 80 channels are one entry), its
input shape, output width and stride. Drop-path and dropout do nothing at inference and are no part of
a key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from torch import nn

from nas.arch import ArchSpec, Head, HeadSpec, cost_table
from nas.blocks import Block
from nas.blocks.costs import Shape
from nas.records import to_plain
from nas.spaces import LayerInput


@dataclass(frozen=True)
class Part:
    """One separately timed piece of a network: its table key, and what it takes to build and feed it."""

    key: str
    block: Block | HeadSpec
    x: Shape
    cout: int  # output channels (the classes, for a head)
    stride: int = 1

    def module(self) -> nn.Module:
        if isinstance(self.block, HeadSpec):
            return Head(self.block, self.x.c, self.cout)
        return self.block.build(self.x.c, self.cout, self.stride)


def layer_part(layer: LayerInput) -> Part:
    block = layer.block
    data = json.dumps(block.to_data(), sort_keys=True, separators=(",", ":"))
    key = f"{block.kind} {data} in={_shape(layer.x)} out={layer.cout} stride={layer.stride}"
    return Part(key, block, layer.x, layer.cout, layer.stride)


def head_part(head: HeadSpec, x: Shape, num_classes: int) -> Part:
    head = head.without_dropout()
    data = json.dumps(to_plain(head.to_data()), sort_keys=True, separators=(",", ":"))
    return Part(f"head {data} in={_shape(x)} classes={num_classes}", head, x, num_classes)


def network_parts(spec: ArchSpec, num_classes: int = 1000) -> list[Part]:
    """The parts of ``spec`` in order: its layers (repeats expanded), then its head."""
    rows = cost_table(spec, num_classes=num_classes)
    parts = []
    for layer, row in zip(spec.layers(), rows[:-1], strict=True):
        block = layer.block.canonical(layer.cin, layer.cout, layer.stride)
        parts.append(layer_part(LayerInput(block, row.x, layer.cout, layer.stride)))
    return [*parts, head_part(spec.head, rows[-1].x, num_classes)]


def space_parts(
    layers: Iterable[LayerInput], heads: Iterable[tuple[HeadSpec, Shape]], num_classes: int
) -> list[Part]:
    """The distinct parts of a search space (:meth:`nas.spaces.SearchSpace.layer_inputs`), largest input
    first, so that an interrupted build has timed the parts that matter most."""
    parts = {p.key: p for p in [*map(layer_part, layers), *(head_part(h, x, num_classes) for h, x in heads)]}
    return sorted(parts.values(), key=lambda p: (-p.x.numel, p.key))


def _shape(x: Shape) -> str:
    return f"{x.c}x{x.h}x{x.w}"
