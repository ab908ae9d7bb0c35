"""The search command end to end, on real configs composed as the command composes them, with the
training-free evaluator (seconds per candidate) unless training is what is tested."""

from __future__ import annotations

import csv
import dataclasses
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from nas import build_model, load_spec
from nas.arch import Network
from nas.cli import compose
from nas.latency import BACKENDS, Environment, LatencyTable, Setting, _predict, load_table, predict
from nas.search import Evaluator, ProxyTask, run

# One process: the tests' searches are tiny, and each repeats exactly (workers=N is tested on its own).
DATA = ["data=digits", "data.limit_train=64", "data.limit_val=32", "workers=1"]
FAST = ["evaluator=zero_cost", "evaluator.batch_size=8", *DATA]


def config(tmp_path: Path, *overrides: str, fast: list[str] = FAST):
    return compose(
        "search", overrides=["workers=1", *fast, f"storage=sqlite:///{tmp_path / 'study.db'}", *overrides]
    )


def trials(tmp_path: Path) -> list[dict[str, str]]:
    with (tmp_path / "trials.csv").open() as f:
        return list(csv.DictReader(f))


def test_outputs_and_baselines_in_one_table(tmp_path: Path) -> None:
    files = run(config(tmp_path, "n_trials=6", "budget=400MFLOPs"), tmp_path)
    names = {f.name for f in files}
    assert {"trials.csv", "best_arch.yaml", "summary.md"} <= names
    rows = trials(tmp_path)
    assert len(rows) == 6
    assert {r["baseline"] for r in rows} >= {"mnasnet_a1", "efficientnet_b0"}  # points of the mnas space
    best = load_spec((tmp_path / "best_arch.yaml").read_text())
    best_row = max((r for r in rows if r["feasible"] == "True"), key=lambda r: float(r["objective"]))
    assert sum(p.numel() for p in build_model(best).parameters()) == int(best_row["params"])
    summary = (tmp_path / "summary.md").read_text()
    assert "mnasnet_a1" in summary and "400MFLOPs" in summary


def test_a_tight_budget_never_builds_an_infeasible_candidate(tmp_path: Path, monkeypatch) -> None:
    from nas.search import _zero_cost

    built = []  # every module the search builds, by the name of its spec (mnas_NUMBER)
    original = _zero_cost.build_model

    def counting(spec, *args, **kwargs):
        built.append(int(spec.name.rsplit("_", 1)[1]))
        return original(spec, *args, **kwargs)

    monkeypatch.setattr(_zero_cost, "build_model", counting)
    run(config(tmp_path, "n_trials=12", "budget=150MFLOPs", "baselines=[]"), tmp_path)
    rows = trials(tmp_path)
    feasible = [int(r["number"]) for r in rows if r["feasible"] == "True"]
    assert len(feasible) < len(rows), "the budget should reject some candidates"
    assert sorted(built) == feasible  # each feasible candidate built once, no other


