"""The report's figures, drawn by matplotlib without pyplot (so no GUI backend is ever touched) and
written as inline SVG: the report needs no JavaScript, no CDN and no network to show them.

Trials without an accuracy (over budget, pruned, failed) never sit on the accuracy axis: a strip under
the main axes shows them by status, at their MACs or trial number, each status with its own marker.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from nas.study import Status, TrialRecord, pareto_front

# One look per status, in the legend and in the strip of trials without accuracy.
_STRIP = {
    Status.OVER_BUDGET: {"marker": "x", "color": "0.45", "label": "over budget, never trained"},
    Status.PRUNED: {"marker": "|", "color": "tab:orange", "label": "pruned (screened out or stopped)"},
    Status.FAILED: {"marker": "v", "color": "black", "label": "failed"},
}
_SEARCHED = {"marker": "o", "color": "tab:blue", "alpha": 0.75, "linestyle": "none"}
_BASELINE = {"marker": "*", "color": "tab:red", "markersize": 14, "linestyle": "none"}


@dataclass(frozen=True)
class Axis:
    """What a figure plots on one axis: a label and the value of a row (None: not plotted)."""

    label: str
    value: Callable[[TrialRecord], float | None]
    limit: float | None = None  # a budget on this axis, drawn as a dashed line
    limit_label: str = ""


def macs_axis(limit: float | None, limit_label: str) -> Axis:
    return Axis(
        "multiply-adds (millions)",
        lambda r: None if r.macs is None else r.macs / 1e6,
        None if limit is None else limit / 1e6,
        limit_label,
    )


def accuracy_vs(rows: Sequence[TrialRecord], x: Axis, quality: str, *, front: bool) -> Figure:
    """Quality against a cost: searched networks, their Pareto front, every baseline by name, and the
    trials that have no quality in a strip below."""
    missing = [r for r in rows if r.status in _STRIP and x.value(r) is not None]
    fig, ax, strip = _axes(bool(missing))
    evaluated = [r for r in rows if r.quality is not None and x.value(r) is not None]
    searched = [r for r in evaluated if not r.baseline]
    ax.plot([x.value(r) for r in searched], [r.quality for r in searched], **_SEARCHED, label="searched")
    if front and searched:
        points = [Valued(r, (r.quality, x.value(r))) for r in searched if not r.over_budget]
        line = [p.row for p in pareto_front(points)]
        ax.step(
            [x.value(r) for r in line],
            [r.quality for r in line],
            where="post",
            color="tab:blue",
            label="Pareto front (searched)",
        )
    _baselines(ax, [r for r in evaluated if r.baseline], x)
    ax.margins(x=0.12, y=0.08)  # room for the baselines' names
    if not evaluated:
        ax.text(0.5, 0.5, "no evaluated network yet", transform=ax.transAxes, ha="center", color="0.4")
    _limit(ax, x)
    ax.set_ylabel(quality)
    if strip is not None:
        _strip(strip, missing, x.value)
    (strip or ax).set_xlabel(x.label)
    _legend(ax, strip)
    return fig


def history(rows: Sequence[TrialRecord], objective: str) -> Figure:
    """Objective by trial number, the best so far (within budget), and trials without a value below."""
    missing = [r for r in rows if r.status in _STRIP]
    fig, ax, strip = _axes(bool(missing))
    valued = [r for r in rows if r.objective is not None]
    searched = [r for r in valued if not r.baseline]
    ax.plot([r.number for r in searched], [r.objective[0] for r in searched], **_SEARCHED, label="searched")
    for i, r in enumerate(r for r in valued if r.baseline):
        fill = "none" if r.over_budget else "tab:red"
        label = "baselines (hollow: over budget)" if i == 0 else None
        ax.plot([r.number], [r.objective[0]], **{**_BASELINE, "markerfacecolor": fill}, label=label)
    best, numbers, bests = None, [], []
    for r in sorted(valued, key=lambda r: r.number):
        if r.over_budget:
            continue
        best = r.objective[0] if best is None else max(best, r.objective[0])
        numbers.append(r.number)
        bests.append(best)
    if numbers:
        numbers.append(max(r.number for r in rows))  # carry the best to the last trial
        bests.append(bests[-1])
        ax.step(numbers, bests, where="post", color="tab:green", label="best so far (within budget)")
    if not valued:
        ax.text(0.5, 0.5, "no evaluated trial yet", transform=ax.transAxes, ha="center", color="0.4")
    ax.set_ylabel(objective)
    if strip is not None:
        _strip(strip, missing, lambda r: float(r.number))
    (strip or ax).set_xlabel("trial")
    (strip or ax).xaxis.set_major_locator(MaxNLocator(integer=True))
    _legend(ax, strip)
    return fig


def importances(values: dict[str, float]) -> Figure:
    fig = Figure(figsize=(8, max(2.5, 0.8 + 0.32 * len(values))), layout="constrained")
    ax = fig.add_subplot()
    names = list(values)[::-1]  # the most important on top
    ax.barh(names, [values[n] for n in names], color="tab:blue")
    ax.set_xlabel("importance for the quality (fANOVA, share of the variance)")
    ax.grid(axis="x", alpha=0.3)
    return fig


def svg(fig: Figure, key: str) -> str:
    """The figure as an ``<svg>`` element to inline in HTML. Text stays text (no glyph definitions to
    collide between figures) and element ids are salted with ``key``, unique within the page."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": key}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150)
    return buffer.getvalue()


