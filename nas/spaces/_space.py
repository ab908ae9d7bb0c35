"""A search space: a spec with choices, sampled define-by-run by an Optuna trial.

A space file (``search_spaces/NAME.yaml``) is a spec whose stages hold lists where there is a choice
(see :mod:`nas.spaces._stage`), plus global choices::

    name: mnas
    resolution: 224                      # the target resolution costs are counted at
    shared: {act: [relu, swish]}         # chosen once per network, used as $act anywhere below
    scale: {width: [1.0], depth: [1.0], resolution: [1.0]}   # compound-scaling multipliers
    stem: [{block: conv, out: 32, stride: 2, act: $act}]     # fixed, apart from $references
    stages: [...]
    head: {conv: {out: 1280, act: $act}, dropout: 0.2}      # fixed, apart from $references

Every choice with more than one option is one categorical trial parameter: ``width``, ``act``,
``s3.kernel`` (stage 3), ``s3.l1.expand`` (its second layer), ``s2.mbconv.expand`` (when the stage
chooses among kinds). A single option is fixed, not a parameter.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import math
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import optuna

from nas.arch import ArchSpec, HeadSpec, StageSpec, head_cost
from nas.blocks import Block
from nas.blocks.costs import Shape
from nas.errors import SpecError
from nas.records import check_keys
from nas.scaling import scale_head, scale_resolution, scale_stage
from nas.spaces._stage import LayerInput, Scaling, StageTemplate, stage_cost, stage_layers
from nas.spaces._template import Chooser, Label, Node, Pick, parse, refs, resolve, values
from nas.spaces._template import count as count_node

_TOP_KEYS = (
    "name",
    "description",
    "resolution",
    "in_channels",
    "drop_path",
    "shared",
    "scale",
    "stem",
    "stages",
    "head",
)
_SCALE_KEYS = ("width", "depth", "resolution")


@dataclass(frozen=True)
class Parts:
    """Every layer a network of the space can hold, by where it sits: what weight sharing allocates.

    ``stem[k]``: the stem's layer k; ``stages[i][r]``: the r-th layer of stage i (r = 0 takes the stride);
    ``heads``: each head with its input."""

    stem: tuple[frozenset[LayerInput], ...]
    stages: tuple[tuple[frozenset[LayerInput], ...], ...]
    heads: frozenset[tuple[HeadSpec, Shape]]


class NotInSpace(ValueError):
    """``encode`` was given a network the space cannot produce; the message says where it departs."""


@dataclass(frozen=True)
class SearchSpace:
    name: str
    description: str
    resolution: int
    in_channels: int
    drop_path: float
    shared: Mapping[str, Node]
    scale: Mapping[str, Node]
    stem: tuple[Node, ...]
    stages: tuple[StageTemplate, ...]
    head: Node

    # -- construction ------------------------------------------------------------------------------------

    @classmethod
    def from_data(cls, data: Any) -> SearchSpace:
        """Strict: an unknown key, an empty choice or an impossible option is an error naming its path."""
        if not isinstance(data, Mapping):
            raise SpecError("", f"expected a mapping; got {type(data).__name__}")
        check_keys("", data, _TOP_KEYS, ("name", "stages"))
        stages = data["stages"]
        if not isinstance(stages, list) or not stages:
            raise SpecError("stages", "expected a list of at least one stage")
        space = cls(
            name=str(data["name"]),
            description=str(data.get("description", "")),
            resolution=_int(data.get("resolution", 224), "resolution"),
            in_channels=_int(data.get("in_channels", 3), "in_channels"),
            drop_path=float(data.get("drop_path", 0.0)),
            shared=_mapping(data.get("shared", {}), "shared"),
            scale=_scale(data.get("scale", {})),
            stem=tuple(parse(s, f"stem[{i}]", choices=False) for i, s in enumerate(data.get("stem", []))),
            stages=tuple(StageTemplate.parse(s, f"stages[{i}]") for i, s in enumerate(stages)),
            head=parse(data.get("head", {}), "head", choices=False),
        )
        space._check_refs()
        space._check_shared_values()
        return space

    def _check_refs(self) -> None:
        used = set(refs(self.head))
        for node in self.stem:
            used |= set(refs(node))
        for stage in self.stages:
            used |= set(_stage_refs(stage))
        for name in sorted(used - set(self.shared)):
            raise SpecError("shared", f"${name} is used but not declared")
        for name in sorted(set(self.shared) - used):
            raise SpecError(f"shared.{name}", "declared but never used")

    def _check_shared_values(self) -> None:
        """Decode once per option of every global choice, the others at their first option."""
        for name, node in [*self.scale.items(), *self.shared.items()]:
            for label in node.labels if isinstance(node, Pick) else [None]:
                self._decode(_First({name: label}) if label is not None else _First({}), self.name)

    # -- the three uses ---------------------------------------------------------------------------------

    def sample(self, trial: optuna.Trial) -> ArchSpec:
        """A network of the space, every choice suggested to ``trial`` (define-by-run)."""
        return self._decode(_TrialChooser(trial), f"{self.name}_{trial.number}")

    def draw(self, rng: random.Random, name: str | None = None) -> ArchSpec:
        """A network drawn uniformly choice by choice, as Optuna's RandomSampler would, without a study."""
        return self._decode(_RandomChooser(rng), name or self.name)

    def decode(self, params: Mapping[str, Label], name: str | None = None) -> ArchSpec:
        """The network a trial's parameters describe (``trial.params``)."""
        return self._decode(_ParamsChooser(params), name or self.name)

    def encode(self, spec: ArchSpec) -> dict[str, Label]:
        """The parameters under which :meth:`sample` gives ``spec``'s network, for ``enqueue_trial``.

        Networks are compared layer by layer in canonical form (``mid: 184`` equals ``expand: 2.3`` at 80
        channels); dropout and drop-path are training settings, not architecture, and are ignored.
        Raises :class:`NotInSpace` saying where ``spec`` leaves the space.
        """
        matcher = _Matcher(self, spec)
        params = matcher.search()
        if params is None:
            raise NotInSpace(f"{spec.name} is not a point of space {self.name!r}: {matcher.reason()}")
        return params

    def size(self) -> int:
        """How many parameter assignments the space has (distinct choices, not distinct networks)."""
        shared = math.prod(count_node(n) for n in self.shared.values())
        total = 0
        for _, depth, _ in self._multipliers():
            total += math.prod(stage.count(depth) for stage in self.stages)
        return total * shared

    def min_cost(self, metric: str, num_classes: int = 1000) -> int:
        """The smallest ``metric`` (``"macs"`` or ``"params"``) of any network in the space, exactly:
        a dynamic programme over stages, keyed by the feature-map shape between them."""
        best = math.inf
        memo = _StageMemo(self)
        for g in self._all_scalings():
            x = Shape(self.in_channels, g.resolution, g.resolution)
            fixed = 0
            for stage in self._stem(g):
                cost, x = stage_cost(stage, x)
                fixed += getattr(cost, metric)
            states = {x: fixed}
            for i, template in enumerate(self.stages):
                states = _advance(states, template, g, metric, functools.partial(memo.get, i))
            head = self._head(g)
            for y, cost in states.items():
                best = min(best, cost + getattr(head_cost(head, y, num_classes)[0], metric))
        return int(best)

    def layer_inputs(self) -> tuple[set[LayerInput], set[tuple[HeadSpec, Shape]]]:
        """Every distinct layer any network of the space contains (stem and stages, each with its input
        shape), and every distinct head with its input: what a latency lookup table must hold."""
        parts = self.parts()
        return set().union(*parts.stem, *(r for stage in parts.stages for r in stage)), set(parts.heads)

    def parts(self, width: float = 1.0) -> Parts:
        """:class:`Parts` of the space, with every width multiplied by ``width`` (a proxy's)."""
        stem: list[set[LayerInput]] = []
        stages: list[list[set[LayerInput]]] = [[] for _ in self.stages]
        heads: set[tuple[HeadSpec, Shape]] = set()
        for g in self._all_scalings():
            g = dataclasses.replace(g, width=g.width * width)
            x = Shape(self.in_channels, g.resolution, g.resolution)
            k = 0
            for stage in self._stem(g):
                for layer, _, y in stage_layers(stage, x):
                    stem += [set()] if k == len(stem) else []
                    stem[k].add(layer)
                    k, x = k + 1, y
            shapes = {x}
            for i, template in enumerate(self.stages):
                found, shapes = template.layer_inputs_from(shapes, g)
                stages[i] += [set() for _ in range(len(found) - len(stages[i]))]
                for r, repeat in enumerate(found):
                    stages[i][r] |= repeat
            heads |= {(self._head(g), y) for y in shapes}
        return Parts(
            tuple(map(frozenset, stem)),
            tuple(tuple(map(frozenset, stage)) for stage in stages),
            frozenset(heads),
        )

    def depths(self, params: Mapping[str, Label]) -> tuple[int, ...]:
        """How many layers each stage of the space has in the network ``params`` describe."""
        counts = [0 for _ in self.stages]
        parts = self._walk(_ParamsChooser(params))
        next(parts)  # the global choices
        for group, index, _ in parts:
            if group == "stages":
                counts[index] += 1
        return tuple(counts)

    def draw_params(self, rng: random.Random) -> dict[str, Label]:
        """The parameters of a network drawn as :meth:`draw` draws it; ``rng`` needs only ``choice``."""
        recorder = _Recorder(_RandomChooser(rng))
        for _ in self._walk(recorder):  # every choice made, none kept but the parameters
            pass
        return recorder.params

    def multipliers(self) -> list[tuple[float, float, float]]:
        """Every (width, depth, resolution) multiplier the space chooses among."""
        return list(self._multipliers())

    def fingerprint(self) -> str:
        """A short digest of the space's every choice: the same name with other options differs."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:12]

    # -- decoding -----------------------------------------------------------------------------------------

    def _decode(self, chooser: Chooser, name: str) -> ArchSpec:
        parts = self._walk(chooser)
        g = next(parts)
        assert isinstance(g, Scaling)
        stem: list[StageSpec] = []
        stages: list[StageSpec] = []
        head = None
        for group, _, part in parts:
            if group == "stem":
                stem.append(part)
            elif group == "stages":
                stages.append(part)
            else:
                head = part
        return ArchSpec(
            stages=tuple(_merge(stages)),
            stem=tuple(stem),
            head=head,
            name=name,
            in_channels=self.in_channels,
            resolution=g.resolution,
            drop_path=self.drop_path,
        )

    def _walk(self, chooser: Chooser) -> Iterator[Any]:
        """The global choices, then ("stem"|"stages", stage index, StageSpec) layer by layer, then
        ("head", 0, HeadSpec)."""
        g = self._globals(chooser)
        yield g
        for k, stage in enumerate(self._stem(g)):
            yield "stem", k, stage
        for i, template in enumerate(self.stages):
            for stage in template.decode(i, chooser, g):
                yield "stages", i, stage
        yield "head", 0, self._head(g)

    def _globals(self, chooser: Chooser) -> Scaling:
        mult = {k: resolve(self.scale[k], k, chooser, {}) for k in _SCALE_KEYS}
        shared = {k: resolve(v, k, chooser, {}) for k, v in self.shared.items()}
        resolution = scale_resolution(self.resolution, mult["resolution"])
        return Scaling(mult["width"], mult["depth"], resolution, shared)

    def _stem(self, g: Scaling) -> list[StageSpec]:
        fixed = _First({})
        return [
            scale_stage(StageSpec.from_data(resolve(s, "", fixed, g.shared), f"stem[{i}]"), g.width, 1.0)
            for i, s in enumerate(self.stem)
        ]

    def _head(self, g: Scaling) -> HeadSpec:
        head = HeadSpec.from_data(resolve(self.head, "", _First({}), g.shared), "head")
        return scale_head(head, g.width, None)

    def _multipliers(self) -> Iterator[tuple[float, float, float]]:
        yield from itertools.product(*(values(self.scale[k], {}) for k in _SCALE_KEYS))

    def _all_scalings(self) -> Iterator[Scaling]:
        names = list(self.shared)
        for w, d, r in self._multipliers():
            for combo in itertools.product(*(values(self.shared[k], {}) for k in names)):
                yield Scaling(
                    w, d, scale_resolution(self.resolution, r), dict(zip(names, combo, strict=True))
                )


def _advance(
    states: dict[Shape, int],
    template: StageTemplate,
    g: Scaling,
    metric: str,
    min_costs: Callable[[Shape, Scaling, str], dict[Shape, int]],
) -> dict[Shape, int]:
    out: dict[Shape, int] = {}
    for x, cost in states.items():
        for y, extra in min_costs(x, g, metric).items():
            out[y] = min(out.get(y, cost + extra), cost + extra)
    return out


class _StageMemo:
    """A stage's minimum costs depend on the shared values it refers to, not on the others (a head
    width, say): remember them across the global choices that differ only elsewhere."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.results: dict[tuple[Any, ...], dict[Shape, int]] = {}
        self.used = [sorted(set(_stage_refs(t))) for t in space.stages]

    def get(self, index: int, x: Shape, g: Scaling, metric: str) -> dict[Shape, int]:
        shared = tuple(repr(g.shared[k]) for k in self.used[index])
        key = (index, x, g.width, g.depth, shared, metric)
        if key not in self.results:
            self.results[key] = self.space.stages[index].min_costs(x, g, metric)
        return self.results[key]


