"""The architecture spec: a network as a few typed records, and its strict YAML form.

A network is a stem, ordered stages and a head::

    name: mobilenet_v2
    resolution: 224
    stem:
      - {block: conv, out: 32, stride: 2, act: relu6}
    stages:
      - {block: mbconv, out: 16, expand: 1}
      - {block: mbconv, out: 24, repeats: 2, stride: 2}
      ...
    head: {conv: {out: 1280, act: relu6}, dropout: 0.2}

A stage names its block kind (a key of :data:`nas.blocks.BLOCKS`), the stage keys ``out``, ``repeats``
and ``stride`` (applied to the first repeat), and that kind's own options, all in one flat mapping.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from nas.blocks import BLOCKS, Activation, BatchNorm, Block, Padding, PoolMode
from nas.blocks.costs import Cost, Shape
from nas.errors import SpecError
from nas.records import Record, as_plain, check_one_of, check_range

_STAGE_KEYS = ("block", "out", "repeats", "stride", "bn")
_KEEP_BN = BatchNorm()  # every batch norm as its block builds it


@dataclass(frozen=True)
class StageSpec(Record):
    """``repeats`` blocks of one kind; the first has the stage's stride, all output ``out`` channels;
    ``bn`` overrides the spec's batch-norm settings in these blocks."""

    block: Block
    out: int | None = None
    repeats: int = 1
    stride: int = 1
    bn: BatchNorm = _KEEP_BN

    def validate(self) -> None:
        if not isinstance(self.block, Block):
            raise SpecError("block", f"expected a block record; got {type(self.block).__name__}")
        check_range("repeats", self.repeats, 1)
        check_one_of("stride", self.stride, self.block.strides)
        if self.block.sets_channels and self.out is None:
            raise SpecError("out", f"block {self.block.kind!r} needs its output channels")
        if not self.block.sets_channels and self.out is not None:
            raise SpecError("out", f"block {self.block.kind!r} derives its output channels; remove out")
        if self.out is not None:
            check_range("out", self.out, 1)

    @classmethod
    def from_data(cls, data: Any, path: str = "") -> StageSpec:
        if isinstance(data, StageSpec):
            return data
        if not isinstance(data, Mapping):
            raise SpecError(path, f"expected a mapping; got {type(data).__name__}")
        if "block" not in data:
            raise SpecError(path, "missing required key 'block'")
        kind = data["block"]
        if kind not in BLOCKS:
            raise SpecError(
                f"{path}.block", f"unknown block kind {kind!r}; expected one of {', '.join(BLOCKS)}"
            )
        options = {k: v for k, v in data.items() if k not in _STAGE_KEYS}
        stage = {k: v for k, v in data.items() if k in _STAGE_KEYS and k != "block"}
        block_cls = BLOCKS[kind]
        known = [f.name for f in dataclasses.fields(block_cls)]
        unknown = [k for k in options if k not in known]
        if unknown:
            expected = ", ".join([*_STAGE_KEYS[1:], *known])
            raise SpecError(
                path, f"unknown key {unknown[0]!r} for block {kind!r}; expected one of {expected}"
            )
        try:
            return cls(block=block_cls.from_data(options), **stage)
        except SpecError as err:
            raise err.within(path) from None

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"block": self.block.kind}
        if self.out is not None:
            data["out"] = self.out
        if self.repeats != 1:
            data["repeats"] = self.repeats
        if self.stride != 1:
            data["stride"] = self.stride
        if self.bn != _KEEP_BN:  # left out at its default: a spec's dump and hash stay what they were
            data["bn"] = self.bn.to_data()
        return {**data, **self.block.to_data()}


@dataclass(frozen=True)
class ConvHead(Record):
    """The 1x1 conv-BN-activation that widens the last feature map before pooling (MobileNets)."""

    out: int
    act: Activation = Activation.RELU

    def validate(self) -> None:
        check_range("out", self.out, 1)


