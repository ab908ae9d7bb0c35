"""From the journal to the figures: each evaluator's agreement with the reference, and the noise ceiling."""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass
from typing import Any

import numpy as np

from nas.fidelity._jobs import REFERENCE
from nas.fidelity._run import Study, plan, reference_seeds
from nas.fidelity._settings import TRAIN_PREFIX, Kind, kind_of
from nas.fidelity._stats import (
    Agreement,
    agreement,
    bootstrap_interval,
    kendall,
    spearman,
    top_quartile_recall,
)


@dataclass(frozen=True)
class EvaluatorResult:
    name: str
    agreement: Agreement
    seconds_per_candidate: float  # CPU seconds of one worker (one thread) per network


@dataclass(frozen=True)
class Summary:
    networks: list[str]
    macs: list[int]
    reference: list[float]  # the mean over seeds
    per_seed: list[list[float]]  # [seed][network]
    ceiling: Agreement
    evaluators: list[EvaluatorResult]
    values: dict[str, list[float]]  # evaluator -> per network
    reference_seconds: float
    failed: int


def collect(study: Study) -> dict[tuple[str, str, int], dict]:
    """The journal's rows of this study's jobs (current protocols only), by (network, evaluator, seed)."""
    rows = {}
    for job in plan(study):
        for name, key in study.keys(job).items():
            row = study.journal.value(key)
            if row is not None:
                rows[(job.name, name, job.seed)] = row
    return rows


def summarise(study: Study) -> Summary | None:
    """The figures over the networks whose reference trainings are all done; None before any is."""
    s = study.settings
    rows = collect(study)
    seeds = reference_seeds(s)
    done = [c for c in study.sample if all((c.spec.name, REFERENCE, seed) in rows for seed in seeds)]
    if len(done) < 4:
        return None
    per_seed = [[_acc(rows[(c.spec.name, REFERENCE, seed)]) for c in done] for seed in seeds]
    reference = [statistics.mean(v) for v in zip(*per_seed, strict=True)]
    values: dict[str, list[float]] = {}
    seconds: dict[str, float] = {}
    for name in s.chosen():
        if kind_of(name) is Kind.COMBINED:
            continue
        got = [rows.get((c.spec.name, name, s.seed)) for c in done]
        if all(r is not None for r in got):
            values[name] = [_score(r) for r in got]  # type: ignore[arg-type]
            seconds[name] = _cpu(got)  # type: ignore[index]
    if "combined" in s.chosen():
        combined = _combined(s, values, seconds, rows, done)
        if combined is not None:
            values["combined"], seconds["combined"] = combined
    results = [
        EvaluatorResult(name, agreement(values[name], reference, s.bootstrap, s.seed), seconds[name])
        for name in s.chosen()
        if name in values
    ]
    ref_rows = [rows[(c.spec.name, REFERENCE, seed)] for c in done for seed in seeds]
    return Summary(
        networks=[c.spec.name for c in done],
        macs=[c.macs for c in done],
        reference=reference,
        per_seed=per_seed,
        ceiling=ceiling(per_seed, s.bootstrap, s.seed),
        evaluators=results,
        values=values,
        reference_seconds=_cpu(ref_rows),
        failed=sum(1 for r in rows.values() if r.get("error")),
    )


def ceiling(per_seed: list[list[float]], resamples: int, seed: int) -> Agreement:
    """The noise ceiling: Kendall's tau between two reference seeds (the mean over pairs with more), with
    its bootstrap interval; no evaluator can be expected to agree with the reference better than the
    reference agrees with itself."""
    pairs = list(itertools.combinations(range(len(per_seed)), 2))
    taus = [kendall(per_seed[a], per_seed[b]) for a, b in pairs]
    a, b = pairs[0]
    lo, hi = bootstrap_interval(per_seed[a], per_seed[b], resamples, seed)
    recall = top_quartile_recall(per_seed[a], per_seed[b])
    return Agreement(statistics.mean(taus), lo, hi, spearman(per_seed[a], per_seed[b]), recall)


def _acc(row: dict) -> float:
    """A training's accuracy; a failed training ranks as chance (0)."""
    return 0.0 if math.isnan(row["value"]) else float(row["value"])


def _score(row: dict) -> float:
    return -math.inf if math.isnan(row["value"]) else float(row["value"])


def _cpu(rows: list[dict[str, Any]]) -> float:
    """Mean CPU seconds of the worker process (one thread): what a candidate costs, whatever else the
    machine was doing (wall seconds, which contention inflates, stay in the journal)."""
    return statistics.mean(r["cpu_seconds"] for r in rows if not math.isnan(r["cpu_seconds"]))


def _combined(s, values, seconds, rows, done):  # type: ignore[no-untyped-def]
    """The combined evaluator's ranking: the best ``keep`` of the sample by the screen's score trained and
    ranked by accuracy above the rest, which stay in the screen's order."""
    c = s.combined
    train = f"{TRAIN_PREFIX}{c.epochs}ep"
    screen = [rows.get((n.spec.name, c.score, s.seed)) for n in done]
    trained = [rows.get((n.spec.name, train, s.seed)) for n in done]
    if any(r is None for r in screen) or any(r is None for r in trained):
        return None
    score = np.array([_score(r) for r in screen])
    k = max(1, math.ceil(c.keep * len(done)))
    kept = set(np.argsort(-score, kind="stable")[:k].tolist())
    order = np.argsort(np.argsort(score, kind="stable"), kind="stable") / max(1, len(done) - 1)  # in [0, 1]
    value = [2.0 + _acc(trained[i]) if i in kept else float(order[i]) for i in range(len(done))]
    cost = _cpu(screen) + c.keep * _cpu(trained)
    return value, cost
