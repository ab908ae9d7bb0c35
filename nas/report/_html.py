"""The report as one self-contained HTML page: inline CSS and SVG, no script, no external resource,
so that it reads the same offline, from a mail attachment or from the repository."""

from __future__ import annotations

import json
from html import escape
from typing import Any

import optuna
import yaml

from nas.report._content import Report
from nas.report._source import hide_password
from nas.report._structure import COLUMNS, structure
from nas.study import Status, TrialRecord, counts, describe, nearest_baselines, verdicts

CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { font-size: 1.05em; }
figure { margin: 1em 0; } figure svg { width: 100%; max-width: 64em; height: auto; }
figcaption, .note { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ddd; padding: 0.2em 0.5em; text-align: right; }
th { background: #f4f4f4; } td.text { text-align: left; }
tr.failed td { background: #fde8e8; } tr.pruned td { background: #fff4e0; }
tr.over-budget td { color: #777; } tr.running td, tr.waiting td { color: #357; font-style: italic; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
"""


def render(report: Report) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Search report: {escape(report.study_name)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>Search report: study <code>{escape(report.study_name)}</code></h1>",
        _overview(report),
        '<h2 id="front">Accuracy against MACs</h2>',
        _figure(report, "pareto", _PARETO_CAPTION),
        "<h2>Accuracy against latency</h2>",
        _figure(report, "latency", "Each evaluated network at its latency (one image, CPU)."),
        "<h2>Optimization history</h2>",
        _figure(report, "history", _HISTORY_CAPTION),
        "<h2>Hyper-parameter importances</h2>",
        _figure(report, "importances", "fANOVA over the evaluated trials, for the quality (seed 0)."),
        "<h2>Best networks and baselines, block by block</h2>",
        _best(report),
        *_finalists(report),
        "<h2>All trials</h2>",
        _trials_table(report.rows),
        "<h2>Evaluation settings</h2>",
        _settings(report),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


_PARETO_CAPTION = (
    "Searched networks (dots), the Pareto front of those within budget (line), and every baseline from "
    "the zoo by name (stars, hollow when over budget). Trials without an accuracy (over budget and never "
    "trained, pruned, failed), if any, are in the strip below, at their MACs, never on the accuracy axis."
)
_HISTORY_CAPTION = (
    "The objective of each evaluated trial in order, and the best so far among those within budget; "
    "trials without a value, if any, are in the strip below, by trial number."
)


def _overview(report: Report) -> str:
    config = report.config or {}
    tally = ", ".join(f"{n} {status}" for status, n in counts(report.rows).items()) or "none yet"
    items = [
        ("Storage", escape(report.storage)),
        ("Space", escape(report.space)),
        *_preset(report),
        ("Budget", escape(describe(report.budgets)) if report.config else "unknown"),
        ("Objective", f"{escape(', '.join(report.directions))}: {escape(report.objective)}"),
        ("Quality", escape(report.quality)),
        ("Trials", f"{len(report.rows)} of {escape(str(config.get('n_trials', '?')))} planned: {tally}"),
        ("Generated", f"{escape(report.generated)} with optuna {escape(optuna.__version__)}"),
    ]
    running = ""
    if report.running:
        running = (
            f'<p class="note"><strong>The study is still running</strong> ({report.running} '
            f"{'trial' if report.running == 1 else 'trials'} in progress); run "
            "<code>python -m nas.report RUN_DIR</code> again for a later view.</p>"
        )
    listing = "".join(f"<li><strong>{k}</strong>: {v}</li>" for k, v in items)
    return f"<ul>{listing}</ul>{running}"


def _figure(report: Report, key: str, caption: str) -> str:
    if key in report.figures:
        return f'<figure id="{key}">{report.figures[key]}<figcaption>{escape(caption)}</figcaption></figure>'
    return f'<p class="note" id="{key}-missing">{escape(report.notes.get(key, "Not available."))}</p>'


def _preset(report: Report) -> list[tuple[str, str]]:
    if not report.preset:
        return []
    p = report.preset
    return [
        ("Preset", f"<code>{escape(str(p.get('name')))}</code>: the search of {escape(str(p.get('paper')))}")
    ]


def _best(report: Report) -> str:
    out = []
    near = nearest_baselines(report.rows)
    for r in report.best():
        out.append(f"<h3>Trial {r.number}: {escape(r.name)}</h3>")
        closest = (
            f"; nearest baseline {near[r.number][0]}, {near[r.number][1]} choices differ"
            if r.number in near
            else ""
        )
        out.append(f'<p class="note">{escape(_one_line(r, report) + closest)}</p>')
        if r.spec:
            out.append(_structure_table(r.spec))
    return "\n".join(out) or '<p class="note">No network evaluated yet.</p>'


def _finalists(report: Report) -> list[str]:
    """The networks retrained with repeated seeds, and each baseline's verdict."""
    if not report.finalists:
        return []
    seeds = len(report.finalists[0].accuracies)
    rows = "".join(
        f'<tr><td>{f.record.number}</td><td class="text">{escape(f.record.name)}</td>'
        f'<td>{(f.record.macs or 0) / 1e6:.1f}</td><td class="text">{escape(f.summary.text())}</td></tr>'
        for f in sorted(report.finalists, key=lambda f: -f.summary.mean)
    )
    table = f"<table><tr><th>trial</th><th>network</th><th>MACs (M)</th><th>val_acc</th></tr>{rows}</table>"
    claims = "".join(f"<li>{escape(str(v))}</li>" for v in verdicts(report.finalists))
    note = (
        f'<p class="note">Each network trained {seeds} times with the same {seeds} seeds; differences are '
        "paired by seed (t interval), and one whose interval holds 0 is a tie.</p>"
    )
    return [f"<h2>Finalists over {seeds} seeds</h2>", note, table, f"<ul>{claims}</ul>"]


def _one_line(r: TrialRecord, report: Report) -> str:
    """Cost, then the quality, or what became of the trial instead."""
    parts = [f"status: {r.status}" + (" (over budget, evaluated as a baseline)" if _baseline_over(r) else "")]
    if r.macs is not None:
        parts.append(f"{r.macs / 1e6:.1f}M MACs, {r.params / 1e6:.2f}M params")
    if r.latency_ms is not None:
        parts.append(f"{r.latency_ms:.2f} ms{' (predicted)' if r.latency_predicted else ''}")
    if r.quality is not None:
        parts.append(f"quality {r.quality:.4f}")
        parts.append(f"objective {_values(r.objective)}")
    elif r.detail:
        parts.append(r.detail)
    return "; ".join(parts)


def _baseline_over(r: TrialRecord) -> bool:
    return bool(r.baseline) and r.over_budget


def _structure_table(spec: str) -> str:
    try:
        stages = structure(spec)
    except Exception as err:  # a spec this version cannot read: show the text rather than fail the report
        return f'<p class="note">Spec not readable ({escape(str(err))}):</p><pre>{escape(spec)}</pre>'
    head = "".join(f"<th>{c}</th>" for c in COLUMNS)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="text">{escape(c)}</td>' for c in s.cells()[:2])
        + "".join(f"<td>{escape(c)}</td>" for c in s.cells()[2:])
        + "</tr>"
        for s in stages
    )
    return f'<table class="structure"><tr>{head}</tr>{body}</table>'


def _trials_table(rows: list[TrialRecord]) -> str:
    head = (
        "<tr><th>trial</th><th>status</th><th>network</th><th>MACs (M)</th><th>params (M)</th>"
        "<th>latency (ms)</th><th>quality</th><th>objective</th><th>note</th></tr>"
    )
    body = []
    for r in rows:
        cells = [
            str(r.number),
            r.status,
            r.name + (" (over budget)" if _baseline_over(r) else ""),
            "-" if r.macs is None else f"{r.macs / 1e6:.1f}",
            "-" if r.params is None else f"{r.params / 1e6:.2f}",
            latency_cell(r),
            # A trial without an evaluation says what became of it; never a number it does not have.
            f"{r.quality:.4f}" if r.quality is not None else r.status,
            _values(r.objective) if r.objective is not None else "-",
            r.detail,
        ]
        text = {1, 2, 8}
        tds = "".join(
            f'<td class="text">{escape(c)}</td>' if i in text else f"<td>{escape(c)}</td>"
            for i, c in enumerate(cells)
        )
        body.append(f'<tr class="{_css_class(r.status)}" data-trial="{r.number}">{tds}</tr>')
    return f'<table id="trials">{head}{"".join(body)}</table>'


def latency_cell(r: TrialRecord) -> str:
    if r.latency_ms is None:
        return "-"
    return f"{r.latency_ms:.2f}" + (" (predicted)" if r.latency_predicted else "")


def _values(values: tuple[float, ...] | None) -> str:
    return "-" if values is None else " ".join(f"{v:.4g}" for v in values)


def _css_class(status: str) -> str:
    return "over-budget" if status == Status.OVER_BUDGET else status


def _settings(report: Report) -> str:
    out = []
    if report.evaluation:
        out.append("<h3>Evaluation, as the last search run that finished recorded it</h3>")
        out.append(f"<pre>{escape(json.dumps(report.evaluation, indent=2))}</pre>")
    else:
        out.append(
            '<p class="note">The evaluator\'s own record is written when the search ends; until then the '
            "configuration below says how candidates are evaluated.</p>"
        )
    if report.config:
        out.append("<h3>Configuration of the run (resolved)</h3>")
        out.append(f"<pre>{escape(_yaml(_without_secrets(report.config)))}</pre>")
    else:
        out.append('<p class="note">No configuration found (no .hydra/config.yaml in the run directory).</p>')
    return "\n".join(out)


def _yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def _without_secrets(config: dict[str, Any]) -> dict[str, Any]:
    storage = config.get("storage")
    return {**config, "storage": hide_password(storage)} if storage else config
