"""The run's outputs: ``grid.csv``, ``family.csv``, ``coefficients.yaml``, ``scaled_arch.yaml`` (with a
budget), ``compound_scaling.png`` and ``README.md``, which states the command, the machine, the wall
time and the outcome, whatever it is."""

from __future__ import annotations

import csv
import platform
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import torch
import yaml

from nas.arch import count_cost, dump_spec
from nas.latency import device_name
from nas.scale._family import KINDS, MEMBER, SINGLE, Member
from nas.scale._grid import GridPoint, best_point, constraint_name
from nas.scale._plan import Plan
from nas.scaling import ALPHA, BETA, GAMMA
from nas.study import TrialRecord, describe

PLOT = "compound_scaling.png"


@dataclass(frozen=True)
class Outcome:
    plan: Plan
    grid: optuna.Study
    family: optuna.Study
    members: list[Member]
    point: GridPoint  # the grid's best
    budget_phi: int | None  # the largest φ meeting the budget; None without one
    evaluation: dict[str, Any]  # the proxy task, as the trainer describes it
    command: str


def grid_rows(study: optuna.Study) -> list[dict[str, Any]]:
    rows = []
    for t in sorted(study.trials, key=lambda t: t.number):
        r = TrialRecord.of(t)
        a = r.extra
        rows.append(
            {
                "trial": t.number,
                "state": t.state.name.lower(),
                "alpha": t.params.get("alpha"),
                "beta": t.params.get("beta"),
                "gamma": t.params.get("gamma"),
                "product": _round(a.get("product")),
                "feasible": r.feasible,
                "macs": r.macs,
                "params": r.params,
                "resolution": a.get("resolution"),
                "proxy_resolution": a.get("proxy_resolution"),
                "proxy_macs": a.get("proxy_macs"),
                "val_acc": _round(t.value),
                "train_seconds": a.get("train_seconds"),
                "error": r.error or "",
            }
        )
    return rows


def family_rows(study: optuna.Study, members: list[Member]) -> list[dict[str, Any]]:
    """One row per member, with its latest training (complete if there is one)."""
    trials: dict[str, optuna.trial.FrozenTrial] = {}
    for t in sorted(study.trials, key=lambda t: (t.state == optuna.trial.TrialState.COMPLETE, t.number)):
        trials[TrialRecord.of(t).extra.get(MEMBER, "")] = t
    targets = {m.phi: m.macs for m in members if m.kind in ("base", "compound")}
    rows = []
    for m in members:
        t = trials.get(m.key)
        r = TrialRecord.of(t) if t else None
        a = r.extra if r else {}
        c = m.coefficients
        rows.append(
            {
                "phi": m.phi,
                "kind": m.kind,
                "width": c.width,
                "depth": c.depth,
                "resolution": m.spec.resolution,
                "macs": m.macs,
                "macs_vs_compound": _round(m.macs / targets[m.phi]),
                "params": m.params,
                "proxy_resolution": a.get("proxy_resolution"),
                "proxy_macs": a.get("proxy_macs"),
                "val_acc": _round(t.value) if t and t.state == optuna.trial.TrialState.COMPLETE else None,
                "train_seconds": a.get("train_seconds"),
                "trial": t.number if t else None,
                "error": (r.error if r else None) or "",
            }
        )
    return rows


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_outputs(outcome: Outcome, run_dir: Path, seconds: float) -> list[Path]:
    grid, family = grid_rows(outcome.grid), family_rows(outcome.family, outcome.members)
    files = [run_dir / "grid.csv", run_dir / "family.csv", run_dir / "coefficients.yaml"]
    write_csv(files[0], grid)
    write_csv(files[1], family)
    files[2].write_text(yaml.safe_dump(coefficients(outcome), sort_keys=False, allow_unicode=True))
    if outcome.budget_phi is not None:
        files.append(write_scaled(outcome, run_dir / "scaled_arch.yaml"))
    plot(outcome, grid, family, run_dir / PLOT)
    files.append(run_dir / PLOT)
    readme = run_dir / "README.md"
    readme.write_text(markdown(outcome, grid, family, seconds))
    return [*files, readme]


