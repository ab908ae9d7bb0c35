"""``python -m nas.scale`` end to end on a tiny base and synthetic data, two seeds: the grid respects its
constraint, every network is trained once per seed, the choice and the comparisons are paired over
seeds, the budget's φ fits, and a rerun (after an interruption, or with more seeds) trains only what is
missing, exactly as an uninterrupted run would have."""

from __future__ import annotations

import csv
import math
import shutil
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import yaml

from nas import count_cost, load_spec
from nas.paths import ROOT
from nas.scale import GridPoint, run, single
from nas.scale._proxy import SEED_INDEX
from nas.scaling import scale
from tests.scale.conftest import FAST, SMALL_GRID, TINY, config

SETTINGS = ("target=2x", "n_phi=1", "budget=5MFLOPs", *SMALL_GRID, *FAST)
WITHIN = {(1.0, 1.2, 1.2), (1.4, 1.0, 1.2), (1.4, 1.2, 1.0)}  # SMALL_GRID's points within the constraint
KINDS = ["base", "compound", "width", "depth", "resolution"]  # n_phi=1: the base, then φ = 1


def rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def point(r: dict[str, str]) -> tuple[float, float, float]:
    return float(r["alpha"]), float(r["beta"]), float(r["gamma"])


def scale_run(root: Path, out: Path, *overrides: str) -> list[Path]:
    return run(config(f"base={root / 'tiny.yaml'}", *SETTINGS, *overrides), out)


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run with seeds=2, shared by the tests that read it (about 15 s: 16 tiny trainings)."""
    root = tmp_path_factory.mktemp("scale")
    (root / "tiny.yaml").write_text(TINY)
    scale_run(root, root / "run", "seeds=2")
    return root / "run"


class Interrupted(BaseException):
    """A run stopped from outside (Ctrl-C, a kill): no ``except Exception`` catches it."""


def count_trainings(monkeypatch: pytest.MonkeyPatch, stop_at: int | None = None) -> list[tuple[str, int]]:
    """(study, seed index) of every training from now on; ``stop_at``: interrupt the run when that
    training starts."""
    from nas.scale import _proxy

    calls: list[tuple[str, int]] = []
    original = _proxy.ProxyTrainer.train

    def train(self, spec, trial, seed):  # type: ignore[no-untyped-def]
        calls.append((trial.study.study_name, trial.user_attrs[SEED_INDEX]))
        if len(calls) == stop_at:
            raise Interrupted
        return original(self, spec, trial, seed)

    monkeypatch.setattr(_proxy.ProxyTrainer, "train", train)
    return calls


def test_every_point_within_the_constraint_is_trained_once_per_seed(finished: Path) -> None:
    grid = rows(finished / "grid.csv")
    outside = [r for r in grid if r["feasible"] == "False"]
    trained = [r for r in grid if r["feasible"] == "True"]
    assert len(outside) == 5 and all(
        (r["state"], r["val_acc"], r["seed_index"]) == ("pruned", "", "") for r in outside
    )
    assert sorted((point(r), r["seed_index"]) for r in trained) == sorted(
        (p, k) for p in WITHIN for k in ("0", "1")
    )
    assert all(r["state"] == "complete" and 0 <= float(r["val_acc"]) <= 1 for r in trained)
    for r in grid:
        product = float(r["alpha"]) * float(r["beta"]) ** 2 * float(r["gamma"]) ** 2
        assert (r["feasible"] == "True") == (abs(product - 2.0) <= 0.1)
    # Paired by seed index: one training seed per index, shared by every point, differing between indices.
    seeds = {k: {r["training_seed"] for r in trained if r["seed_index"] == k} for k in ("0", "1")}
    assert all(len(s) == 1 for s in seeds.values()) and seeds["0"] != seeds["1"]
    study = optuna.load_study(study_name="tiny-grid", storage=f"sqlite:///{finished / 'study.db'}")
    assert len(study.trials) == 5 + 3 * 2
    for t in study.trials:  # the constraint is Optuna's, <= 0 exactly for the trained points
        (value,) = [v for k, v in t.system_attrs.items() if k.startswith("constraints")]
        assert (value <= 0) == t.user_attrs["feasible"]


def test_the_chosen_coefficients_have_the_best_mean_and_name_their_ties(finished: Path) -> None:
    summary = [r for r in rows(finished / "grid_summary.csv") if r["feasible"] == "True"]
    assert all(r["n"] == "2" and r["val_acc_std"] for r in summary)
    best = max(float(r["val_acc_mean"]) for r in summary)
    chosen = yaml.safe_load((finished / "coefficients.yaml").read_text())
    ours = (chosen["alpha"], chosen["beta"], chosen["gamma"])
    assert ours in {point(r) for r in summary if float(r["val_acc_mean"]) == best}
    assert chosen["val_acc_mean"] == pytest.approx(best, abs=1e-4)
    assert (chosen["seeds"], chosen["n"]) == (2, 2)
    tied = {
        "/".join(f"{float(r[k]):g}" for k in ("alpha", "beta", "gamma"))
        for r in summary
        if r["verdict"] == "tie"
    }
    assert set(chosen["tied_with"]) == tied
    for r in summary:
        if r["verdict"] != "chosen":  # chosen minus this, with its interval
            assert (
                float(r["chosen_minus_this_low"])
                <= float(r["chosen_minus_this"])
                <= float(r["chosen_minus_this_high"])
            )
            assert (r["verdict"] == "tie") == (
                float(r["chosen_minus_this_low"]) <= 0 <= float(r["chosen_minus_this_high"])
            )


def test_every_family_member_is_trained_once_per_seed_at_matched_macs(finished: Path) -> None:
    family = rows(finished / "family.csv")
    assert [(r["kind"], r["seed_index"]) for r in family] == [(k, i) for k in KINDS for i in ("0", "1")]
    assert all(r["state"] == "complete" and 0 <= float(r["val_acc"]) <= 1 for r in family)
    grid_seeds = {r["training_seed"] for r in rows(finished / "grid.csv") if r["training_seed"]}
    assert not grid_seeds & {r["training_seed"] for r in family}  # compound φ = 1 is trained afresh
    summary = rows(finished / "family_summary.csv")
    assert [(r["phi"], r["kind"], r["n"]) for r in summary] == [
        (str(min(i, 1)), k, "2") for i, k in enumerate(KINDS)
    ]
    base = load_spec(TINY)
    for r in summary:
        if r["kind"] in ("width", "depth", "resolution"):  # no multiplier gets nearer the compound's MACs
            assert r["verdict"] in ("compound wins", "compound loses", "tie")
            error = abs(math.log(float(r["macs_vs_compound"])))
            target = int(r["macs"]) / float(r["macs_vs_compound"])
            for m in (1 + i / 100 for i in range(300)):
                macs = count_cost(scale(base, single(base, r["kind"], m)), num_classes=1000).macs
                assert abs(math.log(macs / target)) >= error - 1e-3, (r["kind"], m)
        # The proxy's resolution follows the spec's: 16 px for the base's 32 px.
        assert int(r["proxy_resolution"]) == round(16 * int(r["resolution"]) / 32)


def test_the_readme_shows_mean_and_std_and_one_sentence_per_phi(finished: Path) -> None:
    readme = (finished / "README.md").read_text()
    assert readme.startswith("# Compound scaling of `tiny`") and "Regenerate: `python -m nas.scale" in readme
    assert "minutes** of wall time" in readme and "**Outcome**" in readme
    assert "±" in readme and readme.count("(n=2)") >= 3 + 5  # every trained grid point and member
    (sentence,) = [line for line in readme.splitlines() if line.startswith("- φ = 1")]
    assert (
        "compound scaling won" in sentence or "compound scaling did not win" in sentence or "tie" in sentence
    )
    assert "95% CI" in sentence
    assert (finished / "compound_scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_budgets_phi_fits_and_the_next_does_not(finished: Path) -> None:
    chosen = yaml.safe_load((finished / "coefficients.yaml").read_text())
    phi = chosen["budget_phi"]
    spec = load_spec((finished / "scaled_arch.yaml").read_text())
    assert count_cost(spec, num_classes=1000).macs <= 5e6
    p = GridPoint(chosen["alpha"], chosen["beta"], chosen["gamma"])
    assert spec == p.scaled(load_spec(TINY), phi)
    assert count_cost(p.scaled(load_spec(TINY), phi + 1), num_classes=1000).macs > 5e6


def test_a_rerun_trains_nothing_new(finished: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = count_trainings(monkeypatch)
    scale_run(finished.parent, finished, "seeds=2")
    assert calls == []
    storage = f"sqlite:///{finished / 'study.db'}"
    assert len(optuna.load_study(study_name="tiny-grid", storage=storage).trials) == 5 + 3 * 2
    assert len(optuna.load_study(study_name="tiny-family", storage=storage).trials) == 5 * 2


def test_an_interrupted_run_resumes_with_the_trainings_it_would_have_had(
    finished: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    calls = count_trainings(monkeypatch, stop_at=2)
    with pytest.raises(Interrupted):
        scale_run(finished.parent, out, "seeds=1")
    assert calls == [("tiny-grid", 0), ("tiny-grid", 0)]
    scale_run(finished.parent, out, "seeds=1")
    assert calls[2:] == [("tiny-grid", 0)] * 2 + [("tiny-family", 0)] * 5  # the interrupted one, the rest
    # Seeds follow the seed index, not the trial number: seed 0 is what the two-seed run trained.
    fresh = {point(r): r["val_acc"] for r in rows(out / "grid.csv") if r["seed_index"] == "0"}
    before = {point(r): r["val_acc"] for r in rows(finished / "grid.csv") if r["seed_index"] == "0"}
    assert fresh == before
    states = [
        t.state
        for t in optuna.load_study(study_name="tiny-grid", storage=f"sqlite:///{out / 'study.db'}").trials
    ]
    assert states.count(optuna.trial.TrialState.RUNNING) == 1  # left by the interruption, not counted
    assert "one seed: no interval" in (out / "README.md").read_text()


def test_more_seeds_later_add_only_the_new_seed_index(
    finished: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    shutil.copytree(finished, out)
    before = yaml.safe_load((finished / "coefficients.yaml").read_text())
    calls = count_trainings(monkeypatch)
    scale_run(finished.parent, out, "seeds=3")
    assert [c for c in calls if c[0] == "tiny-grid"] == [("tiny-grid", 2)] * 3
    after = yaml.safe_load((out / "coefficients.yaml").read_text())
    same = (before["alpha"], before["beta"], before["gamma"]) == (
        after["alpha"],
        after["beta"],
        after["gamma"],
    )
    family = [c for c in calls if c[0] == "tiny-family"]
    # Unchanged coefficients: only seed index 2 of each member; changed ones (three seeds can change the
    # choice): the new members at every seed too.
    assert family == [("tiny-family", 2)] * 5 if same else family.count(("tiny-family", 2)) == 5
    assert all(r["n"] == "3" for r in rows(out / "family_summary.csv"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["base=nope", "target=2x"], "error: base: unknown network 'nope'"),
        (["base=efficientnet_b0"], "error: give target=2x"),
        (["base=efficientnet_b0", "target=2x", "budget=100MFLOPs"], "error: budget: no φ >= 0 meets"),
        (["target=2x", "grid.alpha=[abc]"], "error: grid.alpha: expected a list"),
        (["target=2x", "seeds=0"], "error: seeds: expected an integer >= 1; got 0"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(args: list[str], message: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nas.scale", *args, f"hydra.run.dir={tmp_path}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == result.stderr.strip().splitlines()[0]
    assert result.stderr.startswith(message) and "Traceback" not in result.stderr