def _stage_refs(template: StageTemplate) -> Iterator[str]:
    for node in (template.block, template.out, template.repeats, template.stride, *template.options.values()):
        yield from refs(dict(node) if isinstance(node, Mapping) else node)


def _merge(stages: list[StageSpec]) -> Iterator[StageSpec]:
    """Consecutive equal layers as one stage with repeats, so that a saved spec reads like a table."""
    merged: list[StageSpec] = []
    for stage in stages:
        last = merged[-1] if merged else None
        if (
            last
            and stage.stride == 1
            and stage.out is not None
            and (stage.block, stage.out) == (last.block, last.out)
        ):
            merged[-1] = last.replace(repeats=last.repeats + stage.repeats)
        else:
            merged.append(stage)
    return iter(merged)


# -- choosers -------------------------------------------------------------------------------------------


class _TrialChooser:
    def __init__(self, trial: optuna.Trial) -> None:
        self.trial = trial

    def choose(self, name: str, labels: tuple[Label, ...]) -> Label:
        return self.trial.suggest_categorical(name, labels)


class _RandomChooser:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def choose(self, name: str, labels: tuple[Label, ...]) -> Label:
        return self.rng.choice(labels)


class _ParamsChooser:
    def __init__(self, params: Mapping[str, Label]) -> None:
        self.params = params

    def choose(self, name: str, labels: tuple[Label, ...]) -> Label:
        if name not in self.params:
            raise SpecError(name, "missing from the parameters")
        label = self.params[name]
        if label not in labels:
            raise SpecError(name, f"expected one of {', '.join(map(str, labels))}; got {label!r}")
        return label


