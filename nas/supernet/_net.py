"""The weight-sharing network: one set of tensors per place in the space, sliced for every subnet.

Every place a layer can sit (the stem's layer k, the r-th layer of stage i, the head) holds, for each way
its blocks are wired (an MBConv with an expansion conv, or without one), the smallest tensors that contain
the weights of every layer the space can put there: each tensor's shape is the largest along every
dimension over those layers. A layer of a subnet takes the leading channels of each tensor and the
centre of each kernel (Once-for-All's elastic width and kernel), so a 3x3 depthwise kernel is the centre
of the 5x5 one and 3x expansion uses the first half of 6x's channels. The layer itself runs as the module
:func:`nas.arch.build_model` would build (a template on the meta device, called with the slices), so the
supernet and a standalone network compute the same thing by construction, with no second definition of
any block.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.func import functional_call

from nas.arch import ArchSpec, Head, HeadSpec, Network, build_model
from nas.blocks import Activation, Block
from nas.errors import UsageError
from nas.spaces import Label, SearchSpace
from nas.training import ProxySettings, proxy_spec

# The block kinds whose weights the supernet shares within a stage: both are an optional expansion, a
# k x k conv, optional SE and a projection, so one layer's weights are a slice of a larger one's.
SHARED_KINDS = ("mbconv", "fused_mbconv")

EXPANDED, DIRECT = "expanded", "direct"


class Slot(NamedTuple):
    """Where a layer sits: ``("stem", k, 0)`` or ``("stages", i, r)`` (stage i's r-th layer)."""

    group: str
    index: int
    repeat: int


class Subnet(NamedTuple):
    """A network of the space as the supernet runs it: the proxy network's spec, and each layer's slot."""

    params: Mapping[str, Label]
    spec: ArchSpec
    slots: tuple[Slot, ...]


def check_space(space: SearchSpace) -> None:
    """A :class:`UsageError` naming why the space cannot share weights, if it cannot."""
    for i, stage in enumerate(space.stages):
        others = [k for k in stage.kinds if k not in SHARED_KINDS]
        if others or len(set(stage.kinds)) > 1:
            raise UsageError(
                f"supernet: space {space.name!r} stage {i} takes block kinds {', '.join(stage.kinds)}: "
                f"weights are not shared across block families; a supernet needs every stage to be one "
                f"of {', '.join(SHARED_KINDS)}"
            )
    if len(space.multipliers()) > 1:
        raise UsageError(
            f"supernet: space {space.name!r} chooses among scale multipliers; a supernet takes one of "
            "each (train one supernet per scaled space)"
        )


# -- one place of the network ---------------------------------------------------------------------------


@functools.cache
def _template(block: Block | HeadSpec, cin: int, cout: int, stride: int) -> nn.Module:
    """The module a layer (or head, with ``cout`` its classes) builds, without memory: its structure and
    the shape of every tensor."""
    with torch.device("meta"):
        if isinstance(block, HeadSpec):
            return Head(block, cin, cout)
        return block.build(cin, cout, stride)


@functools.cache
def _tensor_names(
    block: Block | HeadSpec, cin: int, cout: int, stride: int
) -> tuple[tuple[str, str, torch.Size], ...]:
    """Each tensor of the template: its name there, its name in the place's store (a residual wrapper's
    ``body.`` dropped, so that a layer with skip shares the weights of one without), and its shape."""
    template = _template(block, cin, cout, stride)
    names = itertools.chain(template.named_parameters(), template.named_buffers())
    return tuple((name, name.removeprefix("body."), t.shape) for name, t in names)


def _path(block: Block | HeadSpec) -> str:
    """Which tensors a layer slices: an MBConv with an expansion conv (as its block builds it) the
    expanded ones, any other layer its own."""
    return EXPANDED if isinstance(block, Block) and getattr(block, "expands", False) else DIRECT


def crop(tensor: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """The leading ``shape`` of ``tensor`` along channel dimensions, the centre along a kernel's two
    spatial ones: a view, so that gradients and batch-norm updates reach the shared tensor."""
    if tensor.shape == shape:
        return tensor
    index = []
    for dim, (have, want) in enumerate(zip(tensor.shape, shape, strict=True)):
        start = (have - want) // 2 if tensor.dim() == 4 and dim >= 2 else 0
        index.append(slice(start, start + want))
    return tensor[tuple(index)]


class _Spec(NamedTuple):
    shape: tuple[int, ...]
    parameter: bool
    dtype: torch.dtype
    owner: type


def _union(layers: Iterable[tuple[Any, int, int, int]]) -> dict[str, dict[str, _Spec]]:
    """Per path, every tensor name and the largest shape it takes over ``layers``."""
    union: dict[str, dict[str, _Spec]] = {}
    for layer in layers:
        template = _template(*layer)
        params = dict(template.named_parameters())
        state = {**params, **dict(template.named_buffers())}
        store = union.setdefault(_path(layer[0]), {})
        for name, key, _ in _tensor_names(*layer):
            tensor = state[name]
            owner = type(template.get_submodule(name.rpartition(".")[0]))
            old = store.get(key)
            shape = tuple(tensor.shape) if old is None else tuple(map(max, old.shape, tensor.shape))
            store[key] = _Spec(shape, name in params, tensor.dtype, owner)
    return union


class _Store(nn.Module):
    """The shared tensors of one path of one place, under their template names (dots as ``__``)."""

    def __init__(self, specs: Mapping[str, _Spec]) -> None:
        super().__init__()
        for key, spec in sorted(specs.items()):
            tensor = torch.zeros(spec.shape, dtype=spec.dtype)
            attr = key.replace(".", "__")
            if spec.parameter:
                self.register_parameter(attr, nn.Parameter(tensor))
            else:
                self.register_buffer(attr, tensor)
            _initialise(getattr(self, attr), key, spec.owner)

    def get(self, key: str) -> torch.Tensor:
        return getattr(self, key.replace(".", "__"))


def _initialise(tensor: torch.Tensor, key: str, owner: type) -> None:
    """As :func:`nas.arch.build_model` initialises each layer (He-normal convs, unit batch norm, ...)."""
    with torch.no_grad():
        name = key.rpartition(".")[2]
        if issubclass(owner, nn.Conv2d) and name == "weight":
            nn.init.kaiming_normal_(tensor, mode="fan_out")
        elif issubclass(owner, nn.Linear) and name == "weight":
            bound = 1.0 / tensor.shape[0] ** 0.5
            nn.init.uniform_(tensor, -bound, bound)
        elif name in ("weight", "running_var"):
            tensor.fill_(1)


class Place(nn.Module):
    """The shared tensors of one place, and the layers (or heads) it can run."""

    def __init__(self, union: Mapping[str, Mapping[str, _Spec]], kind: str | None = None) -> None:
        super().__init__()
        self.kind = kind  # the block kind of a stage's place; None for the stem's and the head
        self.paths = nn.ModuleDict({path: _Store(specs) for path, specs in union.items()})

    def tensors(self, block: Block | HeadSpec, cin: int, cout: int, stride: int) -> dict[str, torch.Tensor]:
        """The layer's every tensor, by its name in the module :func:`nas.arch.build_model` builds."""
        path = _path(block)
        if path not in self.paths:
            raise UsageError(f"supernet: no shared weights for {block} at {cin} -> {cout} channels")
        store = self.paths[path]
        out = {}
        for name, key, shape in _tensor_names(block, cin, cout, stride):
            shared = store.get(key)
            if any(w > h for w, h in zip(shape, shared.shape, strict=True)):
                raise UsageError(f"supernet: {key} of {block} needs {tuple(shape)}")
            out[name] = crop(shared, shape)
        return out

    def run(self, x: torch.Tensor, block: Block | HeadSpec, cout: int, stride: int) -> torch.Tensor:
        template = _template(block, x.shape[1], cout, stride)
        template.train(self.training)
        return functional_call(template, self.tensors(block, x.shape[1], cout, stride), (x,))


# -- the network ------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Setting:
    """What a supernet is trained for: the proxy network's settings, the data's channels, classes and
    resolution. Subnets are the space's networks as :func:`nas.training.proxy_spec` makes them."""

    proxy: ProxySettings
    in_channels: int
    num_classes: int
    resolution: int


class Supernet(nn.Module):
    """Every network of ``space`` (as ``setting`` trains it) in one module; ``forward(x, subnet)``."""

    def __init__(self, space: SearchSpace, setting: Setting) -> None:
        super().__init__()
        check_space(space)
        self.space, self.setting = space, setting
        parts = dataclasses.replace(space, in_channels=setting.in_channels).parts(setting.proxy.width)
        self.stem = nn.ModuleList(Place(_union(_layers(p))) for p in parts.stem)
        self.stages = nn.ModuleList(
            nn.ModuleList(Place(_union(_layers(repeat)), template.kinds[0]) for repeat in stage)
            for stage, template in zip(parts.stages, space.stages, strict=True)
        )
        heads = {(head, x.c, setting.num_classes, 0) for head, x in parts.heads}
        self.head = Place(_union(heads))

    def place(self, slot: Slot) -> Place:
        if slot.group == "stem":
            return self.stem[slot.index]
        return self.stages[slot.index][slot.repeat]

    def subnet(self, params: Mapping[str, Label], spec: ArchSpec | None = None) -> Subnet:
        """The network ``params`` (a trial's parameters) describe, as this supernet runs it; ``spec``, the
        same network written otherwise (a zoo entry's stages and dropout), is built as written."""
        s = self.setting
        spec = self.space.decode(params) if spec is None else spec
        spec = proxy_spec(spec, s.proxy, s.resolution).replace(in_channels=s.in_channels)
        slots = [Slot("stem", k, 0) for k in range(len(self.stem))]
        slots += [Slot("stages", i, r) for i, d in enumerate(self.space.depths(params)) for r in range(d)]
        if len(slots) != len(spec.layers()):
            raise UsageError(
                f"supernet: {spec.name} has {len(spec.layers())} layers; its parameters give {len(slots)}"
            )
        return Subnet(dict(params), spec, tuple(slots))

    def forward(self, x: torch.Tensor, subnet: Subnet) -> torch.Tensor:
        for layer, slot in zip(subnet.spec.layers(), subnet.slots, strict=True):
            x = self.place(slot).run(x, layer.block, layer.cout, layer.stride)
        return self.head.run(x, subnet.spec.head, self.setting.num_classes, 0)

    def extract(self, subnet: Subnet) -> Network:
        """A standalone :class:`nas.arch.Network` of ``subnet`` holding copies of its inherited weights."""
        model = build_model(subnet.spec, self.setting.num_classes)
        layers = [*model.stem, *(block for stage in model.stages for block in stage)]
        with torch.no_grad():
            for module, layer, slot in zip(layers, subnet.spec.layers(), subnet.slots, strict=True):
                tensors = self.place(slot).tensors(layer.block, layer.cin, layer.cout, layer.stride)
                module.load_state_dict({k: v.clone() for k, v in tensors.items()})
            channels = subnet.spec.layers()[-1].cout
            head = self.head.tensors(subnet.spec.head, channels, self.setting.num_classes, 0)
            model.head.load_state_dict({k: v.clone() for k, v in head.items()})
        return model.to(next(self.parameters()).device)


def _layers(found: Iterable[Any]) -> set[tuple[Block, int, int, int]]:
    """The layers a place can hold, told apart by what shapes their tensors: activations and the skip
    connection hold no weights, so layers differing only there are counted once."""
    return {(_shape_only(layer.block), layer.x.c, layer.cout, layer.stride) for layer in found}


def _shape_only(record: Any) -> Any:
    changes: dict[str, Any] = {}
    for field in dataclasses.fields(record):
        value = getattr(record, field.name)
        if field.name == "act" and isinstance(value, Activation):
            changes["act"] = Activation.RELU
        elif field.name == "skip":
            changes["skip"] = False
        elif dataclasses.is_dataclass(value):
            changes[field.name] = _shape_only(value)
    return dataclasses.replace(record, **changes)


# -- the sandwich rule's subnets ------------------------------------------------------------------------


class Extreme:
    """An ``rng`` for :meth:`SearchSpace.draw_params` that picks the largest (or smallest) option of every
    numeric choice (width, depth, expansion, kernel), SE over none (none over SE) and, for the largest,
    true over false (the skip connection); the other choices (activation) at random: BigNAS's largest
    and smallest networks."""

    def __init__(self, largest: bool, rng: Any) -> None:
        self.largest, self.rng = largest, rng

    def choice(self, labels: tuple[Label, ...]) -> Label:
        numbers = [x for x in labels if isinstance(x, int | float) and not isinstance(x, bool)]
        if len(numbers) == len(labels):
            return max(numbers) if self.largest else min(numbers)
        if None in labels:
            present = [x for x in labels if x is not None]
            return present[0] if self.largest else None
        if self.largest and any(x is True for x in labels):
            return True
        return self.rng.choice(labels)
