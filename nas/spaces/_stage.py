"""One stage of a search space: which block kinds, widths, depths and options it may take.

In a space file a stage reads like a stage of a spec, with lists where there is a choice::

    - {block: mbconv, out: [24, 32, 40], repeats: [2, 3, 4], stride: 2,
       expand: [1, 3, 6], kernel: [3, 5], se: [null, {ratio: 0.25, act: $act}], act: $act}

With several kinds (``block: [mbconv, fire]``) each kind's options sit under its name
(``mbconv: {expand: [3, 6]}``). ``per_layer: [expand, kernel]`` draws those options for every layer of
the stage separately (MobileNetV3's per-layer space); the rest are drawn once per stage.
``repeats: 0`` among the choices lets the stage disappear.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from nas.arch import StageSpec, step
from nas.blocks import BLOCKS, Block
from nas.blocks.costs import Cost, Shape
from nas.errors import SpecError
from nas.scaling import scale_block, scale_depth, scale_width
from nas.spaces._template import Chooser, Node, parse, resolve, values
from nas.spaces._template import count as count_node

_STAGE_KEYS = ("block", "out", "repeats", "stride", "per_layer")


@dataclass(frozen=True)
class Scaling:
    """The global choices made before any stage: multipliers and the shared ``$name`` values."""

    width: float
    depth: float
    resolution: int
    shared: Mapping[str, Any]


class LayerInput(NamedTuple):
    """One layer as a latency table keys it: the block (canonical), its input, output width and stride."""

    block: Block
    x: Shape
    cout: int
    stride: int


@dataclass(frozen=True)
class StageTemplate:
    kinds: tuple[str, ...]
    block: Node  # the kind, or a Pick among kinds
    out: Node
    repeats: Node
    stride: Node
    options: Mapping[str, Mapping[str, Node]]  # per kind
    per_layer: tuple[str, ...] = ()

    @classmethod
    def parse(cls, data: Any, path: str) -> StageTemplate:
        if not isinstance(data, Mapping):
            raise SpecError(path, f"expected a mapping; got {type(data).__name__}")
        if "block" not in data:
            raise SpecError(path, "missing required key 'block'")
        block = parse(data["block"], f"{path}.block")
        kinds = tuple(values(block, {}))
        for kind in kinds:
            if kind not in BLOCKS:
                known = ", ".join(BLOCKS)
                raise SpecError(f"{path}.block", f"unknown block kind {kind!r}; expected one of {known}")
        per_layer = data.get("per_layer", [])
        if not isinstance(per_layer, list) or not all(isinstance(k, str) for k in per_layer):
            raise SpecError(f"{path}.per_layer", "expected a list of option names")
        template = cls(
            kinds=kinds,
            block=block,
            out=parse(data.get("out"), f"{path}.out"),
            repeats=parse(data.get("repeats", 1), f"{path}.repeats"),
            stride=parse(data.get("stride", 1), f"{path}.stride"),
            options=_kind_options(data, kinds, path),
            per_layer=tuple(per_layer),
        )
        template.check(path)
        return template

    def check(self, path: str) -> None:
        """Every option of every choice, each tried with the first option of the others."""
        for r in values(self.repeats, {}):
            if not isinstance(r, int) or isinstance(r, bool) or r < 0:
                raise SpecError(f"{path}.repeats", f"expected integers >= 0; got {r!r}")
        for kind in self.kinds:
            cls = BLOCKS[kind]
            for stride in values(self.stride, {}):
                if stride not in cls.strides:
                    raise SpecError(
                        f"{path}.stride", f"block {kind!r} takes stride {cls.strides}; got {stride}"
                    )
            if cls.sets_channels and self.out is None:
                raise SpecError(f"{path}.out", f"block {kind!r} needs its output channels")
            opts = self.options[kind]
            for name in self.per_layer:
                if name not in opts and len(self.kinds) == 1:
                    raise SpecError(f"{path}.per_layer", f"{name!r} is not an option of this stage")
            where = f"{path}.{kind}" if len(self.kinds) > 1 else path
            first = _strip({k: _strip(next(values(n, _AnyShared()))) for k, n in opts.items()})
            for key, node in opts.items():
                for value in map(_strip, values(node, _AnyShared())):
                    if not isinstance(value, _Placeholder):
                        _block(kind, {**first, key: value}, where)

    def split(self, kind: str) -> tuple[dict[str, Node], dict[str, Node]]:
        """``kind``'s options as the stage-wide ones (chosen once) and the per-layer ones (per repeat)."""
        opts = self.options[kind]
        fixed = {k: v for k, v in opts.items() if k not in self.per_layer}
        # Per-layer options in per_layer's order: the order they are drawn in, which seeded draws depend on.
        return fixed, {k: opts[k] for k in self.per_layer if k in opts}

    def parameter_prefix(self, index: int, kind: str) -> str:
        return f"s{index}.{kind}" if len(self.kinds) > 1 else f"s{index}"

    def decode(
        self, index: int, chooser: Chooser, g: Scaling, probe: Callable[[int | None, int], None] | None = None
    ) -> Iterator[StageSpec]:
        """The stage's layers, one single-repeat StageSpec each, scaled by ``g``'s multipliers.

        ``probe(out, stride)`` sees the stage's first width and stride before its options are chosen:
        ``encode`` abandons a branch there rather than after trying every option."""
        p = f"s{index}"
        repeats = scale_depth(resolve(self.repeats, f"{p}.repeats", chooser, g.shared), g.depth)
        if repeats == 0:
            return
        kind = resolve(self.block, f"{p}.block", chooser, g.shared)
        out = resolve(self.out, f"{p}.out", chooser, g.shared)
        stride = resolve(self.stride, f"{p}.stride", chooser, g.shared)
        width = None if out is None else scale_width(out, g.width)
        if probe is not None:
            probe(width, stride)
        q, (fixed_node, layer_node) = self.parameter_prefix(index, kind), self.split(kind)
        fixed = {k: resolve(v, f"{q}.{k}", chooser, g.shared) for k, v in fixed_node.items()}
        for r in range(repeats):
            layer = {k: resolve(v, f"{q}.l{r}.{k}", chooser, g.shared) for k, v in layer_node.items()}
            block = scale_block(_block(kind, {**fixed, **layer}, f"stages[{index}]"), g.width)
            yield StageSpec(block, out=width, stride=stride if r == 0 else 1)

    def count(self, depth: float) -> int:
        """Parameter assignments of this stage at depth multiplier ``depth``."""
        total = 0
        for r in values(self.repeats, {}):
            n = scale_depth(r, depth)
            if n == 0:
                total += 1
                continue
            for kind in self.kinds:
                fixed, layer = (count_node(node) for node in self.split(kind))
                total += count_node(self.out) * count_node(self.stride) * fixed * layer**n
        return total

    def min_costs(self, x: Shape, g: Scaling, metric: str) -> dict[Shape, int]:
        """The smallest ``metric`` this stage can cost from input ``x``, for each output shape."""
        depths = sorted({scale_depth(r, g.depth) for r in values(self.repeats, g.shared)})
        best: dict[Shape, int] = {x: 0} if 0 in depths else {}
        depths = [n for n in depths if n > 0]
        if not depths:
            return best
        for kind, out, stride in itertools.product(
            self.kinds, values(self.out, g.shared), values(self.stride, g.shared)
        ):
            cout = None if out is None else scale_width(out, g.width)
            for y, first, rest in self._layer_min_costs(kind, x, cout, stride, g, metric):
                for n in depths:
                    cost = first + (n - 1) * rest
                    best[y] = min(best.get(y, cost), cost)
        return best

    def layer_inputs_from(self, inputs: set[Shape], g: Scaling) -> tuple[list[set[LayerInput]], set[Shape]]:
        """:meth:`layer_inputs` from each of several input shapes, merged repeat by repeat."""
        layers: list[set[LayerInput]] = []
        outputs: set[Shape] = set()
        for x in inputs:
            found, shapes = self.layer_inputs(x, g)
            layers += [set() for _ in range(len(found) - len(layers))]
            for r, repeat in enumerate(found):
                layers[r] |= repeat
            outputs |= shapes
        return layers, outputs

    def layer_inputs(self, x: Shape, g: Scaling) -> tuple[list[set[LayerInput]], set[Shape]]:
        """Every distinct layer this stage can contain from input ``x``, by repeat (the first layer, the
        second, ...), and its possible output shapes.

        Repeat by repeat, so that blocks whose output width follows from their input (a dense layer)
        are followed correctly; the later repeats of MBConv-like stages collapse onto one set of shapes."""
        depths = {scale_depth(r, g.depth) for r in values(self.repeats, g.shared)}
        layers: list[set[LayerInput]] = [set() for _ in range(max(depths))]
        outputs = {x} if 0 in depths else set()
        for kind, out, stride in itertools.product(
            self.kinds, values(self.out, g.shared), values(self.stride, g.shared)
        ):
            cout = None if out is None else scale_width(out, g.width)
            fixed_node, layer_node = self.split(kind)
            layer_values = list(values(layer_node, g.shared))
            for fixed in values(fixed_node, g.shared):
                shapes = {x}
                for r in range(max(depths)):
                    found, shapes = _layers_from(
                        kind, fixed, layer_values, shapes, cout, stride if r == 0 else 1, g
                    )
                    layers[r] |= found
                    if r + 1 in depths:
                        outputs |= shapes
        return layers, outputs

    def _layer_min_costs(
        self, kind: str, x: Shape, out: int | None, stride: int, g: Scaling, metric: str
    ) -> Iterator[tuple[Shape, int, int]]:
        """For each choice of the stage-level options: the output shape, the cheapest first layer and
        the cheapest later layer (per-layer options are independent, so each layer takes its cheapest)."""
        fixed_node, layer_node = self.split(kind)
        layer_values = list(values(layer_node, g.shared))
        for fixed in values(fixed_node, g.shared):
            first = _min_layer(kind, fixed, layer_values, x, out, stride, g.width, metric)
            if first is None:
                continue
            rest = _min_layer(kind, fixed, layer_values, first[1], out, 1, g.width, metric)
            yield first[1], first[0], (rest[0] if rest is not None else 0)