class _Recorder:
    """Another chooser's choices, kept as parameters."""

    def __init__(self, chooser: Chooser) -> None:
        self.chooser = chooser
        self.params: dict[str, Label] = {}

    def choose(self, name: str, labels: tuple[Label, ...]) -> Label:
        self.params[name] = self.chooser.choose(name, labels)
        return self.params[name]


class _First:
    """The first option of every choice, except those given."""

    def __init__(self, given: Mapping[str, Label]) -> None:
        self.given = given

    def choose(self, name: str, labels: tuple[Label, ...]) -> Label:
        return self.given.get(name, labels[0])


# -- encoding: depth-first replay of the decoder ------------------------------------------------------


class _Branch(Exception):
    """The replay reached a choice not yet made."""

    def __init__(self, name: str, labels: tuple[Label, ...]) -> None:
        self.name, self.labels = name, labels


class _Mismatch(Exception):
    def __init__(self, position: int, reason: str) -> None:
        self.position, self.reason = position, reason


class _Replay:
    def __init__(self, prefix: list[tuple[str, Label]]) -> None:
        self.prefix, self.position = prefix, 0

    def choose(self, name: str, labels: tuple[Label, ...]) -> Label:
        if self.position == len(self.prefix):
            raise _Branch(name, labels)
        self.position += 1
        return self.prefix[self.position - 1][1]