@dataclass(frozen=True)
class Dense(Record):
    """A hidden fully connected layer after pooling; ``dropout`` is applied before it.

    ``bias: false, norm: true`` is MobileNetV4's and FBNetV3's head (timm's ``head_norm``): a 1x1 conv
    without bias on the pooled 1x1 map, batch norm, activation, which on a vector is this layer (the
    spec's ``bn`` settings apply to its batch norm as to any other). At the defaults (bias, no norm) it
    is the fully connected layer of MobileNetV3, VGG and AlexNet, and dumps as before.
    """

    out: int
    act: Activation = Activation.RELU
    dropout: float = 0.0
    bias: bool = True
    norm: bool = False  # batch norm between the layer and its activation

    def validate(self) -> None:
        check_range("out", self.out, 1)
        check_range("dropout", self.dropout, 0.0, 1.0, high_open=True)


class Classifier(enum.Enum):
    LINEAR = "linear"
    CONV = "conv"


@dataclass(frozen=True)
class HeadSpec(Record):
    """Optional 1x1 conv, pooling to ``pool_size`` (1 = global), hidden layers, dropout, classifier.

    ``classifier: conv`` puts a 1x1 conv with bias (and ``classifier_act``) *before* the pooling, as
    SqueezeNet does; it takes no hidden layers.
    """

    conv: ConvHead | None = None
    pool: PoolMode = PoolMode.AVG
    pool_size: int = 1  # VGG pools to 7x7 and AlexNet to 6x6 before their fully connected layers
    hidden: tuple[Dense, ...] = ()
    dropout: float = 0.0
    classifier: Classifier = Classifier.LINEAR
    classifier_act: Activation = Activation.NONE

    def validate(self) -> None:
        check_range("pool_size", self.pool_size, 1)
        check_range("dropout", self.dropout, 0.0, 1.0, high_open=True)
        if self.classifier is Classifier.CONV and (self.hidden or self.pool_size != 1):
            raise SpecError("classifier", "a conv classifier takes no hidden layers and pool_size 1")
        if self.classifier is Classifier.LINEAR and self.classifier_act is not Activation.NONE:
            raise SpecError("classifier_act", "only a conv classifier (SqueezeNet) has an activation")

    def without_dropout(self) -> HeadSpec:
        """The head without its dropout rates, which regularise training but are no part of the network
        (two heads that differ only there build the same inference module)."""
        return self.replace(dropout=0.0, hidden=tuple(d.replace(dropout=0.0) for d in self.hidden))


class Layer(NamedTuple):
    """One block of the network as built: where it is in the spec, and its channels and stride."""

    group: str  # "stem" or "stages"
    stage: int
    repeat: int
    block: Block
    cin: int
    cout: int
    stride: int
    drop_path: float

    @property
    def path(self) -> str:
        """The spec entry errors are reported against: ``stem[0]``, ``stages[3]``."""
        return f"{self.group}[{self.stage}]"


class Step(NamedTuple):
    """One block of :meth:`ArchSpec.walk`: the layer, its input and output shapes, and its cost."""

    layer: Layer
    x: Shape
    y: Shape
    cost: Cost


class BlockStep(NamedTuple):
    """:func:`step`'s answer: the output width, the cost and the output shape of one block."""

    cout: int
    cost: Cost
    y: Shape


def step(block: Block, x: Shape, out: int | None, stride: int) -> BlockStep:
    """One block applied to input ``x`` with the stage's ``out`` and ``stride``: the one step of every
    walk over a network (a spec's, and a space's over all its networks). Raises :class:`SpecError` for
    options the input makes invalid (channels that do not divide into groups, say)."""
    cout = block.out_channels(x.c, out)
    block.check(x.c, cout, stride)
    cost, y = block.cost(x, cout, stride)
    return BlockStep(cout, cost, y)


