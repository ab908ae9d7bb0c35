"""How much faster the analytic cost model is than building a network and profiling it with thop.

    python benchmarks/cost_model.py [--arch mobilenet_v3_large] [--repeats 5]

Both are timed in the same run, alternating, on specs the size of MobileNetV3-Large, and the ratio of
medians is printed: the machine is shared and noisy, so only the ratio is meaningful. Goal: >= 1000x.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import thop
import torch

from nas import build_model, count_cost, zoo
from nas.arch import profile_model


def time_call(fn, number: int) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="mobilenet_v3_large")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    spec = zoo.get(args.arch)
    size = (1, spec.in_channels, spec.resolution, spec.resolution)
    torch.set_num_threads(os.cpu_count() or 1)

    def build_and_thop() -> None:
        thop.profile(build_model(spec), inputs=(torch.zeros(size),), verbose=False)

    analytic, built = [], []
    for _ in range(args.repeats):
        analytic.append(time_call(lambda: count_cost(spec), 2000))
        built.append(time_call(build_and_thop, 1))
    fast, slow = statistics.median(analytic), statistics.median(built)
    assert count_cost(spec) == profile_model(build_model(spec), size)  # same numbers, not just faster
    cpu = platform.processor() or platform.machine()
    print(f"machine: {cpu}, {os.cpu_count()} cores, torch {torch.__version__}")
    print(f"network: {spec.name} at {spec.resolution}px, {count_cost(spec).macs / 1e6:.1f}M MACs")
    print(f"count_cost:               {fast * 1e6:10.1f} us (median of {args.repeats} x 2000 calls)")
    print(f"build_model + thop.profile: {slow * 1e3:8.1f} ms (median of {args.repeats})")
    print(f"ratio: {slow / fast:,.0f}x")


if __name__ == "__main__":
    main()
