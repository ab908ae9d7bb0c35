"""``scripts/scaling_repeat.py``: two runs of one study agree at a φ when both name the same winner, or
both call it a tie, by the rule the README of each states."""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import yaml

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "scaling_repeat.py"
spec = importlib.util.spec_from_file_location("scaling_repeat", SCRIPT)
assert spec is not None and spec.loader is not None
repeat = importlib.util.module_from_spec(spec)
spec.loader.exec_module(repeat)

FIELDS = ["phi", "kind", "seed_index", "state", "val_acc"]


def fake_run(path: Path, seed: int, accuracy: dict[tuple[int, str], list[float]]) -> Path:
    (path / ".hydra").mkdir(parents=True)
    (path / ".hydra" / "config.yaml").write_text(yaml.safe_dump({"base": "efficientnet_b0", "seed": seed}))
    (path / "coefficients.yaml").write_text(yaml.safe_dump({"alpha": 1.0, "beta": 1.1, "gamma": 1.3}))
    with (path / "family.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        for (phi, kind), values in accuracy.items():
            for k, v in enumerate(values):
                row = {"phi": phi, "kind": kind, "seed_index": k, "state": "complete", "val_acc": v}
                writer.writerow(row)
        writer.writerow({"phi": 1, "kind": "width", "seed_index": 3, "state": "failed", "val_acc": ""})
    return path


CLEAR_WIN = {(1, "compound"): [0.90, 0.91, 0.92], (1, "width"): [0.80, 0.80, 0.81]}
TIE_AT_2 = {(2, "compound"): [0.80, 0.85, 0.82], (2, "resolution"): [0.83, 0.81, 0.84]}
WIN_AT_2 = {(2, "compound"): [0.80, 0.81, 0.82], (2, "resolution"): [0.85, 0.86, 0.88]}


def test_a_conclusion_holds_where_both_runs_decide_alike(tmp_path: Path) -> None:
    first = fake_run(tmp_path / "a", 0, {**CLEAR_WIN, **TIE_AT_2})
    again = fake_run(tmp_path / "b", 1, {**CLEAR_WIN, **WIN_AT_2})
    out = tmp_path / "repeat.md"
    assert repeat.main([f"{first}:{again}", "--out", str(out)]) == 0
    text = out.read_text()
    assert "**The conclusion held at 1 of 2 φ.**" in text
    rows = [line for line in text.splitlines() if line.startswith("| 1 |") or line.startswith("| 2 |")]
    assert rows[0].count("**compound** wins") == 2 and rows[0].endswith("| yes |")
    assert "tie (best mean: resolution)" in rows[1] and "**resolution** wins" in rows[1]
    assert rows[1].endswith("| no |")
    assert (tmp_path / "repeat.png").stat().st_size > 0 and "(seed=1)" in text


def test_a_missing_run_is_one_line_and_exit_status_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), f"{tmp_path}:{tmp_path / 'b'}"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "not a pair of finished runs" in result.stderr
