"""Search spaces: specs with choices, declared as data in ``search_spaces/NAME.yaml``.

``load(name)`` gives a :class:`SearchSpace`; ``from_config(cfg.space)`` the space a command's config
composed (``space=NAME`` is a Hydra config group, edited by overrides such as
``space.stages.3.kernel=[3,5]``); ``space.sample(trial)`` draws a network define-by-run,
``space.encode(spec)`` gives the parameters that replay a network of the space
(``study.enqueue_trial(space.encode(spec))``), ``space.size()`` counts its configurations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from omegaconf import OmegaConf

from nas.errors import SpecError, UsageError
from nas.paths import SEARCH_SPACES
from nas.spaces._space import NotInSpace, Parts, SearchSpace
from nas.spaces._stage import LayerInput
from nas.spaces._template import Label

ADDED = "_add"  # where nas.cli sends ``+space.LIST.N=...``: entries a list gains (see with_additions)


def names() -> list[str]:
    """The spaces shipped in ``search_spaces/``."""
    return sorted(p.stem for p in SEARCH_SPACES.glob("*.yaml"))


def read(name: str) -> dict[str, Any]:
    """The data of a shipped space (by name) or a space file (by path), as its YAML holds it."""
    path = _path(name)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise SpecError(path.name, f"not valid YAML: {str(err).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise SpecError(path.name, f"expected a mapping; got {type(data).__name__}")
    return data


def _path(name: str) -> Path:
    path = Path(name) if name.endswith((".yaml", ".yml")) else SEARCH_SPACES / f"{name}.yaml"
    if not path.is_file():
        if path.parent == SEARCH_SPACES:
            raise UsageError(f"space: unknown space {name!r}; expected one of: {', '.join(names())}")
        raise UsageError(f"space: no space file at {path}")
    return path


def from_config(node: Any, where: str = "space") -> SearchSpace:
    """The space a command's config holds at ``where``: the mapping that ``space=NAME`` composed (with
    the command line's overrides applied), or a name or a space file's path (a config written before
    spaces were a config group). A mistake names its path in the config: ``space.stages[3].kernel: ...``.
    """
    if isinstance(node, str):
        return load(node)
    try:
        return SearchSpace.from_data(data_of(node, where))
    except SpecError as err:
        raise err.within(where) from None


def data_of(node: Any, where: str = "space") -> dict[str, Any]:
    """A config's space as plain data, as a space file would hold it (stages added by overrides in their
    lists): what a run records of the space it searched."""
    if isinstance(node, str):
        return read(node)
    if OmegaConf.is_config(node):
        node = OmegaConf.to_container(node, resolve=True)
    if not isinstance(node, Mapping):
        raise SpecError(where, f"expected a space (a mapping, a name or a file); got {type(node).__name__}")
    return with_additions(dict(node))


def with_additions(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with the entries that ``+space.stages.7=...`` added appended to their lists.

    Hydra cannot append to a list from the command line (an index past the end is an error), so
    ``nas.cli`` sends such an override to ``space.{ADDED}.stages.7``; here entry 7 is appended, and
    must be the next one: a list of 7 stages takes 7, then 8."""
    added = data.pop(ADDED, None)
    if added is None:
        return data
    if not isinstance(added, Mapping):
        raise SpecError(ADDED, f"expected a mapping of lists to entries; got {type(added).__name__}")
    for key, entries in added.items():
        target = data.get(key)
        if not isinstance(target, list) or not isinstance(entries, Mapping):
            raise SpecError(str(key), "only a list takes added entries (+space.stages.N=...)")
        target = list(target)
        for index in sorted(entries, key=_index(str(key))):
            if int(index) != len(target):
                n = len(target)
                raise SpecError(
                    f"{key}[{index}]", f"cannot add entry {index}: {key} has {n}, so the next is {n}"
                )
            target.append(entries[index])
        data[str(key)] = target
    return data


def _index(key: str) -> Callable[[Any], int]:
    def index(value: Any) -> int:
        if not str(value).isdigit():
            raise SpecError(f"{key}.{value}", "expected an index (+space.stages.7=...)")
        return int(value)

    return index


def load(name: str) -> SearchSpace:
    """A shipped space by name, or a space file by path (``my_space.yaml``).

    An unknown name is a :class:`nas.errors.UsageError` listing the spaces; a bad file a
    :class:`SpecError` naming the path of the bad entry, prefixed with the file name.
    """
    path = _path(name)
    try:
        return SearchSpace.from_data(yaml.safe_load(path.read_text()))
    except yaml.YAMLError as err:
        raise SpecError(path.name, f"not valid YAML: {str(err).splitlines()[0]}") from None
    except SpecError as err:
        raise SpecError(f"{path.name} {err.path}".strip(), err.message) from None


__all__ = [
    "ADDED",
    "Label",
    "LayerInput",
    "NotInSpace",
    "Parts",
    "SearchSpace",
    "from_config",
    "load",
    "names",
    "read",
    "with_additions",
]
