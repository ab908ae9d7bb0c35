"""The study layer: what a search is constrained by and what it leaves behind, for every command to read.

* budgets (``300MFLOPs``, ``5Mparams``, ``25ms``) and their constraints: :func:`parse_budget`,
  :class:`Budget`;
* where a study lives: :func:`make_storage` (SQLite, PostgreSQL, a journal file), with passwords kept out
  of everything recorded or printed (:func:`hide_password`);
* one trial's record: :class:`TrialRecord` (read) and :func:`record` (write), the only code that knows the
  names of a trial's attributes;
* the time a study's trials kept the machine busy (:func:`busy_seconds`);
* the Pareto front of evaluated trials;
* a search's run directory: its files' names (:data:`BEST_ARCH`, :data:`TRIALS_CSV`, ...) and the networks
  it saved (:func:`read_outputs`).

It imports neither Lightning nor Hydra: the search writes studies, and the report, dashboard and
scaling commands read them, all through this package (``nas.search`` is above it, never below).
"""

from __future__ import annotations

from nas.study._budget import (
    FORMS,
    Budget,
    BudgetError,
    Metric,
    describe,
    needs_latency,
    parse_budget,
)
from nas.study._distance import Distance, distance, nearest, nearest_baselines
from nas.study._finalists import Dominance, Finalist, finalists_of, pair, verdicts, versus
from nas.study._pareto import dominates, pareto_front
from nas.study._run_dir import (
    BEST_ARCH,
    FINALISTS_CSV,
    PARETO_CSV,
    PARETO_DIR,
    SPEC_COLUMN,
    SUMMARY_MD,
    TRIALS_CSV,
    SavedNetworks,
    read_outputs,
)
from nas.study._storage import (
    JOURNAL,
    Heartbeat,
    first_line,
    has_heartbeat,
    hide_password,
    journal_path,
    make_storage,
    mask_config,
    with_driver,
)
from nas.study._trial import (
    BUDGET,
    EVALUATION,
    FINALISTS,
    MEASURED,
    PRESET,
    SPACE_DIGEST,
    SPACE_NAME,
    SPACE_OVERRIDES,
    ZERO_COST_SCORES,
    Attr,
    Status,
    TrialRecord,
    busy_seconds,
    counts,
    measured_latencies,
    record,
    record_cost,
    record_extra,
    record_measured_latencies,
    status_of,
    trial_records,
)

__all__ = [
    "BEST_ARCH",
    "BUDGET",
    "EVALUATION",
    "FINALISTS",
    "FINALISTS_CSV",
    "FORMS",
    "JOURNAL",
    "MEASURED",
    "PARETO_CSV",
    "PARETO_DIR",
    "PRESET",
    "SPACE_DIGEST",
    "SPACE_NAME",
    "SPACE_OVERRIDES",
    "SPEC_COLUMN",
    "SUMMARY_MD",
    "TRIALS_CSV",
    "ZERO_COST_SCORES",
    "Attr",
    "Budget",
    "BudgetError",
    "Distance",
    "Dominance",
    "Finalist",
    "Heartbeat",
    "Metric",
    "SavedNetworks",
    "Status",
    "TrialRecord",
    "busy_seconds",
    "counts",
    "describe",
    "distance",
    "dominates",
    "finalists_of",
    "first_line",
    "has_heartbeat",
    "hide_password",
    "journal_path",
    "make_storage",
    "mask_config",
    "measured_latencies",
    "nearest",
    "nearest_baselines",
    "needs_latency",
    "pair",
    "pareto_front",
    "parse_budget",
    "read_outputs",
    "record",
    "record_cost",
    "record_extra",
    "record_measured_latencies",
    "status_of",
    "trial_records",
    "verdicts",
    "versus",
    "with_driver",
]
