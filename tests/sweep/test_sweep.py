"""A sweep as one collection: ``python -m nas.search -m budget=...,... seed=0,1`` puts every job's study in
one storage under a name made of its overrides, lists them in ``sweep.yaml``, resumes them when run again,
and is one ``nas.dashboard`` and one ``nas.report`` command away."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import yaml

from nas.cli import default_sweep_dir
from nas.report import write_sweep_report
from nas.sweep import STUDY_DB, SWEEP_FILE, read_sweep, study_name, swept_keys
from tests.dashboard.test_dashboard import get, start, stop
from tests.report._browser import offline_page

TINY = [
    "evaluator=zero_cost",
    "evaluator.batch_size=8",
    "data=digits",
    "data.limit_train=64",
    "data.limit_val=32",
    "workers=1",
]
SWEEP = ["budget=200MFLOPs,400MFLOPs", "seed=0,1"]
NAMES = ["mnas-200MFLOPs-seed0", "mnas-200MFLOPs-seed1", "mnas-400MFLOPs-seed0", "mnas-400MFLOPs-seed1"]


def search(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "nas.search", "-m", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sweep of 2 budgets x 2 seeds, 2 trials each (baselines included), run from an empty folder."""
    cwd = tmp_path_factory.mktemp("sweep")
    search(cwd, *SWEEP, "n_trials=2", *TINY)
    (found,) = (cwd / "outputs" / "sweeps").iterdir()
    return found


def test_names_come_from_the_swept_overrides() -> None:
    swept = swept_keys(["budget=150MFLOPs,300MFLOPs", "seed=0,1", "n_trials=3", "sampler=tpe,random"])
    assert swept == ("budget", "seed", "sampler")
    assert study_name("mnas", ["budget=150MFLOPs", "seed=0", "n_trials=3"], swept) == "mnas-150MFLOPs-seed0"
    assert (
        study_name("mnas", ["sampler=random", "budget=[1M,2Mparams]"], swept)
        == "mnas-sampler-random-1M_2Mparams"
    )
    assert study_name("mnas", ["space.scale.width=[1.0,1.2]"], ("space.scale.width",)) == "mnas-width1.0_1.2"


def test_the_sweep_directory_is_named_by_what_it_searches() -> None:
    argv = ["-m", *SWEEP, "n_trials=3", "workers=2"]
    named = default_sweep_dir(argv, "out", ignore=("n_trials", "workers"))
    assert named[-1] == "hydra.sweep.dir=out/budget-200MFLOPs+400MFLOPs_seed-0+1"
    # more trials or workers: the same sweep, continued; another budget: another sweep
    assert default_sweep_dir(["-m", *SWEEP, "n_trials=9"], "out", ignore=("n_trials",))[-1] == named[-1]
    assert default_sweep_dir(["-m", "budget=1M,2M", "seed=0,1"], "out")[-1] != named[-1]
    assert default_sweep_dir(argv[1:], "out") == argv[1:]  # no -m: a single run, Hydra's own directory
    assert default_sweep_dir([*argv, "hydra.sweep.dir=x"], "out")[-1] == "hydra.sweep.dir=x"


def test_every_job_s_study_is_in_one_storage_and_listed_in_sweep_yaml(sweep_dir: Path) -> None:
    storage = f"sqlite:///{sweep_dir / STUDY_DB}"
    studies = optuna.get_all_study_summaries(storage)
    assert sorted(s.study_name for s in studies) == NAMES
    assert all(s.n_trials == 2 for s in studies)
    sweep = read_sweep(sweep_dir)
    assert sweep is not None and sweep.storage == STUDY_DB  # no machine path in the file
    assert [j.study_name for j in sweep.jobs] == NAMES
    assert sweep.jobs[1].overrides[:2] == ("budget=200MFLOPs", "seed=1")
    assert sweep.overrides[:2] == tuple(SWEEP)
    assert sweep.command.startswith("python -m nas.search -m budget=200MFLOPs,400MFLOPs seed=0,1")
    for job in sweep.jobs:  # each job keeps its run directory and outputs, but no storage of its own
        run_dir = sweep_dir / job.subdir
        assert (run_dir / "summary.md").is_file() and (run_dir / "report.html").is_file()
        assert not (run_dir / STUDY_DB).exists()
        assert f"Study `{job.study_name}`" in (run_dir / "summary.md").read_text()
        assert "study.db in the sweep directory" in (run_dir / "report.html").read_text()
    assert str(sweep_dir.parent.parent.parent) not in (sweep_dir / SWEEP_FILE).read_text()


