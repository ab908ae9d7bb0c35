"""What every command does with bad input: one clear line on stderr, exit status 2, no traceback."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from omegaconf import DictConfig

from nas import zoo
from nas.arch import ArchSpec
from nas.errors import USAGE_ERROR, SpecError, UsageError
from nas.paths import CONF

T = TypeVar("T")


def exits_on_usage_error(run: Callable[..., T]) -> Callable[..., T]:
    """Wrap a command's ``run(cfg)``: turn the errors a user can fix into one line and exit status 2.

    Hydra reports exceptions with a partial traceback; ``SystemExit`` passes through it untouched.
    """

    @functools.wraps(run)
    def wrapper(*args: object, **kwargs: object) -> T:
        try:
            return run(*args, **kwargs)
        except (SpecError, UsageError) as err:
            print(f"error: {err}", file=sys.stderr)
            raise SystemExit(USAGE_ERROR) from None

    return wrapper


def rewrite_overrides(args: list[str], groups: dict[str, list[str]]) -> list[str]:
    """Check config-group choices before Hydra sees them, and let ``arch=`` take a spec file.

    ``arch`` is a Hydra config group (``conf/arch/NAME.yaml``), so ``arch=NAME`` composes the spec into
    the config and ``arch.head.dropout=0.3`` edits it. A file path is no group option, so
    ``arch=PATH`` becomes ``~arch +arch_file=PATH``. An unknown choice of any group (``data=nope``)
    is a usage error here, listing the choices, rather than Hydra's multi-line exit status 1.
    """
    out = []
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or key not in groups:
            out.append(arg)
        elif key == "arch" and (value.endswith((".yaml", ".yml")) or "/" in value):
            out += ["~arch", f"+arch_file={value}"]
        elif value not in groups[key]:
            what = "network" if key == "arch" else "choice"
            options = ", ".join(groups[key])
            print(f"error: {key}: unknown {what} {value!r}; expected one of: {options}", file=sys.stderr)
            raise SystemExit(USAGE_ERROR)
        else:
            out.append(arg)
    return out


def config_groups(conf: Path = CONF) -> dict[str, list[str]]:
    """The choices of every config group under ``conf/``: ``{"arch": [...], "data": [...], ...}``."""
    return {d.name: sorted(p.stem for p in d.glob("*.yaml")) for d in sorted(conf.iterdir()) if d.is_dir()}


def arch_from_config(cfg: DictConfig) -> ArchSpec:
    """The spec a command was given: ``cfg.arch`` (a zoo entry, possibly edited) or ``cfg.arch_file``."""
    if cfg.get("arch_file"):
        return zoo.resolve(str(cfg.arch_file))
    if cfg.get("arch") is None:
        raise UsageError("arch: give a zoo name (arch=mobilenet_v2) or a spec file (arch=path/to/spec.yaml)")
    return zoo.from_data(cfg.arch)


def hydra_argv() -> None:
    """Apply :func:`rewrite_overrides` to this process's command line."""
    sys.argv[1:] = rewrite_overrides(sys.argv[1:], config_groups())


def instantiate_group(node: Any, group: str, *args: Any) -> Any:
    """The object a config group's ``_target_`` names, called with ``args`` and the group's arguments; a
    mistake in the group (an unknown class or argument, a value its class refuses) is a usage error
    naming the group."""
    import inspect

    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    if not isinstance(node, DictConfig | dict) or "_target_" not in node:
        raise UsageError(f"{group}: expected a _target_ to instantiate; got {node!r}")
    try:
        factory = instantiate(node, _partial_=True)
    except InstantiationException as err:  # no such class
        raise UsageError(f"{group}: {str(err).strip().splitlines()[0]}") from None
    try:
        inspect.signature(factory.func).bind(*factory.args, *args, **factory.keywords)
    except TypeError as err:  # an argument the class does not take, or one it needs
        raise UsageError(f"{group}: {factory.func.__name__} {err}") from None
    try:
        return factory(*args)
    except SpecError as err:  # a typed record refused a value: name it within the group
        raise err.within(group) from None
