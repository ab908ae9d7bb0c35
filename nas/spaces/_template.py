"""The value language of search-space files: fixed values, choices (lists) and ``$name`` references.

A template node resolves to a plain YAML value through a :class:`Chooser`, which makes each choice: an
Optuna trial (``sample``), a dict of parameters (``decode``), or the depth-first replay of ``encode``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import yaml

from nas.errors import SpecError

Label = None | bool | int | float | str  # what Optuna's suggest_categorical accepts


class Chooser(Protocol):
    def choose(self, name: str, labels: tuple[Label, ...]) -> Label:
        """One of ``labels`` for the parameter ``name``."""


@dataclass(frozen=True)
class Ref:
    """``$name``: the value of a shared choice, made once per network and used in many places."""

    name: str


@dataclass(frozen=True)
class Pick:
    """A list in a space file: one of ``options`` (each a template node itself)."""

    options: tuple[Node, ...]
    # How each option appears as an Optuna parameter value: itself when it is a scalar, else its YAML
    # text (a mapping option such as ``{ratio: 0.25, act: $act}``).
    labels: tuple[Label, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(_label(o) for o in self.options))


Node = Any  # a scalar, a Ref, a Pick, a dict of nodes, or a literal list of nodes (stem and head only)


def parse(data: Any, path: str, choices: bool = True) -> Node:
    """A template node from YAML data. With ``choices=False`` (a space's stem and head) lists are
    literal and only ``$name`` references vary; a choice there is declared as a shared one."""
    if isinstance(data, str) and data.startswith("$"):
        return Ref(data[1:])
    if isinstance(data, list) and not choices:  # a literal list (the head's hidden layers)
        return [parse(item, f"{path}[{i}]", choices) for i, item in enumerate(data)]
    if isinstance(data, list):
        if not data:
            raise SpecError(path, "empty choice list")
        if any(isinstance(item, list) for item in data):
            raise SpecError(path, "a choice among lists is not allowed")
        options = tuple(parse(item, f"{path}[{i}]") for i, item in enumerate(data))
        pick = Pick(options)
        if len(set(map(repr, pick.labels))) != len(pick.labels):
            raise SpecError(path, f"repeated option in {data}")
        return pick
    if isinstance(data, Mapping):
        return {str(k): parse(v, f"{path}.{k}" if path else str(k), choices) for k, v in data.items()}
    return data


def resolve(node: Node, name: str, chooser: Chooser, shared: Mapping[str, Any]) -> Any:
    """The plain value of ``node``; a choice is the parameter ``name``, nested ones ``name.key``."""
    if isinstance(node, Ref):
        return shared[node.name]
    if isinstance(node, Pick):
        option = node.options[0]
        if len(node.options) > 1:  # a single option is fixed, not a parameter
            option = node.options[node.labels.index(chooser.choose(name, node.labels))]
        return resolve(option, name, chooser, shared)
    if isinstance(node, dict):
        return {k: resolve(v, f"{name}.{k}", chooser, shared) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, f"{name}[{i}]", chooser, shared) for i, v in enumerate(node)]
    return node


def count(node: Node) -> int:
    """How many parameter assignments ``node`` has (shared choices are counted where declared)."""
    if isinstance(node, Pick):
        return sum(count(o) for o in node.options)
    if isinstance(node, dict):
        product = 1
        for value in node.values():
            product *= count(value)
        return product
    return 1


def values(node: Node, shared: Mapping[str, Any]) -> Iterator[Any]:
    """Every plain value ``node`` can resolve to, for exhaustive minimisation."""
    if isinstance(node, Ref):
        yield shared[node.name]
    elif isinstance(node, Pick):
        for option in node.options:
            yield from values(option, shared)
    elif isinstance(node, dict):
        keys = list(node)
        for combo in itertools.product(*(list(values(node[k], shared)) for k in keys)):
            yield dict(zip(keys, combo, strict=True))
    else:
        yield node


def refs(node: Node) -> Iterator[str]:
    """The names of the shared choices ``node`` refers to."""
    if isinstance(node, Ref):
        yield node.name
    elif isinstance(node, Pick):
        for option in node.options:
            yield from refs(option)
    elif isinstance(node, dict | list):
        for value in node.values() if isinstance(node, dict) else node:
            yield from refs(value)


def _label(option: Node) -> Label:
    if isinstance(option, Ref):
        return f"${option.name}"
    if isinstance(option, dict):
        return yaml.safe_dump(_unparse(option), default_flow_style=True, width=1000, sort_keys=False).strip()
    return option  # type: ignore[no-any-return]


def _unparse(node: Node) -> Any:
    if isinstance(node, Ref):
        return f"${node.name}"
    if isinstance(node, Pick):
        return [_unparse(o) for o in node.options]
    if isinstance(node, dict):
        return {k: _unparse(v) for k, v in node.items()}
    return node
