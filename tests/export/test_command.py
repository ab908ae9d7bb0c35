"""``python -m nas.export``: a zoo network, a nas.train checkpoint and a search's run directory, each
written and checked; bad input is one line and exit status 2, a file that differs exit status 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from nas import dump_spec, load_spec
from nas.cli import config_groups, rewrite_overrides
from nas.export import EXTRA, Check, run_onnx, run_torchscript
from nas.export import _cli as export_cli
from nas.paths import CONF
from nas.search import read_outputs
from nas.search import run as search
from nas.train import run as train
from nas.training import load_trained
from tests.export._networks import KIND_SPECS
from tests.latency.conftest import TINY_SPACE

NET = KIND_SPECS["mbconv"].replace(name="net")  # SE, hard-swish, a residual repeat: 32 px
TRAIN = [
    "data=synthetic",
    "data.resolution=16",
    "data.train_samples=64",
    "data.val_samples=32",
    "data.batch_size=16",
    "trainer.max_epochs=1",
    "trainer.enable_progress_bar=false",
    "trainer.accelerator=cpu",
    "trainer.devices=1",
    "+optim.ema_decay=0.5",  # validated on the EMA of the weights: the export must take those
]
SEARCH = [
    "budget=null",
    "n_trials=4",
    "baselines=[]",
    "evaluator=zero_cost",
    "evaluator.batch_size=8",
    "data=digits",
    "data.limit_train=64",
    "data.limit_val=32",
    "workers=1",
]


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in its own directory: default outputs go under it, never into the repository."""
    monkeypatch.chdir(tmp_path)


def compose_config(name: str, args: list[str]):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(name, overrides=rewrite_overrides(args, config_groups()))


def export(*args: str) -> list[export_cli.Exported]:
    return export_cli.run(compose_config("export", list(args)))


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "net.yaml"
    path.write_text(dump_spec(NET))
    return path


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The last checkpoint of a one-epoch nas.train run of NET on synthetic 16 px images."""
    run_dir = tmp_path_factory.mktemp("train")
    spec = run_dir / "net.yaml"
    spec.write_text(dump_spec(NET))
    train(compose_config("train", [f"arch={spec}", *TRAIN]), run_dir)
    return run_dir / "checkpoints" / "last.ckpt"


@pytest.fixture(scope="module")
def searches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The run directories of a one-objective and a two-objective search of a tiny space (seconds each)."""
    root = tmp_path_factory.mktemp("search")
    space = root / "tiny.yaml"
    space.write_text(TINY_SPACE)
    runs = {}
    for objective in (["objective=reward"], ["objective=pareto", "sampler=nsga2"]):
        run_dir = root / objective[0].partition("=")[2]
        run_dir.mkdir()
        storage = f"storage=sqlite:///{run_dir / 'study.db'}"
        search(compose_config("search", [f"space={space}", *SEARCH, storage, *objective]), run_dir)
        runs[run_dir.name] = run_dir
    return runs


@pytest.mark.parametrize(("fmt", "suffix"), [("onnx", ".onnx"), ("torchscript", ".pt")])
def test_a_zoo_network_is_written_where_asked_and_checked(fmt: str, suffix: str, capsys) -> None:
    (done,) = export("arch=mobilenet_v3_small", f"format={fmt}", "resolution=64", "num_classes=10")
    assert done.path == Path("outputs/export") / f"mobilenet_v3_small{suffix}" and done.path.is_file()
    assert done.check.passed() and done.check.scale > 0.05  # batch norm measured: outputs of a real size
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"wrote {done.path}: mobilenet_v3_small at 64x64, 10 classes, fresh weights")
    assert f"max abs difference {done.check.max_abs_diff:.1e}" in line and "\n" not in line
    (again,) = export("arch=mobilenet_v3_small", f"format={fmt}", "resolution=64", "num_classes=10")
    assert again.check == done.check  # seeded: the same weights, the same file


def test_a_spec_file_at_its_own_resolution(spec_file: Path, tmp_path: Path) -> None:
    (done,) = export(f"arch={spec_file}", f"output={tmp_path / 'x' / 'net.onnx'}")
    assert done.path == tmp_path / "x" / "net.onnx"
    assert done.network.input_shape == (3, 32, 32) and done.network.num_classes == 1000
    assert run_onnx(done.path, torch.zeros(3, 3, 32, 32)).shape == (3, 1000)  # any batch


@pytest.mark.parametrize(("fmt", "suffix"), [("onnx", ".onnx"), ("torchscript", ".pt")])
def test_a_checkpoint_exports_the_trained_network_with_its_ema_weights(
    checkpoint: Path, tmp_path: Path, fmt: str, suffix: str
) -> None:
    (done,) = export(f"checkpoint={checkpoint}", f"format={fmt}", f"output={tmp_path / ('net' + suffix)}")
    trained = load_trained(checkpoint)
    assert trained.ema and trained.spec.name == "net" and trained.spec.resolution == 16  # the data's
    assert done.network.input_shape == (3, 16, 16) and done.network.num_classes == 10
    assert "the EMA of its weights from" in done.network.weights and done.check.passed()
    x = torch.randn(2, 3, 16, 16)
    got = (run_onnx if fmt == "onnx" else run_torchscript)(done.path, x)
    with torch.no_grad():
        torch.testing.assert_close(got, trained.model(x), atol=1e-4, rtol=0)
    raw = torch.load(checkpoint, map_location="cpu", weights_only=False)["state_dict"]
    raw_weight = next(v for k, v in raw.items() if k.startswith("model.") and k.endswith(".weight"))
    ema_weight = next(v for k, v in raw.items() if k.startswith("ema.module.") and k.endswith(".weight"))
    assert not torch.equal(raw_weight, ema_weight)  # the two differ, so the comparison above means something


