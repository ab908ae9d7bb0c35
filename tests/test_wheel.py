"""The package as a user installs it: a wheel built from the repository holds the configs and the search
spaces, and installed (not editable) into a fresh virtual environment it runs the commands from any
directory, writing nothing into the installed package.

The fresh environment gets this package from the wheel alone; its dependencies (torch and the rest) are
the test environment's, reached through a ``.pth`` line, so that the test installs nothing from an index.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

from nas.paths import ROOT


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


def test_pyproject_lists_every_package_and_the_data_packages() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "nas").rglob("__init__.py")}
    assert listed == found | {"nas.conf", "nas.search_spaces"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # no build isolation: the test environment's setuptools builds it, nothing is fetched
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
          str(ROOT)], cwd=out)  # fmt: skip
    (found,) = out.glob("lightweight_nas-*.whl")
    return found


def test_the_wheel_holds_the_configs_and_the_search_spaces(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for data in ("conf", "search_spaces"):
        shipped = sorted(p.relative_to(ROOT / data).as_posix() for p in (ROOT / data).rglob("*.yaml"))
        assert shipped, data
        prefix = f"nas/{data}/"
        assert {prefix + s for s in shipped} <= names, f"{data}: {sorted(prefix + s for s in shipped)[:3]}"
    assert "nas/conf/arch/mobilenet_v2.yaml" in names and "nas/search_spaces/mnas.yaml" in names


def test_the_installed_wheel_runs_every_command_from_an_empty_directory(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], cwd=tmp_path)
    wheel_installed_at = time.time() + 1  # mtimes have a coarse grain on some file systems
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     cwd=tmp_path).stdout.strip())  # fmt: skip
    (site / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("PYTHONPATH", None)
    where = _run(
        [str(python), "-c", "import nas, nas.paths; print(nas.__file__); print(nas.paths.CONF)"], work, env
    )
    module, conf = where.stdout.split()
    assert module.startswith(str(site)) and conf.startswith(str(site))  # the wheel's, not the checkout's
    cost = _run([str(python), "-m", "nas.cost", "arch=mobilenet_v2"], work, env)
    assert cost.stdout.strip().splitlines()[-1].split()[:3] == ["total", "300,774,272", "3,504,872"]
    search = ["space=mnas", "budget=400MFLOPs", "n_trials=2", "evaluator=zero_cost", "evaluator.batch_size=8",
              "data=synthetic", "workers=1", "baselines=[]", "hydra.run.dir=search"]  # fmt: skip
    _run([str(python), "-m", "nas.search", *search], work, env)
    assert (work / "search" / "summary.md").is_file()
    _run([str(python), "-m", "nas.train", "arch=mobilenet_v3_small", "data=synthetic", "trainer.max_epochs=1",
          "trainer.enable_progress_bar=false", "hydra.run.dir=train"], work, env)  # fmt: skip
    assert (work / "train" / "metrics.json").is_file()
    # nothing written into the installed package: every output went under the working directory
    installed = {p for p in (site / "nas").rglob("*") if "__pycache__" not in p.parts}
    assert all(p.stat().st_mtime <= wheel_installed_at for p in installed)
