"""The default training command on the embedded digits, timed: does MobileNetV2 reach 0.95 in 10 minutes?

    python benchmarks/train_digits.py [extra Hydra overrides...]

Runs ``python -m nas.train arch=mobilenet_v2 data=digits`` with its default settings (plus any
overrides given) in a temporary run directory and prints the wall-clock time, the validation accuracy and
the machine. Goal: val_acc >= 0.95 within 600 s on a 2-core CPU.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "nas.train", "arch=mobilenet_v2", "data=digits"]
        command += [*sys.argv[1:], "trainer.enable_progress_bar=false", f"hydra.run.dir={tmp}"]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        seconds = time.perf_counter() - start
        metrics = json.loads((Path(tmp) / "metrics.json").read_text())
    cpu = platform.processor() or platform.machine()
    print(f"machine: {cpu}, {os.cpu_count()} cores, torch {torch.__version__}")
    print(f"command: {' '.join(command[1:-2])}")
    print(f"epochs: {metrics['epochs']}, {metrics['images_per_second']:.0f} training images/s")
    print(f"wall clock: {seconds:.0f} s (goal: <= 600)")
    print(f"val_acc: {metrics['val_acc']:.4f} (goal: >= 0.95)")


if __name__ == "__main__":
    main()
