"""Where a run's study lives: the run directory's ``study.db``, or the storage its Hydra config names.

Reports and dashboards read the study from its storage, never from the csv files, so that both work
while workers are still adding trials. Every mistake a user can make here (an unknown directory, a
directory without a study, an unreachable storage) is a :class:`UsageError`: one line, exit status 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from omegaconf import OmegaConf

from nas.errors import UsageError
from nas.study import JOURNAL, hide_password, make_storage
from nas.sweep import STUDY_DB, SWEEP_FILE, is_sweep, job_of, read_sweep

HYDRA_CONFIG = Path(".hydra") / "config.yaml"


@dataclass(frozen=True)
class Source:
    """A study's storage and name, with the run's resolved config when there is one."""

    storage: str
    study_name: str
    config: dict[str, Any] | None
    run_dir: Path | None

    def load(self) -> optuna.Study:
        return optuna.load_study(study_name=self.study_name, storage=open_storage(self.storage))

    def storage_label(self) -> str:
        """The storage as a reader needs it: the default file by name, so committed reports name no
        machine's paths; any other URL as given."""
        if self.run_dir is not None and self.storage == default_storage(self.run_dir):
            return f"{STUDY_DB} in the run directory"
        sweep_dir = None if self.run_dir is None else self.run_dir.resolve().parent
        if sweep_dir is not None and is_sweep(sweep_dir) and self.storage == default_storage(sweep_dir):
            return f"{STUDY_DB} in the sweep directory"
        return self.storage


def default_storage(run_dir: Path) -> str:
    """The URL the search uses when no ``storage=`` is given (see ``nas.search._study.open_study``); a
    sweep's jobs use their sweep directory's (``nas.sweep``)."""
    return f"sqlite:///{run_dir / STUDY_DB}"


def read_config(run_dir: Path) -> dict[str, Any] | None:
    """The run's resolved Hydra config, or None when the run directory has none."""
    path = run_dir / HYDRA_CONFIG
    if not path.is_file():
        return None
    return plain_config(OmegaConf.load(path))


def plain_config(config: Any) -> dict[str, Any] | None:
    """An OmegaConf config (or mapping) as plain data; interpolations that cannot resolve are kept as text."""
    if config is None:
        return None
    if not OmegaConf.is_config(config):
        return dict(config)
    try:
        return OmegaConf.to_container(config, resolve=True)
    except Exception:  # e.g. ${now:...} outside a Hydra run; the text is still worth showing
        return OmegaConf.to_container(config, resolve=False)


def storage_of_run(run_dir: Path) -> tuple[str, dict[str, Any] | None]:
    """The storage URL of a run directory (its config's ``storage``, else its ``study.db``, else, for a
    job of a sweep, the sweep's storage, with the job's study name put in the config returned)."""
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir}: no such directory")
    config = read_config(run_dir)
    job = job_of(run_dir)
    if job is not None:
        sweep, entry = job
        return sweep.storage_url(), {**(config or {}), "study_name": entry.study_name}
    if config and config.get("storage"):
        return str(config["storage"]), config
    if (run_dir / STUDY_DB).is_file():
        return default_storage(run_dir), config
    raise UsageError(
        f"{run_dir}: no study here (no {STUDY_DB}, no storage in {HYDRA_CONFIG}, and no {SWEEP_FILE})"
    )


def resolve_target(target: str) -> tuple[str, Path | None, dict[str, Any] | None]:
    """A run directory, a SQLite file or a storage URL, as (URL, run directory, config)."""
    path = Path(target)
    if "://" in target or target.startswith(JOURNAL):
        return target, None, None
    if path.is_dir() and is_sweep(path):  # every job's study, in one storage
        sweep = read_sweep(path)
        assert sweep is not None
        return sweep.storage_url(), path, None
    if path.is_dir():
        storage, config = storage_of_run(path)
        return storage, path, config
    if path.is_file():
        return f"sqlite:///{path.resolve()}", None, None
    raise UsageError(f"{target}: no such directory, file or storage URL")


def open_storage(url: str) -> optuna.storages.BaseStorage:
    """The storage behind ``url``, checked to answer; never creates a table or a file that is not there
    (a database that is not an Optuna storage stays as it was)."""
    if url.startswith("sqlite:///"):
        file = Path(url.removeprefix("sqlite:///"))
        if not file.is_file():
            raise UsageError(f"storage: no SQLite file at {file}")
    return make_storage(url, create=False)


def study_names(url: str) -> list[str]:
    studies = open_storage(url).get_all_studies()
    if not studies:
        raise UsageError(f"storage: no study in {hide_password(url)!r}")
    return [s.study_name for s in studies]


def choose_study(url: str, wanted: str | None, config: dict[str, Any] | None) -> str:
    """``wanted`` (or the config's ``study_name``), else the storage's only study, else the name the
    search gives a study when none is named."""
    names = study_names(url)
    wanted = wanted or (config or {}).get("study_name")
    if wanted:
        if wanted not in names:
            raise UsageError(
                f"study: no study {wanted!r} in {hide_password(url)!r}; it holds {', '.join(names)}"
            )
        return wanted
    if len(names) == 1:
        return names[0]
    guess = _default_study_name(config) if config else None
    if guess in names:
        return guess
    raise UsageError(
        f"storage {hide_password(url)!r} holds several studies ({', '.join(names)}); name one with --study"
    )


def _default_study_name(config: dict[str, Any]) -> str | None:
    """SPACE-BUDGET, as ``open_study`` names a study when ``study_name`` is null."""
    from nas import spaces
    from nas.study import parse_budget

    try:
        space = spaces.from_config(config["space"])
        budgets = parse_budget(config.get("budget"))
    except Exception:  # a config we cannot read names no study; choose_study says which ones exist
        return None
    return f"{space.name}-{'-'.join(map(str, budgets)) or 'unbounded'}"


def locate(target: str | Path, study_name: str | None = None) -> Source:
    """The study of a run directory (or of a storage URL) that a report or dashboard shows."""
    url, run_dir, config = resolve_target(str(target))
    return Source(url, choose_study(url, study_name, config), config, run_dir)