def _min_layer(
    kind: str,
    fixed: dict[str, Any],
    layers: list[dict[str, Any]],
    x: Shape,
    out: int | None,
    stride: int,
    width: float,
    metric: str,
) -> tuple[int, Shape] | None:
    """The cheapest per-layer options for one layer, or None when no option gives a valid layer."""
    best: tuple[int, Shape] | None = None
    for layer in layers:
        try:
            _, cost, y = step(scale_block(_block(kind, {**fixed, **layer}, ""), width), x, out, stride)
        except SpecError:
            continue
        if best is None or getattr(cost, metric) < best[0]:
            best = (getattr(cost, metric), y)
    return best


def _layers_from(
    kind: str,
    fixed: dict[str, Any],
    layers: list[dict[str, Any]],
    shapes: set[Shape],
    out: int | None,
    stride: int,
    g: Scaling,
) -> tuple[set[LayerInput], set[Shape]]:
    """One repeat's distinct layers from each input shape, and their output shapes; invalid option
    combinations are left out, as the sampler never produces them."""
    found, outputs = set(), set()
    for x, layer in itertools.product(shapes, layers):
        block = scale_block(_block(kind, {**fixed, **layer}, ""), g.width)
        try:
            cout, _, y = step(block, x, out, stride)
        except SpecError:
            continue
        found.add(LayerInput(block.canonical(x.c, cout, stride), x, cout, stride))
        outputs.add(y)
    return found, outputs