Canonical = tuple[Block, int, int, int]
T = TypeVar("T")


class _Matcher:
    """Finds the choices that reproduce a network, stage by stage: for each global choice, every way
    the first stage can produce the next layers, then the next stage from there (depth first). Within a
    stage, options are tried in order by replaying the stage's decoder, abandoning a branch at the
    first layer that differs."""

    def __init__(self, space: SearchSpace, spec: ArchSpec) -> None:
        self.space, self.spec = space, spec
        self.target = [
            _canonical(layer.block, layer.cin, layer.cout, layer.stride) for layer in spec.layers()
        ]
        self.head = spec.head.without_dropout()
        self.deepest = _Mismatch(-1, "no choice matches")

    def search(self) -> dict[str, Label] | None:
        for params, g in _replays(self.space._globals):
            try:
                if (g.resolution, self.space.in_channels) != (self.spec.resolution, self.spec.in_channels):
                    raise _Mismatch(
                        0,
                        f"its resolution {self.spec.resolution} and {self.spec.in_channels} "
                        "input channels are not among the space's",
                    )
                position, cin = self._check(self.space._stem(g), 0, self.space.in_channels)
            except _Mismatch as mismatch:
                self._note(mismatch)
                continue
            found = self._stages(0, g, position, cin, params)
            if found is not None:
                return found
        return None

    def _stages(
        self, i: int, g: Scaling, position: int, cin: int, params: dict[str, Label]
    ) -> dict[str, Label] | None:
        if i == len(self.space.stages):
            return params if self._ends(position, g) else None
        template = self.space.stages[i]

        def decode(chooser: Chooser) -> tuple[int, int]:
            probe = functools.partial(self._probe, position)
            return self._check(template.decode(i, chooser, g, probe), position, cin)

        for stage_params, (end, cout) in _replays(decode, self._note):
            found = self._stages(i + 1, g, end, cout, {**params, **stage_params})
            if found is not None:
                return found
        return None

    def _check(
        self, layers: Iterator[StageSpec] | list[StageSpec], position: int, cin: int
    ) -> tuple[int, int]:
        """Compare decoded layers with the target's from ``position``; the position and width after them."""
        for part in layers:
            for r in range(part.repeats):
                if position >= len(self.target):
                    raise _Mismatch(position, f"it has {len(self.target)} layers; the space needs more")
                cout = part.block.out_channels(cin, part.out)
                if _canonical(part.block, cin, cout, part.stride if r == 0 else 1) != self.target[position]:
                    raise _Mismatch(
                        position, f"no choice reproduces layer {position} ({self._show(position)})"
                    )
                position, cin = position + 1, cout
        return position, cin

    def _probe(self, position: int, out: int | None, stride: int) -> None:
        if position < len(self.target):
            _, _, cout, target_stride = self.target[position]
            if (out is not None and out != cout) or stride != target_stride:
                raise _Mismatch(position, f"no choice reproduces layer {position} ({self._show(position)})")

    def _ends(self, position: int, g: Scaling) -> bool:
        if position < len(self.target):
            self._note(
                _Mismatch(position, f"the space ends before its layer {position} ({self._show(position)})")
            )
            return False
        if self.space._head(g).without_dropout() != self.head:
            self._note(_Mismatch(position, f"no choice reproduces its head {self.spec.head.to_data()}"))
            return False
        return True

    def _note(self, mismatch: _Mismatch) -> None:
        if mismatch.position >= self.deepest.position:
            self.deepest = mismatch

    def reason(self) -> str:
        return self.deepest.reason

    def _show(self, position: int) -> str:
        block, cin, cout, stride = self.target[position]
        return f"{block.kind} {cin}->{cout}, stride {stride}: {block.to_data()}"


