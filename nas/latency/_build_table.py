"""Building a space's lookup table: every distinct part the space can produce, timed once, then the
overhead fitted on a few whole networks. Saved as it goes, so that an interrupted build resumes."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

from tqdm import tqdm

from nas.arch import ArchSpec
from nas.errors import SpecError
from nas.latency._parts import Part, space_parts
from nas.latency._predict import PART_PASSES, best_ms, calibrate, measure_part
from nas.latency._table import LatencyTable
from nas.spaces import SearchSpace

CALIBRATION_SEED = 0  # validation draws with another seed, so that it never tests on the fitted networks


@dataclass(frozen=True)
class BuildReport:
    parts: int  # distinct parts of the space
    measured: int  # of which timed by this call (the rest were in the table already)
    seconds: float


def random_networks(space: SearchSpace, n: int, seed: int) -> list[ArchSpec]:
    """``n`` networks drawn uniformly choice by choice (a draw the space's rules reject is drawn again)."""
    rng = random.Random(seed)
    specs: list[ArchSpec] = []
    for attempt in range(100 * n):
        if len(specs) == n:
            break
        try:
            specs.append(space.draw(rng, name=f"{space.name}_{seed}_{attempt}"))
        except SpecError:
            continue
    return specs


def build_table(
    space: SearchSpace,
    table: LatencyTable,
    path: Path,
    *,
    num_classes: int = 1000,
    calibration_networks: int = 20,
    part_time_s: float | None = None,
    save_every_s: float = 15.0,
    passes: int = PART_PASSES,
) -> BuildReport:
    """Time every part of ``space`` missing from ``table`` in ``passes`` passes (the fastest is
    kept), then (re)fit its overhead; the table is saved to ``path`` every ``save_every_s`` seconds, at
    the end, and when interrupted."""
    start = perf_counter()
    layers, heads = space.layer_inputs()
    parts = space_parts(layers, heads, num_classes)
    todo = [p for p in parts if p.key not in table]
    for i in range(passes):
        _time_parts(
            todo, table, path, f"{space.name} parts, pass {i + 1}/{passes}", part_time_s, save_every_s
        )
    if todo or table.calibration is None:
        calibrate(table, random_networks(space, calibration_networks, CALIBRATION_SEED), num_classes)
    table.spaces = tuple(sorted({*table.spaces, space.name}))
    seconds = perf_counter() - start
    table.build_seconds += seconds
    table.save(path)
    return BuildReport(len(parts), len(todo), seconds)


def _time_parts(
    parts: list[Part],
    table: LatencyTable,
    path: Path,
    desc: str,
    part_time_s: float | None,
    save_every_s: float,
) -> None:
    """One pass: each part timed and kept where faster than the table's entry (or where there is none)."""
    saved = perf_counter()
    try:
        for part in tqdm(parts, desc=desc, unit="part"):
            m = measure_part(part, table, part_time_s)
            if part.key not in table or best_ms(m) < best_ms(table.entries[part.key]):
                table.add(part.key, m)
            if perf_counter() - saved > save_every_s:
                table.save(path)
                saved = perf_counter()
    finally:
        table.save(path)