def test_same_seed_same_trials_and_resume_does_not_repeat(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    run(config(a, "n_trials=5", "sampler.n_startup_trials=2", "baselines=[]"), a)  # TPE after 2
    run(config(b, "n_trials=5", "sampler.n_startup_trials=2", "baselines=[]"), b)
    assert [r["choices"] for r in trials(a)] == [r["choices"] for r in trials(b)]
    run(config(a, "n_trials=8", "sampler.n_startup_trials=2", "baselines=[]"), a)  # resume the same study
    study = optuna.load_study(study_name="mnas-300MFLOPs", storage=f"sqlite:///{a / 'study.db'}")
    assert len(study.trials) == 8
    assert [t.params for t in study.trials[:5]] == [eval_row(r) for r in trials(b)]


def test_every_trial_records_what_re_running_it_needs(tmp_path: Path) -> None:
    import torch
    import yaml
    from omegaconf import OmegaConf

    import nas
    from nas.paths import ROOT

    cfg = config(tmp_path, "n_trials=2", "baselines=[]", "seed=3")
    run(cfg, tmp_path)
    study = optuna.load_study(study_name="mnas-300MFLOPs", storage=f"sqlite:///{tmp_path / 'study.db'}")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    assert len(study.trials) == 2
    for t in study.trials:
        a = t.user_attrs
        assert a["seed"] == 3 and a["nas_version"] == nas.__version__ and a["torch"] == torch.__version__
        assert a["device"] == ("cpu" if not torch.cuda.is_available() else torch.cuda.get_device_name())
        assert yaml.safe_load(a["config"]) == OmegaConf.to_container(cfg, resolve=True)
        if head.returncode == 0:  # a git checkout: the commit, marked when the tree differs from it
            assert a["git_commit"].split("+")[0] == head.stdout.strip()


def eval_row(row: dict[str, str]) -> dict:
    import json

    return json.loads(row["choices"])


def test_a_failing_trial_is_recorded_and_the_study_goes_on(tmp_path: Path, monkeypatch) -> None:
    from nas.search import _evaluate

    original = _evaluate.ZeroCostEvaluator.evaluate

    def flaky(self, spec, trial):
        if trial.number == 1:
            raise FloatingPointError("loss is nan")
        return original(self, spec, trial)

    monkeypatch.setattr(_evaluate.ZeroCostEvaluator, "evaluate", flaky)
    run(config(tmp_path, "n_trials=4", "budget=null", "baselines=[]"), tmp_path)
    rows = trials(tmp_path)
    assert [r["state"] for r in rows].count("FAIL") == 1
    assert rows[1]["error"] == "FloatingPointError: loss is nan"
    assert sum(r["state"] == "COMPLETE" for r in rows) == 4


def test_pareto_front_with_nsga2(tmp_path: Path) -> None:
    files = run(
        config(tmp_path, "n_trials=6", "objective=pareto", "sampler=nsga2", "budget=[400MFLOPs,6Mparams]"),
        tmp_path,
    )
    assert (tmp_path / "pareto.csv") in files
    with (tmp_path / "pareto.csv").open() as f:
        front = list(csv.DictReader(f))
    assert front
    for row in front:
        spec = load_spec((tmp_path / row["spec"]).read_text())
        assert sum(p.numel() for p in build_model(spec).parameters()) == int(row["params"])
    macs = [int(r["macs"]) for r in front]
    quality = [float(r["quality"]) for r in front]
    assert macs == sorted(macs) and quality == sorted(quality)  # cheaper networks score lower on a front


def test_the_train_evaluator_trains_feasible_candidates(tmp_path: Path) -> None:
    cfg = config(
        tmp_path,
        "n_trials=2",
        "evaluator=train",
        "trainer.max_epochs=1",
        "baselines=[]",
        "space=families",
        "budget=100MFLOPs",
        "proxy.width=0.5",
        fast=DATA,
    )
    run(cfg, tmp_path)
    rows = [r for r in trials(tmp_path) if r["state"] == "COMPLETE" and r["feasible"] == "True"]
    assert all(0.0 <= float(r["val_acc"]) <= 1.0 for r in rows)


def test_a_latency_budget_is_predicted_for_every_candidate_and_measured_for_the_finalists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_predict, "PART_TIME_S", 0.0)  # a few runs per part: bookkeeping, not precision
    monkeypatch.setattr(_predict, "NETWORK_TIME_S", 0.0)
    table = tmp_path / "latency.json"
    cfg = config(
        tmp_path,
        "n_trials=4",
        "budget=[60MFLOPs,6ms]",
        "resolution=96",
        "baselines=[mnasnet_a1]",
        "sampler=random",
        f"latency.table={table}",
        "latency.calibration=2",
        "latency.finalists=1",
        "workers=2",  # one all the same: a training beside a timing would slow it
    )
    run(cfg, tmp_path)
    study = optuna.load_study(study_name="mnas-60MFLOPs-6ms", storage=f"sqlite:///{tmp_path / 'study.db'}")
    assert len({t.user_attrs["worker"] for t in study.trials}) == 1
    grown = load_table(table)  # saved with every candidate's parts: predicting again times nothing
    assert grown.calibration is not None and grown.calibration.networks == 2
    rows = {int(r["number"]): r for r in trials(tmp_path)}
    size = len(grown)
    for t in study.trials:
        predicted = predict(load_spec(t.user_attrs["spec"]), grown)
        # saved entries are rounded to 10 ns
        assert t.user_attrs["latency_predicted_ms"] == pytest.approx(predicted, abs=1e-3)
        assert len(grown) == size
        feasible = t.user_attrs["macs"] <= 60e6 and predicted <= 6.0
        assert t.user_attrs["feasible"] is feasible
        assert float(rows[t.number]["latency_predicted_ms"]) == pytest.approx(predicted, abs=1e-3)
    measured = {int(k): v for k, v in study.user_attrs["latency_measured_ms"].items()}
    baseline = next(t.number for t in study.trials if t.user_attrs.get("baseline"))
    assert baseline in measured and all(v > 0 for v in measured.values())
    assert all(float(rows[n]["latency_measured_ms"]) == pytest.approx(v) for n, v in measured.items())
    summary = (tmp_path / "summary.md").read_text()
    assert "| predicted (ms) | measured (ms) |" in summary and "latency.json" in summary


