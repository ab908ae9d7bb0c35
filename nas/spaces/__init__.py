"""Search spaces: specs with choices, declared as data in ``search_spaces/NAME.yaml``.

``load(name)`` gives a :class:`SearchSpace`; ``space.sample(trial)`` draws a network define-by-run,
``space.encode(spec)`` gives the parameters that replay a network of the space
(``study.enqueue_trial(space.encode(spec))``), ``space.size()`` counts its configurations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from nas.errors import SpecError, UsageError
from nas.paths import SEARCH_SPACES
from nas.spaces._space import NotInSpace, Parts, SearchSpace
from nas.spaces._stage import LayerInput
from nas.spaces._template import Label


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


__all__ = ["Label", "LayerInput", "NotInSpace", "Parts", "SearchSpace", "load", "names", "read"]
