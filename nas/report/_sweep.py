"""A sweep's report: ``sweep.html`` and ``sweep.png`` in the sweep directory (``python -m nas.report
SWEEP_DIR``). One accuracy-against-MACs plot with each job's Pareto front, labelled by its overrides, the
baselines and each MAC budget as a line; a table of every job's best network with a link to the job's own
report; the sweep's overrides. Self-contained like ``report.html``: inline SVG and CSS, no script.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from html import escape
from pathlib import Path
from statistics import mean

import optuna
from matplotlib.figure import Figure

from nas.report import _plots
from nas.report._content import Report
from nas.report._html import CSS, latency_cell
from nas.report._report import REPORT, gather
from nas.report._source import Source, read_config
from nas.study import Metric, Status, TrialRecord, busy_seconds, hide_password, pareto_front
from nas.sweep import STUDY_DB, JobEntry, Sweep, read_sweep

SWEEP_REPORT = "sweep.html"
SWEEP_FIGURE = "sweep.png"


@dataclass(frozen=True)
class JobView:
    """One job of the sweep as its report reads it; ``report`` is None while its study does not exist."""

    entry: JobEntry
    label: str  # its swept overrides
    report: Report | None
    wall_s: float | None  # while any of its trials ran (busy_seconds), None before one finished

    def best(self) -> TrialRecord | None:
        """The job's best network within budget (a baseline when none searched beats it)."""
        if self.report is None:
            return None
        best = self.report.best()
        return best[0] if best and not best[0].over_budget and best[0].status is Status.COMPLETE else None


def write_sweep_report(directory: Path) -> list[Path]:
    """Write ``sweep.html`` and ``sweep.png`` into the sweep ``directory``; returns both paths."""
    sweep = read_sweep(Path(directory))
    if sweep is None:
        raise FileNotFoundError(f"{directory}: no sweep.yaml")
    url = sweep.storage_url()
    views = [_view(sweep, entry, url) for entry in sweep.jobs]
    figure = sweep_figure(views)
    html = Path(directory) / SWEEP_REPORT
    png = Path(directory) / SWEEP_FIGURE
    html.write_text(render(sweep, views, _plots.svg(figure, "sweep")))
    png.write_bytes(_plots.png(figure))
    return [html, png]


def _view(sweep: Sweep, entry: JobEntry, url: str) -> JobView:
    run_dir = sweep.directory / entry.subdir
    source = Source(url, entry.study_name, read_config(run_dir), run_dir)
    label = entry.label(sweep.swept)
    try:
        study = source.load()
    except KeyError:  # listed as started, but its study is not in the storage (yet)
        return JobView(entry, label, None, None)
    trials = study.get_trials(deepcopy=False)
    wall = busy_seconds(trials) if any(t.datetime_complete for t in trials) else None
    return JobView(entry, label, gather(study, source), wall)


def sweep_figure(views: list[JobView]) -> Figure:
    """Accuracy against MACs: each job's front (its searched networks within budget), the baselines at
    their mean accuracy over the jobs, and each MAC budget of the sweep as a dashed line."""
    fig = Figure(figsize=(9, 5.5), layout="constrained")
    ax = fig.add_subplot()
    ax.grid(alpha=0.3)
    colors = [f"C{i % 10}" for i in range(len(views))]
    quality = "accuracy"
    budgets = {}
    for view, color in zip(views, colors, strict=True):
        if view.report is None:
            continue
        quality = view.report.quality
        _front(ax, view, color)
        budgets.update({b.limit: b for b in view.report.budgets if b.metric is Metric.MACS})
    for limit, budget in sorted(budgets.items()):
        ax.axvline(limit / 1e6, linestyle="--", color="0.35", linewidth=1)
        ax.annotate(
            str(budget),
            (limit / 1e6, 1),
            xycoords=("data", "axes fraction"),
            xytext=(-2, -4),
            textcoords="offset points",
            rotation=90,
            va="top",
            ha="right",
            fontsize=8,
            color="0.3",
        )
    _mean_baselines(ax, [v.report for v in views if v.report is not None])
    ax.set_xlabel("multiply-adds (millions)")
    ax.set_ylabel(quality)
    ax.margins(x=0.12, y=0.08)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="best")
    return fig


