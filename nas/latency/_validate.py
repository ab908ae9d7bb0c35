"""Proof of the predictor: networks drawn from a space, each predicted from the table and measured whole;
Spearman's rank correlation (does it order networks as the clock does?), the mean absolute percentage
error (is it close?) and the share of networks predicted within ±10% (nn-Meter's figure: 99% on its
phone CPUs)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from scipy.stats import spearmanr
from tqdm import tqdm

from nas.arch import count_cost
from nas.latency._build_table import random_networks
from nas.latency._predict import NETWORK_PASSES, NETWORK_TIME_S, best_ms, measure_networks, predict
from nas.latency._table import LatencyTable
from nas.spaces import SearchSpace

VALIDATION_SEED = 1  # the table's overhead is fitted on seed 0's networks
WITHIN = 0.10  # nn-Meter's bound (Zhang et al. 2021): the share of networks predicted within ±10%


@dataclass(frozen=True)
class Row:
    name: str
    macs: int
    predicted_ms: float
    measured_ms: float
    spread_ms: float  # standard deviation of the timed runs

    @property
    def error(self) -> float:
        return (self.predicted_ms - self.measured_ms) / self.measured_ms


@dataclass(frozen=True)
class Validation:
    space: str
    seed: int
    rows: tuple[Row, ...]

    @property
    def spearman(self) -> float:
        return float(
            spearmanr([r.predicted_ms for r in self.rows], [r.measured_ms for r in self.rows]).statistic
        )

    @property
    def mape(self) -> float:
        return statistics.fmean(abs(r.error) for r in self.rows)

    def within(self, bound: float = WITHIN) -> int:
        """How many networks were predicted within ``bound`` (a fraction) of their measured latency."""
        return sum(abs(r.error) <= bound for r in self.rows)

    def line(self) -> str:
        share = self.within() / len(self.rows)
        return f"spearman={self.spearman:.2f} mape={100 * self.mape:.1f}% within10={100 * share:.0f}%"


def validate(
    space: SearchSpace, table: LatencyTable, n: int, seed: int = VALIDATION_SEED, num_classes: int = 1000
) -> Validation:
    """Predict, then measure, ``n`` networks of ``space`` (parts missing from the table are measured
    and added to it)."""
    if n < 2:
        raise ValueError(f"n: expected at least 2 networks to correlate; got {n}")
    specs = random_networks(space, n, seed)
    predicted = [predict(spec, table, num_classes) for spec in tqdm(specs, desc="predictions", unit="net")]
    measured = measure_networks(specs, table, num_classes)
    rows = (
        Row(spec.name, count_cost(spec, num_classes=num_classes).macs, p, best_ms(m), m.std_ms)
        for spec, p, m in zip(specs, predicted, measured, strict=True)
    )
    return Validation(space.name, seed, tuple(rows))


def write_results(v: Validation, table: LatencyTable, command: str, markdown: Path) -> list[Path]:
    """``markdown`` and a scatter plot beside it (same name, ``.png``)."""
    png = markdown.with_suffix(".png")
    markdown.parent.mkdir(parents=True, exist_ok=True)
    _plot(v, png)
    markdown.write_text(_markdown(v, table, command, png.name))
    return [markdown, png]


def _markdown(v: Validation, table: LatencyTable, command: str, png: str) -> str:
    env, cal = table.environment, table.calibration
    within = v.within()
    runtime = f" ({env.runtime})" if env.runtime else ""
    lines = [
        f"# Latency predictor on {env.device}{_backend_title(env.backend)}: space `{v.space}`",
        "",
        f"Regenerate: `{command}` (after `python -m nas.latency build space={v.space} device={env.device} "
        f"threads={env.threads}{_backend_arg(env.backend)}`).",
        "",
        f"- Machine: {env.device_name}; torch {env.torch}; {env.threads} thread(s); batch {env.batch_size}; "
        f"back-end {env.backend}{runtime}; allocator {env.allocator}.",
        f"- Table: {len(table)} parts, built in {table.build_seconds / 60:.1f} min"
        + (
            f"; overhead {cal.overhead_ms:.2f} ms per network, fitted on {cal.networks} other networks "
            f"of the space (fit MAPE {100 * cal.mape:.1f}%)."
            if cal
            else "; no fitted overhead."
        ),
        f"- {len(v.rows)} networks drawn from `{v.space}` (seed {v.seed}), each predicted from the "
        f"table, then measured whole: the fastest of at least 10 runs and {NETWORK_TIME_S} s in each of "
        f"{NETWORK_PASSES} passes over the list. Every figure is a best time (the minimum over runs, as "
        "timeit reports it), for parts and networks alike; spread is the standard deviation of the runs.",
        "",
        f"**Spearman {v.spearman:.3f}, MAPE {100 * v.mape:.1f}%, {within} of {len(v.rows)} networks "
        f"({100 * within / len(v.rows):.0f}%) within ±{100 * WITHIN:.0f}%** "
        f"(largest error {100 * max(abs(r.error) for r in v.rows):.1f}%).",
        "",
        f"![predicted against measured latency]({png})",
        "",
        "| network | MACs (M) | predicted (ms) | measured (ms) | spread (ms) | error |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(v.rows, key=lambda r: r.measured_ms):
        lines.append(
            f"| {r.name} | {r.macs / 1e6:.1f} | {r.predicted_ms:.2f} | {r.measured_ms:.2f} | "
            f"{r.spread_ms:.2f} | {100 * r.error:+.1f}% |"
        )
    return "\n".join(lines) + "\n"


def _backend_title(backend: str) -> str:
    return "" if backend == "eager" else f", {backend}"


def _backend_arg(backend: str) -> str:
    """The command's ``backend=`` argument; eager, the default, goes without (as its results always have)."""
    return "" if backend == "eager" else f" backend={backend}"


def results_name(device: str, backend: str) -> str:
    """``latency_cpu.md`` for eager (the default), ``latency_cpu_onnxruntime.md`` for another back-end."""
    suffix = "" if backend == "eager" else f"_{backend}"
    return f"latency_{device.replace(':', '')}{suffix}.md"


def _plot(v: Validation, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    from matplotlib import pyplot as plt

    measured = [r.measured_ms for r in v.rows]
    predicted = [r.predicted_ms for r in v.rows]
    low, high = 0.9 * min(measured + predicted), 1.1 * max(measured + predicted)
    fig, ax = plt.subplots(figsize=(5, 5), dpi=120)
    ax.fill_between(
        [low, high], [0.92 * low, 0.92 * high], [1.08 * low, 1.08 * high], color="0.9", label="±8%"
    )
    ax.plot([low, high], [low, high], color="0.4", linewidth=1, label="predicted = measured")
    ax.scatter(measured, predicted, s=14, color="tab:blue", label=f"{len(v.rows)} networks of {v.space}")
    ax.set(
        xlim=(low, high), ylim=(low, high), xlabel="measured latency (ms)", ylabel="predicted latency (ms)"
    )
    ax.set_title(f"{v.space}: Spearman {v.spearman:.3f}, MAPE {100 * v.mape:.1f}%")
    ax.legend(loc="upper left", frameon=False)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)