def _replays(
    decoder: Callable[[Chooser], T], on_mismatch: Callable[[_Mismatch], None] = lambda m: None
) -> Iterator[tuple[dict[str, Label], T]]:
    """Every completion of ``decoder`` that raises no :class:`_Mismatch`, with the choices it made, in
    the order of the options; the decoder is replayed from its start for every branch."""
    stack: list[list[tuple[str, Label]]] = [[]]
    while stack:
        prefix = stack.pop()
        try:
            result = decoder(_Replay(prefix))
        except _Branch as branch:
            stack += [[*prefix, (branch.name, label)] for label in reversed(branch.labels)]
            continue
        except _Mismatch as mismatch:
            on_mismatch(mismatch)
            continue
        yield dict(prefix), result


def _canonical(block: Block, cin: int, cout: int, stride: int) -> Canonical:
    return block.canonical(cin, cout, stride), cin, cout, stride


# -- parsing helpers ----------------------------------------------------------------------------------------


def _int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(path, f"expected an integer >= 1; got {value!r}")
    return value


def _mapping(data: Any, path: str) -> dict[str, Node]:
    if not isinstance(data, Mapping):
        raise SpecError(path, f"expected a mapping; got {type(data).__name__}")
    return {str(k): parse(v, f"{path}.{k}") for k, v in data.items()}


def _scale(data: Any) -> dict[str, Node]:
    scale = _mapping(data, "scale")
    unknown = [k for k in scale if k not in _SCALE_KEYS]
    if unknown:
        raise SpecError("scale", f"unknown key {unknown[0]!r}; expected one of {', '.join(_SCALE_KEYS)}")
    for key in _SCALE_KEYS:
        scale.setdefault(key, 1.0)
        for value in values(scale[key], {}):
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise SpecError(f"scale.{key}", f"expected multipliers > 0; got {value!r}")
    return scale
