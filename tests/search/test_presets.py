"""The papers' searches as presets (``+preset=NAME``), latency targets named by a zoo network, the nearest
baseline of every searched network, and the finalists retrained with repeated seeds."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from nas import load_spec
from nas.cli import compose
from nas.latency import _predict, load_table, predict
from nas.paths import CONF
from nas.search import TrainEvaluator, run
from nas.stats import Verdict
from nas.study import Finalist, TrialRecord, distance, nearest, verdicts
from tests.search.test_search import FAST, config, trials

PRESETS = sorted(p.stem for p in (CONF / "preset").glob("*.yaml"))


def test_the_four_papers_are_presets_each_naming_its_section() -> None:
    assert PRESETS == ["efficientnet_b0", "mnasnet_a1", "mobilenetv3_large", "mobilenetv3_small"]
    for name in PRESETS:
        text = (CONF / "preset" / f"{name}.yaml").read_text()
        assert "section" in text.splitlines()[1], name  # the comment under the package line
        cfg = compose("search", [f"+preset={name}"])
        assert cfg.preset.name == name and cfg.objective._target_ == cfg.preset.objective
        assert cfg.objective.soft is True  # the papers' reward is a soft target
    small = compose("search", ["+preset=mobilenetv3_small"])
    assert small.objective.alpha == small.objective.beta == -0.15  # MobileNetV3 section 4.1
    assert compose("search", ["+preset=efficientnet_b0"]).budget == "400MFLOPs"


def test_efficientnet_b0_preset_trains_over_target_and_repeats(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
        run(config(d, "+preset=efficientnet_b0", "n_trials=6", "baselines=[mnasnet_a1]"), d)
    rows = trials(a)
    assert [r["choices"] for r in rows] == [r["choices"] for r in trials(b)]
    assert (a / "best_arch.yaml").read_text() == (b / "best_arch.yaml").read_text()
    assert all(r["feasible"] == "True" for r in rows)  # soft: nothing is rejected...
    study = optuna.load_study(study_name="mnas-400MFLOPs", storage=f"sqlite:///{a / 'study.db'}")
    assert all(not t.system_attrs.get("constraints") for t in study.trials)  # ...nor constrained
    assert study.user_attrs["preset"]["name"] == "efficientnet_b0"
    summary = (a / "summary.md").read_text()
    assert "Preset `efficientnet_b0`: the search of Tan & Le 2019 (EfficientNet), section 4" in summary
    assert "soft target" in summary


@pytest.mark.parametrize("name", [p for p in PRESETS if p != "efficientnet_b0"])
def test_a_latency_preset_reruns_to_the_same_trials_from_the_same_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # A latency target and every trial's latency come from the lookup table: timed once, on the first
    # run, then read. Two runs that share the table are the same search, trial for trial.
    monkeypatch.setattr(_predict, "PART_TIME_S", 0.0)
    monkeypatch.setattr(_predict, "NETWORK_TIME_S", 0.0)
    published = compose("search", [f"+preset={name}"]).preset.published
    table = tmp_path / "latency.json"
    runs = [tmp_path / "a", tmp_path / "b"]
    for d in runs:
        d.mkdir()
        args = [f"+preset={name}", "n_trials=4", "resolution=64", f"baselines=[{published}]",
                f"latency.table={table}", "latency.calibration=2", "latency.finalists=0"]  # fmt: skip
        run(config(d, *args), d)
    a, b = (trials(d) for d in runs)
    assert len(a) == 4 and sum(r["state"] == "COMPLETE" for r in a) >= 3
    assert [(r["choices"], r["objective"], r["latency_predicted_ms"]) for r in a] == [
        (r["choices"], r["objective"], r["latency_predicted_ms"]) for r in b
    ]
    assert (runs[0] / "best_arch.yaml").read_text() == (runs[1] / "best_arch.yaml").read_text()


def test_a_latency_target_is_the_named_networks_predicted_latency(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_predict, "PART_TIME_S", 0.0)
    monkeypatch.setattr(_predict, "NETWORK_TIME_S", 0.0)
    table = tmp_path / "latency.json"
    cfg = config(
        tmp_path, "+preset=mnasnet_a1", "n_trials=3", "resolution=64", "baselines=[mnasnet_a1]",
        f"latency.table={table}", "latency.calibration=2", "latency.finalists=0",
    )  # fmt: skip
    run(cfg, tmp_path)
    study = optuna.load_study(
        study_name="mnas-latency:mnasnet_a1", storage=f"sqlite:///{tmp_path / 'study.db'}"
    )
    baseline = next(t for t in study.trials if t.user_attrs.get("baseline") == "mnasnet_a1")
    target = float(study.user_attrs["budget"].removesuffix("ms"))
    assert baseline.user_attrs["latency_predicted_ms"] == pytest.approx(target, rel=1e-6)
    # on target, the reward's factor is 1: the objective is the quality itself
    assert baseline.values[0] == pytest.approx(baseline.user_attrs["quality"], rel=1e-6)
    assert predict(load_spec(baseline.user_attrs["spec"]), load_table(table)) == pytest.approx(
        target, abs=1e-3
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["+preset=nope"], "preset: unknown preset 'nope'; expected one of: efficientnet_b0, mnasnet_a1"),
        (["+preset=efficientnet_b0", "space=mobilenetv3"], "preset efficientnet_b0: searches space 'mnas'"),
        (["+preset=mobilenetv3_small", "objective=pareto"], "preset mobilenetv3_small: uses the objective"),
        (
            ["finalists.seeds=0"],
            "finalists.seeds: expected an integer >= 1, or null for no retraining; got 0",
        ),
        (["budget=latency:nope", "latency.calibration=0"], "budget: latency:nope: no zoo network 'nope'"),
    ],
)
def test_bad_presets_and_seeds_are_one_line_and_exit_status_2(tmp_path: Path, args, message) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nas.search", f"hydra.run.dir={tmp_path}", f"latency.table={tmp_path}/t.json",
         *FAST, *args],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_distance_counts_differing_choices_and_layers_only_one_point_has() -> None:
    a = {"s1.depth": 2, "s1.0.k": 3, "s1.1.k": 5, "act": "relu"}
    b = {"s1.depth": 1, "s1.0.k": 3, "act": "swish"}
    d = distance(a, b)
    assert (d.differing, d.compared) == (3, 4) and str(d) == "3/4"
    assert nearest(a, {"x": b, "y": dict(a, act="swish")}) == ("y", distance(a, dict(a, act="swish")))
    assert nearest(a, {}) is None


def test_every_searched_trial_names_its_nearest_baseline(tmp_path: Path) -> None:
    run(config(tmp_path, "n_trials=5", "baselines=[mnasnet_a1,efficientnet_b0]"), tmp_path)
    rows = trials(tmp_path)
    searched = [r for r in rows if not r["baseline"] and r["state"] == "COMPLETE"]
    assert searched and all(r["nearest_baseline"] in {"mnasnet_a1", "efficientnet_b0"} for r in searched)
    differing, compared = map(int, searched[0]["baseline_distance"].split("/"))
    assert compared > 0 and 0 <= differing <= compared
    summary = (tmp_path / "summary.md").read_text()
    assert "| nearest baseline |" in summary and "is not decided here" in summary  # one training each


def test_finalists_retrain_with_k_seeds_and_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int]] = []
    real = TrainEvaluator.train

    def counting(self, spec, seed, folder, callbacks=None, data_seed=None):
        calls.append((folder, seed))
        assert data_seed == seed  # a repetition reorders the training images too
        return real(self, spec, seed, folder, callbacks, data_seed)

    monkeypatch.setattr(TrainEvaluator, "train", counting)
    args = ["n_trials=3", "baselines=[mnasnet_a1]", "finalists.seeds=2", "finalists.count=1",
            "trainer.max_epochs=1", "proxy.width=0.25"]  # fmt: skip
    run(config(tmp_path, *args), tmp_path)
    assert len(calls) == 4  # (the best searched + the baseline) x 2 seeds
    assert len({seed for _, seed in calls}) == 2  # the same 2 seeds for both networks: they pair
    with (tmp_path / "finalists.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["baseline"] for r in rows] == ["", "mnasnet_a1"]
    assert all(0.0 <= float(r["seed0"]) <= 1.0 and r["std"] for r in rows)
    summary = (tmp_path / "summary.md").read_text()
    assert "Finalists retrained with 2 seeds" in summary and "- mnasnet_a1: " in summary
    html = (tmp_path / "report.html").read_text()
    assert "Finalists over 2 seeds" in html and "nearest baseline mnasnet_a1" in html
    run(config(tmp_path, *args), tmp_path)  # the same command: every training is kept
    assert len(calls) == 4


def _record(number: int, macs: int, baseline: str | None = None) -> TrialRecord:
    return TrialRecord(
        number=number, state=optuna.trial.TrialState.COMPLETE, status=None, baseline=baseline,  # type: ignore[arg-type]
        feasible=True, macs=macs, params=1, activation_bytes=None, latency_predicted_ms=None,
        latency_measured_ms=None, quality=0.5, values=(0.5,), detail="", error=None, screened_out=False,
        worker=None, retry_of=None, spec=None, config=None,
    )  # fmt: skip


def test_a_baseline_is_dominated_only_by_a_cheaper_network_the_seeds_support() -> None:
    base = Finalist(_record(0, 300, "mnasnet_a1"), (0.80, 0.81, 0.79))
    clear = Finalist(_record(1, 250), (0.90, 0.91, 0.90))
    tie = Finalist(_record(2, 200), (0.85, 0.76, 0.80))
    costly = Finalist(_record(3, 400), (0.99, 0.99, 0.99))
    [v] = verdicts([clear, tie, costly, base])
    assert v.dominated_by is clear
    assert 3 not in v.comparisons  # costs more: no claim either way
    [v] = verdicts([tie, costly, base])
    assert v.dominated_by is None and v.comparisons[2].verdict is Verdict.TIE


def test_presets_are_listed_in_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "nas.search", "--help"], capture_output=True, text=True, timeout=300
    ).stdout
    assert "+preset: " + ", ".join(PRESETS) in out
