"""The study's outputs: ``fidelity_<space>_<data>.json``, ``.md`` and ``.png`` beside the journal CSV."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt
import torch

from nas.fidelity._run import Study, reference_seeds
from nas.fidelity._stats import LEVEL, seed_noise
from nas.fidelity._summary import Summary
from nas.latency import device_name


def machine(workers: int) -> str:
    threads = "one thread each" if workers > 1 else f"{torch.get_num_threads()} threads"
    torch_text = f"torch {torch.__version__}"
    return f"{platform.machine()}, {device_name('cpu')}, {torch_text}, {workers} worker(s), {threads}"


def stem(study: Study) -> Path:
    return study.journal.path.parent / f"fidelity_{study.settings.space_name()}_{study.data_name}"


def to_json(study: Study, summary: Summary) -> dict[str, Any]:
    c = summary.ceiling
    return {
        "default": study.settings.default,
        "ceiling": {"tau": c.tau, "lo": c.lo, "hi": c.hi},
        "evaluators": {
            e.name: {
                "tau": e.agreement.tau,
                "lo": e.agreement.lo,
                "hi": e.agreement.hi,
                "spearman": e.agreement.spearman,
                "top_quartile_recall": e.agreement.top_quartile_recall,
                "seconds_per_candidate": e.seconds_per_candidate,
            }
            for e in summary.evaluators
        },
        "n": len(summary.networks),
        "reference_seconds_per_training": summary.reference_seconds,
        **({"supernet": _supernet_json(study)} if study.supernet is not None else {}),
    }


def _supernet_json(study: Study) -> dict[str, Any]:
    i = study.supernet
    assert i is not None
    return {
        "ckpt": i.ckpt,
        "identity": i.identity,
        "proxy": i.proxy.to_data(),
        "calibration_batches": study.settings.supernet.calibration_batches,
    }


def write(study: Study, summary: Summary, command: str, wall_seconds: float) -> list[Path]:
    base = stem(study)
    paths = [base.with_suffix(".json"), base.with_suffix(".md"), base.with_suffix(".png")]
    paths[0].write_text(json.dumps(to_json(study, summary), indent=2) + "\n")
    paths[1].write_text(markdown(study, summary, command, wall_seconds))
    plot(study, summary, paths[2])
    return [*paths, study.journal.path]


def markdown(study: Study, summary: Summary, command: str, wall_seconds: float) -> str:
    s = study.settings
    c, noise = summary.ceiling, seed_noise(summary.per_seed)
    pct = round(LEVEL * 100)
    lines = [
        f"# How well each evaluator ranks `{s.space_name()}` networks on `{study.data_name}`",
        "",
        f"Command: `{command}`",
        f"Machine: {machine(s.workers)}",
        f"Time: {wall_seconds / 60:.0f} min of trainings and scores for these settings, on "
        f"{s.workers} worker(s) (resumed runs included).",
        "",
        f"**Sample**: {len(summary.networks)} of {s.n} networks of `{s.space_name()}` under "
        f"{s.budget or 'no budget'} (seed {s.seed}), spread evenly over "
        f"{min(summary.macs) / 1e6:.0f}M-{max(summary.macs) / 1e6:.0f}M MACs.",
        f"**Reference**: {_protocol(s.reference.training)}, seeds {', '.join(map(str, reference_seeds(s)))}; "
        f"the mean over seeds is the reference ({summary.reference_seconds:.0f} s per training). "
        f"Accuracies {min(summary.reference):.3f}-{max(summary.reference):.3f}.",
        f"**Noise ceiling** (Kendall tau between reference seeds): **{c.tau:.2f}** [{c.lo:.2f}, {c.hi:.2f}]. "
        f"A seed moves a network's accuracy by {noise.seed_sd:.4f} (standard deviation about its mean over "
        f"seeds) where the networks' means spread by {noise.spread_sd:.4f}.",
        f"**Proxy trainings** (`train_<E>ep`): {_protocol(s.proxy, 'E')}, seed {s.seed}.",
        f"**combined**: the best {s.combined.keep:.0%} by {s.combined.score} trained {s.combined.epochs} "
        f"epoch{'s' if s.combined.epochs != 1 else ''} and ranked first by accuracy, the rest in the "
        "score's order (the search's `evaluator=combined`).",
        *_supernet_lines(study),
        "",
        f"| evaluator | Kendall tau [{pct}% bootstrap] | Spearman rho | top-quartile recall "
        "| s per candidate |",
        "|---|---|---:|---:|---:|",
    ]
    for e in summary.evaluators:
        a = e.agreement
        mark = " (default)" if e.name == s.default else ""
        lines.append(
            f"| `{e.name}`{mark} | {a.tau:+.2f} [{a.lo:+.2f}, {a.hi:+.2f}] | {a.spearman:+.2f} | "
            f"{a.top_quartile_recall:.2f} | {e.seconds_per_candidate:.2f} |"
        )
    lines += [
        "",
        "Seconds per candidate are CPU seconds of one worker process on one thread (its process time, "
        "nearly the same whatever else shared the machine; the CSV keeps wall seconds too), training and "
        "validation included; for `combined`, its score's time plus the trained fraction of the training's"
        "; for `supernet`, one network's extraction, batch norm recalibration and validation (the "
        "supernet is loaded once per study, not counted). "
        "Intervals resample the networks with replacement. Every training is a row of "
        f"`{study.journal.path.name}`; rerunning the command resumes and rewrites these files.",
    ]
    if summary.failed:
        lines.append(f"\n{summary.failed} value(s) failed and rank last; their errors are in the CSV.")
    return "\n".join(lines) + "\n"


def _supernet_lines(study: Study) -> list[str]:
    i, s = study.supernet, study.settings
    if i is None:
        return []
    p = s.proxy
    stride = "the spec's own" if i.proxy.stem_stride is None else str(i.proxy.stem_stride)
    return [
        f"**supernet**: the accuracy with the weights inherited from `{i.ckpt}` (space fingerprint and "
        f"checkpoint sha256 `{i.identity}`), each network as the supernet makes it (width "
        f"{i.proxy.width:g}, stem stride {stride}), its batch norm recalibrated on "
        f"{s.supernet.calibration_batches} batches of {p.batch_size} of the proxy's training images (the "
        f"same for every network), on the proxy's {p.limit_val or 'all'} validation images "
        "(the search's `evaluator=supernet`)."
    ]


def _protocol(t: Any, epochs: str = "") -> str:
    subset = f"{t.limit_train or 'all'} training / {t.limit_val or 'all'} validation images"
    o = t.optim
    extras = [
        ("zero-init residual", o.zero_init_residual),
        (f"precise BN over {o.bn_recalibration} batches", o.bn_recalibration > 0),
        (f"EMA {o.ema_decay:g}", o.ema_decay > 0),
        (f"label smoothing {o.label_smoothing:g}", o.label_smoothing > 0),
    ]
    optim = f"{o.name.value} lr {o.lr:g}, warm-up {o.warmup_epochs:g} epochs"
    optim += "".join(f", {name}" for name, on in extras if on)
    res = f"{t.resolution} px" if t.resolution else "native resolution"
    stride = "the spec's own" if t.proxy.stem_stride is None else str(t.proxy.stem_stride)
    network = f"width {t.proxy.width:g}, stem stride {stride}"
    aug = "augmented" if t.augment else "no augmentation"
    return f"{epochs or t.epochs} epochs on {subset}, {res}, {network}, batch {t.batch_size}, {aug}, {optim}"


def plot(study: Study, summary: Summary, path: Path) -> None:
    s = study.settings
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    c = summary.ceiling
    ax.axhspan(c.lo, c.hi, color="tab:green", alpha=0.12)
    ax.axhline(c.tau, color="tab:green", linestyle="--", label=f"noise ceiling (seed vs seed) {c.tau:.2f}")
    ax.axhline(0, color="0.6", linewidth=0.8)
    for e in summary.evaluators:
        a = e.agreement
        x = max(e.seconds_per_candidate, 1e-4)
        color = "tab:red" if e.name == s.default else "tab:blue"
        ax.errorbar([x], [a.tau], yerr=[[a.tau - a.lo], [a.hi - a.tau]], fmt="o", color=color, capsize=3)
        below = e.name == "params"  # beside macs at the same few microseconds: label it underneath
        offset = (5, -10 if below else 4)
        ax.annotate(e.name, (x, a.tau), textcoords="offset points", xytext=offset, fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("CPU seconds per candidate (one core)")
    ax.set_ylabel(f"Kendall tau vs reference ({round(LEVEL * 100)}% interval)")
    ax.set_title(f"{s.space_name()} on {study.data_name}: {len(summary.networks)} networks", fontsize=10)
    ax.set_ylim(-1, 1)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
