"""CPU latency of a spec: what a ``budget=25ms`` limits."""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Iterator
from time import perf_counter

import torch
from torch import nn

from nas._build import build_model
from nas._spec import ArchSpec

_SEED = 0  # latency does not depend on the weights' values; seeded only so that runs are repeatable


def measure_latency(
    spec: ArchSpec, *, threads: int | None = None, warmup: int = 3, repeats: int = 10, num_classes: int = 1000
) -> float:
    """Median wall-clock milliseconds of one forward pass of ``build_model(spec)`` on this machine's CPU.

    The model runs in eval mode under ``torch.inference_mode()`` on one image of shape
    ``(1, in_channels, resolution, resolution)``: ``warmup`` untimed passes, then the median of
    ``repeats`` timed ones. ``threads`` sets ``torch.set_num_threads`` for the measurement only; the
    previous setting is restored afterwards. The weights are drawn under a forked, seeded RNG, so the
    global RNG is left as it was.

    This is a measurement, not a model: it depends on this machine, its load and its PyTorch build, and
    is noisy where other work shares the CPU (the median resists outliers, not a slower machine). A
    latency predictor, e.g. a lookup table of per-block latencies, may later replace it in the search.
    """
    if threads is not None:
        _check_at_least("threads", threads, 1)
    _check_at_least("warmup", warmup, 0)
    _check_at_least("repeats", repeats, 1)
    model, x = _seeded_model_and_input(spec, num_classes)
    with _num_threads(threads):
        return _median_ms(model, x, warmup, repeats)


def _check_at_least(name: str, value: int, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}; got {value!r}")


def _seeded_model_and_input(spec: ArchSpec, num_classes: int) -> tuple[nn.Module, torch.Tensor]:
    with torch.random.fork_rng(devices=[]):  # CPU only: leaves the global generator's state untouched
        torch.manual_seed(_SEED)
        model = build_model(spec, num_classes=num_classes).eval()
        x = torch.randn(1, spec.in_channels, spec.resolution, spec.resolution)
    return model, x


@contextlib.contextmanager
def _num_threads(threads: int | None) -> Iterator[None]:
    """``torch.set_num_threads(threads)`` inside the block, the previous value after it (even on error)."""
    if threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _median_ms(model: nn.Module, x: torch.Tensor, warmup: int, repeats: int) -> float:
    """Warm up (first-call allocation, kernel selection), then the median of ``repeats`` timed passes."""
    times = []
    with torch.inference_mode():
        for _ in range(warmup):
            model(x)
        for _ in range(repeats):
            start = perf_counter()
            model(x)
            times.append((perf_counter() - start) * 1000.0)
    return float(statistics.median(times))
