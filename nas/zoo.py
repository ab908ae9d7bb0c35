"""The handcrafted networks of the lightweight-CNN literature, as specs stored in ``conf/arch/NAME.yaml``.

A zoo file is either a spec, or a scaled one: ``scaled: {base: efficientnet_b0, coefficients: b3}`` with
an optional ``name`` and batch-norm settings ``bn`` (see :class:`nas.blocks.BatchNorm`), which is the base
scaled by :data:`nas.scaling.EFFICIENTNET` (EfficientNet B1-B7 are not written by hand).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from nas import scaling
from nas.arch import ArchSpec, load_spec
from nas.blocks import BatchNorm
from nas.errors import SpecError
from nas.paths import ARCH
from nas.records import as_plain, check_one_of


def names() -> list[str]:
    """Every network in the zoo, sorted."""
    return sorted(p.stem for p in ARCH.glob("*.yaml"))


def get(name: str) -> ArchSpec:
    """The spec of zoo network ``name``."""
    path = ARCH / f"{name}.yaml"
    if not path.is_file():
        raise SpecError("arch", f"unknown network {name!r}; the zoo has: {', '.join(names())}")
    return _load_file(path)


def resolve(arch: str) -> ArchSpec:
    """``arch=NAME`` (a zoo network) or ``arch=path/to/spec.yaml``, as every command takes it."""
    if arch.endswith((".yaml", ".yml")) or "/" in arch:
        return _load_file(Path(arch))
    return get(arch)


def from_data(data: Mapping[str, Any]) -> ArchSpec:
    """A spec from the contents of a zoo file (plain or scaled), e.g. a Hydra-composed ``cfg.arch``."""
    data = as_plain(data)
    if "scaled" not in data:
        return load_spec(data)
    unknown = sorted(set(data) - {"scaled", "name", "bn"})
    if unknown:
        raise SpecError("", f"unknown key {unknown[0]!r} beside 'scaled'; expected name or bn")
    scaled = data["scaled"]
    if not isinstance(scaled, Mapping) or set(scaled) != {"base", "coefficients"}:
        raise SpecError("scaled", "expected {base: ZOO_NAME, coefficients: b0..b7}")
    check_one_of("scaled.coefficients", scaled["coefficients"], scaling.EFFICIENTNET)
    base = get(str(scaled["base"]))
    spec = scaling.scale(base, scaling.EFFICIENTNET[scaled["coefficients"]], name=data.get("name"))
    return spec.replace(bn=BatchNorm.from_data(data["bn"], "bn")) if "bn" in data else spec


def _load_file(path: Path) -> ArchSpec:
    try:
        if not path.is_file():
            raise SpecError("", f"no spec file at {path}")
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as err:
            raise SpecError("", f"not valid YAML: {str(err).splitlines()[0]}") from None
        if not isinstance(data, Mapping):
            raise SpecError("", f"expected a mapping; got {type(data).__name__}")
        return from_data(data)
    except SpecError as err:
        raise SpecError(f"{path}: {err.path}" if err.path else str(path), err.message) from None


__all__ = ["from_data", "get", "names", "resolve"]
