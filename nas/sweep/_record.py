"""``sweep.yaml``: which jobs a sweep ran, with which overrides, into which study of which storage.

Each job records itself when its study is open, under a lock (a launcher may run jobs side by side), so
the file lists every job that started, finished or not. It names no machine's path: the default storage
is ``study.db`` beside it, and any other storage URL is written with its password masked (the jobs'
own configs hold it whole, as Hydra wrote them).
"""

from __future__ import annotations

import contextlib
import fcntl
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from nas.errors import UsageError
from nas.study import hide_password

SWEEP_FILE = "sweep.yaml"
STUDY_DB = "study.db"  # the sweep's default storage, beside sweep.yaml
_LOCK = ".sweep.lock"


@dataclass(frozen=True)
class JobEntry:
    """One job as ``sweep.yaml`` lists it: its run directory (relative to the sweep's), its overrides as
    given, and the study it searched."""

    subdir: str
    overrides: tuple[str, ...]
    study_name: str

    def label(self, swept: Sequence[str]) -> str:
        """The job's overrides of the swept keys (``budget=150MFLOPs seed=0``): what tells it apart."""
        own = [o for o in self.overrides if _key(o) in swept]
        return " ".join(own) or self.study_name


@dataclass(frozen=True)
class Sweep:
    """A sweep directory as ``sweep.yaml`` describes it."""

    directory: Path
    command: str
    overrides: tuple[str, ...]  # the sweep's own, as given (``budget=150MFLOPs,300MFLOPs``)
    storage: str  # STUDY_DB (the file beside sweep.yaml) or a URL with its password masked
    jobs: tuple[JobEntry, ...]

    @property
    def swept(self) -> tuple[str, ...]:
        """The keys whose values differ between jobs."""
        return swept_keys(self.overrides)

    def storage_url(self) -> str:
        """The URL to open: the sweep's own file, or the storage its jobs' configs name."""
        if self.storage == STUDY_DB:
            return f"sqlite:///{self.directory.resolve() / STUDY_DB}"
        for job in self.jobs:
            config = self.directory / job.subdir / ".hydra" / "config.yaml"
            if config.is_file():
                storage = (yaml.safe_load(config.read_text()) or {}).get("storage")
                if storage:
                    return str(storage)
        raise UsageError(f"{self.directory}: no job's config names the sweep's storage {self.storage}")


@dataclass(frozen=True)
class SweepJob:
    """The job of a sweep that is running in this process: where its sweep lives and what it varies."""

    sweep_dir: Path
    subdir: str
    overrides: tuple[str, ...]  # this job's, as given
    sweep_overrides: tuple[str, ...]  # the sweep's, as given
    command: str

    def storage(self) -> str:
        return f"sqlite:///{self.sweep_dir / STUDY_DB}"

    def study_name(self, space_name: str) -> str:
        return study_name(space_name, self.overrides, swept_keys(self.sweep_overrides))

    def record(self, study: str, storage: str) -> Path:
        """Add (or update) this job in ``sweep.yaml``; ``storage`` is the URL the job's study is in."""
        label = STUDY_DB if storage == self.storage() else hide_password(storage)
        entry = JobEntry(self.subdir, _masked(self.overrides), study)
        with _locked(self.sweep_dir):
            sweep = read_sweep(self.sweep_dir)
            jobs = [j for j in (sweep.jobs if sweep else ()) if j.subdir != self.subdir]
            jobs = sorted([*jobs, entry], key=lambda j: _number(j.subdir))
            command = " ".join(_masked(tuple(self.command.split(" "))))
            _write(Sweep(self.sweep_dir, command, _masked(self.sweep_overrides), label, tuple(jobs)))
        return self.sweep_dir / SWEEP_FILE


def study_name(space_name: str, overrides: Sequence[str], swept: Sequence[str]) -> str:
    """``mnas-150MFLOPs-seed0``: the space, then each swept override of the job: a budget by its value,
    any other key by its last part and value (``seed0``, ``sampler-random``, ``width-1.0_1.2``)."""
    parts = [space_name]
    for override in overrides:
        key, _, value = override.partition("=")
        key = key.lstrip("+~")
        if key not in swept or key == "space":  # the space leads the name already
            continue
        value = re.sub(r"[^A-Za-z0-9._-]+", "_", value).strip("_")
        last = key.rsplit(".", 1)[-1]
        parts.append(
            value if key == "budget" else f"{last}{value}" if value[:1].isdigit() else f"{last}-{value}"
        )
    return "-".join(parts)


def swept_keys(overrides: Sequence[str]) -> tuple[str, ...]:
    """The keys of the sweep overrides (``budget=a,b``, ``x=range(3)``, ``x=choice(a,b)``)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    return tuple(o.get_key_element().lstrip("+~") for o in parsed if o.is_sweep_override())


def read_sweep(directory: Path) -> Sweep | None:
    """The sweep ``directory`` holds, or None when it holds no ``sweep.yaml``."""
    path = Path(directory) / SWEEP_FILE
    if not path.is_file():
        return None
    data = yaml.safe_load(path.read_text()) or {}
    try:
        jobs = tuple(
            JobEntry(str(j["dir"]), tuple(j.get("overrides") or ()), str(j["study_name"]))
            for j in data["jobs"]
        )
        return Sweep(Path(directory), str(data.get("command", "")), tuple(data.get("overrides") or ()),
                     str(data["storage"]), jobs)  # fmt: skip
    except (KeyError, TypeError) as err:
        raise UsageError(f"{path}: not a sweep record ({type(err).__name__}: {err})") from None


def is_sweep(directory: Path) -> bool:
    return (Path(directory) / SWEEP_FILE).is_file()


def job_of(run_dir: Path) -> tuple[Sweep, JobEntry] | None:
    """The sweep a job's run directory belongs to, and its entry there; None for a run of its own."""
    run_dir = Path(run_dir)
    sweep = read_sweep(run_dir.parent) if is_sweep(run_dir.parent) else None
    if sweep is None:
        return None
    entry = next((j for j in sweep.jobs if j.subdir == run_dir.name), None)
    return None if entry is None else (sweep, entry)


def _write(sweep: Sweep) -> None:
    data = {
        "command": sweep.command,
        "overrides": list(sweep.overrides),
        "storage": sweep.storage,
        "jobs": [
            {"dir": j.subdir, "overrides": list(j.overrides), "study_name": j.study_name} for j in sweep.jobs
        ],
    }
    header = "# A sweep of python -m nas.search: its jobs' studies share the storage below (nas.sweep).\n"
    path = sweep.directory / SWEEP_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(header + yaml.safe_dump(data, sort_keys=False))
    tmp.replace(path)  # a reader never sees half a file


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / _LOCK).open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _masked(overrides: tuple[str, ...]) -> tuple[str, ...]:
    """Overrides as a file may show them: a storage URL's password masked (``storage=postgresql://u:***@h``)."""
    out = []
    for override in overrides:
        key, sep, value = override.partition("=")
        out.append(f"{key}{sep}{hide_password(value)}" if "://" in value else override)
    return tuple(out)


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def _number(subdir: str) -> tuple[int, str]:
    head = subdir.split("_", 1)[0]
    return (int(head), subdir) if head.isdigit() else (1 << 30, subdir)
