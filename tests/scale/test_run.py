"""``python -m nas.scale`` end to end on a tiny base and synthetic data: the grid respects its
constraint, the family is trained and compared, the budget's φ fits, a rerun resumes."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import yaml

from nas import count_cost, load_spec
from nas.paths import ROOT
from nas.scale import run, single
from nas.scaling import scale
from tests.scale.conftest import FAST, SMALL_GRID, TINY, config


def rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


@pytest.fixture
def finished(tiny: Path, tmp_path: Path) -> tuple[Path, list[Path]]:
    out = tmp_path / "run"
    files = run(config(f"base={tiny}", "target=2x", "n_phi=1", "budget=5MFLOPs", *SMALL_GRID, *FAST), out)
    return out, files


def test_the_grid_trains_exactly_the_points_within_the_constraint(finished) -> None:
    out, _ = finished
    grid = rows(out / "grid.csv")
    assert len(grid) == 8  # every point of the 2 x 2 x 2 grid, once
    assert len({(r["alpha"], r["beta"], r["gamma"]) for r in grid}) == 8
    for r in grid:
        product = float(r["alpha"]) * float(r["beta"]) ** 2 * float(r["gamma"]) ** 2
        within = abs(product - 2.0) <= 0.1
        assert (r["feasible"] == "True") == within
        assert (r["state"], bool(r["val_acc"])) == (("complete", True) if within else ("pruned", False))
    study = optuna.load_study(study_name="tiny-grid", storage=f"sqlite:///{out / 'study.db'}")
    for t in study.trials:  # the constraint is Optuna's, <= 0 exactly for the trained points
        (value,) = [v for k, v in t.system_attrs.items() if k.startswith("constraints")]
        assert (value <= 0) == t.user_attrs["feasible"]


def test_the_best_coefficients_are_the_best_trained_point(finished) -> None:
    out, _ = finished
    trained = [r for r in rows(out / "grid.csv") if r["val_acc"]]
    best = max(trained, key=lambda r: (float(r["val_acc"]), -int(r["trial"])))
    chosen = yaml.safe_load((out / "coefficients.yaml").read_text())
    assert (chosen["alpha"], chosen["beta"], chosen["gamma"]) == tuple(
        float(best[k]) for k in ("alpha", "beta", "gamma")
    )
    assert chosen["val_acc"] == pytest.approx(float(best["val_acc"]), abs=1e-4)


def test_the_family_is_compared_at_matched_macs(finished) -> None:
    out, files = finished
    family = rows(out / "family.csv")
    assert [(r["phi"], r["kind"]) for r in family] == [
        ("0", "base"), ("1", "compound"), ("1", "width"), ("1", "depth"), ("1", "resolution")
    ]  # fmt: skip
    base = load_spec(TINY)
    for r in family:
        assert r["val_acc"] and 0 <= float(r["val_acc"]) <= 1
        if r["kind"] in ("width", "depth", "resolution"):  # no multiplier gets nearer the compound's MACs
            error = abs(math.log(float(r["macs_vs_compound"])))
            target = int(r["macs"]) / float(r["macs_vs_compound"])
            for m in (1 + i / 100 for i in range(300)):
                macs = count_cost(scale(base, single(base, r["kind"], m)), num_classes=1000).macs
                assert abs(math.log(macs / target)) >= error - 1e-3, (r["kind"], m)
    compound = next(r for r in family if r["kind"] == "compound")
    resolution = next(r for r in family if r["kind"] == "resolution")
    # The proxy's resolution follows the spec's: 16 px for the base's 32 px.
    assert int(compound["proxy_resolution"]) == round(16 * int(compound["resolution"]) / 32)
    assert int(resolution["proxy_resolution"]) == round(16 * int(resolution["resolution"]) / 32)
    assert {f.name for f in files} >= {"grid.csv", "family.csv", "coefficients.yaml", "compound_scaling.png"}
    readme = (out / "README.md").read_text()
    assert readme.startswith("# Compound scaling of `tiny`") and "Regenerate: `python -m nas.scale" in readme
    assert "minutes** of wall time" in readme and "**Outcome.**" in readme
    assert (out / "compound_scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_budgets_phi_fits_and_the_next_does_not(finished) -> None:
    out, _ = finished
    chosen = yaml.safe_load((out / "coefficients.yaml").read_text())
    phi = chosen["budget_phi"]
    spec = load_spec((out / "scaled_arch.yaml").read_text())
    assert count_cost(spec, num_classes=1000).macs <= 5e6
    from nas.scale import GridPoint

    point = GridPoint(chosen["alpha"], chosen["beta"], chosen["gamma"])
    assert spec == point.scaled(load_spec((out.parent / "tiny.yaml").read_text()), phi)
    assert count_cost(point.scaled(spec.replace(resolution=32), 1), num_classes=1000).macs > 0
    over = point.scaled(load_spec((out.parent / "tiny.yaml").read_text()), phi + 1)
    assert count_cost(over, num_classes=1000).macs > 5e6


def test_a_rerun_resumes_without_training_again(finished, tiny: Path, monkeypatch) -> None:
    out, _ = finished
    from nas.scale import _proxy

    def refuse(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(_proxy.ProxyTrainer, "train", refuse)
    run(config(f"base={tiny}", "target=2x", "n_phi=1", "budget=5MFLOPs", *SMALL_GRID, *FAST), out)
    study = optuna.load_study(study_name="tiny-family", storage=f"sqlite:///{out / 'study.db'}")
    assert len(study.trials) == 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["base=nope", "target=2x"], "error: base: unknown network 'nope'"),
        (["base=efficientnet_b0"], "error: give target=2x"),
        (["base=efficientnet_b0", "target=2x", "budget=100MFLOPs"], "error: budget: no φ >= 0 meets"),
        (["target=2x", "grid.alpha=[abc]"], "error: grid.alpha: expected a list"),
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
