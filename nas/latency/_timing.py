"""``measure``: the wall-clock latency of a network (or of one block) on a device, with its spread.

Latency is measured, not modelled: the module is prepared by the setting's back-end (run as it is,
traced, compiled, or exported to ONNX Runtime: ``nas.latency._backends``), then warm-up passes run
(first-call allocation, kernel selection, TorchScript's profiling runs), then timed passes, each one
synchronised on a GPU so that the clock sees the kernels finish. The median is the figure of record (it
resists the outliers a shared machine produces); the mean, standard deviation and minimum travel with it.

On Linux with glibc, :func:`steady_allocator` first stops malloc from handing large buffers back to the
kernel: by default every feature map over 128 KiB is a fresh ``mmap`` and every free a ``munmap``, so
each forward pass page-faults its activations in again. In a virtual machine that made whole networks
up to twice as slow as their layers timed one by one, and varied by 2x between identical runs; PyTorch's
CPU performance guide recommends a caching allocator (jemalloc, tcmalloc) for the same reason.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from time import perf_counter

import torch
from torch import nn

from nas.arch import ArchSpec, build_model
from nas.latency._backends import BACKENDS

_SEED = 0  # latency does not depend on the weights' values; seeded only so that runs are repeatable
_MAX_RUNS = 10_000


@dataclass(frozen=True)
class Measurement:
    """Milliseconds per forward pass of one batch: the median of ``runs`` timed passes, and their spread."""

    median_ms: float
    mean_ms: float
    std_ms: float
    min_ms: float
    runs: int

    @classmethod
    def of(cls, times_ms: list[float]) -> Measurement:
        # Rounded to 10 ns, far below any timer's resolution, as a table stores them: a search that
        # grows the table predicts from exactly the figures a rerun reads back, so it reruns the same.
        return cls(
            median_ms=round(statistics.median(times_ms), 5),
            mean_ms=round(statistics.fmean(times_ms), 5),
            std_ms=round(statistics.stdev(times_ms), 5) if len(times_ms) > 1 else 0.0,
            min_ms=round(min(times_ms), 5),
            runs=len(times_ms),
        )


@dataclass(frozen=True)
class Setting:
    """How a latency is measured: what a lookup table is keyed by, besides the machine and torch."""

    device: str = "cpu"  # "cpu", "cuda" or "cuda:N"
    threads: int = 1  # CPU intra-op threads while timing (torch.set_num_threads; ONNX Runtime's own option)
    batch_size: int = 1
    backend: str = "eager"  # a name in BACKENDS (nas.latency._backends)

    def __post_init__(self) -> None:
        for name in ("threads", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected an integer >= 1; got {value!r}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend: expected one of {', '.join(BACKENDS)}; got {self.backend!r}")
        if self.device != "cpu" and not self.device.startswith("cuda"):
            raise ValueError(f"device: expected cpu, cuda or cuda:N; got {self.device!r}")
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"device: {self.device!r} asked for, but this torch sees no CUDA device")
        BACKENDS[self.backend].check(self.device)

    def runtime(self) -> str:
        """What the back-end's timings depend on beyond torch (see :meth:`Backend.runtime`)."""
        return BACKENDS[self.backend].runtime(self.threads)


def measure(
    model: nn.Module | ArchSpec,
    setting: Setting = Setting(),
    *,
    input_shape: tuple[int, int, int] | None = None,
    warmup: int = 5,
    repeats: int = 20,
    min_time_s: float = 0.0,
    num_classes: int = 1000,
) -> Measurement:
    """Time forward passes of ``model`` (a module, or a spec built with seeded weights) in eval mode,
    through the setting's back-end (in PyTorch under ``torch.inference_mode()``), on a batch of
    ``setting.batch_size`` random inputs of ``input_shape`` (channels, height, width; a spec's own by
    default).

    ``warmup`` untimed passes, then at least ``repeats`` timed ones, more if needed to fill
    ``min_time_s`` (short blocks get many runs, so their median is as steady as a long network's).
    The thread count is set for the measurement only; the global RNG is left as it was.
    """
    for name, value, low in (("warmup", warmup, 0), ("repeats", repeats, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name}: expected an integer >= {low}; got {value!r}")
    with torch.random.fork_rng(devices=[]):  # CPU only: leaves the global generator's state untouched
        torch.manual_seed(_SEED)
        if isinstance(model, ArchSpec):
            input_shape = input_shape or (model.in_channels, model.resolution, model.resolution)
            model = build_model(model, num_classes=num_classes)
        if input_shape is None:
            raise ValueError("input_shape: needed to measure a module (channels, height, width)")
        x = torch.randn(setting.batch_size, *input_shape)
    steady_allocator()
    with num_threads(setting.threads):
        run = _runner(model.eval(), x, setting)
        return Measurement.of(_timed(run, setting.device, warmup, repeats, min_time_s))


def _runner(model: nn.Module, x: torch.Tensor, setting: Setting) -> Callable[[], object]:
    """A no-argument forward pass of ``model`` on ``x`` through the setting's back-end and device."""
    device = torch.device(setting.device)
    model, x = model.to(device), x.to(device)
    return BACKENDS[setting.backend].prepare(model, x, setting.threads)


def _timed(
    run: Callable[[], object], device: str, warmup: int, repeats: int, min_time_s: float
) -> list[float]:
    sync = torch.cuda.synchronize if device.startswith("cuda") else _nothing
    for _ in range(warmup):
        run()
    sync()
    times: list[float] = []
    deadline = perf_counter() + min_time_s if min_time_s > 0 else None
    while len(times) < repeats or (
        deadline is not None and perf_counter() < deadline and len(times) < _MAX_RUNS
    ):
        start = perf_counter()
        run()
        sync()
        times.append((perf_counter() - start) * 1000.0)
    return times


def _nothing() -> None:
    pass


@contextlib.contextmanager
def num_threads(threads: int | None) -> Iterator[None]:
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


# glibc's mallopt parameters (malloc.h): never trim the heap, never mmap a single allocation.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


@functools.cache
def steady_allocator() -> str:
    """Keep freed memory in this process (glibc), so that timed passes reuse it rather than page-fault it
    in again; returns what was done ("glibc: no trim, no mmap" or "default"), which tables record.

    Process-wide and once: it only changes when memory goes back to the kernel, never results."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        done = libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1) == 1 and libc.mallopt(_M_MMAP_THRESHOLD, 2**30) == 1
    except (OSError, AttributeError, TypeError):  # not glibc (macOS, Windows, musl): nothing to set
        done = False
    return "glibc: no trim, no mmap" if done else "default"
