"""A latency budget in the search: predicted from a lookup table for every candidate, measured for real
for the finalists.

Predicting costs microseconds once the table has a candidate's parts (a new part is timed once, then
kept); measuring a whole network costs about a second. So every candidate's constraint uses the
prediction, and at the end the best candidates and the baselines are timed whole; the measurements are
kept in the study (user attribute ``latency_measured_ms``: trial number -> ms), where a resumed run
finds them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna

from nas.arch import load_spec
from nas.errors import check_count
from nas.latency import (
    CALIBRATION_SEED,
    LatencyTable,
    Setting,
    best_ms,
    calibrate,
    measure_networks,
    open_table,
    random_networks,
    setting_from_config,
    table_path,
)
from nas.spaces import SearchSpace
from nas.study import measured_latencies, record_measured_latencies, trial_records

log = logging.getLogger("nas.search")


@dataclass(frozen=True)
class Latency:
    """The table a search predicts with, where it is saved, and how many finalists are timed whole."""

    table: LatencyTable
    path: Path
    finalists: int
    num_classes: int

    def save(self) -> None:
        self.table.save(self.path)


def open_latency(latency: Mapping[str, Any], space: SearchSpace, num_classes: int) -> Latency:
    """The table the search's ``latency:`` settings name (by default the space's table for this machine,
    created when there is none); a table without a fitted overhead is calibrated on a few networks of the
    space first."""
    setting: Setting = setting_from_config(latency)
    path = table_path(latency, space.name, setting)
    finalists = check_count("latency.finalists", latency["finalists"], 0)
    calibration = check_count("latency.calibration", latency["calibration"], 0)
    table = open_table(path, setting, create=True)
    if table.calibration is None:
        log.warning(
            "latency: %s has no fitted overhead; timing %d networks of %s for it (parts the table lacks are "
            "timed as candidates need them; `python -m nas.latency build space=%s` times them all ahead)",
            path,
            calibration,
            space.name,
            space.name,
        )
        calibrate(table, random_networks(space, calibration, CALIBRATION_SEED), num_classes)
        table.save(path)
    return Latency(table, path, finalists, num_classes)


def measure_finalists(study: optuna.Study, ranked: list[optuna.trial.FrozenTrial], latency: Latency) -> None:
    """Time the first ``latency.finalists`` of ``ranked`` and every baseline whole, unless already timed."""
    done = measured_latencies(study)
    baselines = [r for r in trial_records(study.get_trials(deepcopy=False)) if r.baseline]
    chosen = trial_records(ranked[: latency.finalists]) + baselines
    # A trial that failed to decode has no spec.
    todo = {r.number: r.spec for r in chosen if r.number not in done and r.spec is not None}
    if todo:
        times = measure_networks([load_spec(s) for s in todo.values()], latency.table, latency.num_classes)
        done |= {n: best_ms(m) for n, m in zip(todo, times, strict=True)}
        record_measured_latencies(study, done)
    latency.save()