@dataclass(frozen=True)
class ArchSpec(Record):
    """A whole network. Construction validates it, channel flow and feature-map sizes included."""

    stages: tuple[StageSpec, ...]
    stem: tuple[StageSpec, ...] = ()
    head: HeadSpec = HeadSpec()
    name: str = "custom"
    in_channels: int = 3
    resolution: int = 224
    drop_path: float = 0.0  # stochastic depth of the last block; earlier blocks get linearly less
    bn: BatchNorm = _KEEP_BN  # of every batch norm, unless a stage overrides it
    padding: Padding = Padding.SYMMETRIC  # tf_same: TensorFlow's, for the ports of TensorFlow models

    def validate(self) -> None:
        check_range("in_channels", self.in_channels, 1)
        check_range("resolution", self.resolution, 1)
        check_range("drop_path", self.drop_path, 0.0, 1.0, high_open=True)
        if not self.stages:
            raise SpecError("stages", "expected at least one stage")
        # Derived once, here: the cost model walks these for every candidate of a search.
        object.__setattr__(self, "_layers", tuple(self._checked_layers()))
        for _ in self.walk():  # every feature map at least one pixel, every block's options valid
            pass

    def layers(self) -> tuple[Layer, ...]:
        """Every block in order, repeats expanded, with its channels, stride and drop-path rate."""
        return self._layers  # type: ignore[attr-defined, no-any-return]

    def walk(self, resolution: int | None = None) -> Iterator[Step]:
        """Each block with its input and output shapes and cost at ``resolution`` (the spec's own by
        default): the one walk over a network that the cost model, the validation and the spaces share.
        Raises :class:`SpecError` where a stride shrinks the feature map below 1 pixel."""
        size = self.resolution if resolution is None else resolution
        if size < 1:
            raise SpecError("resolution", f"expected a value >= 1; got {size}")
        x = Shape(self.in_channels, size, size)
        previous: tuple[object, ...] = ()
        for layer in self.layers():
            # The later repeats of a stage usually cost the same as the one before: compute once.
            if layer.repeat < 2 or previous != (x, layer.cout):
                try:
                    cost, y = layer.block.cost(x, layer.cout, layer.stride)
                except SpecError as err:
                    raise err.within(layer.path) from None
                previous = (x, layer.cout)
            if y.h < 1 or y.w < 1:
                raise SpecError(
                    f"{layer.path}.stride",
                    f"the feature map shrinks from {x.h}x{x.w} to {y.h}x{y.w} pixels at resolution {size}",
                )
            yield Step(layer, x, y, cost)
            x = y

    def _checked_layers(self) -> Iterator[Layer]:
        """The layers, checking how channels flow from block to block."""
        total = sum(s.repeats for s in self.stages)
        channels, index = self.in_channels, 0
        for group, stages in (("stem", self.stem), ("stages", self.stages)):
            for i, stage in enumerate(stages):
                path = f"{group}[{i}]"
                for r in range(stage.repeats):
                    stride = stage.stride if r == 0 else 1
                    rate = self.drop_path * index / total if group == "stages" else 0.0
                    try:
                        cout = stage.block.out_channels(channels, stage.out)
                        stage.block.check(channels, cout, stride)
                    except SpecError as err:
                        raise err.within(path) from None
                    yield Layer(group, i, r, stage.block, channels, cout, stride, rate)
                    channels = cout
                    index += group == "stages"

    def to_yaml(self) -> str:
        return dump_spec(self)


def load_spec(source: str | Path | Mapping[str, Any]) -> ArchSpec:
    """An :class:`ArchSpec` from a YAML file, YAML text, or a mapping (OmegaConf configs included)."""
    if isinstance(source, Mapping):
        data = as_plain(source)
    else:
        path = Path(source)
        if "\n" not in str(source) and path.suffix in (".yaml", ".yml"):
            if not path.is_file():
                raise SpecError("", f"no spec file at {path}")
            text = path.read_text()
        else:
            text = str(source)
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise SpecError("", f"not valid YAML: {str(err).splitlines()[0]}") from None
    return ArchSpec.from_data(data)


def dump_spec(spec: ArchSpec) -> str:
    """YAML text that :func:`load_spec` turns back into an equal spec (only non-default fields)."""
    data = spec.to_data()
    order = ["name", "in_channels", "resolution", "drop_path", "bn", "padding", "stem", "stages", "head"]
    ordered = {k: data[k] for k in order if k in data}
    return yaml.dump(ordered, Dumper=_FlowStagesDumper, sort_keys=False, width=110)


class _FlowStagesDumper(yaml.SafeDumper):
    """Writes each stage on one line (``- {block: mbconv, out: 24, ...}``): a spec reads like a table."""

    def represent_mapping(self, tag: str, mapping: Any, flow_style: bool | None = None) -> yaml.MappingNode:
        node = super().represent_mapping(tag, mapping, flow_style)
        if isinstance(mapping, dict) and "block" in mapping:
            node.flow_style = True
        return node
