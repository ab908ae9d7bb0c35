"""The handcrafted networks of the lightweight-CNN literature, as specs stored in ``conf/arch/NAME.yaml``.

A zoo file is either a spec, or a scaled one (:func:`nas.scaling.scale`), which is how published
variants are derived from their base rather than written by hand::

    scaled:
      base: efficientnet_b0            # a zoo network
      coefficients: b3                 # a published EfficientNet set (nas.scaling.EFFICIENTNET), or
                                       # {width, depth, resolution, dropout}
      depth_rounding: round            # the family's rounding rules (nas.scaling.RULES), optional:
      fixed_stem: true                 # divisor, min_width, depth_rounding, fixed_stem, fixed_head,
                                       # fixed_first_last

with an optional ``name`` and batch-norm settings ``bn`` (see :class:`nas.blocks.BatchNorm`) beside
``scaled``. EfficientNet B1-B7, TinyNet-A to -E, EfficientNet-Lite1/2/4 and the width variants
(MixNet-L, MobileNetV3-Large 0.75, PP-LCNet 0.5x/1.5x) are made this way.
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
from nas.records import as_plain, check_keys, check_one_of


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
    if not isinstance(scaled, Mapping):
        raise SpecError("scaled", f"expected a mapping {{base: ZOO_NAME, coefficients: ...}}; got {scaled!r}")
    coefficients = _coefficients(scaled)
    try:
        base = get(str(scaled["base"]))
    except SpecError as err:  # an unknown name is this file's error; one inside the base file is the base's
        raise (SpecError("scaled.base", err.message) if err.path == "arch" else err) from None
    spec = scaling.scale(base, coefficients, name=data.get("name"))
    return spec.replace(bn=BatchNorm.from_data(data["bn"], "bn")) if "bn" in data else spec


def _coefficients(scaled: Mapping[str, Any]) -> scaling.Coefficients:
    """The coefficients of a ``scaled:`` entry: a published set or the multipliers, and the rules."""
    check_keys("scaled", scaled, ("base", "coefficients", *scaling.RULES), ("base", "coefficients"))
    given = scaled["coefficients"]
    if isinstance(given, Mapping):
        extra = sorted(set(given) - set(scaling.MULTIPLIERS))
        if extra:
            where = " (a rounding rule: give it beside coefficients)" if extra[0] in scaling.RULES else ""
            raise SpecError(
                "scaled.coefficients",
                f"unknown key {extra[0]!r}; expected {', '.join(scaling.MULTIPLIERS)}{where}",
            )
        coefficients = scaling.Coefficients.from_data(given, "scaled.coefficients")
    else:
        check_one_of("scaled.coefficients", given, scaling.EFFICIENTNET)
        coefficients = scaling.EFFICIENTNET[given]
    try:
        return coefficients.replace(**{key: scaled[key] for key in scaling.RULES if key in scaled})
    except SpecError as err:
        raise err.within("scaled") from None


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
