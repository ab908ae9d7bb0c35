"""The supernet's costs, side by side in one run (``python benchmarks/supernet.py [--ckpt PATH]``):

1. a training step of the sandwich rule (the largest, the smallest and 2 random subnets, with in-place
   distillation) against a step of the largest network alone, built standalone: alternating, the same
   batch (goal: at most 4x, the sandwich's four forward and backward passes);
2. CPU seconds per candidate a search evaluates with inherited weights (extraction, batch-norm
   recalibration on 8 batches of 32 training images, accuracy on the search's 2,000 validation images),
   one thread, as a search worker runs (goal: at most 2 CPU-s);
3. with a checkpoint, the inherited accuracy of the largest subnet and of subnets one elastic dimension
   away from it (everywhere, or in stage 3 alone): which kind of weight sharing holds up.

The timings do not depend on the weights: without a checkpoint an untrained supernet is timed. The
500-trial search's wall time is the committed run's (results/supernet_mnas_fashion_mnist/README.md).
"""

from __future__ import annotations

import argparse
import copy
import random
import statistics
import time
from pathlib import Path

import torch
from torch.nn import functional as F

from nas.data import FashionMnistDataModule, first_batch
from nas.spaces import load as load_space
from nas.supernet import (
    Extreme,
    Setting,
    Supernet,
    inherited_accuracy,
    load,
    sandwich,
    sandwich_losses,
    validation_set,
)
from nas.training import ProxySettings

BATCH = 64  # the supernet's training batch (conf/supernet.yaml)


def step_times(supernet: Supernet, steps: int) -> tuple[list[float], list[float]]:
    """Seconds per sandwich step and per step of the largest network alone, alternating."""
    rng = random.Random(0)
    x, y = torch.randn(BATCH, 3, 28, 28), torch.randint(0, 10, (BATCH,))
    largest = supernet.extract(supernet.subnet(supernet.space.draw_params(Extreme(True, rng)))).train()
    alone = torch.optim.SGD(largest.parameters(), lr=0.01, momentum=0.9)
    shared = torch.optim.SGD(supernet.parameters(), lr=0.01, momentum=0.9)
    supernet.train()
    sandwich_s, largest_s = [], []
    for i in range(steps + 3):  # 3 steps of warm-up: the convolutions' kernels for new shapes
        start = time.perf_counter()
        subnets = [supernet.subnet(p) for p in sandwich(supernet.space, rng, 2)]
        total = torch.stack(sandwich_losses(supernet, subnets, x, y)).sum()
        total.backward()
        shared.step()
        shared.zero_grad()
        middle = time.perf_counter()
        F.cross_entropy(largest(x), y).backward()
        alone.step()
        alone.zero_grad()
        end = time.perf_counter()
        if i >= 3:
            sandwich_s.append(middle - start)
            largest_s.append(end - middle)
    return sandwich_s, largest_s


def candidate_seconds(supernet: Supernet, candidates: int) -> list[float]:
    """CPU seconds per candidate judged as ``evaluator=supernet`` judges it, on the search's data."""
    data = FashionMnistDataModule(limit_train=12000, limit_val=2000, batch_size=32, augment=False, seed=0)
    data.setup("fit")
    calibration = first_batch(data, 8 * 32)[0].split(32)
    images, labels = validation_set(data)
    rng = random.Random(1)
    seconds = []
    for _ in range(candidates):
        start = time.process_time()
        model = supernet.extract(supernet.subnet(supernet.space.draw_params(rng)))
        inherited_accuracy(model, calibration, images, labels)
        seconds.append(time.process_time() - start)
    return seconds


def one_away(supernet: Supernet) -> list[tuple[str, float]]:
    """Inherited accuracy of the largest subnet and of its neighbours along each elastic dimension."""
    data = FashionMnistDataModule(limit_train=12000, limit_val=2000, batch_size=32, augment=False, seed=0)
    data.setup("fit")
    calibration = first_batch(data, 8 * 32)[0].split(32)
    images, labels = validation_set(data)
    largest = supernet.space.draw_params(Extreme(True, random.Random(0)))

    def everywhere(option: str, value: object) -> dict[str, object]:
        return {k: (value if k == option or k.endswith(f".{option}") else v) for k, v in largest.items()}

    cases = {
        "largest": largest,
        "act relu": everywhere("act", "relu"),
        "act swish": everywhere("act", "swish"),
        "no SE": everywhere("se", None),
        "no skip": everywhere("skip", False),
        "kernel 3": everywhere("kernel", 3),
        "expand 3": everywhere("expand", 3),
        "expand 1": everywhere("expand", 1),
        "stage 3: 3 of 5 layers": {**largest, "s3.repeats": 3},
        "stage 3: kernel 3": {**largest, "s3.kernel": 3},
        "stage 3: expand 3": {**largest, "s3.expand": 3},
        "stage 3: width 64 of 80": {**largest, "s3.out": 64},
    }
    return [
        (name, inherited_accuracy(supernet.extract(supernet.subnet(p)), calibration, images, labels))
        for name, p in cases.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path("results/supernet_mnas_fashion_mnist/run/checkpoints/last.ckpt")
    parser.add_argument("--ckpt", type=Path, default=default)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--candidates", type=int, default=20)
    args = parser.parse_args()
    if args.ckpt.is_file():
        supernet = load(args.ckpt)
    else:
        print(f"no checkpoint at {args.ckpt}: timing an untrained supernet (the same cost)")
        supernet = Supernet(load_space("mnas"), Setting(ProxySettings(0.25, 1), 3, 10, 28))
    torch.set_num_threads(1)
    if args.ckpt.is_file():  # first: the timings below train a copy, but judge the weights as loaded
        print("| subnet | inherited val_acc |\n|---|---:|")
        for name, accuracy in one_away(supernet):
            print(f"| {name} | {accuracy:.3f} |")
    per = candidate_seconds(supernet, args.candidates)
    print(
        f"evaluated candidate, 1 thread: median {statistics.median(per):.2f} CPU-s, "
        f"max {max(per):.2f} over {len(per)} candidates"
    )
    torch.set_num_threads(2)
    sandwich_s, largest_s = step_times(copy.deepcopy(supernet), args.steps)
    s, a = statistics.median(sandwich_s), statistics.median(largest_s)
    print(f"training step, batch {BATCH}, 2 threads: sandwich {s:.3f} s, largest alone {a:.3f} s", end="")
    print(f", ratio {s / a:.2f}x")


if __name__ == "__main__":
    main()
