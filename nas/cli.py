"""What every command does with bad input: one clear line on stderr, exit status 2, no traceback; and
what every command's Hydra config composes beside ``conf/``: the search spaces as the ``space`` group,
and a ``--help`` that lists the groups the command uses."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from omegaconf import DictConfig, OmegaConf

from nas import spaces, zoo
from nas.arch import ArchSpec
from nas.errors import USAGE_ERROR, SpecError, UsageError
from nas.paths import CONF
from nas.sweep import SweepJob

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


SPACE = "space"  # the config group of search spaces: search_spaces/NAME.yaml composed into cfg.space
FILE = "file:"  # a space file's option in that group: file:DIR:NAME.yaml for DIR/NAME.yaml
ADDED_GROUPS = {"search": ("preset",)}  # groups a command takes with +GROUP=NAME (in no defaults list)
HELP = "nas"  # the `hydra/help` option of every command: its own groups only (see _groups_help)


def rewrite_overrides(args: list[str], groups: dict[str, list[str]]) -> list[str]:
    """Check config-group choices before Hydra sees them, and let ``arch=`` and ``space=`` take files.

    ``arch`` is a Hydra config group (``conf/arch/NAME.yaml``), so ``arch=NAME`` composes the spec into
    the config and ``arch.head.dropout=0.3`` edits it. A file path is no group option, so
    ``arch=PATH`` becomes ``~arch +arch_file=PATH``. ``space=PATH`` becomes ``space=file:...``, an
    option registered for that file, so that ``space.*`` overrides edit a space file as they edit a
    shipped one; ``+space.stages.7=...`` (a stage added) goes where Hydra can add it (:data:`ADDED`).
    An unknown choice of any group (``data=nope``) is a usage error here, listing the choices, rather
    than Hydra's multi-line exit status 1. A sweep (``data=a,b``) is checked choice by choice.
    """
    register_configs()
    out = []
    for arg in args:
        key, sep, value = arg.partition("=")
        if key.startswith(f"+{SPACE}.") and SPACE in groups:
            out.append(_added_entry(key, value))
        elif sep and key.startswith("+") and key[1:] in groups:  # +preset=NAME: a group added to the config
            for choice in _sweep(value):
                if choice not in groups[key[1:]]:
                    _unknown_choice(key[1:], choice, groups[key[1:]])
            out.append(arg)
        elif not sep or key not in groups:
            out.append(arg)
        elif key == "arch" and (value.endswith((".yaml", ".yml")) or "/" in value):
            out += ["~arch", f"+arch_file={value}"]
        else:
            choices = [_space_option(v) if key == SPACE else v for v in _sweep(value)]
            for choice in choices:
                if choice not in groups[key] and not choice.startswith(FILE):
                    _unknown_choice(key, choice, groups[key])
            out.append(f"{key}={','.join(choices)}")
    return out


def _sweep(value: str) -> list[str]:
    """The choices of a group override: ``a,b`` is a sweep of two (``-m``), anything else one choice."""
    return value.split(",") if "," in value and not value.startswith(("[", "{", "'", '"')) else [value]


def _unknown_choice(key: str, value: str, options: list[str]) -> None:
    what = {"arch": "network", SPACE: "space", "preset": "preset"}.get(key, "choice")
    print(f"error: {key}: unknown {what} {value!r}; expected one of: {', '.join(options)}", file=sys.stderr)
    raise SystemExit(USAGE_ERROR)


def _space_option(value: str) -> str:
    """The ``space`` option for ``value``: a shipped name as it is; a space file (or its ``file:`` option,
    as Hydra records it) registered in the group under ``file:`` and the path with ``/`` as ``:``."""
    if value.startswith(FILE):
        path = value.removeprefix(FILE).replace(":", "/")
    elif value.endswith((".yaml", ".yml")) or "/" in value:
        path = value
    else:
        return value
    if ":" in path.replace("/", ""):
        raise UsageError(f"space: a space file's path cannot hold ':'; got {path!r}")
    option = FILE + path.replace("/", ":")
    try:
        data = spaces.read(path)
    except SpecError as err:
        raise err.within(SPACE) from None
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(group=SPACE, name=option, node=data)
    return option


def _added_entry(key: str, value: str) -> str:
    """``+space.stages.7=V`` as ``+space._add.stages.7=V`` (Hydra cannot append to a list); any other
    ``+space.*`` override as it is."""
    parts = key.removeprefix("+").split(".")
    if len(parts) == 3 and parts[2].isdigit():
        return f"+{SPACE}.{spaces.ADDED}.{parts[1]}.{parts[2]}={value}"
    return f"{key}={value}"


def space_overrides() -> tuple[str, ...]:
    """The running Hydra job's ``space`` overrides as the user wrote them (``space=my.yaml``,
    ``+space.stages.7=...``), for the record; none outside a Hydra run (a test, a notebook)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return ()
    task = HydraConfig.get().overrides.task
    keys = [o.partition("=")[0].lstrip("+~") for o in task]
    return tuple(
        _as_given(o) for o, k in zip(task, keys, strict=True) if k == SPACE or k.startswith(f"{SPACE}.")
    )


