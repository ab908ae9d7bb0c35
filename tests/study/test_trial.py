"""The trial record: the one reader and writer of a trial's attributes, and studies of earlier releases."""

from __future__ import annotations

import csv
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState, create_trial

from nas import Cost
from nas.study import (
    Attr,
    Status,
    TrialRecord,
    busy_seconds,
    counts,
    make_storage,
    mask_config,
    measured_latencies,
    record,
    record_cost,
    record_extra,
    record_measured_latencies,
    trial_records,
)

DATA = Path(__file__).parent / "data"


def in_memory_trial() -> optuna.Trial:
    study = optuna.create_study(direction="maximize")
    return study.ask()


def test_record_writes_known_names_and_refuses_others() -> None:
    trial = in_memory_trial()
    record(trial, feasible=True, spec="name: x\n")
    record_cost(trial, Cost(10, 20, 30))
    record_extra(trial, {"val_acc": 0.5})
    assert trial.user_attrs == {
        "feasible": True, "spec": "name: x\n", "macs": 10, "params": 20, "activation_bytes": 30,
        "val_acc": 0.5,
    }  # fmt: skip
    with pytest.raises(KeyError, match="'feasable' is not a trial attribute"):
        record(trial, feasable=True)
    with pytest.raises(KeyError, match="'quality' would overwrite"):
        record_extra(trial, {Attr.QUALITY.value: 1.0})


def frozen(state: TrialState, values: list[float] | None = None, **attrs: object) -> optuna.trial.FrozenTrial:
    return create_trial(
        state=state,
        values=values,
        params={"k": 3},
        distributions={"k": CategoricalDistribution([3, 5])},
        user_attrs=attrs,
    )


def test_status_and_quality_say_only_what_was_evaluated() -> None:
    over = TrialRecord.of(frozen(TrialState.COMPLETE, [0.0], feasible=False, macs=5))
    assert over.status is Status.OVER_BUDGET and over.quality is None and over.objective is None
    assert over.values == (0.0,)  # what Optuna was told stays readable
    baseline = TrialRecord.of(frozen(TrialState.COMPLETE, [0.7], feasible=False, baseline="b", quality=0.7))
    assert baseline.status is Status.COMPLETE and baseline.quality == 0.7 and baseline.name == "b"
    assert baseline.over_budget and not baseline.evaluated
    done = TrialRecord.of(frozen(TrialState.COMPLETE, [0.8], feasible=True, quality=0.8, val_acc=0.8))
    assert done.evaluated and done.extra == {"val_acc": 0.8} and done.choices == {"k": 3}
    screened = TrialRecord.of(frozen(TrialState.PRUNED, None, screened_out=True, synflow=12.5))
    assert screened.status is Status.PRUNED and screened.detail == "screened out (synflow 12.5)"
    failed = TrialRecord.of(frozen(TrialState.FAIL, None, error="Boom: no"))
    assert failed.status == "failed" and failed.detail == "Boom: no"  # a status reads as its word
    surplus = TrialRecord.of(frozen(TrialState.FAIL, None, surplus=True, error="Surplus: 6 trials"))
    assert surplus.status is Status.SURPLUS and surplus.detail.startswith("never run")
    assert counts([over, baseline, done, screened, failed, surplus]) == {
        Status.COMPLETE: 2, Status.OVER_BUDGET: 1, Status.PRUNED: 1, Status.FAILED: 1, Status.SURPLUS: 1,
    }  # fmt: skip


def test_a_named_metric_stands_for_quality_and_a_measured_latency_for_the_prediction() -> None:
    t = frozen(TrialState.COMPLETE, [0.8], feasible=True, val_acc=0.8, latency_predicted_ms=2.0)
    assert TrialRecord.of(t).quality is None
    r = TrialRecord.of(t, quality_key="val_acc", measured_ms=2.5)
    assert r.quality == 0.8 and r.latency_ms == 2.5 and not r.latency_predicted
    r = TrialRecord.of(t)
    assert r.latency_ms == 2.0 and r.latency_predicted and r.latency_measured_ms is None


