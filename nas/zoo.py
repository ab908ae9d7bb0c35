"""The handcrafted networks of the lightweight-CNN literature, as specs stored in ``conf/arch/NAME.yaml``."""

from __future__ import annotations

from pathlib import Path

from nas._paths import ARCH
from nas._record import SpecError
from nas._spec import ArchSpec, load_spec


def names() -> list[str]:
    """Every network in the zoo, sorted."""
    return sorted(p.stem for p in ARCH.glob("*.yaml"))


def get(name: str) -> ArchSpec:
    """The spec of zoo network ``name``."""
    path = ARCH / f"{name}.yaml"
    if not path.is_file():
        raise SpecError("arch", f"unknown network {name!r}; the zoo has: {', '.join(names())}")
    try:
        return load_spec(path)
    except SpecError as err:
        raise SpecError(f"{path.name}: {err.path}" if err.path else path.name, err.message) from None


def resolve(arch: str) -> ArchSpec:
    """``arch=NAME`` (a zoo network) or ``arch=path/to/spec.yaml``, as every command takes it."""
    if arch.endswith((".yaml", ".yml")) or "/" in arch:
        path = Path(arch)
        try:
            return load_spec(path)
        except SpecError as err:
            raise SpecError(f"{path}: {err.path}" if err.path else str(path), err.message) from None
    return get(arch)


__all__ = ["get", "names", "resolve"]
