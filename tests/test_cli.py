"""Commands: the cost table, and bad input as one line with exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nas.cost", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_cost_table_of_a_zoo_network() -> None:
    result = run("arch=mobilenet_v2")
    assert result.returncode == 0, result.stderr
    total = result.stdout.strip().splitlines()[-1].split()
    assert total[:3] == ["total", "300,774,272", "3,504,872"]


def test_spec_file_and_overrides(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text("stages:\n- {block: mbconv, out: 16, stride: 2}\n")
    result = run(f"arch={spec}", "resolution=32", "num_classes=10")
    assert result.returncode == 0, result.stderr
    assert "at 32x32, 10 classes" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["arch=no_such_net"], "error: arch: unknown network 'no_such_net'; expected one of: alexnet, "),
        (["arch=missing/spec.yaml"], "error: missing/spec.yaml: no spec file at missing/spec.yaml"),
        (["arch=BAD"], "error: BAD: stages[0].kernel: expected an odd kernel size >= 1; got 4"),
        (
            ["arch=mobilenet_v2", "arch.stages.1.repeats=0"],
            "error: stages[1].repeats: expected a value >= 1; got 0",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(tmp_path: Path, args: list[str], message: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages:\n- {block: mbconv, out: 16, kernel: 4}\n")
    args = [a.replace("BAD", str(bad)) for a in args]
    message = message.replace("BAD", str(bad))
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == result.stderr.strip().splitlines()[0]
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.stderr + result.stdout
