"""The live dashboard: optuna-dashboard served on a study's own storage, read back through its HTTP API."""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import optuna
import pytest
import yaml

STUDY = "live"


def objective(trial: optuna.Trial) -> float:
    """A toy objective that records an attribute, as the search does, and fails on trial 2."""
    x = trial.suggest_float("x", -2.0, 2.0)
    trial.set_user_attr("macs", 1_000_000 + trial.number)
    if trial.number == 2:
        raise FloatingPointError("loss is nan")
    return 1.0 - x * x


def make_study(path: Path) -> optuna.Study:
    """Five trials, one of them failed, in a SQLite file."""
    study = optuna.create_study(storage=f"sqlite:///{path}", study_name=STUDY, direction="maximize")
    study.optimize(objective, n_trials=5, catch=(FloatingPointError,))
    return study


def start(target: str) -> tuple[subprocess.Popen[str], str]:
    """``python -m nas.dashboard TARGET``, and the address it prints (within a minute)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "nas.dashboard", target],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ready, _, _ = select.select([process.stdout], [], [], 60)
    line = process.stdout.readline() if ready else ""
    if "http://" not in line:
        process.kill()
        raise AssertionError(f"no address printed: {line!r} {process.communicate(timeout=10)}")
    return process, line.rsplit(" ", 1)[-1].strip()


def get(url: str, timeout: float = 60.0) -> dict:
    """GET a JSON document, retrying until the server answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.loads(response.read())
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def stop(process: subprocess.Popen[str]) -> None:
    process.kill()
    process.communicate(timeout=30)


def test_the_dashboard_serves_the_run_directory_s_study(tmp_path: Path) -> None:
    study = make_study(tmp_path / "study.db")
    process, address = start(str(tmp_path))
    try:
        assert address.startswith("http://127.0.0.1:") and address.endswith("/dashboard")
        api = address.removesuffix("/dashboard") + "/api/studies"
        studies = get(api)["study_summaries"]
        assert [s["study_name"] for s in studies] == [STUDY]
        detail = get(f"{api}/{studies[0]['study_id']}")
        # Trials a worker adds while the dashboard runs appear (the dashboard caches trials for 2 s).
        study.optimize(objective, n_trials=2)
        deadline = time.monotonic() + 30
        later = get(f"{api}/{studies[0]['study_id']}")
        while len(later["trials"]) < 7 and time.monotonic() < deadline:
            time.sleep(0.5)
            later = get(f"{api}/{studies[0]['study_id']}")
    finally:
        stop(process)
    stored = optuna.load_study(study_name=STUDY, storage=f"sqlite:///{tmp_path / 'study.db'}")
    assert len(detail["trials"]) == 5
    assert len(later["trials"]) == len(stored.trials) == 7
    assert [t["state"] for t in later["trials"]].count("Fail") == 1
    assert later["best_trials"][0]["values"] == [stored.best_value]
    assert later["best_trials"][0]["user_attrs"] == [
        {"key": "macs", "value": str(1_000_000 + stored.best_trial.number)}
    ]


def test_the_storage_named_in_the_run_s_config_is_served(tmp_path: Path) -> None:
    make_study(tmp_path / "elsewhere.db")
    run_dir = tmp_path / "run"
    (run_dir / ".hydra").mkdir(parents=True)
    storage = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    (run_dir / ".hydra" / "config.yaml").write_text(yaml.safe_dump({"storage": storage, "study_name": STUDY}))
    process, address = start(str(run_dir))
    try:
        studies = get(address.removesuffix("/dashboard") + "/api/studies")["study_summaries"]
    finally:
        stop(process)
    assert [s["study_name"] for s in studies] == [STUDY]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("{d}/missing", "error: {d}/missing: no such directory, file or storage URL"),
        (
            "{d}",
            "error: {d}: no study here (no study.db, no storage in .hydra/config.yaml, and no sweep.yaml)",
        ),
        ("sqlite:///{d}/none.db", "error: storage: no SQLite file at {d}/none.db"),
        ("postgresql://nobody@127.0.0.1:9/none", "error: storage: cannot open 'postgresql://nobody@"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(tmp_path: Path, target: str, message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nas.dashboard", target.format(d=tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(message.format(d=tmp_path)), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "none.db").exists()  # reading never creates a storage
