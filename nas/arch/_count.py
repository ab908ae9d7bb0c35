"""``count_cost``: the cost of a spec, computed from the spec alone (no module, no tensor)."""

from __future__ import annotations

from dataclasses import dataclass

from nas.arch._spec import ArchSpec, Classifier, HeadSpec
from nas.blocks import costs
from nas.blocks.costs import Cost, Shape


@dataclass(frozen=True, slots=True)
class LayerCost:
    """One row of a network's cost table: a block (or the head) with its input and output shapes."""

    path: str
    repeat: int
    kind: str
    x: Shape
    y: Shape
    cost: Cost


def cost_table(spec: ArchSpec, resolution: int | None = None, num_classes: int = 1000) -> list[LayerCost]:
    """Block-by-block costs, repeats expanded, the head last."""
    rows = [
        LayerCost(layer.path, layer.repeat, layer.block.kind, x, y, cost)
        for layer, x, y, cost in spec.walk(resolution)
    ]
    x = rows[-1].y if rows else Shape(spec.in_channels, spec.resolution, spec.resolution)
    cost, y = head_cost(spec.head, x, num_classes)
    return [*rows, LayerCost("head", 0, "head", x, y, cost)]


def head_cost(head: HeadSpec, x: Shape, num_classes: int) -> tuple[Cost, Shape]:
    total = costs.ZERO
    if head.conv is not None:
        total, x = costs.conv(x, head.conv.out, 1)
    if head.classifier is Classifier.CONV:
        classifier, _ = costs.conv(x, num_classes, 1, bias=True, norm=False)
        return total + classifier, Shape(num_classes, 1, 1)
    features = x.c * head.pool_size * head.pool_size
    for dense in head.hidden:
        total += costs.linear(features, dense.out, bias=dense.bias)
        if dense.norm:
            total += costs.norm(dense.out)
        features = dense.out
    return total + costs.linear(features, num_classes), Shape(num_classes, 1, 1)


def count_cost(spec: ArchSpec, resolution: int | None = None, *, num_classes: int = 1000) -> Cost:
    """MACs, parameters and activation bytes of ``spec`` at ``resolution`` (default: the spec's own).

    Exactly what the built model does (see :mod:`nas.blocks.costs` for the conventions), in microseconds.
    """
    macs = params = traffic = 0  # plain sums: this runs for every candidate a search looks at
    last = Shape(spec.in_channels, spec.resolution, spec.resolution)
    for _, _, last, (m, p, t) in spec.walk(resolution):  # noqa: B007 - the last output feeds the head
        macs, params, traffic = macs + m, params + p, traffic + t
    return Cost(macs, params, traffic) + head_cost(spec.head, last, num_classes)[0]