def test_measured_latencies_round_trip_through_the_study() -> None:
    study = optuna.create_study()
    assert measured_latencies(study) == {}
    record_measured_latencies(study, {3: 1.5, 1: 2.0})
    assert measured_latencies(study) == {1: 2.0, 3: 1.5}


def test_mask_config_hides_every_password_and_keeps_the_rest() -> None:
    config = {
        "storage": "postgresql://nas:secret@db:5432/nas",
        "nested": [{"url": "mysql://u:also-secret@h/db"}, 3, None],
        "space": "mnas",
    }
    masked = mask_config(config)
    assert masked == {
        "storage": "postgresql://nas:***@db:5432/nas",
        "nested": [{"url": "mysql://u:***@h/db"}, 3, None],
        "space": "mnas",
    }
    assert "secret" not in repr(masked)


def test_a_study_written_by_release_0_1_0_reads_as_it_wrote_itself(tmp_path: Path) -> None:
    db = tmp_path / "study.db"
    shutil.copy(DATA / "search_0.1.0.db", db)  # a copy: opening may touch the file
    storage = make_storage(f"sqlite:///{db}", create=False)
    study = optuna.load_study(study_name="mnas-300MFLOPs", storage=storage)
    records = trial_records(study.get_trials(deepcopy=False), measured=measured_latencies(study))
    with (DATA / "search_0.1.0_trials.csv").open() as f:
        written = list(csv.DictReader(f))
    assert len(records) == len(written) == 6
    for r, row in zip(records, written, strict=True):
        assert (r.number, r.state.name) == (int(row["number"]), row["state"])
        assert (r.baseline or "") == row["baseline"]
        assert str(r.feasible) == row["feasible"]
        assert (r.macs, r.params, r.activation_bytes) == tuple(
            int(row[k]) for k in ("macs", "params", "activation_bytes")
        )
        assert ("" if r.quality is None else repr(r.quality)) == row["quality"]
        assert ("" if r.values is None else " ".join(map(repr, r.values))) == row["objective"]
        assert (str(r.screened_out) if r.screened_out else "") == row["screened_out"]
        assert r.worker == row["worker"] and r.spec and r.config
        assert ("" if row["val_acc"] == "" else float(row["val_acc"])) == r.extra.get("val_acc", "")
    statuses = [r.status for r in records]
    assert statuses.count(Status.OVER_BUDGET) == 1 and statuses.count(Status.PRUNED) == 2


def _ran(start_min: float, end_min: float) -> optuna.trial.FrozenTrial:
    """A finished trial that ran from start_min to end_min minutes after a fixed time."""
    origin = datetime(2026, 1, 1)
    t = create_trial(state=TrialState.COMPLETE, value=0.5)
    t.datetime_start = origin + timedelta(minutes=start_min)
    t.datetime_complete = origin + timedelta(minutes=end_min)
    return t


def test_busy_seconds_leaves_out_the_gap_between_sittings() -> None:
    first_sitting = [_ran(0, 10), _ran(10, 25)]
    resumed_a_day_later = [_ran(1440, 1450)]
    assert busy_seconds(first_sitting + resumed_a_day_later) == 35 * 60


def test_busy_seconds_counts_trials_run_side_by_side_once() -> None:
    # two workers: 0-10 and 5-20 overlap; 6-8 lies inside both; 30-40 stands alone
    trials = [_ran(5, 20), _ran(0, 10), _ran(6, 8), _ran(30, 40)]
    assert busy_seconds(trials) == 30 * 60


def test_busy_seconds_skips_a_trial_that_never_finished() -> None:
    running = create_trial(state=TrialState.COMPLETE, value=0.5)
    running.datetime_complete = None
    assert busy_seconds([running, _ran(0, 3)]) == 3 * 60
    assert busy_seconds([]) == 0.0