def stage_layers(stage: StageSpec, x: Shape) -> Iterator[tuple[LayerInput, Cost, Shape]]:
    """The layers of a fixed stage (a space's stem) from input ``x``, each with its cost and output."""
    for r in range(stage.repeats):
        stride = stage.stride if r == 0 else 1
        cout, cost, y = step(stage.block, x, stage.out, stride)
        yield LayerInput(stage.block.canonical(x.c, cout, stride), x, cout, stride), cost, y
        x = y


def stage_cost(stage: StageSpec, x: Shape) -> tuple[Cost, Shape]:
    """Cost of a fixed stage (a space's stem) from input ``x``."""
    steps = list(stage_layers(stage, x))
    return sum((cost for _, cost, _ in steps), Cost(0, 0, 0)), steps[-1][2] if steps else x


def _kind_options(data: Mapping[str, Any], kinds: tuple[str, ...], path: str) -> dict[str, dict[str, Node]]:
    """Each kind's option nodes: inline for a single kind, under the kind's name for several."""
    extra = {k: v for k, v in data.items() if k not in _STAGE_KEYS}
    if len(kinds) == 1 and kinds[0] not in extra:
        per_kind = {kinds[0]: extra}
    else:
        stray = [k for k in extra if k not in kinds]
        if stray:
            raise SpecError(
                path,
                f"unknown key {stray[0]!r}; with several block kinds, give options under each kind's name",
            )
        per_kind = {kind: extra.get(kind) or {} for kind in kinds}
    options = {}
    for kind, opts in per_kind.items():
        where = f"{path}.{kind}" if len(kinds) > 1 else path
        if not isinstance(opts, Mapping):
            raise SpecError(where, f"expected a mapping of options; got {type(opts).__name__}")
        known = [f.name for f in dataclasses.fields(BLOCKS[kind])]
        for key in opts:
            if key not in known:
                expected = ", ".join([*_STAGE_KEYS, *known])
                raise SpecError(where, f"unknown key {key!r} for block {kind!r}; expected one of {expected}")
        options[kind] = {k: parse(v, f"{where}.{k}") for k, v in opts.items()}
    return options


def _block(kind: str, options: dict[str, Any], path: str) -> Block:
    return BLOCKS[kind].from_data(options, path)


class _Placeholder:
    """Stands for a shared value while checking options at load time (it is checked where declared)."""


class _AnyShared(dict[str, Any]):
    def __missing__(self, key: str) -> _Placeholder:
        return _Placeholder()


def _strip(value: Any) -> Any:
    """A mapping without the shared values it refers to (they are checked where they are declared)."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if not isinstance(v, _Placeholder)}
    return value
