"""A database password never lands in a study, its outputs or its logs (``nas.study.mask_config``).

Against the real PostgreSQL server of the many-workers tests (``postgres_url``), with zero-cost trials.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import optuna

from nas.search import make_storage, run
from tests.postgres import PASSWORD
from tests.search.test_search import DATA, config

FAST = ["evaluator=zero_cost", "evaluator.batch_size=8", *DATA, "n_trials=2", "baselines=[]"]


def everything_recorded(url: str, name: str) -> list[Any]:
    storage = make_storage(url, create=False)
    study = optuna.load_study(study_name=name, storage=storage)
    records: list[Any] = [study.user_attrs, storage.get_study_system_attrs(study._study_id)]
    for t in study.trials:
        records += [t.user_attrs, t.system_attrs, t.params]
    return records


def files_holding(run_dir: Path, secret: str) -> list[str]:
    return [
        str(p.relative_to(run_dir))
        for p in run_dir.rglob("*")
        if p.is_file() and secret.encode() in p.read_bytes()
    ]


def test_a_password_from_the_environment_is_in_no_attribute_file_or_log(
    postgres_url: str, tmp_path: Path
) -> None:
    """The documented way: ``storage='${oc.env:NAS_STORAGE}'``; Hydra saves the interpolation, not its
    value, so not even ``.hydra/`` holds the password."""
    run_dir = tmp_path / "run"
    command = [
        sys.executable, "-m", "nas.search", "space=mnas", "budget=300MFLOPs", *FAST,
        "storage=${oc.env:NAS_STORAGE}", "study_name=secret-env", f"hydra.run.dir={run_dir}",
    ]  # fmt: skip
    env = {**os.environ, "NAS_STORAGE": postgres_url, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert PASSWORD in postgres_url and PASSWORD not in done.stdout + done.stderr
    assert files_holding(run_dir, PASSWORD) == []
    assert (run_dir / "report.html").is_file() and (run_dir / ".hydra" / "config.yaml").is_file()
    recorded = everything_recorded(postgres_url, "secret-env")
    assert PASSWORD not in repr(recorded)
    assert "nas:***@127.0.0.1" in recorded[2]["config"]  # the first trial's config: where, not how


def test_a_password_on_the_command_line_is_in_no_trial_attribute_or_output(
    postgres_url: str, tmp_path: Path
) -> None:
    """Given as ``storage=postgresql://USER:PASSWORD@...``, the password is in Hydra's own record of the
    command line (``.hydra/overrides.yaml``, which the README warns of), and nowhere the search writes."""
    run(config(tmp_path, f"storage={postgres_url}", "study_name=secret-cli", *FAST), tmp_path)
    assert PASSWORD not in repr(everything_recorded(postgres_url, "secret-cli"))
    assert files_holding(tmp_path, PASSWORD) == []
    assert (tmp_path / "trials.csv").is_file() and (tmp_path / "summary.md").is_file()