def test_the_dashboard_serves_every_study_of_the_sweep(sweep_dir: Path) -> None:
    process, address = start(str(sweep_dir))
    try:
        api = address.removesuffix("/dashboard") + "/api/studies"
        studies = get(api)["study_summaries"]
        trials = {s["study_name"]: len(get(f"{api}/{s['study_id']}")["trials"]) for s in studies}
    finally:
        stop(process)
    assert trials == dict.fromkeys(NAMES, 2)


def test_the_report_of_a_sweep_shows_every_job(sweep_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nas.report", str(sweep_dir)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(sweep_dir / "sweep.html"), str(sweep_dir / "sweep.png")]
    html = (sweep_dir / "sweep.html").read_text()
    for i, name in enumerate(NAMES):
        assert f"<code>{name}</code>" in html
        assert f'href="{i}/report.html"' in html
    assert "budget=200MFLOPs seed=1" in html  # a job's label: its swept overrides
    assert html.count("<tr>") == 1 + len(NAMES)
    assert "<script" not in html
    assert (sweep_dir / "sweep.png").read_bytes().startswith(b"\x89PNG")
    # one job's own report reads its study from the sweep's storage
    job = subprocess.run(
        [sys.executable, "-m", "nas.report", str(sweep_dir / "3")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert job.returncode == 0, job.stderr
    assert "mnas-400MFLOPs-seed1" in (sweep_dir / "3" / "report.html").read_text()


def test_running_the_same_sweep_again_resumes_every_study(sweep_dir: Path) -> None:
    cwd = sweep_dir.parent.parent.parent
    # more trials, with two workers a job: the same directory, the same studies
    two_workers = [o for o in TINY if not o.startswith("workers=")] + ["workers=2"]
    search(cwd, *SWEEP, "n_trials=4", *two_workers)
    assert [p.name for p in (cwd / "outputs" / "sweeps").iterdir()] == [sweep_dir.name]
    storage = f"sqlite:///{sweep_dir / STUDY_DB}"
    studies = optuna.get_all_study_summaries(storage)
    assert sorted((s.study_name, s.n_trials) for s in studies) == [(n, 4) for n in NAMES]
    for name in NAMES:  # every worker records the config as given, never the storage's path here
        for trial in optuna.load_study(study_name=name, storage=storage).trials:
            assert str(sweep_dir) not in trial.user_attrs["config"], trial.number
    assert len(yaml.safe_load((sweep_dir / SWEEP_FILE).read_text())["jobs"]) == len(NAMES)


def test_a_sweep_into_a_given_storage(postgres_url: str, tmp_path: Path) -> None:
    search(tmp_path, "budget=200MFLOPs,400MFLOPs", "n_trials=1", f"storage={postgres_url}", *TINY)
    (sweep_dir,) = (tmp_path / "outputs" / "sweeps").iterdir()
    studies = optuna.get_all_study_summaries(postgres_url)
    assert {"mnas-200MFLOPs", "mnas-400MFLOPs"} <= {s.study_name for s in studies}
    assert not (sweep_dir / STUDY_DB).exists()
    text = (sweep_dir / SWEEP_FILE).read_text()
    assert "nas-test-password" not in text and "***" in text  # the password masked, as in every output
    result = subprocess.run(
        [sys.executable, "-m", "nas.report", str(sweep_dir)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "<code>mnas-400MFLOPs</code>" in (sweep_dir / "sweep.html").read_text()


def test_the_sweep_report_renders_offline_in_headless_chromium(sweep_dir: Path) -> None:
    page_path = write_sweep_report(sweep_dir)[0]
    with offline_page(page_path) as (page, requests, errors):
        box = page.locator("figure#sweep svg").bounding_box()
        links = page.locator("table a").count()
    assert requests == [page_path.as_uri()] and errors == []
    assert box is not None and box["width"] > 400 and box["height"] > 200  # the plot is drawn
    assert links == len(NAMES)
