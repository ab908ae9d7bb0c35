"""What Lightning costs: the same network on the same synthetic data, trained by our Lightning module and
by a plain PyTorch loop, alternating in one run.

    python benchmarks/train_overhead.py [--arch mobilenet_v3_small] [--resolution 64] [--steps 30]

Both loops use the same optimizer settings, batches and thread count; each is timed over ``--steps``
optimizer steps after a warm-up, ``--repeats`` times, and the ratio of median images per second is
printed (goal: Lightning at most 5% slower). The machine is shared and noisy: only the ratio counts.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import lightning as L
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from nas import zoo
from nas.training import ImageClassifier

OPTIM = {"lr": 0.01, "warmup_epochs": 0.0, "label_smoothing": 0.1}


def batches(steps: int, batch: int, resolution: int, classes: int) -> DataLoader:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(steps * batch, 3, resolution, resolution, generator=g)
    y = torch.randint(0, classes, (steps * batch,), generator=g)
    return DataLoader(TensorDataset(x, y), batch_size=batch)


def lightning_loop(module: ImageClassifier, data: DataLoader) -> float:
    trainer = L.Trainer(
        max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, accelerator="cpu", devices=1,
    )  # fmt: skip
    start = time.perf_counter()
    trainer.fit(module, data)
    return time.perf_counter() - start


def plain_loop(module: ImageClassifier, data: DataLoader) -> float:
    """What the Lightning module does per step, written out by hand."""
    model = module.model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    start = time.perf_counter()
    for images, labels in data:
        loss = F.cross_entropy(model(images), labels, label_smoothing=0.1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="mobilenet_v3_small")
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    spec = zoo.get(args.arch).replace(resolution=args.resolution)
    data = batches(args.steps, args.batch, args.resolution, 10)
    images = args.steps * args.batch
    lightning_ips, plain_ips = [], []
    for _ in range(args.repeats):
        plain_ips.append(images / plain_loop(ImageClassifier(spec, 10, OPTIM), data))
        lightning_ips.append(images / lightning_loop(ImageClassifier(spec, 10, OPTIM), data))
    lit, plain = statistics.median(lightning_ips), statistics.median(plain_ips)
    cpu = platform.processor() or platform.machine()
    threads = torch.get_num_threads()
    print(f"machine: {cpu}, {os.cpu_count()} cores, {threads} threads, torch {torch.__version__}")
    print(f"network: {spec.name} at {args.resolution}px, batch {args.batch}, {args.steps} steps")
    print(f"repeats: {args.repeats}, alternating; the Lightning side also runs its metrics and schedule")
    print(f"plain PyTorch loop: {plain:8.1f} images/s (median)")
    print(f"Lightning module:   {lit:8.1f} images/s (median)")
    print(f"Lightning overhead: {100 * (plain / lit - 1):+.1f}%")


if __name__ == "__main__":
    main()