def sweep_job(command: str) -> SweepJob | None:
    """The sweep this Hydra job belongs to (``-m``), or None for a single run (or outside Hydra).
    ``command``: how the user started it (``python -m nas.search``), for the record."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized() or HydraConfig.get().mode is not RunMode.MULTIRUN:
        return None
    hydra = HydraConfig.get()
    sweep_dir = Path(hydra.sweep.dir).resolve()
    subdir = os.path.relpath(Path(hydra.runtime.output_dir).resolve(), sweep_dir)
    overrides = _overrides_of(sys.argv[1:])
    given = [o for o in overrides if not o.startswith("hydra.")]
    return SweepJob(
        sweep_dir=sweep_dir,
        subdir=str(subdir),
        overrides=tuple(_as_given(o) for o in hydra.overrides.task),
        sweep_overrides=tuple(_as_given(o) for o in given),
        command=" ".join([command, "-m", *map(_as_given, overrides)]),  # hydra.sweep.dir= too: to resume
    )


def default_sweep_dir(argv: list[str], root: str, ignore: tuple[str, ...] = ()) -> list[str]:
    """``argv`` with ``hydra.sweep.dir=ROOT/NAME`` when it sweeps (``-m``) and names no directory:
    NAME comes from the sweep's overrides, so that the same sweep run again finds its directory, its
    storage and its studies, and resumes them (Hydra's default is a new time-stamped directory).
    Overrides of the keys in ``ignore`` (how long or with how many workers, not what) leave NAME as it is:
    ``n_trials=50`` after ``n_trials=20`` continues the same studies."""
    if not {"-m", "--multirun"} & set(argv) or any(a.startswith("hydra.sweep.dir=") for a in argv):
        return argv
    given = [
        _as_given(o)
        for o in _overrides_of(argv)
        if not o.startswith("hydra.") and o.split("=", 1)[0].lstrip("+~").split(".")[0] not in ignore
    ]
    name = "_".join(given).replace("=", "-").replace(",", "+")  # budget-150MFLOPs+300MFLOPs_seed-0+1
    name = re.sub(r"[^A-Za-z0-9+._-]+", "_", name).strip("_") or "default"
    if len(name) > 80:  # a long sweep: a readable start and a digest of the whole
        name = f"{name[:60]}-{hashlib.sha256(name.encode()).hexdigest()[:10]}"
    return [*argv, f"hydra.sweep.dir={root}/{name}"]


def _as_given(override: str) -> str:
    """An override as the user wrote it, before :func:`rewrite_overrides` (``space=file:a:b.yaml`` is
    ``space=a/b.yaml``; ``+space._add.stages.7`` is ``+space.stages.7``)."""
    key, _, value = override.partition("=")
    if key.lstrip("+~") == SPACE:
        value = ",".join(
            v.removeprefix(FILE).replace(":", "/") if v.startswith(FILE) else v for v in _sweep(value)
        )
    return f"{key.replace(f'.{spaces.ADDED}.', '.')}={value}"


@functools.cache  # once a process: a sweep composes once per value, and would read every space again
def register_configs() -> None:
    """What every command's config composes beside ``conf/``: the ``space`` group and ``hydra/help: nas``.
    Called before Hydra composes anything (:func:`rewrite_overrides`, :func:`compose`); idempotent.
    Not at import: ``nas.cli`` is imported by light packages (``nas.report``) that never load Hydra."""
    register_spaces()
    register_help()


def register_spaces() -> None:
    """Every shipped space as an option of the ``space`` group (``space=mnas``), composed as data."""
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    for name in spaces.names():
        store.store(group=SPACE, name=name, node=spaces.read(name))


def config_groups(conf: Path = CONF) -> dict[str, list[str]]:
    """The choices of every config group: those under ``conf/`` and ``space``, the shipped spaces."""
    folders = [d for d in sorted(conf.iterdir()) if d.is_dir() and not d.name.startswith("_")]  # __pycache__
    groups = {d.name: sorted(p.stem for p in d.glob("*.yaml")) for d in folders}
    return {**groups, SPACE: spaces.names()}


def command_groups(config_name: str, conf: Path = CONF) -> list[str]:
    """The config groups that ``conf/CONFIG_NAME.yaml`` composes: its defaults list, ``hydra/`` aside."""
    data = yaml.safe_load((conf / f"{config_name}.yaml").read_text()) or {}
    names = []
    for entry in data.get("defaults", []):
        if isinstance(entry, dict):
            name = next(iter(entry)).removeprefix("override ").strip()
            if not name.startswith("hydra/"):
                names.append(name)
    return names


def _groups_help(config_name: str) -> str:
    """The ``--help`` lines of a command's groups, ``group: option, option``: only those it composes
    (Hydra's own list would show every folder of ``conf/``, ``arch`` for a search that takes none)."""
    groups = config_groups()
    lines = [f"{g}: {', '.join(groups.get(g, []))}" for g in command_groups(config_name)]
    lines += [f"+{g}: {', '.join(groups.get(g, []))}" for g in ADDED_GROUPS.get(config_name, ())]
    return "\n".join(lines)


def register_help() -> None:
    """``hydra/help: nas``: Hydra's help, with the command's own groups and the composed config."""
    if not OmegaConf.has_resolver("nas.groups"):
        OmegaConf.register_new_resolver("nas.groups", _groups_help)
    template = (
        "${hydra.help.header}\n== Configuration groups ==\nCompose your configuration from those groups "
        "(group=option)\n\n${nas.groups:${hydra.job.config_name}}\n\n== Config ==\nOverride anything "
        "in the config (foo.bar=value)\n\n$CONFIG\n\n${hydra.help.footer}"
    )
    node = {
        "app_name": "python -m nas.${hydra.job.config_name}",
        "header": "${hydra.help.app_name}: Hydra configuration (group=option, key=value, -m for sweeps).\n",
        "footer": "Use --hydra-help to view Hydra's own options.\n",
        "template": template,
    }
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(group="hydra/help", name=HELP, node=node)


def arch_from_config(cfg: DictConfig) -> ArchSpec:
    """The spec a command was given: ``cfg.arch`` (a zoo entry, possibly edited) or ``cfg.arch_file``."""
    if cfg.get("arch_file"):
        return zoo.resolve(str(cfg.arch_file))
    if cfg.get("arch") is None:
        raise UsageError("arch: give a zoo name (arch=mobilenet_v2) or a spec file (arch=path/to/spec.yaml)")
    return zoo.from_data(cfg.arch)


def hydra_argv(config_name: str | None = None) -> None:
    """Apply :func:`rewrite_overrides` to this process's command line, then, given the command's config,
    compose it once with the overrides (:func:`check_overrides`): a mistake is one line, exit status 2."""
    try:
        sys.argv[1:] = rewrite_overrides(sys.argv[1:], config_groups())
        if config_name is not None:
            check_overrides(config_name, sys.argv[1:])
    except (SpecError, UsageError) as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(USAGE_ERROR) from None


# Hydra's flags that take a value, and those after which the command does not run (nothing to check).
_VALUE_FLAGS = (
    "--cfg",
    "-c",
    "--package",
    "-p",
    "--config-path",
    "-cp",
    "--config-name",
    "-cn",
    "--config-dir",
    "-cd",
    "--experimental-rerun",
)
_NO_RUN_FLAGS = (
    "--help",
    "-h",
    "--hydra-help",
    "--info",
    "-i",
    "--shell-completion",
    "-sc",
    "--config-name",
    "-cn",
    "--config-dir",
    "-cd",
    "--experimental-rerun",
)


def check_overrides(config_name: str, argv: list[str]) -> None:
    """Compose ``conf/CONFIG_NAME.yaml`` with the command line's overrides, so that one Hydra cannot apply
    (``space.stages.9.kernel=[3]`` past the last stage, a key that does not exist) is a
    :class:`UsageError` naming it, not Hydra's message and hint with exit status 1; and parse the space
    it composes, if any. A sweep (``-m``) is checked value by value."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    if any(arg in _NO_RUN_FLAGS for arg in argv):
        return
    args = _overrides_of(argv)
    try:
        parsed = OverridesParser.create().parse_overrides(args)
    except HydraException as err:
        raise UsageError(f"override: {_first_line(err)}") from None
    fixed = [o.input_line for o in parsed if not o.is_sweep_override()]
    tries = [
        fixed
        + [
            f"{o.get_key_element()}={next(iter(o.sweep_string_iterator()))}"
            for o in parsed
            if o.is_sweep_override()
        ]
    ]
    for o in parsed:  # each further value of each sweep, the others at their first
        if o.is_sweep_override():
            tries += [[*tries[0], f"{o.get_key_element()}={v}"] for v in list(o.sweep_string_iterator())[1:]]
    for overrides in tries:
        try:
            cfg = compose(config_name, overrides, rewrite=False)
        except (HydraException, OmegaConfBaseException) as err:
            raise UsageError(_override_error(err, overrides)) from None
        if SPACE in cfg:  # the space as edited, parsed: a sweep's every space is checked before its first job
            spaces.from_config(cfg[SPACE])


def _overrides_of(argv: list[str]) -> list[str]:
    """The overrides of a command line: Hydra's flags and their values aside."""
    out, skip = [], False
    for arg in argv:
        if not skip and not arg.startswith("-"):
            out.append(arg)
        skip = arg in _VALUE_FLAGS
    return out


def _override_error(err: Exception, overrides: list[str]) -> str:
    """One line of Hydra's error: the override it names, and its cause (``list index out of range``)."""
    cause = err.__cause__ or err
    message = _first_line(cause)
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if any(f"'{key}'" in str(e) or f"override {key}=" in str(e) for e in (err, cause)):
            return f"{key}: {message}"
    return f"override: {_first_line(err)}" + (f" ({message})" if cause is not err else "")


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def compose(config_name: str, overrides: list[str], rewrite: bool = True) -> DictConfig:
    """The config a command composes from ``overrides``, as its command line would (tests, notebooks)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_configs()
    if rewrite:
        overrides = rewrite_overrides(list(overrides), config_groups())
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return hydra_compose(config_name, overrides=overrides)


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
