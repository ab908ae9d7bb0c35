"""Where a study lives, for one worker or many: Optuna's own storages, configured for workers that die.

* ``sqlite:///FILE`` (the default, in the run directory): one machine, one or a few processes.
* ``postgresql://USER:PASSWORD@HOST/DB`` (or MySQL, any SQLAlchemy URL): many workers on many machines.
* ``journal:PATH``: Optuna's journal file, for workers that share a file system but no database.

Database storages run Optuna's heartbeat: every worker records, every ``interval`` seconds, that its
running trial is alive; a trial whose worker has been silent for ``grace`` seconds is marked failed by
the next worker that looks, and re-queued once with its choices (Optuna's
``RetryHeartbeatStaleTrialCallback``). The journal file has no heartbeat in Optuna: a dead worker's
trial stays RUNNING there.
"""

from __future__ import annotations

import importlib.util
import random
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy.event
import sqlalchemy.exc
from optuna.storages import (
    BaseStorage,
    JournalStorage,
    RDBStorage,
    RetryHeartbeatStaleTrialCallback,
)
from optuna.storages.journal import JournalFileBackend

from nas.errors import UsageError
from nas.records import Record, check_range

JOURNAL = "journal:"
CREATE_ATTEMPTS = 5

# Each worker holds at most two connections (its own, and the heartbeat thread's) and checks one
# before using it, so that 100 workers need about 200 server connections, and a restarted server
# costs a reconnect, not a failed trial. See the README's "Many workers".
POOL = {"pool_size": 2, "max_overflow": 0, "pool_pre_ping": True}
# SQLite locks the whole file for a write; local workers (``workers=N``) wait their turn rather than fail
# a trial after sqlite3's default 5 s.
SQLITE = {"connect_args": {"timeout": 60}}
# A writer's SQLite connections use the write-ahead log with synchronous=NORMAL: a commit appends to the
# log instead of syncing the database and its rollback journal. A trial makes about 70 (each choice, each
# recorded value); python benchmarks/storage_throughput.py went from 3.6 to 14.5 trials/s with one
# worker, and readers (the dashboard) no longer block writers. A crashed process loses nothing;
# a power cut may lose the last commits. The mode stays with the file; the log is folded back into it
# when the last connection closes. Like any SQLite file, keep it on a local disk.
SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")


@dataclass(frozen=True)
class Heartbeat(Record):
    """Optuna's heartbeat of a database storage, and how often a dead worker's trial is retried."""

    interval: int = 10  # seconds between a running trial's heartbeats
    grace: int = 60  # seconds of silence after which its worker counts as dead
    retries: int = 1  # times such a trial is re-queued with the same choices

    def validate(self) -> None:
        check_range("interval", self.interval, 1)
        check_range("grace", self.grace, self.interval + 1)
        check_range("retries", self.retries, 0)


def make_storage(url: str, heartbeat: Heartbeat | None = None, *, create: bool = True) -> BaseStorage:
    """The storage behind ``url``, connected and checked; a bad URL is one :class:`UsageError` line.

    ``heartbeat``: run Optuna's heartbeat (database storages only). ``create=False`` (readers: reports,
    dashboards) never creates a table or a file."""
    try:
        if url.startswith(JOURNAL):
            return _journal(url, create)
        return _database(url, heartbeat, create)
    except UsageError:
        raise
    except Exception as err:  # unreachable server, wrong password, missing driver, not a database
        raise UsageError(
            f"storage: cannot open {hide_password(url)!r}: {type(err).__name__}: {first_line(err)}"
        ) from None


def _database(url: str, heartbeat: Heartbeat | None, create: bool) -> RDBStorage:
    for _ in range(CREATE_ATTEMPTS - 1):
        try:
            return _connect(url, heartbeat, create)
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            # Workers that start together on an empty database all create Optuna's tables; all but
            # one then trip over the others' (PostgreSQL: duplicate key in pg_type). The tables are
            # there a moment later.
            if not create:
                raise
            time.sleep(0.5 + random.random())
    return _connect(url, heartbeat, create)


def _connect(url: str, heartbeat: Heartbeat | None, create: bool) -> RDBStorage:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = RDBStorage(
            with_driver(url),
            engine_kwargs=_engine_options(url),
            skip_table_creation=not create,
            **_heartbeat_options(heartbeat),
        )
    if create and url.startswith("sqlite"):
        sqlalchemy.event.listen(storage.engine, "connect", _write_ahead)
        storage.engine.dispose()  # connections made before the listener are not reused
    storage.get_all_studies()  # answers, and is an Optuna storage
    return storage


def _write_ahead(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _engine_options(url: str) -> dict[str, Any] | None:
    if url.startswith(("postgresql", "mysql")):
        return POOL
    return SQLITE if url.startswith("sqlite") else None


def _heartbeat_options(heartbeat: Heartbeat | None) -> dict[str, Any]:
    if heartbeat is None:
        return {}
    return {
        "heartbeat_interval": heartbeat.interval,
        "grace_period": heartbeat.grace,
        "heartbeat_stale_trial_callback": RetryHeartbeatStaleTrialCallback(max_retry=heartbeat.retries),
    }  # (Optuna calls these experimental since 2.8; they are what a pool of workers needs)


def _journal(url: str, create: bool) -> JournalStorage:
    path = journal_path(url)
    if not create and not path.is_file():
        raise UsageError(f"storage: no journal file at {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(path)))


def journal_path(url: str) -> Path:
    """``journal:runs/study.log`` (relative) or ``journal:///shared/study.log`` (absolute)."""
    rest = url.removeprefix(JOURNAL)
    return Path("/" + rest.lstrip("/") if rest.startswith("//") else rest)


def with_driver(url: str) -> str:
    """``postgresql://`` with the psycopg (3) driver when it is installed and psycopg2 is not.

    SQLAlchemy's default PostgreSQL driver is psycopg2; psycopg 3 is its maintained successor and the
    one this project's ``postgres`` extra installs. A URL that names its driver is left alone."""
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgresql", "postgres") and sep:
        if importlib.util.find_spec("psycopg2") is None and importlib.util.find_spec("psycopg"):
            return f"postgresql+psycopg://{rest}"
        return f"postgresql://{rest}"
    return url


def has_heartbeat(study: optuna.Study) -> bool:
    from optuna.storages._heartbeat import is_heartbeat_enabled

    return is_heartbeat_enabled(study._storage)


def hide_password(url: str) -> str:
    """``postgresql://user:***@host/db``: a report or a terminal shows where the storage is, not how to
    log in to it."""
    return re.sub(r"(://[^:/@]+:)[^@/]+@", r"\1***@", url)


def mask_config(config: Any) -> Any:
    """``config`` (plain dicts, lists and scalars) with the password of every URL in it hidden: what a
    trial records of its run's config must never let a reader of the study log in to its database."""
    if isinstance(config, dict):
        return {k: mask_config(v) for k, v in config.items()}
    if isinstance(config, list | tuple):
        return [mask_config(v) for v in config]
    return hide_password(config) if isinstance(config, str) else config


def first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else ""


__all__ = [
    "Heartbeat",
    "first_line",
    "has_heartbeat",
    "hide_password",
    "journal_path",
    "make_storage",
    "mask_config",
    "with_driver",
]
