"""Latency lookup tables: per-part latencies measured once on one machine, stored as versioned JSON.

A table is only valid where it was measured: the file records the device (with the CPU or GPU model),
thread count, batch size, back-end, torch version and the back-end's own runtime (ONNX Runtime's version
and session options), and :func:`load_table` refuses a table whose record
differs from the machine asking, or a file that is not a whole table, with a message that says which.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from nas.latency._timing import Measurement, Setting, steady_allocator

FORMAT = "lightweight-nas latency table"
VERSION = 1


class TableError(ValueError):
    """A table that cannot be used here: unreadable, not a table, another version or another machine."""


@dataclass(frozen=True)
class Environment:
    """Everything a measured latency depends on besides the network: two tables agree on all of it."""

    device: str
    device_name: str
    threads: int
    batch_size: int
    backend: str
    torch: str
    allocator: str  # see nas.latency._timing.steady_allocator
    # The back-end's runtime beyond torch: ONNX Runtime's version and session options; "" for torch alone
    # (so that the tables written before it was recorded still load, and still match).
    runtime: str = ""

    @classmethod
    def here(cls, setting: Setting) -> Environment:
        return cls(
            device=setting.device,
            device_name=device_name(setting.device),
            threads=setting.threads,
            batch_size=setting.batch_size,
            backend=setting.backend,
            torch=torch.__version__,
            allocator=steady_allocator(),
            runtime=setting.runtime(),
        )

    def setting(self) -> Setting:
        return Setting(self.device, self.threads, self.batch_size, self.backend)

    def differences(self, other: Environment) -> list[str]:
        """``"torch: table 2.12.0, here 2.13.0"`` for each field that differs."""
        mine, theirs = asdict(self), asdict(other)
        return [f"{k}: table {mine[k]!r}, here {theirs[k]!r}" for k in mine if mine[k] != theirs[k]]


@dataclass(frozen=True)
class Calibration:
    """What a network costs beyond the sum of its parts: ``overhead_ms``, fitted on ``networks``
    networks as the median of (measured - sum of parts); ``mape`` is the fit's own error."""

    overhead_ms: float
    networks: int
    mape: float


@dataclass
class LatencyTable:
    """Part key -> measurement, for one environment. It grows as parts are measured (:meth:`add`); it is
    written with :meth:`save`, atomically, so that an interrupted build leaves the last saved state."""

    environment: Environment
    entries: dict[str, Measurement] = field(default_factory=dict)
    calibration: Calibration | None = None
    spaces: tuple[str, ...] = ()  # the spaces whose every part was measured into it
    build_seconds: float = 0.0  # wall-clock time its builds took, resumed ones summed

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, key: str, measurement: Measurement) -> None:
        self.entries[key] = measurement

    def to_data(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "environment": asdict(self.environment),
            "spaces": list(self.spaces),
            "build_seconds": round(self.build_seconds, 1),
            "calibration": None if self.calibration is None else asdict(self.calibration),
            "entries": {k: _entry_data(m) for k, m in sorted(self.entries.items())},
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_data(), indent=0) + "\n")
        os.replace(tmp, path)  # atomic: a reader or a crash sees the old table or the new one, never half


def load_table(path: Path, setting: Setting | None = None) -> LatencyTable:
    """The table in ``path``, checked to be whole and, with ``setting``, to be from this machine and
    setting; otherwise :class:`TableError` says why."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as err:
        raise TableError(f"cannot read latency table {path}: {err.strerror or err}") from None
    except json.JSONDecodeError as err:
        raise TableError(
            f"latency table {path} is corrupt (not JSON: {err.msg} at line {err.lineno})"
        ) from None
    table = _from_data(data, path)
    if setting is not None:
        here = Environment.here(setting)
        diff = table.environment.differences(here)
        if diff:
            raise TableError(
                f"latency table {path} was measured elsewhere ({'; '.join(diff)}); build one here"
            )
    return table


def _from_data(data: Any, path: Path) -> LatencyTable:
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise TableError(f"{path} is not a latency table (no format {FORMAT!r})")
    if data.get("version") != VERSION:
        raise TableError(
            f"latency table {path} has version {data.get('version')!r}; this code reads {VERSION}"
        )
    try:
        environment = Environment(**data["environment"])
        calibration = None if data["calibration"] is None else Calibration(**data["calibration"])
        entries = {str(k): _entry(v) for k, v in data["entries"].items()}
        spaces = tuple(str(s) for s in data["spaces"])
        seconds = float(data["build_seconds"])
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise TableError(f"latency table {path} is corrupt ({type(err).__name__}: {err})") from None
    return LatencyTable(environment, entries, calibration, spaces, seconds)


def _entry_data(m: Measurement) -> list[float | int]:
    return [m.median_ms, m.mean_ms, m.std_ms, m.min_ms, m.runs]  # rounded when measured (Measurement.of)


def _entry(value: Any) -> Measurement:
    median, mean, std, low, runs = value
    m = Measurement(float(median), float(mean), float(std), float(low), int(runs))
    if not (m.median_ms >= 0 and m.runs >= 1):
        raise ValueError(f"impossible entry {value!r}")
    return m


def device_name(device: str) -> str:
    """The hardware behind ``device``: the GPU's name, or the CPU's model and core count."""
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def default_path(root: Path, space: str, setting: Setting) -> Path:
    """Where a space's table lives by default: one file per space, device, threads, batch and back-end."""
    device = setting.device.replace(":", "")
    return root / f"{space}-{device}-t{setting.threads}-b{setting.batch_size}-{setting.backend}.json"
