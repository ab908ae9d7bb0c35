"""``compound_scaling.png``: every accuracy as its mean over seeds with the standard deviation as an
error bar, so that a gap between two lines can be read against the noise of each."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from nas.scale._family import SINGLE
from nas.scale._outcome import Outcome, Summary

if TYPE_CHECKING:
    from matplotlib.axes import Axes  # matplotlib itself is imported when a plot is drawn

PLOT = "compound_scaling.png"
_STYLES = dict(zip(("compound", *SINGLE), ("o-", "s--", "^--", "v--"), strict=True))


def plot(outcome: Outcome, grid: list[Summary], family: list[Summary], png: Path) -> Path:
    """Left: proxy accuracy against MACs, one line per way of scaling (all start at the base). Right:
    every trained grid point, the chosen one in orange."""
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    from matplotlib import pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), dpi=120, width_ratios=(3, 2))
    _family_panel(left, outcome, family)
    _grid_panel(right, outcome, grid)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)
    return png


def _std(s: Summary) -> float:
    """The error bar: 0 with one seed (none to show), never a made-up spread."""
    return (s.accuracy.std or 0.0) if s.accuracy else 0.0


def _family_panel(ax: Axes, outcome: Outcome, family: list[Summary]) -> None:
    base = [s for s in family if s.facts["kind"] == "base"]
    for kind, style in _STYLES.items():
        rows = [s for s in base + [s for s in family if s.facts["kind"] == kind] if s.accuracy]
        ax.errorbar(
            [s.facts["macs"] / 1e6 for s in rows],
            [s.accuracy.mean for s in rows if s.accuracy],
            yerr=[_std(s) for s in rows],
            fmt=style,
            capsize=3,
            label=kind,
        )
    ax.set(
        xscale="log",
        xlabel=f"MACs (millions, at the specs' resolution, {outcome.plan.num_classes} classes)",
        ylabel=f"proxy validation accuracy (mean ± std, {outcome.plan.seeds} seeds)",
        title=f"{outcome.plan.base.name}: scaling at matched MACs",
    )
    ax.legend(frameon=False)


def _grid_panel(ax: Axes, outcome: Outcome, grid: list[Summary]) -> None:
    trained = sorted((s for s in grid if s.accuracy), key=lambda s: s.accuracy.mean if s.accuracy else 0)
    f = [s.facts for s in trained]
    chosen = (outcome.point.alpha, outcome.point.beta, outcome.point.gamma)
    ax.barh(
        [f"{r['alpha']:g}/{r['beta']:g}/{r['gamma']:g}" for r in f],
        [s.accuracy.mean for s in trained if s.accuracy],
        xerr=[_std(s) for s in trained],
        capsize=3,
        color=["tab:orange" if (r["alpha"], r["beta"], r["gamma"]) == chosen else "tab:blue" for r in f],
    )
    ax.set(xlabel="proxy validation accuracy", ylabel="α/β/γ", title=f"grid at φ={outcome.plan.grid_phi:g}")
    if trained:
        low = min(s.accuracy.mean - _std(s) for s in trained if s.accuracy)
        ax.set_xlim(max(0.0, low - 0.1), 1.0)