def coefficients(outcome: Outcome) -> dict[str, Any]:
    p, plan = outcome.point, outcome.plan
    _, trial = best_point(outcome.grid)
    out = {
        "base": plan.base_arg,
        "alpha": p.alpha,
        "beta": p.beta,
        "gamma": p.gamma,
        "product": round(p.product, 4),
        "constraint": constraint_name(plan),
        "grid_phi": plan.grid_phi,
        "val_acc": round(trial.value, 4),
        "grid_trial": trial.number,
    }
    if outcome.budget_phi is not None:
        out |= {"budget": describe(plan.budgets), "budget_phi": outcome.budget_phi}
    return out


def write_scaled(outcome: Outcome, path: Path) -> Path:
    """The base compound-scaled with the largest φ meeting the budget, as a spec any command takes."""
    phi, p, plan = outcome.budget_phi, outcome.point, outcome.plan
    assert phi is not None
    spec = p.scaled(plan.base, phi)
    cost = count_cost(spec, num_classes=plan.num_classes)
    head = (
        f"# {plan.base_arg} compound-scaled with φ={phi} ({p.label()}), the largest φ meeting "
        f"{describe(plan.budgets)}: {cost.macs / 1e6:.1f}M MACs, {cost.params / 1e6:.2f}M params\n"
    )
    path.write_text(head + dump_spec(spec))
    return path


def plot(outcome: Outcome, grid: list[dict[str, Any]], family: list[dict[str, Any]], png: Path) -> None:
    """Left: proxy accuracy against MACs, one line per way of scaling (all start at the base). Right:
    every trained grid point."""
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    from matplotlib import pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), dpi=120, width_ratios=(3, 2))
    base = [r for r in family if r["kind"] == "base"]
    for kind, style in zip(("compound", *SINGLE), ("o-", "s--", "^--", "v--"), strict=True):
        rows = [r for r in base + [r for r in family if r["kind"] == kind] if r["val_acc"] is not None]
        left.plot([r["macs"] / 1e6 for r in rows], [r["val_acc"] for r in rows], style, label=kind)
    left.set(
        xscale="log",
        xlabel=f"MACs (millions, at the specs' resolution, {outcome.plan.num_classes} classes)",
        ylabel="proxy validation accuracy",
        title=f"{outcome.plan.base.name}: scaling at matched MACs",
    )
    left.legend(frameon=False)
    trained = sorted((r for r in grid if r["val_acc"] is not None), key=lambda r: r["val_acc"])
    labels = [f"{r['alpha']:g}/{r['beta']:g}/{r['gamma']:g}" for r in trained]
    best = (outcome.point.alpha, outcome.point.beta, outcome.point.gamma)
    colors = ["tab:orange" if (r["alpha"], r["beta"], r["gamma"]) == best else "tab:blue" for r in trained]
    right.barh(labels, [r["val_acc"] for r in trained], color=colors)
    right.set(
        xlabel="proxy validation accuracy", ylabel="α/β/γ", title=f"grid at φ={outcome.plan.grid_phi:g}"
    )
    if trained:
        low = min(r["val_acc"] for r in trained)
        right.set_xlim(max(0.0, low - 0.1), 1.0)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)


