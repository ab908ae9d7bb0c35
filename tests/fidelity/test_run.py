"""``python -m nas.fidelity`` end to end on a tiny space and synthetic data: outputs, resuming, failures
recorded rather than fatal, and one-line refusals of bad input."""

from __future__ import annotations

import csv
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

import nas.fidelity._run as run_module
from nas.fidelity import plan, prepare, run, study_seconds
from nas.fidelity._jobs import run_job
from nas.fidelity._journal import Journal
from nas.paths import ROOT
from tests.data.test_fashion_mnist import write_fashion
from tests.fidelity.conftest import FAST, TINY_SPACE, settings


def rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], list[str]]:
    """One study for the tests that only read it; the resume test runs last (it rewrites the journal)."""
    tmp = tmp_path_factory.mktemp("finished")
    (tmp / "tiny.yaml").write_text(TINY_SPACE)
    overrides = [f"space={tmp / 'tiny.yaml'}", *FAST, f"out={tmp / 'out'}"]
    return run(*settings(*overrides)), overrides


def test_outputs_hold_every_evaluator_with_its_interval(finished) -> None:
    files, _ = finished
    assert [f.name for f in files] == [
        "fidelity_tiny_synthetic.json", "fidelity_tiny_synthetic.md", "fidelity_tiny_synthetic.png",
        "fidelity_tiny_synthetic_runs.csv",
    ]  # fmt: skip
    result = json.loads(files[0].read_text())
    assert result["default"] == "train_1ep" and result["n"] == 4
    assert set(result["evaluators"]) == {
        "params",
        "macs",
        "synflow",
        "naswot",
        "grad_norm",
        "train_1ep",
        "combined",
    }
    for figures in [result["ceiling"], *result["evaluators"].values()]:
        assert -1 <= figures["lo"] <= figures["tau"] <= figures["hi"] <= 1
    train = result["evaluators"]["train_1ep"]
    assert train["seconds_per_candidate"] > result["evaluators"]["synflow"]["seconds_per_candidate"] > 0
    assert 0 <= train["top_quartile_recall"] <= 1
    text = files[1].read_text()
    assert "| `train_1ep` (default) |" in text and "Noise ceiling" in text
    assert files[2].read_bytes()[:4] == b"\x89PNG"


def test_the_journal_has_one_row_per_value(finished) -> None:
    files, _ = finished
    journal = rows(files[3])
    evaluators = [r["evaluator"] for r in journal]
    # 4 networks: 5 scores each, one 1-epoch proxy each (combined reuses it), 2 reference seeds each.
    assert sorted(set(evaluators)) == sorted(
        {"params", "macs", "synflow", "naswot", "grad_norm", "train_1ep", "reference"}
    )
    assert evaluators.count("train_1ep") == 4 and evaluators.count("reference") == 8
    assert {r["seed"] for r in journal if r["evaluator"] == "reference"} == {"1", "2"}
    assert all(0 <= float(r["value"]) <= 1 for r in journal if r["evaluator"] in ("train_1ep", "reference"))


def test_the_time_counts_this_study_only_not_other_settings_in_the_journal(finished, tmp_path) -> None:
    files, overrides = finished
    fidelity_settings, data = settings(*overrides)
    study = prepare(fidelity_settings, data, files[3].parent)
    copy = tmp_path / files[3].name
    copy.write_text(files[3].read_text())
    study = dataclasses.replace(study, journal=Journal(copy))
    jobs = plan(study)
    before = study_seconds(study, jobs)
    assert before > 0
    other = {**study.journal.rows[-1], "protocol": "0123456789ab", "seconds": 1e6}  # an earlier protocol
    study.journal.append([other])
    assert study_seconds(study, jobs) == before


def test_a_rerun_resumes_without_training_again(finished, monkeypatch) -> None:
    files, overrides = finished
    before = files[3].read_text()
    calls = []
    monkeypatch.setattr(run_module, "run_job", lambda *a: calls.append(a) or run_job(*a))
    run(*settings(*overrides))
    assert calls == [] and files[3].read_text() == before
    # A killed run: the last reference rows lost; only they are redone.
    lines = before.splitlines(keepends=True)
    files[3].write_text("".join(lines[:-2]))
    run(*settings(*overrides))
    assert len(calls) == 2 and len(rows(files[3])) == len(lines) - 1


def test_a_failing_training_is_recorded_and_ranked_last(
    tiny_space: Path, tmp_path: Path, monkeypatch
) -> None:
    def flaky(job, *args):  # type: ignore[no-untyped-def]
        if job.name.endswith("_01") and job.evaluator == "train_1ep":
            raise FloatingPointError("the training loss is nan")
        return run_job(job, *args)

    monkeypatch.setattr(run_module, "run_job", flaky)
    files = run(*settings(f"space={tiny_space}", *FAST, f"out={tmp_path}"))
    journal = rows(files[3])
    failed = [r for r in journal if r["error"]]
    assert len(failed) == 1 and "FloatingPointError: the training loss is nan" in failed[0]["error"]
    assert "1 value(s) failed" in files[1].read_text()
    # A rerun tries the failed training again (and only it); its new value replaces the failure.
    monkeypatch.setattr(run_module, "run_job", run_job)
    files = run(*settings(f"space={tiny_space}", *FAST, f"out={tmp_path}"))
    again = rows(files[3])
    assert len(again) == len(journal) + 1 and again[-1]["network"] == failed[0]["network"]
    assert not again[-1]["error"] and "failed" not in files[1].read_text()


def fidelity(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nas.fidelity", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["n=3"], "error: n: expected at least 4 networks to rank; got 3"),
        (
            ["evaluators=[synflow,nope]"],
            "error: evaluators: unknown evaluator 'nope'; expected one of params,",
        ),
        (["budget=1MFLOPs"], "error: budget: only 0 of 960 random networks of mnas meet 1MFLOPs"),
        (["data.root=/nonexistent"], "error: fashion_mnist: no folder /nonexistent; install Debian's"),
        (["data.split=test", "data.root=FAKE"], "error: data.split=test: a fidelity study ranks networks"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    data = [] if "data." in args[0] else ["data=synthetic"]
    args = [a.replace("FAKE", str(write_fashion(tmp_path / "fashion"))) for a in args]
    result = fidelity(*data, *args, f"out={tmp_path}", f"hydra.run.dir={tmp_path / 'hydra'}")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
