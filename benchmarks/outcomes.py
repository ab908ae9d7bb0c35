"""The papers' searches as measured outcomes: each preset run end to end, its found network against the
published one on the proxy, over repeated seeds.

    python benchmarks/outcomes.py [--presets efficientnet_b0 mnasnet_a1 ...] [--seeds 3] [--n-trials 20]

Each preset is one ``python -m nas.search +preset=NAME finalists.seeds=K`` into
``results/outcomes/NAME/`` (listed in the report): a rerun resumes its study and only retrains what is
missing. ``results/outcomes.md`` gets one table per preset: the found network (the search's best) and the
published one (a baseline of the same study), each retrained K times with the same K seeds, accuracy
mean ± std, the paired difference with its 95% t interval, MACs at the space's resolution, latency
measured whole on this machine (one thread, batch 1, eager PyTorch; the latency presets' own
finalist measurement where it exists) and, for a latency preset, as the search's table predicted it,
their distance in the space, the command and its wall time.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import optuna
import torch

from nas import load_spec
from nas.latency import Setting, best_ms, device_name, measure
from nas.paths import CONF
from nas.search import ranked_trials
from nas.study import (
    PRESET,
    Metric,
    TrialRecord,
    distance,
    finalists_of,
    measured_latencies,
    pair,
    parse_budget,
    trial_records,
    versus,
)

PRESETS = sorted(p.stem for p in (CONF / "preset").glob("*.yaml"))
OUT = Path("results/outcomes")
REPORT = Path("results/outcomes.md")
LATENCY = "latency_ms.json"  # per run directory: trial number -> ms, for trials the search did not time
WALL = "wall_seconds.json"  # per run directory: the seconds each invocation took (a resumed run adds one)


def command(preset: str, args: argparse.Namespace) -> list[str]:
    return [
        f"+preset={preset}",
        f"finalists.seeds={args.seeds}",
        f"n_trials={args.n_trials}",
        f"workers={args.workers}",
        f"hydra.run.dir={OUT / preset}",
    ]


def run_preset(preset: str, args: argparse.Namespace) -> None:
    """One preset's search (resumed if it was started), its wall time added to the run directory's."""
    run_dir = OUT / preset
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nas.search", *command(preset, args)], check=True)
    seconds = time.perf_counter() - start
    walls = json.loads((run_dir / WALL).read_text()) if (run_dir / WALL).exists() else []
    (run_dir / WALL).write_text(json.dumps([*walls, round(seconds, 1)]))


def latency_ms(r: TrialRecord, measured: dict[int, float], run_dir: Path) -> float:
    """Measured whole: the search's own finalist measurement if it made one, else timed here once and
    kept in the run directory, so that rewriting the report does not re-time (this machine is shared:
    two timings minutes apart can differ by a third)."""
    if r.number in measured:
        return measured[r.number]
    path = run_dir / LATENCY
    kept = json.loads(path.read_text()) if path.exists() else {}
    if str(r.number) not in kept:
        spec = load_spec(r.spec or "")
        setting = Setting(threads=1, batch_size=1)
        kept[str(r.number)] = round(best_ms(measure(spec, setting, warmup=3, repeats=10, min_time_s=1.0)), 3)
        path.write_text(json.dumps(kept, indent=1))
    return float(kept[str(r.number)])


def target(budget: str | None) -> str:
    """``400MFLOPs`` as it is; a latency target (the published network's predicted latency) to 0.01 ms."""
    budgets = parse_budget(budget)
    if len(budgets) == 1 and budgets[0].metric is Metric.LATENCY:
        return f"{budgets[0].limit:.2f} ms, the published network's predicted latency"
    return str(budget)


def table(preset: str, args: argparse.Namespace) -> list[str]:
    """The preset's section of the report, from its study."""
    run_dir = OUT / preset
    study = optuna.load_study(study_name=None, storage=f"sqlite:///{run_dir / 'study.db'}")
    meta = study.user_attrs[PRESET]
    measured = measured_latencies(study)
    records = trial_records(study.get_trials(deepcopy=False), measured=measured)
    finalists = {f.record.number: f for f in finalists_of(study.user_attrs, records)}
    best = next(r for r in trial_records(ranked_trials(study)) if not r.baseline)
    published = next(r for r in records if r.baseline == meta["published"])
    found, pub = finalists[best.number], finalists[published.number]
    walls = json.loads((run_dir / WALL).read_text())
    shown = " ".join(["python -m nas.search", *command(preset, args)])
    lines = [
        f"## `{preset}`: {meta['paper']}",
        "",
        f"`{shown}`: {sum(walls) / 60:.1f} minutes of wall time"
        + (f" over {len(walls)} invocations" if len(walls) > 1 else "")
        + f"; {len(records)} trials, the search's target {target(study.user_attrs.get('budget'))}.",
        "",
        f"| network | val_acc over {args.seeds} seeds | MACs (M) | params (M) | latency (ms) | "
        "predicted (ms) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, r, f in ((f"found (trial {best.number})", best, found), (meta["published"], published, pub)):
        predicted = "" if r.latency_predicted_ms is None else f"{r.latency_predicted_ms:.2f}"
        lines.append(
            f"| {name} | {f.summary.text()} | {(r.macs or 0) / 1e6:.1f} | {(r.params or 0) / 1e6:.2f} | "
            f"{latency_ms(r, measured, run_dir):.2f} | {predicted} |"
        )
    d = distance(best.choices, published.choices)
    lines += [
        "",
        f"- Found minus published, paired by seed: {versus(pair(found.accuracies, pub.accuracies))}.",
        f"- Distance in the space: {d.differing} of {d.compared} choices differ.",
        "",
    ]
    return lines


def write_report(presets: list[str], args: argparse.Namespace) -> None:
    machine = f"{platform.machine()}, {device_name('cpu')}, torch {torch.__version__}"
    lines = [
        "# The papers' searches as outcomes on the proxy",
        "",
        f"Regenerate: `python benchmarks/outcomes.py --seeds {args.seeds} --n-trials {args.n_trials} "
        f"--workers {args.workers}` "
        "(resumable; a preset's run directory under `results/outcomes/` holds its study, summary and "
        "report).",
        f"Machine: {machine}. Proxy: the search's default (`conf/search.yaml`: 1 epoch on 12,000 "
        "Fashion-MNIST images, a quarter of each network's width, stem stride 1), whose ranking "
        "`results/fidelity_mnas_fashion_mnist.md` measures. Accuracies are on the 2,000-image validation "
        "hold-out. Latencies are the best of at least 10 runs, one thread, batch 1, each timed once and "
        "kept (`latency_ms.json`, or the search's own finalist measurement). A preset's two networks are "
        "timed minutes apart, but on this shared machine one network's best time varied by up to a third "
        "from one hour to the next (EfficientNet-B0: 31.7 to 41.0 ms): compare a preset's two latencies "
        "with each other, not with another preset's.",
        "",
    ]
    for preset in presets:
        if (OUT / preset / "study.db").exists():
            lines += table(preset, args)
        else:
            lines += [f"## `{preset}`", "", "Not run on this machine yet.", ""]
    REPORT.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=PRESETS, choices=PRESETS)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-trials", type=int, default=20)
    parser.add_argument(
        "--workers", type=int, default=2, help="the search's workers= (2: this machine's cores)"
    )
    parser.add_argument("--report-only", action="store_true", help="rewrite results/outcomes.md only")
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error("--seeds: expected an integer >= 1")
    OUT.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        for preset in args.presets:
            run_preset(preset, args)
    write_report(PRESETS, args)
    print(REPORT.read_text())


if __name__ == "__main__":
    main()
