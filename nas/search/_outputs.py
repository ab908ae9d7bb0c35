"""What a search leaves in its run directory: every trial, the best network(s) as spec files, a summary."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from nas.search._budget import describe
from nas.search._evaluate import Evaluator
from nas.search._study import Search

_COLUMNS = [
    "number",
    "state",
    "baseline",
    "feasible",
    "macs",
    "params",
    "activation_bytes",
    "latency_ms",
    "val_acc",
    "quality",
    "objective",
    "screened_out",
    "error",
    "choices",
]


def write_outputs(study: optuna.Study, search: Search, evaluator: Evaluator, run_dir: Path) -> list[Path]:
    """``trials.csv``; ``best_arch.yaml`` (one objective) or ``pareto.csv`` and ``pareto/*.yaml``;
    ``summary.md``. Returns the files written."""
    trials = study.get_trials(deepcopy=False)
    written = [_write_trials(trials, run_dir / "trials.csv")]
    done = [t for t in trials if t.state is TrialState.COMPLETE and t.user_attrs.get("feasible")]
    done = [t for t in done if "quality" in t.user_attrs]
    if len(study.directions) == 1:
        best = sorted(done, key=lambda t: t.values[0], reverse=True)
        if best:
            path = run_dir / "best_arch.yaml"
            path.write_text(_spec_text(best[0]))
            written.append(path)
        ranked = best
    else:
        ranked = pareto_front(done)
        written += _write_pareto(ranked, run_dir)
    summary = run_dir / "summary.md"
    summary.write_text(_summary(study, search, evaluator, ranked, trials))
    return [*written, summary]


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


def _write_trials(trials: list[FrozenTrial], path: Path) -> Path:
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
                        for k in ("macs", "params", "activation_bytes", "latency_ms", "val_acc")
                    },
                    "quality": a.get("quality", ""),
                    "objective": "" if t.values is None else " ".join(f"{v:.6g}" for v in t.values),
                    "screened_out": a.get("screened_out", ""),
                    "error": a.get("error", ""),
                    "choices": json.dumps(t.params, sort_keys=True),
                }
            )
    return path


def _write_pareto(front: list[FrozenTrial], run_dir: Path) -> list[Path]:
    folder = run_dir / "pareto"
    folder.mkdir(exist_ok=True)
    path = run_dir / "pareto.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["number", "baseline", "quality", "macs", "params", "latency_ms", "spec"])
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
                    a.get("latency_ms", ""),
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
        "",
        "| trial | network | MACs (M) | params (M) | quality | objective |",
        "|---:|---|---:|---:|---:|---|",
    ]
    shown = ranked[:10] + [t for t in ranked[10:] if t.user_attrs.get("baseline")]
    baselines = [t for t in trials if t.user_attrs.get("baseline") and t not in shown]
    for t in shown + baselines:
        a = t.user_attrs
        name = a.get("baseline") or "searched"
        flag = "" if a.get("feasible") else " (over budget)"
        q = f"{a['quality']:.4f}" if "quality" in a else t.state.name.lower()
        objective = "" if t.values is None else " ".join(f"{v:.4g}" for v in t.values)
        lines.append(
            f"| {t.number} | {name}{flag} | {a.get('macs', 0) / 1e6:.1f} | {a.get('params', 0) / 1e6:.2f} "
            f"| {q} | {objective} |"
        )
    return "\n".join(lines) + "\n"
