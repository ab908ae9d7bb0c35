"""What each trial records so that its result can be re-run: the seed, the resolved config (every URL's
password masked), the code (package version and git commit) and the machine (torch version, device, and
the worker: host and process)."""

from __future__ import annotations

import os
import socket
import subprocess
from typing import Any

import torch
import yaml

import nas
from nas.paths import ROOT
from nas.study import mask_config


def provenance(seed: int, config: dict[str, Any]) -> dict[str, Any]:
    """Trial attributes shared by every trial of a run (computed once, set on each trial).

    ``seed`` is the run's seed: training seeds each candidate with ``seed + trial number``, the zero-cost
    scores with ``seed``. ``config`` is the run's resolved config as plain data; it is recorded with every
    URL's password masked. ``git_commit`` is absent outside a git checkout (an installed package), and
    marked ``+dirty`` when the working tree differs from it."""
    record: dict[str, Any] = {
        "seed": seed,
        "config": yaml.safe_dump(mask_config(config), sort_keys=False),
        "nas_version": nas.__version__,
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
        "worker": worker_name(),
    }
    commit = git_commit()
    if commit:
        record["git_commit"] = commit
    return record


def worker_name() -> str:
    """``host:pid``: which worker ran a trial (many may share a study)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def git_commit() -> str | None:
    """The checkout's commit, ``+dirty`` when files differ from it; None without git or a checkout."""

    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
        if result.returncode != 0:
            raise OSError(result.stderr.strip())
        return result.stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")
