"""What a search leaves in its run directory: every trial, the best network(s) as spec files, a summary.

The files' names, and the reading of the saved networks, are in ``nas.study`` (every command reads them).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from nas.search._evaluate import Evaluator
from nas.search._study import Search
from nas.stats import LEVEL
from nas.study import (
    BEST_ARCH,
    FINALISTS_CSV,
    PARETO_CSV,
    PARETO_DIR,
    SPEC_COLUMN,
    SUMMARY_MD,
    TRIALS_CSV,
    Distance,
    Finalist,
    Metric,
    Status,
    TrialRecord,
    describe,
    measured_latencies,
    nearest_baselines,
    pair,
    pareto_front,
    trial_records,
    verdicts,
    versus,
)

_COLUMNS = [
    "number",
    "state",
    "baseline",
    "feasible",
    "macs",
    "params",
    "activation_bytes",
    "latency_predicted_ms",
    "latency_measured_ms",
    "val_acc",
    "quality",
    "objective",
    "screened_out",
    "error",
    "worker",
    "retry_of",
    "nearest_baseline",
    "baseline_distance",
    "choices",
]


def write_outputs(
    study: optuna.Study,
    search: Search,
    evaluator: Evaluator,
    run_dir: Path,
    finalists: list[Finalist] | None = None,
) -> list[Path]:
    """``trials.csv``; ``best_arch.yaml`` (one objective) or ``pareto.csv`` and ``pareto/*.yaml``;
    ``finalists.csv`` (``finalists.seeds``); ``summary.md``. Returns the files written."""
    times = measured_latencies(study)
    records = trial_records(study.get_trials(deepcopy=False), measured=times)
    ranked = _ranked(records, len(study.directions))
    written = [_write_trials(records, run_dir / TRIALS_CSV)]
    if finalists:
        written.append(write_finalists(finalists, run_dir / FINALISTS_CSV))
    if len(study.directions) == 1:
        best = [r for r in ranked if _within_measured_budget(r, search)]
        if best:
            path = run_dir / BEST_ARCH
            path.write_text(_spec_text(best[0]))
            written.append(path)
    else:
        written += _write_pareto(ranked, run_dir)
    summary = run_dir / SUMMARY_MD
    summary.write_text(
        _summary(study, search, evaluator, ranked, records) + finalists_section(finalists or [])
    )
    return [*written, summary]


def ranked_trials(study: optuna.Study) -> list[FrozenTrial]:
    """The feasible evaluated trials, best first (one objective), or the Pareto front by cost."""
    trials = {t.number: t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}
    ranked = _ranked(trial_records(list(trials.values())), len(study.directions))
    return [trials[r.number] for r in ranked]


def _ranked(records: list[TrialRecord], objectives: int) -> list[TrialRecord]:
    done = [r for r in records if r.evaluated and r.objective is not None]
    if objectives == 1:
        return sorted(done, key=lambda r: r.objective[0], reverse=True)  # type: ignore[index]
    return pareto_front(done)  # an evaluated record's values are its objective


def _within_measured_budget(r: TrialRecord, search: Search) -> bool:
    """False for a finalist whose measured latency breaks a budget its prediction met."""
    if search.objective.soft:  # a target, not a limit: the reward has weighed the latency already
        return True
    limits = [b.limit for b in search.budgets if b.metric is Metric.LATENCY]
    measured = r.latency_measured_ms
    return measured is None or all(measured <= limit for limit in limits)


def _write_trials(records: list[TrialRecord], path: Path) -> Path:
    retried = {r.retry_of: r.number for r in records if r.retry_of is not None}
    near = nearest_baselines(records)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, _COLUMNS)
        writer.writeheader()
        for r in records:
            writer.writerow(
                {
                    "number": r.number,
                    "state": r.state.name,
                    "baseline": r.baseline or "",
                    "feasible": _blank(r.feasible),
                    "macs": _blank(r.macs),
                    "params": _blank(r.params),
                    "activation_bytes": _blank(r.activation_bytes),
                    "latency_predicted_ms": _blank(r.latency_predicted_ms),
                    "latency_measured_ms": _blank(r.latency_measured_ms),
                    "val_acc": _blank(r.extra.get("val_acc")),
                    "quality": _blank(r.quality),
                    "objective": "" if r.values is None else " ".join(map(repr, r.values)),
                    "screened_out": r.screened_out or "",
                    "error": r.error or _died(r, retried),
                    "worker": r.worker or "",
                    "retry_of": _blank(r.retry_of),
                    "nearest_baseline": near[r.number][0] if r.number in near else "",
                    "baseline_distance": str(near[r.number][1]) if r.number in near else "",
                    "choices": json.dumps(r.choices, sort_keys=True),
                }
            )
    return path


def _blank(value: Any) -> Any:
    return "" if value is None else value


def _died(r: TrialRecord, retried: dict[int, int]) -> str:
    """Why a failed trial without an error failed: its worker stopped (Optuna's heartbeat said so)."""
    if r.state is not TrialState.FAIL:
        return ""
    if r.number in retried:
        return f"its worker stopped (no heartbeat); re-run as trial {retried[r.number]}"
    return "its worker stopped (no heartbeat)"


def _write_pareto(front: list[TrialRecord], run_dir: Path) -> list[Path]:
    folder = run_dir / PARETO_DIR
    folder.mkdir(exist_ok=True)
    path = run_dir / PARETO_CSV
    columns = [
        "number",
        "baseline",
        "quality",
        "macs",
        "params",
        "latency_predicted_ms",
        "latency_measured_ms",
    ]
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*columns, SPEC_COLUMN])
        for r in front:
            spec_path = folder / f"trial_{r.number:04d}.yaml"
            spec_path.write_text(_spec_text(r))
            values = [r.number, r.baseline or "", r.quality, r.macs, r.params]
            values += [_blank(r.latency_predicted_ms), _blank(r.latency_measured_ms)]
            writer.writerow([*values, spec_path.relative_to(run_dir).as_posix()])
    return [path, folder]


def _spec_text(r: TrialRecord) -> str:
    assert r.spec is not None and r.macs is not None and r.params is not None and r.quality is not None
    baseline = f" (baseline {r.baseline})" if r.baseline else ""
    header = (
        f"# trial {r.number} of the search{baseline}: "
        f"{r.macs / 1e6:.1f}M MACs, {r.params / 1e6:.2f}M params, quality {r.quality:.4f}\n"
    )
    return header + r.spec


def _overrides_note(search: Search) -> list[str]:
    if not search.space_overrides:
        return []
    shown = ", ".join(f"`{o}`" for o in search.space_overrides)
    return [f"- Space overrides: {shown} (fingerprint {search.space.fingerprint()})."]


def _summary(
    study: optuna.Study,
    search: Search,
    evaluator: Evaluator,
    ranked: list[TrialRecord],
    records: list[TrialRecord],
) -> str:
    # A surplus trial is a failure Optuna records but that never ran: counted apart, not as "fail".
    run = [r for r in records if r.status is not Status.SURPLUS]
    states = {s.name.lower(): sum(r.state is s for r in run) for s in TrialState}
    states["surplus, never run"] = len(records) - len(run)
    over = sum(1 for r in records if r.status is Status.OVER_BUDGET)
    lines = [
        f"# Search: space `{search.space.name}`, budget {describe(search.budgets)}",
        "",
        f"- Space: {search.space.description} ({search.space.size():.3g} configurations); costs counted at "
        f"{search.space.resolution} px for {search.num_classes} classes.",
        *_overrides_note(search),
        f"- Study `{study.study_name}`: {len(records)} trials ("
        + ", ".join(f"{n} {k}" for k, n in states.items() if n)
        + f"); {_rejected(search, over)}.",
        *_preset_note(search),
        f"- Evaluation: {json.dumps(evaluator.describe())}",
        f"- Objective: {type(search.objective).__name__} {search.objective.to_data()}, "
        f"quality = {evaluator.quality}.",
        *_latency_note(search),
        "",
    ]
    shown = ranked[:10] + [r for r in ranked[10:] if r.baseline]
    baselines = [r for r in records if r.baseline and r not in shown]
    near = nearest_baselines(records)
    return "\n".join(lines + _table(shown + baselines, search.latency is not None, near)) + "\n"


def _rejected(search: Search, over: int) -> str:
    if search.objective.soft:
        return "a soft target: every candidate evaluated, its cost weighed by the reward alone"
    return (
        f"{over} candidates over budget, never built or trained (baselines are evaluated whatever their cost)"
    )


def _preset_note(search: Search) -> list[str]:
    p = search.preset
    if p is None:
        return []
    target = ", ".join(f"{b.label} = {b.text}" if b.of else b.text for b in search.budgets) or "none"
    return [f"- Preset `{p.name}`: the search of {p.paper}; target {target}."]


def _latency_note(search: Search) -> list[str]:
    if search.latency is None:
        return []
    table = search.latency.table
    env, cal = table.environment, table.calibration
    overhead = f" + {cal.overhead_ms:.2f} ms overhead" if cal else ""
    where = f"{env.device_name}, {env.threads} thread(s), batch {env.batch_size}, {env.backend}"
    return [
        f"- Latency: predicted for every candidate from `{search.latency.path.name}` ({len(table)} parts"
        f"{overhead}; {where}); the best {search.latency.finalists} and the baselines measured whole.",
    ]


def _table(records: list[TrialRecord], latency: bool, near: Mapping[int, tuple[str, Distance]]) -> list[str]:
    """The networks shown, each with its nearest baseline (choices differing / compared)."""
    head = "| trial | network | nearest baseline | MACs (M) | params (M) |"
    rule = "|---:|---|---|---:|---:|"
    if latency:
        head, rule = head + " predicted (ms) | measured (ms) |", rule + "---:|---:|"
    lines = [head + " quality | objective |", rule + "---:|---|"]
    for r in records:
        flag = "" if r.feasible else " (over budget)"
        q = f"{r.quality:.4f}" if r.quality is not None else r.state.name.lower()
        objective = "" if r.values is None else " ".join(f"{v:.4g}" for v in r.values)
        closest = f"{near[r.number][0]} ({near[r.number][1]})" if r.number in near else ""
        costs = f"{(r.macs or 0) / 1e6:.1f} | {(r.params or 0) / 1e6:.2f}"
        row = f"| {r.number} | {r.name}{flag} | {closest} | {costs} |"
        if latency:
            row += f" {_ms(r.latency_predicted_ms)} | {_ms(r.latency_measured_ms)} |"
        lines.append(f"{row} {q} | {objective} |")
    return lines


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def write_finalists(finalists: list[Finalist], path: Path) -> Path:
    """One row per retrained network: its costs, every seed's accuracy, and their mean and std."""
    seeds = max(len(f.accuracies) for f in finalists)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["number", "network", "baseline", "macs", "params", "latency_measured_ms", "mean", "std"]
            + [f"seed{k}" for k in range(seeds)]
        )
        for fin in finalists:
            r, s = fin.record, fin.summary
            writer.writerow(
                [
                    r.number,
                    r.name,
                    r.baseline or "",
                    r.macs,
                    r.params,
                    _blank(r.latency_measured_ms),
                    f"{s.mean:.6f}",
                    "" if s.n < 2 else f"{s.std:.6f}",
                    *fin.accuracies,
                ]
            )
    return path


def finalists_section(finalists: list[Finalist]) -> str:
    """``summary.md``'s retrained networks: mean ± std, each against the best by the paired interval, and
    for every baseline whether a finalist dominates it with the seeds' support."""
    if not finalists:
        return (
            "\nWhether the search beats a baseline is not decided here: every network above trained once. "
            "`finalists.seeds=3` retrains the best and the baselines with 3 paired seeds and decides it.\n"
        )
    seeds = len(finalists[0].accuracies)
    top = max(finalists, key=lambda f: f.summary.mean)
    lines = [
        "",
        f"## Finalists retrained with {seeds} seeds (`finalists.seeds={seeds}`)",
        "",
        "Every network below trained once per seed, the same seeds for all (`nas.stats.seed_of`); "
        f"differences are paired by seed with a {LEVEL:.0%} t interval, and one whose interval holds 0 "
        "is a tie.",
        "",
        f"| trial | network | MACs (M) | measured (ms) | val_acc | against trial {top.record.number} |",
        "|---:|---|---:|---:|---|---|",
    ]
    for fin in sorted(finalists, key=lambda f: -f.summary.mean):
        r = fin.record
        against = "best mean" if fin is top else versus(pair(fin.accuracies, top.accuracies))
        lines.append(
            f"| {r.number} | {r.name} | {(r.macs or 0) / 1e6:.1f} | {_ms(r.latency_measured_ms)} | "
            f"{fin.summary.text()} | {against} |"
        )
    lines += [
        "",
        "Does the search dominate each baseline (no more MACs or measured latency, and more accurate "
        "with the seeds' support)?",
        "",
    ]
    lines += [f"- {v}." for v in verdicts(finalists)]
    return "\n".join(lines) + "\n"
