"""From a config (the command's, or the search's ``latency:`` group) to a setting and its table: shared
by ``python -m nas.latency`` and the search, which refuse a bad value or table the same way."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nas.errors import UsageError
from nas.latency._table import Environment, LatencyTable, TableError, default_path, load_table
from nas.latency._timing import Setting
from nas.paths import latency_tables


def setting_from_config(cfg: Mapping[str, Any]) -> Setting:
    """The timing setting of a config's ``device``, ``threads``, ``batch_size`` and ``backend``."""
    try:
        return Setting(str(cfg["device"]), cfg["threads"], cfg["batch_size"], str(cfg["backend"]))
    except ValueError as err:
        raise UsageError(str(err)) from None


def table_path(cfg: Mapping[str, Any], space: str, setting: Setting) -> Path:
    """The config's ``table``, or the default table of ``space`` for ``setting``."""
    return Path(cfg["table"]) if cfg.get("table") else default_path(latency_tables(), space, setting)


def open_table(path: Path, setting: Setting, create: bool) -> LatencyTable:
    """The table at ``path`` if it is from here, a new one if there is none and ``create``; a foreign or
    corrupt file is a usage error (never overwritten, never used)."""
    if not path.exists():
        if create:
            return LatencyTable(Environment.here(setting))
        raise UsageError(f"table: no latency table at {path}; build it with python -m nas.latency build ...")
    try:
        return load_table(path, setting)
    except TableError as err:
        raise UsageError(f"table: {err}") from None
