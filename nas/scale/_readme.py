"""``README.md`` of a scaling run: the command, the machine, the wall time, both tables with every
accuracy as ``mean ± std (n=K)``, and the outcome in one sentence per φ, decided by paired comparisons
over seeds (nas.stats). A tie is called a tie, and a compound network that did not win is said
not to have won."""

from __future__ import annotations

import platform
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any

import torch

from nas.arch import count_cost
from nas.latency import device_name
from nas.scale import _grid
from nas.scale._family import SINGLE
from nas.scale._grid import GridPoint, constraint_name
from nas.scale._outcome import Outcome, Summary
from nas.scale._plot import PLOT
from nas.scaling import ALPHA, BETA, GAMMA
from nas.stats import Paired, Verdict, first_best, paired, spread
from nas.study import busy_seconds, describe

RIVALS = ("compound", *SINGLE)  # the ways of scaling compared at each φ, compound first on equal means


def machine() -> str:
    """The hardware the trainings ran on, as the latency tables name it, and torch's threads."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    threads = torch.get_num_threads()
    return (
        f"{platform.machine()}, {device_name(device)}, torch {torch.__version__} with {threads} "
        f"thread{'s' * (threads != 1)}, trained on {device.upper()}"
    )


def training_span(outcome: Outcome) -> float:
    """Seconds during which the grid's or the family's trainings ran, also when a later invocation
    resumed the studies (more seeds, or only rewriting the outputs): the gaps between sittings are
    not counted."""
    return busy_seconds(t for s in (outcome.grid, outcome.family) for t in s.trials)


def _m(value: int | None) -> str:
    return "" if value is None else f"{value / 1e6:.1f}"


def _acc(s: Summary) -> str:
    return s.accuracy.text() if s.accuracy else "failed"


def _versus(s: Summary) -> str:
    """A comparison cell: the difference, its interval and the verdict."""
    return f"{s.comparison.text()}: {s.verdict}" if s.comparison else s.verdict


def markdown(outcome: Outcome, grid: list[Summary], family: list[Summary], seconds: float) -> str:
    plan = outcome.plan
    base = count_cost(plan.base, num_classes=plan.num_classes)
    head = [
        f"# Compound scaling of `{plan.base.name}` (Tan & Le 2019, section 3.3)",
        "",
        f"Regenerate: `{outcome.command}` (delete this directory's `study.db` first, or the finished "
        "studies are resumed and only these outputs rewritten).",
        "",
        f"- Machine: {machine()}. The grid and the family took **{training_span(outcome) / 60:.1f} "
        "minutes** of wall time (while a training ran, from the start and end the studies record for "
        "each, without the gaps between sittings of a resumed run); this invocation of the command "
        f"{seconds / 60:.1f} minutes.",
        f"- Base: `{plan.base_arg}`, {base.macs / 1e6:.1f}M MACs and {base.params / 1e6:.2f}M params at "
        f"{plan.base.resolution} px for {plan.num_classes} classes. MACs below are counted the same way "
        "(the paper's FLOPs), at each spec's own resolution.",
        f"- Proxy task: {_proxy(outcome.evaluation)}",
        f"- Seeds: {_seeds(plan.seeds)}",
        "",
    ]
    body = [*_grid_section(outcome, grid), "", *_family_section(outcome, family)]
    return "\n".join([*head, *body]) + "\n"


def _proxy(e: dict[str, Any]) -> str:
    text = (
        f"{e.get('dataset')}, {e.get('train_samples')} training and {e.get('val_samples')} validation "
        f"images, {e.get('epochs')} epochs, stem stride {e.get('stem_stride')}, width {e.get('width')}; "
        f"the base trains at {e.get('resolution')} px and a spec at r px at {e.get('resolution')}·r/base px "
        "(rounded), so that resolution scaling reaches the proxy."
    )
    if e.get("dataset") == "digits":
        text += (
            " The digits are 8x8 images resized to the proxy resolution: more pixels enlarge the feature "
            "maps (more computation per image) but add no detail, unlike ImageNet's."
        )
    return text


def _seeds(k: int) -> str:
    if k == 1:
        return "one training per network (`seeds=1`): no interval, so no winner is claimed below."
    return (
        f"every network is trained {k} times (seed indices 0..{k - 1}). Every network of the grid at "
        "seed index k trains with the same seed (the same order of training images, the same generator "
        "state), and so does every network of the family (with seeds of its own), so that two networks "
        "are compared by their paired differences at equal k: the mean difference and its 95% Student "
        "t-interval. An interval that contains 0 is a **tie**. The validation images are the same for "
        "every training."
    )


# -- step 1 --------------------------------------------------------------------------------------------


def _grid_section(outcome: Outcome, grid: list[Summary]) -> list[str]:
    plan, p, choice = outcome.plan, outcome.point, outcome.choice
    trained = sorted((s for s in grid if s.facts["feasible"]), key=lambda s: _best_first(s, outcome))
    outside = [s for s in grid if s.facts["feasible"] is False]
    lines = [
        f"## Step 1: grid search of α, β, γ at φ = {plan.grid_phi:g}",
        "",
        f"An Optuna grid over α ∈ {list(plan.alphas)}, β ∈ {list(plan.betas)}, γ ∈ {list(plan.gammas)} "
        f"({plan.grid_size} points) with the constraint {constraint_name(plan)}: {len(trained)} points "
        f"within it were trained {plan.seeds} time{'s' * (plan.seeds != 1)} each, {len(outside)} outside "
        "it were recorded as pruned and never trained.",
        "",
        f"**Chosen: α = {p.alpha:g}, β = {p.beta:g}, γ = {p.gamma:g}** (α·β²·γ² = {p.product:.3f}), the "
        f"best mean, {choice.accuracy.text()}; {_choice_words(outcome)} {_paper(grid)}",
        "",
        "| α | β | γ | α·β²·γ² | MACs (M) | params (M) | px | proxy px | val_acc | chosen - this |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in trained:
        r = s.facts
        lines.append(
            f"| {r['alpha']:g} | {r['beta']:g} | {r['gamma']:g} | {r['product']:.3f} | {_m(r['macs'])} | "
            f"{r['params'] / 1e6:.2f} | {r['resolution']} | {r['proxy_resolution'] or ''} | {_acc(s)} | "
            f"{_versus(s)} |"
        )
    if outside:
        points = ", ".join(
            f"{s.facts['alpha']:g}/{s.facts['beta']:g}/{s.facts['gamma']:g} ({s.facts['product']:.2f})"
            for s in outside
        )
        lines += ["", f"Outside the constraint (α/β/γ, α·β²·γ²): {points}."]
    return lines


def _best_first(s: Summary, outcome: Outcome) -> tuple[bool, float]:
    """The chosen point first (its mean may trail another's by float32 noise), then by mean."""
    p = outcome.point
    chosen = (s.facts["alpha"], s.facts["beta"], s.facts["gamma"]) == (p.alpha, p.beta, p.gamma)
    return not chosen, -s.accuracy.mean if s.accuracy else 1.0


def _label(q: GridPoint) -> str:
    return f"{q.alpha:g}/{q.beta:g}/{q.gamma:g}"


def _choice_words(outcome: Outcome) -> str:
    """Whether the paired rule backs the choice: a tie named as one, one seed as no interval."""
    choice = outcome.choice
    if not choice.rivals:
        return "it is the only point that finished training."
    verdicts = [c.verdict for c in choice.rivals.values() if c is not None]
    tied = {q: c for q, c in choice.rivals.items() if c and c.verdict is Verdict.TIE}
    if tied:
        gaps = "; ".join(f"{_label(q)} {c.text()}" for q, c in tied.items())
        return (
            f"it is a **tie** with {_and([_label(q) for q in tied])}, whose paired intervals contain 0 "
            f"(chosen minus each: {gaps}), so the choice among them is by mean alone."
        )
    if not verdicts or Verdict.ONE_SEED in verdicts:
        return "one seed: no interval, so this is the raw best and no winner is claimed."
    if all(v is Verdict.WIN for v in verdicts):
        return "it beat every other trained point (each paired 95% interval is above 0)."
    return "it has the best mean, but not every point could be compared pair by pair (see the table)."


def _paper(grid: list[Summary]) -> str:
    paper = next(
        (s for s in grid if (s.facts["alpha"], s.facts["beta"], s.facts["gamma"]) == (ALPHA, BETA, GAMMA)),
        None,
    )
    if paper and paper.facts["feasible"]:
        return f"The paper's α = {ALPHA}, β = {BETA}, γ = {GAMMA} scored {_acc(paper)}."
    return f"The paper's α = {ALPHA}, β = {BETA}, γ = {GAMMA} is not a trained point of this grid."


# -- step 2 --------------------------------------------------------------------------------------------


def _family_section(outcome: Outcome, family: list[Summary]) -> list[str]:
    plan, p = outcome.plan, outcome.point
    lines = [
        f"## Step 2: φ = 1..{plan.n_phi} with α, β, γ = {p.alpha:g}, {p.beta:g}, {p.gamma:g}, against "
        "one dimension at matched MACs",
        "",
        "Each compound network fixes a MAC target; width, depth and resolution alone take the multiplier "
        "whose MACs come nearest it (`vs compound` is the ratio of MACs). `compound - this` is the paired "
        "difference at the same φ.",
        "",
        f"![proxy accuracy against MACs, mean ± std over seeds]({PLOT})",
        "",
        "| φ | scaling | width | depth | px | MACs (M) | vs compound | params (M) | proxy px "
        "| proxy MACs (M) | val_acc | compound - this |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in family:
        r = s.facts
        lines.append(
            f"| {r['phi']} | {r['kind']} | {r['width']:.3g} | {r['depth']:.3g} | {r['resolution']} | "
            f"{_m(r['macs'])} | {r['macs_vs_compound']:.3f} | {r['params'] / 1e6:.2f} | "
            f"{r['proxy_resolution'] or ''} | {_m(r['proxy_macs'])} | {_acc(s)} | {_versus(s)} |"
        )
    return [*lines, "", *verdict(outcome, family), *_budget(outcome)]


def verdict(outcome: Outcome, family: list[Summary]) -> list[str]:
    """The outcome in words, one sentence per φ, then what limits it."""
    accuracy = outcome.family_accuracies()
    lines = ["**Outcome** (paired over seeds; a tie is a 95% interval that contains 0):", ""]
    for phi in range(1, outcome.plan.n_phi + 1):
        at_phi = {kind: accuracy.get(f"{kind}@{phi}", {}) for kind in RIVALS}
        lines.append(f"- {phi_sentence(phi, at_phi)}")
    return [*lines, *_stuck(outcome, accuracy), *_selection(outcome, accuracy)]


def _stuck(outcome: Outcome, accuracy: Mapping[str, Mapping[int, float]]) -> list[str]:
    chance = 1 / outcome.evaluation.get("num_classes", 10)
    studies = (_grid.accuracies(outcome.grid, outcome.plan).values(), accuracy.values())
    values = [v for by_seed in chain(*studies) for v in by_seed.values()]
    stuck = sum(1 for a in values if a < 2 * chance)
    if not stuck:
        return []
    return [
        "",
        f"{stuck} of {len(values)} trainings ended below twice chance ({2 * chance:.2f}): they had not "
        "started to learn within the proxy's epochs. On this proxy the comparison says as much about how "
        "soon each network starts learning as about what it can reach.",
    ]


def _selection(outcome: Outcome, accuracy: Mapping[str, Mapping[int, float]]) -> list[str]:
    """Compound φ = 1 is the chosen grid point trained afresh: the gap shows the choice's upward bias."""
    again = accuracy.get("compound@1", {})
    if outcome.plan.grid_phi != 1 or not again:
        return []
    fresh = spread(again.values())
    return [
        "",
        f"Selection: compound φ = 1 is the chosen grid point trained again with the family's seeds: "
        f"{outcome.choice.accuracy.text()} in the grid, {fresh.text()} here. The chosen mean is the "
        f"largest of {1 + len(outcome.choice.rivals)} noisy means, so it is biased upwards; the "
        "comparisons above use the family's trainings only.",
    ]


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


# -- the sentence --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhiDecision:
    """What the seeds decide at one φ: the kind of the best mean, and the paired comparison of it with
    every other kind that finished. ``winner`` is that kind when every comparison excludes 0, else None:
    a tie (or too little to decide), which two runs agree on when both call it one."""

    best: str | None
    versus: Mapping[str, Paired]
    means: Mapping[str, float]

    @property
    def decided(self) -> bool:
        return bool(self.versus) and not any(c.verdict is Verdict.ONE_SEED for c in self.versus.values())

    @property
    def contested(self) -> bool:
        """Another kind is ahead of the best mean on the seeds both finished (only when trainings failed)."""
        return any(c.verdict is Verdict.LOSS for c in self.versus.values())

    @property
    def conclusive(self) -> bool:
        """A winner or a tie can be read from it: there is a best mean, every comparison has two seeds
        or more, and no other kind is ahead of it."""
        return self.best is not None and self.decided and not self.contested

    @property
    def winner(self) -> str | None:
        won = self.decided and all(c.verdict is Verdict.WIN for c in self.versus.values())
        return self.best if won else None


def decide(accuracy: Mapping[str, Mapping[int, float]]) -> PhiDecision:
    """The decision at one φ from kind -> seed index -> accuracy (compound, width, depth, resolution)."""
    kinds = [k for k in RIVALS if accuracy.get(k)]
    if "compound" not in kinds or len(kinds) < 2:
        return PhiDecision(None, {}, {})
    means = {k: statistics.fmean(accuracy[k].values()) for k in kinds}
    best = first_best(kinds, means)  # equal means: compound first, then width, depth, resolution
    versus = {k: c for k in kinds if k != best and (c := paired(accuracy[best], accuracy[k])) is not None}
    return PhiDecision(best, versus, means)


def phi_sentence(phi: int, accuracy: Mapping[str, Mapping[int, float]]) -> str:
    """The outcome at ``phi`` in one sentence, from kind -> seed index -> accuracy (compound, width,
    depth, resolution). The kind of the best mean is compared pair by pair with each other kind."""
    d = decide(accuracy)
    if d.best is None:
        return f"φ = {phi}: too few finished trainings to compare compound with a single dimension."
    if not d.decided:
        return _one_seed(phi, d.best, d.means)
    if d.contested:
        return (
            f"φ = {phi}: no decision: {d.best} scaling has the best mean, yet another way of scaling is "
            "ahead of it on the seeds both finished (some trainings failed; see the table)."
        )
    if d.best == "compound":
        return _compound_best(phi, d.versus)
    return _compound_not_best(phi, d.best, d.versus)


def _compound_best(phi: int, versus: Mapping[str, Paired]) -> str:
    beaten = {k: c for k, c in versus.items() if c.verdict is Verdict.WIN}
    tied = {k: c for k, c in versus.items() if c.verdict is not Verdict.WIN}
    if not tied:
        return f"φ = {phi}: compound scaling won, ahead of {_by(beaten)}."
    also = f", though it beat {_by(beaten)}" if beaten else ""
    return (
        f"φ = {phi}: a tie, no scaling won: compound scaling had the best mean but cannot be told apart "
        f"from {_gaps('compound', tied)}{also}."
    )


def _compound_not_best(phi: int, best: str, versus: Mapping[str, Paired]) -> str:
    """Another way of scaling had the best mean: the sentence says plainly that compound did not win."""
    against = versus["compound"]
    tied = {k: c for k, c in versus.items() if k != "compound" and c.verdict is not Verdict.WIN}
    beaten = {k: c for k, c in versus.items() if k != "compound" and c.verdict is Verdict.WIN}
    if against.verdict is not Verdict.WIN:
        also = f", and is tied with {_gaps(best, tied)} too" if tied else ""
        return (
            f"φ = {phi}: a tie, and compound scaling did not win: {best} scaling had the best mean, ahead "
            f"of compound by {against.text()}, an interval that contains 0{also}; no scaling won."
        )
    if tied:
        return (
            f"φ = {phi}: compound scaling did not win: it lost to {best} scaling by {against.text()}, "
            f"but {best} cannot be told apart from {_gaps(best, tied)}, so no single scaling won."
        )
    rest = f", and ahead of {_by(beaten)}" if beaten else ""
    return (
        f"φ = {phi}: compound scaling did not win: {best} scaling won, ahead of compound by "
        f"{against.text()}{rest}."
    )


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _by(comparisons: Mapping[str, Paired]) -> str:
    """``width by +0.0123 [95% CI +0.0040, +0.0206; n=3] and depth by ...``."""
    return _and([f"{k} by {c.text()}" for k, c in comparisons.items()])


def _gaps(best: str, comparisons: Mapping[str, Paired]) -> str:
    """``width (compound - width = +0.0040 [95% CI -0.0100, +0.0180; n=3])``: the ties, named."""
    return _and([f"{k} ({best} - {k} = {c.text()})" for k, c in comparisons.items()])


def _one_seed(phi: int, best: str, means: Mapping[str, float]) -> str:
    rest = ", ".join(f"{k} {v:.4f}" for k, v in means.items() if k != best)
    return (
        f"φ = {phi}, one seed: no interval, so no winner is claimed; the highest single accuracy was "
        f"{best}'s ({means[best]:.4f}; {rest})."
    )
