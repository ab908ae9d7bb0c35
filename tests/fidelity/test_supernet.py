"""The ``supernet`` evaluator of ``python -m nas.fidelity``: a tiny supernet trained on the study's proxy
data scores the sample, its rows resume like any other's, a retrained supernet gets fresh rows (and only
they are computed), and a checkpoint of another space or data is refused before any job runs."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import nas.fidelity._run as run_module
from nas.cli import exits_on_usage_error
from nas.fidelity import plan, prepare, run
from nas.fidelity._jobs import Task, run_job
from nas.fidelity._journal import Journal
from nas.paths import ROOT
from tests.fidelity.conftest import FAST, TINY_SPACE, settings

# The supernet's data are the study's proxy data (FAST): synthetic, 16 px, 3 channels, 10 classes, seed 0.
TRAIN = [
    "data=synthetic",
    "data.resolution=16",
    "data.train_samples=64",
    "data.val_samples=32",
    "data.limit_train=null",
    "data.limit_val=null",
    "trainer.max_epochs=1",
    "recipe.calibration_batches=1",
    "recipe.random=0",
]
# Only what the supernet needs beside it; the reference at 1 epoch, its cheapest.
STUDY = [*FAST, "evaluators=[params,supernet]", "reference.training.epochs=1"]


def rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def space(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("space") / "tiny.yaml"
    path.write_text(TINY_SPACE)
    return path


@pytest.fixture(scope="module")
def checkpoint(space: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A supernet of the tiny space after one step, as ``python -m nas.supernet train`` writes it."""
    run_dir = tmp_path_factory.mktemp("supernet")
    command = [sys.executable, "-m", "nas.supernet", "train", f"space={space}", *TRAIN]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # one thread: fast whatever else the machine runs
    result = subprocess.run(
        [*command, f"hydra.run.dir={run_dir}"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return run_dir / "checkpoints" / "last.ckpt"


@pytest.fixture(scope="module")
def finished(
    space: Path, checkpoint: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[Path], list[str]]:
    out = tmp_path_factory.mktemp("finished")
    overrides = [f"space={space}", *STUDY, f"supernet.ckpt={checkpoint}", f"out={out}"]
    return run(*settings(*overrides)), overrides


def usage_error(capsys: pytest.CaptureFixture[str], *overrides: str) -> str:
    """The one line a command prints for ``overrides``, after checking it exits with status 2."""
    with pytest.raises(SystemExit) as exit_info:
        exits_on_usage_error(lambda: run(*settings(*overrides)))()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def test_the_supernet_scores_every_network_and_shows_in_the_outputs(finished) -> None:
    files, _ = finished
    journal = rows(files[3])
    scored = [r for r in journal if r["evaluator"] == "supernet"]
    assert len(scored) == 4 and {r["seed"] for r in scored} == {"0"}
    assert all(0 <= float(r["value"]) <= 1 and not r["error"] for r in scored)
    assert all(float(r["cpu_seconds"]) > 0 and float(r["seconds"]) > 0 for r in scored)
    # Its own protocol, apart from the other evaluators' and the reference's.
    assert len({r["protocol"] for r in scored}) == 1
    assert scored[0]["protocol"] not in {r["protocol"] for r in journal if r["evaluator"] != "supernet"}
    result = json.loads(files[0].read_text())
    assert set(result["evaluators"]) == {"params", "supernet"}
    figures = result["evaluators"]["supernet"]
    assert -1 <= figures["lo"] <= figures["tau"] <= figures["hi"] <= 1
    assert figures["seconds_per_candidate"] > 0
    assert result["supernet"]["ckpt"] == finished[1][-2].removeprefix("supernet.ckpt=")
    assert result["supernet"]["calibration_batches"] == 8
    text = files[1].read_text()
    assert "| `supernet` |" in text and "**supernet**: the accuracy with the weights inherited" in text


def test_a_rerun_reuses_the_supernet_rows(finished, monkeypatch) -> None:
    files, overrides = finished
    before = files[3].read_text()
    calls = []
    monkeypatch.setattr(run_module, "run_job", lambda *a: calls.append(a) or run_job(*a))
    run(*settings(*overrides))
    assert calls == [] and files[3].read_text() == before


def test_a_retrained_supernet_gets_fresh_rows_and_nothing_else_is_redone(
    finished, checkpoint: Path, tmp_path: Path, monkeypatch
) -> None:
    files, overrides = finished
    # Another supernet of the same space and data: the same fingerprint, other weights.
    saved = torch.load(checkpoint, map_location="cpu", weights_only=False)
    name = next(k for k, v in saved["state_dict"].items() if v.is_floating_point())
    saved["state_dict"][name] = saved["state_dict"][name] + 0.5
    retrained = tmp_path / "retrained.ckpt"
    torch.save(saved, retrained)
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(files[3], out / files[3].name)
    before = rows(out / files[3].name)
    calls = []
    monkeypatch.setattr(run_module, "run_job", lambda *a: calls.append(a) or run_job(*a))
    changed = [o for o in overrides if not o.startswith(("supernet.ckpt=", "out="))]
    new = run(*settings(*changed, f"supernet.ckpt={retrained}", f"out={out}"))
    assert [job.task for job, *_ in calls] == [Task.SUPERNET] * 4
    after = rows(new[3])
    assert after[: len(before)] == before and len(after) == len(before) + 4
    fresh = after[len(before) :]
    assert {r["evaluator"] for r in fresh} == {"supernet"}
    old = {r["protocol"] for r in before if r["evaluator"] == "supernet"}
    assert {r["protocol"] for r in fresh}.isdisjoint(old)
    result = json.loads(new[0].read_text())
    assert result["supernet"]["identity"] != json.loads(files[0].read_text())["supernet"]["identity"]


def test_with_several_workers_the_supernet_jobs_run_here_on_one_thread(
    space: Path, checkpoint: Path, tmp_path: Path, monkeypatch
) -> None:
    fidelity_settings, data = settings(f"space={space}", *STUDY, f"supernet.ckpt={checkpoint}")
    fidelity_settings = fidelity_settings.replace(workers=2)
    study = prepare(fidelity_settings, data, tmp_path)
    study = dataclasses.replace(study, journal=Journal(tmp_path / "runs.csv"))
    jobs = [j for j in plan(study) if j.task is Task.SUPERNET]
    threads, calls = torch.get_num_threads(), []
    monkeypatch.setattr(run_module, "run_job", lambda *a: calls.append(a[-1]) or run_job(*a))
    assert run_module.execute(study, jobs) == 0  # no worker process: the pool would not see the patch
    assert calls == [1] * 4 and torch.get_num_threads() == threads
    assert all(study.done(j) for j in jobs)


def test_the_supernet_is_in_the_study_only_with_a_checkpoint() -> None:
    checkpoint = "RUN_DIR/checkpoints/last.ckpt"  # read only when a study prepares
    assert "supernet" not in settings(*FAST)[0].chosen()
    assert "supernet" in settings(*FAST, f"supernet.ckpt={checkpoint}")[0].chosen()
    assert "supernet" not in settings(*FAST, "evaluators=[params]", f"supernet.ckpt={checkpoint}")[0].chosen()


def test_naming_the_supernet_without_a_checkpoint_is_one_line_and_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        exits_on_usage_error(settings)(*FAST, "evaluators=[supernet]")
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: supernet.ckpt: evaluator supernet needs a checkpoint")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["space=mnas"], "error: supernet.ckpt: CKPT was trained for space 'tiny'"),
        (["proxy.resolution=32"], "error: supernet.ckpt: CKPT was trained on resolution 16; this search's"),
        (["data.in_channels=1"], "error: supernet.ckpt: CKPT was trained on in_channels 3;"),
        (["seed=1"], "error: supernet.ckpt: CKPT was trained beside the validation hold-out of split seed 0"),
    ],
)
def test_a_checkpoint_of_another_space_or_data_is_refused_before_any_job(
    change: list[str], message: str, space: Path, checkpoint: Path, tmp_path: Path, capsys
) -> None:
    overrides = [f"space={space}", *STUDY, *change, f"supernet.ckpt={checkpoint}", f"out={tmp_path}"]
    err = usage_error(capsys, *overrides)
    assert err.startswith(message.replace("CKPT", str(checkpoint))), err
    assert list(tmp_path.iterdir()) == []  # no journal: nothing ran


def test_a_missing_or_unreadable_checkpoint_is_one_line_and_exit_2(
    space: Path, tmp_path: Path, capsys
) -> None:
    base = [f"space={space}", *STUDY, f"out={tmp_path / 'out'}"]
    missing = tmp_path / "missing.ckpt"
    assert usage_error(capsys, *base, f"supernet.ckpt={missing}") == (
        f"error: supernet.ckpt: no checkpoint at {missing}\n"
    )
    junk = tmp_path / "junk.ckpt"
    junk.write_text("not a checkpoint")
    assert usage_error(capsys, *base, f"supernet.ckpt={junk}").startswith(
        f"error: supernet.ckpt: {junk} is not a readable checkpoint"
    )