@dataclass(frozen=True)
class Valued:
    """A row as ``pareto_front`` reads a trial: ``values`` are the quality (maximised) first, then the
    costs (minimised); the front is then the one the search itself reports."""

    row: TrialRecord
    values: tuple[float, ...]


def _axes(with_strip: bool) -> tuple[Figure, Axes, Axes | None]:
    fig = Figure(figsize=(8, 5.5 if with_strip else 5), layout="constrained")
    if not with_strip:
        ax = fig.add_subplot()
        ax.grid(alpha=0.3)
        return fig, ax, None
    ax, strip = fig.subplots(2, 1, sharex=True, height_ratios=[5, 1])
    ax.grid(alpha=0.3)
    return fig, ax, strip


def _baselines(ax: Axes, baselines: list[TrialRecord], x: Axis) -> None:
    for i, r in enumerate(baselines):
        over = r.over_budget
        ax.plot(
            [x.value(r)],
            [r.quality],
            **{**_BASELINE, "markerfacecolor": "none" if over else "tab:red"},
            label="baselines (hollow: over budget)" if i == 0 else None,
        )
        ax.annotate(
            r.baseline + (" (over budget)" if over else ""),
            (x.value(r), r.quality),
            xytext=(6, 6),
            textcoords="offset points",
            fontsize=9,
            color="tab:red",
        )


def _limit(ax: Axes, x: Axis) -> None:
    if x.limit is not None:
        ax.axvline(x.limit, linestyle="--", color="0.3", linewidth=1, label=f"budget {x.limit_label}")


def _strip(strip: Axes, missing: list[TrialRecord], where: Callable[[TrialRecord], float | None]) -> None:
    """One line per status, each trial without a value at its x position."""
    statuses = [s for s in _STRIP if any(r.status == s for r in missing)]
    for level, status in enumerate(statuses):
        style = _STRIP[status]
        points = [where(r) for r in missing if r.status == status]
        strip.plot(
            points,
            [level] * len(points),
            linestyle="none",
            marker=style["marker"],
            color=style["color"],
            markersize=9,
            label=f"{style['label']} ({len(points)})",
        )
        for r in missing:
            if r.status == status and r.baseline:  # every baseline by name, evaluated or not
                strip.annotate(
                    r.baseline, (where(r), level), xytext=(6, 3), textcoords="offset points", fontsize=8
                )
    strip.set_yticks(range(len(statuses)), statuses)
    strip.set_ylim(-0.6, len(statuses) - 0.4)
    strip.set_title("no value: not plotted above", fontsize=9, loc="left", color="0.3")
    strip.grid(axis="x", alpha=0.3)


def _legend(ax: Axes, strip: Axes | None) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if strip is not None:
        more = strip.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    if handles:
        ax.legend(handles, labels, fontsize=8, loc="best")