def machine() -> str:
    """The hardware the trainings ran on, as the latency tables name it, and torch's threads."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    threads = torch.get_num_threads()
    return (
        f"{platform.machine()}, {device_name(device)}, torch {torch.__version__} with {threads} "
        f"thread{'s' * (threads != 1)}, trained on {device.upper()}"
    )


def training_span(outcome: Outcome) -> float:
    """Seconds from the first trial's start to the last trial's end: the time the results took, also
    when a later invocation resumed the finished studies and only rewrote the outputs."""
    trials = [t for s in (outcome.grid, outcome.family) for t in s.trials if t.datetime_complete]
    if not trials:
        return 0.0
    start = min(t.datetime_start or t.datetime_complete for t in trials)
    return (max(t.datetime_complete for t in trials) - start).total_seconds()


def _m(value: int | None) -> str:
    return "" if value is None else f"{value / 1e6:.1f}"


def _acc(value: float | None) -> str:
    return "failed" if value is None else f"{value:.4f}"


def markdown(
    outcome: Outcome, grid: list[dict[str, Any]], family: list[dict[str, Any]], seconds: float
) -> str:
    plan = outcome.plan
    base = count_cost(plan.base, num_classes=plan.num_classes)
    head = [
        f"# Compound scaling of `{plan.base.name}` (Tan & Le 2019, section 3.3)",
        "",
        f"Regenerate: `{outcome.command}` (delete this directory's `study.db` first, or the finished "
        "studies are resumed and only these outputs rewritten).",
        "",
        f"- Machine: {machine()}. The grid and the family took **{training_span(outcome) / 60:.1f} "
        "minutes** of wall time (from the first trial's start to the last one's end, as the studies "
        f"record them); this invocation of the command {seconds / 60:.1f} minutes.",
        f"- Base: `{plan.base_arg}`, {base.macs / 1e6:.1f}M MACs and {base.params / 1e6:.2f}M params at "
        f"{plan.base.resolution} px for {plan.num_classes} classes. MACs below are counted the same way "
        "(the paper's FLOPs), at each spec's own resolution.",
        f"- Proxy task: {_proxy(outcome.evaluation)}",
        "",
    ]
    body = [*_grid_section(outcome, grid), "", *_family_section(outcome, grid, family)]
    return "\n".join([*head, *body]) + "\n"


def _proxy(e: dict[str, Any]) -> str:
    text = (
        f"{e.get('dataset')}, {e.get('train_samples')} training and {e.get('val_samples')} validation "
        f"images, {e.get('epochs')} epochs, stem stride {e.get('stem_stride')}, width {e.get('width')}; "
        f"the base trains at {e.get('resolution')} px and a spec at r px at {e.get('resolution')}·r/base px "
        "(rounded), so that resolution scaling reaches the proxy. Each training is one run, seeded with "
        "the run's seed plus its trial number."
    )
    if e.get("dataset") == "digits":
        text += (
            " The digits are 8x8 images resized to the proxy resolution: more pixels enlarge the feature "
            "maps (more computation per image) but add no detail, unlike ImageNet's."
        )
    return text


def _grid_section(outcome: Outcome, grid: list[dict[str, Any]]) -> list[str]:
    plan, p = outcome.plan, outcome.point
    trained = sorted((r for r in grid if r["feasible"]), key=lambda r: -(r["val_acc"] or -1))
    outside = [r for r in grid if r["feasible"] is False]
    paper = next((r for r in grid if (r["alpha"], r["beta"], r["gamma"]) == (ALPHA, BETA, GAMMA)), None)
    lines = [
        f"## Step 1: grid search of α, β, γ at φ = {plan.grid_phi:g}",
        "",
        f"An Optuna grid over α ∈ {list(plan.alphas)}, β ∈ {list(plan.betas)}, γ ∈ {list(plan.gammas)} "
        f"({plan.grid_size} points) with the constraint {constraint_name(plan)}: {len(trained)} points "
        f"within it were trained, {len(outside)} outside it were recorded as pruned and never trained.",
        "",
        f"**Best: α = {p.alpha:g}, β = {p.beta:g}, γ = {p.gamma:g}** (α·β²·γ² = {p.product:.3f}); "
        + (
            f"the paper's α = {ALPHA}, β = {BETA}, γ = {GAMMA} scored {_acc(paper['val_acc'])}."
            if paper and paper["feasible"]
            else f"the paper's α = {ALPHA}, β = {BETA}, γ = {GAMMA} is not a trained point of this grid."
        ),
        "",
        "| α | β | γ | α·β²·γ² | MACs (M) | params (M) | px | proxy px | val_acc |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in trained:
        lines.append(
            f"| {r['alpha']:g} | {r['beta']:g} | {r['gamma']:g} | {r['product']:.3f} | {_m(r['macs'])} | "
            f"{r['params'] / 1e6:.2f} | {r['resolution']} | {r['proxy_resolution'] or ''} | "
            f"{_acc(r['val_acc'])} |"
        )
    if outside:
        points = ", ".join(
            f"{r['alpha']:g}/{r['beta']:g}/{r['gamma']:g} ({r['product']:.2f})" for r in outside
        )
        lines += ["", f"Outside the constraint (α/β/γ, α·β²·γ²): {points}."]
    return lines


def _family_section(outcome: Outcome, grid: list[dict[str, Any]], family: list[dict[str, Any]]) -> list[str]:
    plan = outcome.plan
    lines = [
        f"## Step 2: φ = 1..{plan.n_phi} with α, β, γ = {outcome.point.alpha:g}, {outcome.point.beta:g}, "
        f"{outcome.point.gamma:g}, against one dimension at matched MACs",
        "",
        "Each compound network fixes a MAC target; width, depth and resolution alone take the multiplier "
        "whose MACs come nearest it (`vs compound` is the ratio of MACs).",
        "",
        f"![proxy accuracy against MACs]({PLOT})",
        "",
        "| φ | scaling | width | depth | px | MACs (M) | vs compound | params (M) | proxy px "
        "| proxy MACs (M) | val_acc |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in family:
        lines.append(
            f"| {r['phi']} | {r['kind']} | {r['width']:.3g} | {r['depth']:.3g} | {r['resolution']} | "
            f"{_m(r['macs'])} | {r['macs_vs_compound']:.3f} | {r['params'] / 1e6:.2f} | "
            f"{r['proxy_resolution'] or ''} | {_m(r['proxy_macs'])} | {_acc(r['val_acc'])} |"
        )
    return [*lines, "", *verdict(outcome, grid, family), *_budget(outcome)]


def verdict(outcome: Outcome, grid: list[dict[str, Any]], family: list[dict[str, Any]]) -> list[str]:
    """The outcome in words, computed from the table, whatever it is."""
    by = {(r["phi"], r["kind"]): r["val_acc"] for r in family}
    phis = range(1, outcome.plan.n_phi + 1)
    winners = []
    for phi in phis:
        scores = {k: by.get((phi, k)) for k in ("compound", *SINGLE)}
        known = {k: v for k, v in scores.items() if v is not None}
        if known:
            top = max(known.values())
            winners.append(f"φ={phi}: {', '.join(k for k, v in known.items() if v == top)} ({top:.4f})")
    means = {
        k: statistics.fmean(v for phi in phis if (v := by.get((phi, k))) is not None)
        for k in ("compound", *SINGLE)
        if any(by.get((phi, k)) is not None for phi in phis)
    }
    lines = [
        "**Outcome.** Most accurate at each φ: " + "; ".join(winners) + ". Mean over φ = 1.."
        f"{outcome.plan.n_phi}: " + ", ".join(f"{k} {v:.4f}" for k, v in means.items()) + ".",
    ]
    chance = 1 / outcome.evaluation.get("num_classes", 10)
    accuracies = [r["val_acc"] for r in (*grid, *family) if r["val_acc"] is not None]
    stuck = sum(1 for a in accuracies if a < 2 * chance)
    if stuck:
        lines += [
            "",
            f"{stuck} of {len(accuracies)} trainings ended below twice chance ({2 * chance:.2f}): they had "
            "not started to learn within the proxy's epochs. On this proxy the comparison says as much "
            "about how soon each network starts learning as about what it can reach.",
        ]
    grid_best = best_point(outcome.grid)[1].value
    again = by.get((1, "compound"))
    if again is not None and outcome.plan.grid_phi == 1:
        lines += [
            "",
            f"Noise: compound φ = 1 is the grid's best network trained again with another seed: "
            f"{grid_best:.4f} in the grid, {again:.4f} here. The grid's best is also the maximum of "
            f"{sum(1 for r in grid if r['val_acc'] is not None)} noisy trainings, so it is biased upwards; "
            "differences between rows smaller than this gap are within the noise of one training each.",
        ]
    return lines


def _budget(outcome: Outcome) -> list[str]:
    if outcome.budget_phi is None:
        return []
    plan, phi = outcome.plan, outcome.budget_phi
    cost = count_cost(outcome.point.scaled(plan.base, phi), num_classes=plan.num_classes)
    return [
        "",
        f"Budget {describe(plan.budgets)}: the largest φ that fits is **{phi}** "
        f"({cost.macs / 1e6:.1f}M MACs, {cost.params / 1e6:.2f}M params); its spec is `scaled_arch.yaml`"
        + ("" if phi <= plan.n_phi else f" (not trained here: the family stops at φ = {plan.n_phi})")
        + ".",
    ]


__all__ = ["KINDS", "Outcome", "write_outputs"]