def test_a_checkpoint_with_its_spec_file_and_another_resolution(
    checkpoint: Path, spec_file: Path, tmp_path: Path
) -> None:
    (done,) = export(
        f"arch={spec_file}", f"checkpoint={checkpoint}", "resolution=24", f"output={tmp_path / 'n.onnx'}"
    )
    assert done.network.input_shape == (3, 24, 24) and done.check.passed()


def test_a_one_objective_search_exports_its_best_network(searches: dict[str, Path], tmp_path: Path) -> None:
    run_dir = searches["reward"]
    best = load_spec((run_dir / "best_arch.yaml").read_text())
    (done,) = export(f"arch={run_dir}", "format=torchscript", f"output={tmp_path / 'best.pt'}")
    assert done.network.spec.name == best.name and done.network.input_shape == (3, 32, 32)
    assert done.check.passed()


def test_a_pareto_search_exports_every_network_of_its_front(
    searches: dict[str, Path], tmp_path: Path
) -> None:
    run_dir = searches["pareto"]
    front = read_outputs(run_dir).pareto
    assert len(front) >= 1
    done = export(f"arch={run_dir}", "pareto=true", f"output={tmp_path / 'front'}")
    assert [e.path for e in done] == [tmp_path / "front" / f"{p.stem}.onnx" for p in front]
    assert all(e.check.passed() and e.path.is_file() for e in done)
    assert [e.network.spec.name for e in done] == [load_spec(p.read_text()).name for p in front]


def usage_error(capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as info:
        export(*args)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    return err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["arch=mobilenet_v2", "format=tflite"],
            "format: expected one of 'onnx', 'torchscript'; got 'tflite'",
        ),
        (["checkpoint=/nonexistent/last.ckpt"], "checkpoint: no checkpoint at /nonexistent/last.ckpt"),
        ([], "arch: give a zoo name (arch=mobilenet_v2), a spec file, a search's run directory"),
        (["arch=mobilenet_v2", "output=m.pt"], "output: a onnx file ends in .onnx; got m.pt"),
        (["arch=mobilenet_v2", "num_classes=0"], "num_classes: expected a value >= 1; got 0"),
        (["arch=mobilenet_v2", "format=torchscript", "dynamo=true"], "dynamo: chooses torch's ONNX exporter"),
        (["arch=xception", "resolution=4"], "stem[1]"),  # its unpadded stem leaves 1 px for a 3x3 conv
        (["arch=mobilenet_v2", "pareto=true"], "pareto: exports a search's Pareto front"),
        (["arch=/nonexistent/dir/"], "no spec file at /nonexistent/dir"),
    ],
)
def test_bad_input_is_one_line_and_status_2(args: list[str], message: str, capsys) -> None:
    assert message in usage_error(capsys, *args)


def test_a_checkpoint_is_refused_where_it_does_not_fit(checkpoint: Path, tmp_path: Path, capsys) -> None:
    other = tmp_path / "other.ckpt"
    torch.save({"state_dict": {}}, other)
    assert f"checkpoint: {other} is not a nas.train checkpoint" in usage_error(capsys, f"checkpoint={other}")
    (tmp_path / "junk.ckpt").write_text("not a checkpoint")
    assert "is not a readable checkpoint" in usage_error(capsys, f"checkpoint={tmp_path / 'junk.ckpt'}")
    err = usage_error(capsys, "arch=mobilenet_v2", f"checkpoint={checkpoint}")
    assert "holds network 'net', not arch 'mobilenet_v2'" in err
    err = usage_error(capsys, f"checkpoint={checkpoint}", "num_classes=1000")
    assert "num_classes: the checkpoint's classifier has 10 classes; got 1000" in err


def test_search_directories_are_refused_when_the_flag_does_not_fit(
    searches: dict[str, Path], tmp_path: Path, capsys
) -> None:
    err = usage_error(capsys, f"arch={searches['pareto']}")
    assert "holds a Pareto front of" in err and "add pareto=true to export them all" in err
    assert "is a one-objective search" in usage_error(capsys, f"arch={searches['reward']}", "pareto=true")
    (tmp_path / "empty").mkdir()
    assert "not a search's run directory" in usage_error(capsys, f"arch={tmp_path / 'empty'}")


def test_a_missing_extra_is_one_line_and_status_2(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed
    assert EXTRA in usage_error(capsys, "arch=mobilenet_v2", "format=onnx")
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    monkeypatch.delitem(sys.modules, "onnxruntime")
    assert "needs onnxscript" in usage_error(capsys, "arch=mobilenet_v2", "dynamo=true")


def test_a_file_that_differs_from_pytorch_is_exit_status_1(
    spec_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(export_cli, "check_export", lambda *a: Check(3e-3, 1.0, "a runtime", 2))
    argv = ["nas.export", f"arch={spec_file}", f"output={tmp_path / 'n.onnx'}"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as info:
        export_cli.main()
    assert info.value.code == 1
    out, err = capsys.readouterr()
    assert "max abs difference 3.0e-03" in out  # every file's line, then the verdict
    assert err.strip() == (
        f"error: differs from eager PyTorch by more than 1e-04 (absolute or relative): "
        f"{tmp_path / 'n.onnx'} (3.0e-03, relative 3.0e-03)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["arch=mobilenet_v2", "format=tflite"], "format: expected one of"),
        (["checkpoint=/nonexistent/last.ckpt"], "checkpoint: no checkpoint at /nonexistent/last.ckpt"),
    ],
)
def test_the_command_exits_with_status_2(args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nas.export", *args], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