def test_a_latency_budget_in_onnxruntime_measures_the_finalists_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_predict, "PART_TIME_S", 0.0)  # a few runs per part: bookkeeping, not precision
    monkeypatch.setattr(_predict, "NETWORK_TIME_S", 0.0)
    ort, prepared = BACKENDS["onnxruntime"], []
    real_prepare = ort.prepare
    monkeypatch.setattr(
        ort, "prepare", lambda model, *a, **k: prepared.append(model) or real_prepare(model, *a, **k)
    )
    table = tmp_path / "latency.json"
    cfg = config(
        tmp_path,
        "n_trials=3",
        "budget=[60MFLOPs,20ms]",
        "resolution=64",
        "baselines=[]",
        "sampler=random",
        f"latency.table={table}",
        "latency.backend=onnxruntime",
        "latency.calibration=2",
        "latency.finalists=1",
    )
    run(cfg, tmp_path)
    grown = load_table(table, Setting(backend="onnxruntime"))
    assert grown.environment.runtime.startswith("onnxruntime ") and grown.calibration is not None
    study = optuna.load_study(study_name="mnas-60MFLOPs-20ms", storage=f"sqlite:///{tmp_path / 'study.db'}")
    measured = study.user_attrs["latency_measured_ms"]
    assert len(measured) == 1 and all(v > 0 for v in measured.values())
    # Every part and whole network went through ONNX Runtime: the 2 calibration networks and the finalist
    # (each timed in 5 passes), and the parts.
    networks = [m for m in prepared if isinstance(m, Network)]
    assert len(networks) == (2 + 1) * _predict.NETWORK_PASSES and len(prepared) > len(networks)
    assert "onnxruntime" in (tmp_path / "summary.md").read_text()


