"""What a search leaves in its run directory: every trial, the best network(s) as spec files, a summary."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from nas.search._budget import Metric, describe
from nas.search._evaluate import Evaluator
from nas.search._latency import measured
from nas.search._study import Search

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
    "choices",
]


def write_outputs(study: optuna.Study, search: Search, evaluator: Evaluator, run_dir: Path) -> list[Path]:
    """``trials.csv``; ``best_arch.yaml`` (one objective) or ``pareto.csv`` and ``pareto/*.yaml``;
    ``summary.md``. Returns the files written."""
    trials = study.get_trials(deepcopy=False)
    single = len(study.directions) == 1
    ranked = ranked_trials(study)
    times = measured(study)
    written = [_write_trials(trials, times, run_dir / "trials.csv")]
    if single:
        best = [t for t in ranked if _within_measured_budget(t, times, search)]
        if best:
            path = run_dir / "best_arch.yaml"
            path.write_text(_spec_text(best[0]))
            written.append(path)
    else:
        written += _write_pareto(ranked, times, run_dir)
    summary = run_dir / "summary.md"
    summary.write_text(_summary(study, search, evaluator, ranked, trials, times))
    return [*written, summary]


def ranked_trials(study: optuna.Study) -> list[FrozenTrial]:
    """The feasible evaluated trials, best first (one objective), or the Pareto front by cost."""
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    done = [t for t in trials if t.user_attrs.get("feasible") and "quality" in t.user_attrs]
    if len(study.directions) == 1:
        return sorted(done, key=lambda t: t.values[0], reverse=True)
    return pareto_front(done)


def _within_measured_budget(t: FrozenTrial, times: dict[int, float], search: Search) -> bool:
    """False for a finalist whose measured latency breaks a budget its prediction met."""
    limits = [b.limit for b in search.budgets if b.metric is Metric.LATENCY]
    return t.number not in times or all(times[t.number] <= limit for limit in limits)


def pareto_front(trials: list[FrozenTrial]) -> list[FrozenTrial]:
    """The trials no other trial beats on quality and cost at once, by increasing cost."""

    def dominates(a: FrozenTrial, b: FrozenTrial) -> bool:
        better = [
            a.values[0] >= b.values[0],
            *(x <= y for x, y in zip(a.values[1:], b.values[1:], strict=True)),
        ]
        strictly = [
            a.values[0] > b.values[0],
            *(x < y for x, y in zip(a.values[1:], b.values[1:], strict=True)),
        ]
        return all(better) and any(strictly)

    front = [t for t in trials if not any(dominates(o, t) for o in trials)]
    return sorted(front, key=lambda t: (t.values[1], -t.values[0]))


def _write_trials(trials: list[FrozenTrial], times: dict[int, float], path: Path) -> Path:
    retried = {origin: t.number for t in trials if (origin := _retry_of(t)) is not None}
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, _COLUMNS)
        writer.writeheader()
        for t in trials:
            a = t.user_attrs
            writer.writerow(
                {
                    "number": t.number,
                    "state": t.state.name,
                    "baseline": a.get("baseline", ""),
                    "feasible": a.get("feasible", ""),
                    **{
                        k: a.get(k, "")
                        for k in ("macs", "params", "activation_bytes", "latency_predicted_ms", "val_acc")
                    },
                    "latency_measured_ms": times.get(t.number, ""),
                    "quality": a.get("quality", ""),
                    "objective": "" if t.values is None else " ".join(map(repr, t.values)),
                    "screened_out": a.get("screened_out", ""),
                    "error": a.get("error") or _died(t, retried),
                    "worker": a.get("worker", ""),
                    "retry_of": "" if _retry_of(t) is None else _retry_of(t),
                    "choices": json.dumps(t.params, sort_keys=True),
                }
            )
    return path


def _retry_of(t: FrozenTrial) -> int | None:
    """The trial this one re-runs (its worker died: Optuna's heartbeat re-queued its choices)."""
    history = t.system_attrs.get("retry_history")
    return history[-1] if history else None


def _died(t: FrozenTrial, retried: dict[int, int]) -> str:
    """Why a failed trial without an error failed: its worker stopped (Optuna's heartbeat said so)."""
    if t.state is not TrialState.FAIL:
        return ""
    if t.number in retried:
        return f"its worker stopped (no heartbeat); re-run as trial {retried[t.number]}"
    return "its worker stopped (no heartbeat)"


def _write_pareto(front: list[FrozenTrial], times: dict[int, float], run_dir: Path) -> list[Path]:
    folder = run_dir / "pareto"
    folder.mkdir(exist_ok=True)
    path = run_dir / "pareto.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "number",
                "baseline",
                "quality",
                "macs",
                "params",
                "latency_predicted_ms",
                "latency_measured_ms",
                "spec",
            ]
        )
        for t in front:
            spec_path = folder / f"trial_{t.number:04d}.yaml"
            spec_path.write_text(_spec_text(t))
            a = t.user_attrs
            writer.writerow(
                [
                    t.number,
                    a.get("baseline", ""),
                    a["quality"],
                    a["macs"],
                    a["params"],
                    a.get("latency_predicted_ms", ""),
                    times.get(t.number, ""),
                    spec_path.relative_to(run_dir).as_posix(),
                ]
            )
    return [path, folder]


def _spec_text(t: FrozenTrial) -> str:
    a = t.user_attrs
    header = (
        f"# trial {t.number} of the search{_baseline_note(a)}: "
        f"{a['macs'] / 1e6:.1f}M MACs, {a['params'] / 1e6:.2f}M params, quality {a['quality']:.4f}\n"
    )
    return header + a["spec"]


def _baseline_note(attrs: dict[str, Any]) -> str:
    return f" (baseline {attrs['baseline']})" if attrs.get("baseline") else ""


def _summary(
    study: optuna.Study,
    search: Search,
    evaluator: Evaluator,
    ranked: list[FrozenTrial],
    trials: list[FrozenTrial],
    times: dict[int, float],
) -> str:
    states = {s.name.lower(): sum(t.state is s for t in trials) for s in TrialState}
    over = sum(
        1 for t in trials if t.user_attrs.get("feasible") is False and not t.user_attrs.get("baseline")
    )
    lines = [
        f"# Search: space `{search.space.name}`, budget {describe(search.budgets)}",
        "",
        f"- Space: {search.space.description} ({search.space.size():.3g} configurations); costs counted at "
        f"{search.space.resolution} px for {search.num_classes} classes.",
        f"- Study `{study.study_name}`: {len(trials)} trials ("
        + ", ".join(f"{n} {k}" for k, n in states.items() if n)
        + f"); {over} candidates over budget, never built or trained (baselines are evaluated whatever "
        "their cost).",
        f"- Evaluation: {json.dumps(evaluator.describe())}",
        f"- Objective: {search.objective.to_data() or {'kind': 'reward'}}, quality = {evaluator.quality}.",
        *_latency_note(search),
        "",
    ]
    shown = ranked[:10] + [t for t in ranked[10:] if t.user_attrs.get("baseline")]
    baselines = [t for t in trials if t.user_attrs.get("baseline") and t not in shown]
    return "\n".join(lines + _table(shown + baselines, times, search.latency is not None)) + "\n"


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


def _table(trials: list[FrozenTrial], times: dict[int, float], latency: bool) -> list[str]:
    head = "| trial | network | MACs (M) | params (M) |"
    rule = "|---:|---|---:|---:|"
    if latency:
        head, rule = head + " predicted (ms) | measured (ms) |", rule + "---:|---:|"
    lines = [head + " quality | objective |", rule + "---:|---|"]
    for t in trials:
        a = t.user_attrs
        name = a.get("baseline") or "searched"
        flag = "" if a.get("feasible") else " (over budget)"
        q = f"{a['quality']:.4f}" if "quality" in a else t.state.name.lower()
        objective = "" if t.values is None else " ".join(f"{v:.4g}" for v in t.values)
        row = f"| {t.number} | {name}{flag} | {a.get('macs', 0) / 1e6:.1f} | {a.get('params', 0) / 1e6:.2f} |"
        if latency:
            predicted = a.get("latency_predicted_ms")
            row += f" {_ms(predicted)} | {_ms(times.get(t.number))} |"
        lines.append(f"{row} {q} | {objective} |")
    return lines


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"
