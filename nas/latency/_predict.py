"""``predict``: a network's latency as the sum of its parts' table entries plus a fitted overhead.

Every figure here is a *best* time, the minimum over a measurement's runs, as ``timeit`` reports: on a
machine shared with other work, the slow runs measure the other work. Between two builds of the
``mnas`` table 15 minutes apart on this project's 2-core virtual machine, the middle 80% of the parts'
medians moved by -4% to +41%, their minima by -1% to +18%.

This is the lookup-table model of ProxylessNAS, FBNet and Once-for-All: latency is close to additive
over layers on one thread, because layers run one after another and each mostly waits on its own
arithmetic and memory traffic. What is left (Python dispatch between modules, the allocator, caches
shared across layer boundaries) is a per-network overhead, fitted once per table by :func:`calibrate`.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence

import torch
from tqdm import tqdm

from nas.arch import ArchSpec
from nas.latency._parts import Part, network_parts
from nas.latency._table import Calibration, LatencyTable
from nas.latency._timing import Measurement, measure

_SEED = 0
# Each part is timed for at least this long (and 10 runs) in each pass, a whole network for
# NETWORK_TIME_S: on a machine that other work shares, many short passes minutes apart find undisturbed
# runs more surely than one long one (4 passes of 0.05 s gave a steadier table than 2 of 0.1 s here).
PART_TIME_S = 0.05
NETWORK_TIME_S = 0.25
PART_PASSES = 4  # passes over a space's parts when its table is built (see build_table)
NETWORK_PASSES = 5  # passes over a list of networks timed whole (see measure_networks)


def measure_part(part: Part, table: LatencyTable, min_time_s: float | None = None) -> Measurement:
    """Time one part alone, in the table's setting, on a random input of its shape (for at least
    ``min_time_s``, by default :data:`PART_TIME_S`)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(_SEED)
        module = part.module()
    return measure(
        module,
        table.environment.setting(),
        input_shape=tuple(part.x),
        warmup=3,
        repeats=10,
        min_time_s=PART_TIME_S if min_time_s is None else min_time_s,
    )


def fill(table: LatencyTable, parts: Iterable[Part]) -> int:
    """Measure the parts the table lacks and add them; returns how many were measured."""
    measured = 0
    for part in parts:
        if part.key not in table:
            table.add(part.key, measure_part(part, table))
            measured += 1
    return measured


def parts_sum(spec: ArchSpec, table: LatencyTable, num_classes: int = 1000) -> float:
    """The sum of the best latencies of ``spec``'s parts; the table grows by the parts it lacked."""
    parts = network_parts(spec, num_classes)
    fill(table, parts)
    return sum(table.entries[p.key].min_ms for p in parts)


def predict(spec: ArchSpec, table: LatencyTable, num_classes: int = 1000) -> float:
    """Predicted best milliseconds per forward pass of ``spec`` in the table's setting (device, threads,
    batch size, back-end): the sum of its parts plus the table's fitted overhead (zero before
    :func:`calibrate`). Parts missing from the table are measured now and added to it."""
    overhead = table.calibration.overhead_ms if table.calibration else 0.0
    return parts_sum(spec, table, num_classes) + overhead


def measure_network(spec: ArchSpec, table: LatencyTable, num_classes: int = 1000) -> Measurement:
    """The real latency of the whole network, in the table's setting."""
    setting = table.environment.setting()
    return measure(spec, setting, warmup=3, repeats=10, min_time_s=NETWORK_TIME_S, num_classes=num_classes)


def measure_networks(
    specs: Sequence[ArchSpec], table: LatencyTable, num_classes: int = 1000, passes: int = NETWORK_PASSES
) -> list[Measurement]:
    """Each network timed whole in ``passes`` passes over the list, the fastest kept: a burst of other
    work on a shared machine slows one pass, rarely the same network in every one."""
    best: list[Measurement] = []
    for i in range(passes):
        bar = tqdm(specs, desc=f"networks, pass {i + 1}/{passes}", unit="net", leave=False)
        times = [measure_network(spec, table, num_classes) for spec in bar]
        best = [min(a, b, key=best_ms) for a, b in zip(best, times, strict=True)] if best else times
    return best


def best_ms(m: Measurement) -> float:
    """The figure of record: the fastest run (see the module's docstring)."""
    return m.min_ms


def calibrate(table: LatencyTable, specs: Sequence[ArchSpec], num_classes: int = 1000) -> Calibration:
    """Fit the table's overhead on ``specs``: the median of (measured - sum of parts), which a few odd
    networks do not move. Sets and returns the table's calibration."""
    if not specs:
        raise ValueError("calibrate: no networks given")
    sums = [parts_sum(spec, table, num_classes) for spec in specs]
    measured = [best_ms(m) for m in measure_networks(specs, table, num_classes)]
    overhead = statistics.median(m - s for m, s in zip(measured, sums, strict=True))
    mape = statistics.fmean(abs(s + overhead - m) / m for m, s in zip(measured, sums, strict=True))
    table.calibration = Calibration(overhead_ms=overhead, networks=len(sums), mape=mape)
    return table.calibration