def test_a_latency_table_from_another_machine_stops_the_search(tmp_path: Path, capsys) -> None:
    table = tmp_path / "phone.json"
    LatencyTable(dataclasses.replace(Environment.here(Setting()), device_name="A Phone CPU")).save(table)
    with pytest.raises(SystemExit) as info:
        run(config(tmp_path, "budget=25ms", f"latency.table={table}"), tmp_path)
    assert info.value.code == 2
    assert "measured elsewhere (device_name: table 'A Phone CPU'" in capsys.readouterr().err
    assert not (tmp_path / "study.db").exists()  # refused before the first trial


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["space=nope"], "unknown space 'nope'; expected one of: families, mnas, mobilenetv3"),
        (["budget=300MB"], "budget: cannot read '300MB'; expected forms like 300MFLOPs"),
        (["n_trials=0"], "n_trials: expected an integer >= 1; got 0"),
        (["workers=0"], "workers: expected an integer >= 1; got 0"),
        (["storage=postgresql://nobody@127.0.0.1:9/none"], "storage: cannot open"),
        (["budget=1MFLOPs"], "budget: no network of space 'mnas' meets 1MFLOPs: the smallest has"),
        (["sampler=nope"], "sampler: unknown choice 'nope'"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nas.search", f"hydra.run.dir={tmp_path}", *FAST, *args],  # args override FAST
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["evaluator=combined", "evaluator.keep=2"], "evaluator.keep: expected a fraction in (0, 1]; got 2"),
        (["evaluator.score=nope"], "evaluator.score: unknown score 'nope'"),
        (["+evaluator.nope=1"], "evaluator: "),
        (["evaluator._target_=nas.search.Nope"], "evaluator: Error locating target 'nas.search.Nope'"),
        (["objective.alpha=oops"], "objective.alpha: expected"),
        (["~objective._target_"], "objective: expected a _target_"),
    ],
)
def test_a_bad_evaluator_or_objective_is_one_line_naming_its_group(
    tmp_path: Path, capsys, args: list[str], message: str
) -> None:
    """Evaluators and objectives are built from their group's ``_target_``: a mistake there is a usage
    error naming the group, before the study exists."""
    with pytest.raises(SystemExit) as info:
        run(config(tmp_path, "n_trials=1", *args), tmp_path)
    err = capsys.readouterr().err
    assert info.value.code == 2 and message in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "study.db").exists()


def test_a_new_evaluator_is_one_class_and_its_target(tmp_path: Path) -> None:
    """No list to edit: any class taking the run's proxy task is an evaluator."""
    target = "tests.search.test_search.ConstantEvaluator"
    run(
        config(
            tmp_path, "n_trials=3", "baselines=[]", f"evaluator._target_={target}", "+evaluator.value=0.5"
        ),
        tmp_path,
    )
    values = [float(r["quality"]) for r in trials(tmp_path) if r["quality"]]
    assert values and all(v == 0.5 for v in values)


class ConstantEvaluator(Evaluator):
    quality = "val_acc"

    def __init__(self, task: ProxyTask, value: float, score: str = "", batch_size: int = 0) -> None:
        self.value = value

    def evaluate(self, spec, trial) -> float:
        return self.value

    def describe(self) -> dict[str, object]:
        return {"evaluator": "constant", "value": self.value}


def test_a_search_never_selects_on_the_test_set(tmp_path: Path, capsys) -> None:
    from tests.data.test_fashion_mnist import write_fashion

    fake = write_fashion(tmp_path / "fashion")
    data = ["data=fashion_mnist", f"data.root={fake}", "data.split=test", "evaluator=zero_cost"]
    with pytest.raises(SystemExit) as info:
        run(config(tmp_path, "n_trials=2", fast=data), tmp_path)
    assert info.value.code == 2
    assert "data.split=test: a search must never select on the test set" in capsys.readouterr().err
    assert not (tmp_path / "study.db").exists()  # refused before the first trial


def test_a_pruned_training_is_pruned_not_failed(tmp_path: Path, monkeypatch) -> None:
    from nas.search import _evaluate
    from nas.training import TrainingFailed

    def pruned_fit(*args, **kwargs):
        try:
            raise optuna.TrialPruned("Trial was pruned at epoch 1.")
        except optuna.TrialPruned as err:
            raise TrainingFailed("training failed at epoch 1: TrialPruned") from err

    monkeypatch.setattr(_evaluate, "fit", pruned_fit)
    cfg = config(tmp_path, "n_trials=2", "evaluator=train", "baselines=[]", "budget=null", fast=DATA)
    run(cfg, tmp_path)
    assert [r["state"] for r in trials(tmp_path)] == ["PRUNED", "PRUNED"]
