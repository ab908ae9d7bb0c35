"""``python -m nas.train``: composed from the real configs, on tiny networks and synthetic data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from torch.nn import functional as F

from nas import build_model, load_spec
from nas.cli import config_groups, rewrite_overrides
from nas.data import SyntheticDataModule
from nas.paths import CONF
from nas.train import run
from nas.training import ImageClassifier

ROOT = Path(__file__).resolve().parent.parent
TINY = """
name: tiny
resolution: 16
stem:
- {block: conv, out: 8, stride: 2}
stages:
- {block: mbconv, out: 8, expand: 2.0}
- {block: mbconv, out: 16, stride: 2, kernel: 5, se: {ratio: 0.25}}
head: {conv: {out: 32}, dropout: 0.1}
"""
FAST = [
    "data=synthetic",
    "data.resolution=16",
    "data.train_samples=64",
    "data.val_samples=32",
    "data.batch_size=16",
    "trainer.max_epochs=1",
    "trainer.enable_progress_bar=false",
    "trainer.accelerator=cpu",
    "trainer.devices=1",
]


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def train(overrides: list[str], run_dir: Path) -> dict:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=rewrite_overrides(overrides, config_groups()))
    return run(cfg, run_dir)


def test_a_run_writes_metrics_checkpoint_logs_and_config(tiny: Path, tmp_path: Path) -> None:
    metrics = train([f"arch={tiny}", *FAST], tmp_path / "run")
    run_dir = tmp_path / "run"
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert saved == metrics
    needed = {"val_acc", "val_loss", "params", "macs", "epochs", "train_seconds", "images_per_second"}
    assert needed <= set(saved)
    assert saved["epochs"] == 1 and 0.0 <= saved["val_acc"] <= 1.0
    assert saved["evaluation"]["dataset"] == "synthetic" and saved["evaluation"]["train_samples"] == 64
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert (run_dir / "csv" / "metrics.csv").is_file()
    assert list((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert "train_samples: 64" in (run_dir / "config.yaml").read_text()
    trained = load_spec(run_dir / "spec.yaml")
    assert sum(p.numel() for p in build_model(trained, 10).parameters()) == saved["params"]


def test_the_same_seed_gives_the_same_run(tiny: Path, tmp_path: Path) -> None:
    first = train([f"arch={tiny}", *FAST, "seed=3"], tmp_path / "a")
    second = train([f"arch={tiny}", *FAST, "seed=3"], tmp_path / "b")
    other = train([f"arch={tiny}", *FAST, "seed=4"], tmp_path / "c")
    assert (first["val_loss"], first["train_loss"]) == (second["val_loss"], second["train_loss"])
    assert first["val_loss"] != other["val_loss"]


def test_resuming_from_the_last_checkpoint_continues_the_epochs(tiny: Path, tmp_path: Path) -> None:
    train([f"arch={tiny}", *FAST], tmp_path / "a")
    checkpoint = tmp_path / "a" / "checkpoints" / "last.ckpt"
    resumed = train(
        [f"arch={tiny}", *FAST, f"ckpt_path={checkpoint}", "trainer.max_epochs=2"], tmp_path / "b"
    )
    assert resumed["epochs"] == 2


def test_proxy_width_and_stem_stride_are_recorded(tiny: Path, tmp_path: Path) -> None:
    metrics = train([f"arch={tiny}", *FAST, "proxy.width=2.0", "proxy.stem_stride=1"], tmp_path / "run")
    assert (metrics["evaluation"]["width"], metrics["evaluation"]["stem_stride"]) == (2.0, 1)
    spec = load_spec(tmp_path / "run" / "spec.yaml")
    assert (spec.stem[0].out, spec.stem[0].stride) == (16, 1)


def test_the_full_recipe_trains_end_to_end_validating_the_ema_it_checkpoints(tiny: Path, tmp_path: Path):
    proxy = train([f"arch={tiny}", *FAST], tmp_path / "proxy")
    full = train([f"arch={tiny}", *FAST, "recipe=full"], tmp_path / "full")
    recipe, short = full["evaluation"]["recipe"], proxy["evaluation"]["recipe"]
    assert (recipe["name"], recipe["optimizer"]) == ("full", "rmsprop_tf")
    assert recipe["augment"] == "randaugment n2 m9"
    assert (recipe["ema_decay"], recipe["label_smoothing"], recipe["drop_path"]) == (0.9999, 0.1, 0.2)
    assert (short["name"], short["augment"], short["mixup"]) == ("proxy", "none", 0.0)
    assert load_spec(tmp_path / "full" / "spec.yaml").drop_path == 0.2  # from the recipe, costing nothing
    assert (full["params"], full["macs"]) == (proxy["params"], proxy["macs"])
    # The checkpoint's network to use is the weights' EMA, and val_loss is its loss, not the raw weights'.
    module = ImageClassifier.load_from_checkpoint(tmp_path / "full" / "checkpoints" / "last.ckpt").eval()
    assert module.ema is not None and module.evaluated_network is module.ema.module
    data = SyntheticDataModule(16, train_samples=64, val_samples=32, batch_size=16)
    losses = {"ema": [], "raw": []}
    with torch.no_grad():
        for x, y in data.val_dataloader():
            losses["ema"].append(F.cross_entropy(module.evaluated_network(x), y).item())
            losses["raw"].append(F.cross_entropy(module.model(x), y).item())
    assert full["val_loss"] == pytest.approx(sum(losses["ema"]) / 2, rel=1e-5)
    assert full["val_loss"] != pytest.approx(sum(losses["raw"]) / 2, rel=1e-3)


def command(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nas.train", *args, f"hydra.run.dir={cwd / 'run'}"],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["arch=nonet"], "error: arch: unknown network 'nonet'; expected one of: alexnet,"),
        (["data=mnist"], "error: data: unknown choice 'mnist'; expected one of: cifar10, cifar100, digits"),
        (["data=cifar10", "data.root=nowhere"], "error: cifar10: missing nowhere/cifar-10-batches-py/"),
        (
            ["arch=squeezenet1_0", "data=synthetic", "data.resolution=8"],
            "error: stem[1].kernel: a 3x3 window does not fit a 1x1 map",
        ),
        (["arch=TINY", "optim.lr=0"], "error: optim.lr: expected a value > 0.0; got 0.0"),
        (["arch=TINY", "recipe=long"], "error: recipe: unknown choice 'long'; expected one of: full, proxy"),
        (
            ["arch=TINY", "recipe=full", "recipe.mixup=2"],
            "error: recipe.mixup: expected a value >= 0.0 and <= 1.0; got 2.0",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(tiny: Path, tmp_path: Path, args: list[str], message: str):
    result = command(*[a.replace("TINY", str(tiny)) for a in args], cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_diverging_run_fails_with_one_line_and_never_hangs(tiny: Path, tmp_path: Path) -> None:
    result = command(f"arch={tiny}", *FAST, "optim.lr=1e30", "optim.warmup_epochs=0", cwd=tmp_path)
    assert result.returncode == 1
    assert "error: training failed at epoch 0: Diverged: the training loss is" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Traceback" in (tmp_path / "run" / "error.log").read_text()


def test_a_small_network_learns_the_embedded_digits(tiny: Path, tmp_path: Path) -> None:
    # The default data set, as a fresh machine has it: far above chance (0.1) after a few epochs.
    fast = [o for o in FAST if not o.startswith("data")]
    metrics = train([f"arch={tiny}", *fast, "data.resolution=16", "trainer.max_epochs=4"], tmp_path / "run")
    assert metrics["evaluation"]["dataset"] == "digits"
    assert metrics["val_acc"] > 0.6


@pytest.mark.parametrize("split", ["val", "test"])
def test_fashion_mnist_records_what_it_validated_on(tiny: Path, tmp_path: Path, split: str) -> None:
    from tests.data.test_fashion_mnist import write_fashion

    root = write_fashion(tmp_path / "fashion", train=100, test=20)
    data = ["data=fashion_mnist", f"data.root={root}", f"data.split={split}", "data.resolution=16"]
    metrics = train([f"arch={tiny}", *data, *FAST[4:]], tmp_path / "run")
    evaluation = json.loads((tmp_path / "run" / "metrics.json").read_text())["evaluation"]
    assert evaluation == metrics["evaluation"] and evaluation["dataset"] == "fashion_mnist"
    assert evaluation["evaluated_on"] == split
    # test: all 100 training images, the 20 test ones; val: 2 of each class's 10 held out (1/6, rounded).
    expected = (100, 20) if split == "test" else (80, 20)
    assert (evaluation["train_samples"], evaluation["val_samples"]) == expected
    assert evaluation["preprocessing"] == "bilinear resize 28->16, normalize"