def _front(ax, view: JobView, color: str) -> None:
    assert view.report is not None
    rows = [r for r in view.report.rows if r.quality is not None and r.macs is not None and not r.baseline]
    points = [_plots.Valued(r, (r.quality, r.macs)) for r in rows if not r.over_budget]
    line = sorted((p.row for p in pareto_front(points)), key=lambda r: r.macs)
    ax.plot([r.macs / 1e6 for r in rows], [r.quality for r in rows], "o", color=color, alpha=0.35, ms=4)
    ax.step([r.macs / 1e6 for r in line], [r.quality for r in line], where="post", color=color,
            marker="o", label=view.label)  # fmt: skip


def _mean_baselines(ax, reports: list[Report]) -> None:
    """Each baseline once, at its mean accuracy over the jobs that evaluated it (its MACs are the same
    in every job of one space and resolution)."""
    found: dict[str, list[TrialRecord]] = {}
    for report in reports:
        for r in report.rows:
            if r.baseline and r.quality is not None and r.macs is not None:
                found.setdefault(r.baseline, []).append(r)
    for i, (name, rows) in enumerate(sorted(found.items())):
        x, y = rows[0].macs / 1e6, mean(r.quality for r in rows)
        ax.plot([x], [y], marker="*", color="black", markersize=13, linestyle="none",
                label="baselines (mean over jobs)" if i == 0 else None)  # fmt: skip
        ax.annotate(f"{name} ({len(rows)})", (x, y), xytext=(6, 6), textcoords="offset points", fontsize=8,
                    color="black")  # fmt: skip


def render(sweep: Sweep, views: list[JobView], figure_svg: str) -> str:
    title = f"Sweep report: {escape(sweep.command or str(sweep.directory.name))}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{title}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{title}</h1>",
        _overview(sweep, views),
        '<h2 id="fronts">Accuracy against MACs, every job</h2>',
        f'<figure id="sweep">{figure_svg}<figcaption>{escape(_CAPTION)}</figcaption></figure>',
        "<h2>Every job's best network</h2>",
        _jobs_table(views),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


_CAPTION = (
    "Each job's searched networks (faint dots) and their Pareto front within budget (line, labelled by the "
    "job's swept overrides); the baselines (stars) at their mean accuracy over the jobs that evaluated them "
    "(how many in brackets); each MAC budget of the sweep as a dashed line."
)


def _overview(sweep: Sweep, views: list[JobView]) -> str:
    generated = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    storage = (
        f"{STUDY_DB} in the sweep directory" if sweep.storage == STUDY_DB else hide_password(sweep.storage)
    )
    items = [
        ("Command", f"<code>{escape(sweep.command)}</code>"),
        ("Sweep overrides", " ".join(f"<code>{escape(o)}</code>" for o in sweep.overrides) or "none"),
        ("Storage", escape(storage)),
        ("Jobs", f"{len(views)} ({sum(v.report is None for v in views)} without a study yet)"),
        ("Generated", f"{escape(generated)} with optuna {escape(optuna.__version__)}"),
    ]
    listing = "".join(f"<li><strong>{k}</strong>: {v}</li>" for k, v in items)
    return f"<ul>{listing}</ul>"


def _jobs_table(views: list[JobView]) -> str:
    head = (
        "<tr><th>job</th><th>overrides</th><th>study</th><th>best network</th><th>MACs (M)</th>"
        "<th>params (M)</th><th>latency (ms)</th><th>accuracy</th><th>objective</th><th>trials</th>"
        "<th>wall time (s)</th><th>report</th></tr>"
    )
    rows = [_job_row(v) for v in views]
    return f"<table>{head}{''.join(rows)}</table>"


def _job_row(view: JobView) -> str:
    best = view.best()
    cells = [escape(view.entry.subdir), escape(view.label), f"<code>{escape(view.entry.study_name)}</code>"]
    if best is None:
        cells += [escape("none within budget")] + [""] * 5
    else:
        objective = "" if not best.values else f"{best.values[0]:.4f}"
        cells += [
            escape(best.baseline or f"trial {best.number}"),
            f"{best.macs / 1e6:.1f}" if best.macs is not None else "",
            f"{best.params / 1e6:.2f}" if best.params is not None else "",
            latency_cell(best),
            f"{best.quality:.4f}" if best.quality is not None else "",
            objective,
        ]
    trials = "" if view.report is None else str(len(view.report.rows))
    wall = "" if view.wall_s is None else f"{view.wall_s:.0f}"
    link = f'<a href="{escape(view.entry.subdir)}/{REPORT}">{REPORT}</a>'
    cells += [trials, wall, link]
    text = {1, 2, 3}  # left-aligned columns
    return "<tr>" + "".join(f'<td class="text">{c}</td>' if i in text else f"<td>{c}</td>"
                            for i, c in enumerate(cells)) + "</tr>"  # fmt: skip
