"""Which short-training recipe makes every candidate learn? Each variant trains the same networks.

    python benchmarks/recipe.py [--per-space 4] [--out results/recipe_fashion_mnist.csv]

Networks: ``--per-space`` from each of ``mnas``, ``mobilenetv3`` and ``families`` under 300M MACs (spread
over their costs, seed 0). Each variant is one change to the optimizer settings (``conf/optim``) on the
same proxy task: Fashion-MNIST, 28 px, ``--limit-train`` training and 2,000 validation images held out of
the training set, ``--epochs`` epochs, the spec's own stem stride. A network *learns* when its validation
accuracy reaches 0.80. Rows are appended to the CSV as they finish; a rerun skips the rows present.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import logging
import multiprocessing
import platform
import statistics
import warnings
from pathlib import Path

import torch
from _rows import append_row, read_rows

from nas import dump_spec, load_spec
from nas.data import cached_datamodule
from nas.fidelity import sample_networks
from nas.latency import device_name
from nas.search import parse_budget
from nas.spaces import load
from nas.training import ProxySettings, proxy_spec, quick_fit

BASE = {
    "name": "sgd",
    "lr": 0.05,
    "momentum": 0.9,
    "nesterov": True,
    "weight_decay": 4e-5,
    "warmup_epochs": 0.3,
}
VARIANTS: dict[str, dict[str, object]] = {
    "sgd_lr0.02_warmup1 (old default)": {"lr": 0.02, "warmup_epochs": 1.0},
    "sgd_lr0.05": {},
    "sgd_lr0.2": {"lr": 0.2},
    "sgd_lr0.05+zero_init": {"zero_init_residual": True},
    "sgd_lr0.05+zero_init+ema_warmup": {"zero_init_residual": True, "ema_decay": 0.99},
    "sgd_lr0.05+zero_init+ls0.1": {"zero_init_residual": True, "label_smoothing": 0.1},
    "sgd_lr0.05+zero_init+bn0.3": {"zero_init_residual": True, "bn_momentum": 0.3},
    "sgd_lr0.05+zero_init+precise_bn": {"zero_init_residual": True, "bn_recalibration": 20},
    "adamw_lr3e-3+zero_init+precise_bn": {
        "name": "adamw",
        "lr": 3e-3,
        "weight_decay": 0.05,
        "zero_init_residual": True,
        "bn_recalibration": 20,
    },
    "adamw_lr3e-3+zero_init": {"name": "adamw", "lr": 3e-3, "weight_decay": 0.05, "zero_init_residual": True},
}
DATA = {"_target_": "nas.data.FashionMnistDataModule", "limit_val": 2000, "batch_size": 64, "augment": False}
LEARNS = 0.80
FIELDS = ["variant", "space", "network", "macs", "val_acc", "seconds"]


def train(spec_yaml: str, optim: dict[str, object], limit_train: int, epochs: int) -> tuple[float, float]:
    """One training in a worker process, on one thread."""
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    data = cached_datamodule({**DATA, "limit_train": limit_train})
    spec = proxy_spec(load_spec(spec_yaml), ProxySettings(), data.resolution)
    m = quick_fit(spec, data, optim, epochs, seed=0)
    return float(m["val_acc"]), float(m["train_seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-space", type=int, default=4)
    parser.add_argument("--limit-train", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--out", type=Path, default=Path("results/recipe_fashion_mnist.csv"))
    args = parser.parse_args()
    done = _done(args.out)
    budgets = parse_budget("300MFLOPs")
    networks = [
        (space, c) for space in ("mnas", "mobilenetv3", "families")
        for c in sample_networks(load(space), budgets, args.per_space, seed=0)
    ]  # fmt: skip
    jobs = [(v, space, c) for v in args.variants for space, c in networks if (v, c.spec.name) not in done]
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(args.workers, mp_context=context) as pool:
        futures = {
            pool.submit(train, dump_spec(c.spec), {**BASE, **VARIANTS[v]}, args.limit_train, args.epochs): (
                v,
                space,
                c,
            )
            for v, space, c in jobs
        }
        for future in cf.as_completed(futures):
            v, space, c = futures[future]
            acc, seconds = future.result()
            row = [v, space, c.spec.name, c.macs, round(acc, 4), round(seconds, 1)]
            append_row(args.out, FIELDS, row)
            print(*row, flush=True)
    _report(args.out, args.variants, args)


def _done(path: Path) -> set[tuple[str, str]]:
    return {(r["variant"], r["network"]) for r in read_rows(path)}


def _report(path: Path, variants: list[str], args: argparse.Namespace) -> None:
    rows = read_rows(path)
    lines = [
        "# Which short-training recipe makes every candidate learn?",
        "",
        f"Command: `python benchmarks/recipe.py --per-space {args.per_space} "
        f"--limit-train {args.limit_train} --epochs {args.epochs}` (rows in `{path.name}`).",
        f"Machine: {platform.machine()}, {device_name('cpu')}, torch {torch.__version__}, "
        f"{args.workers} trainings side by side, one thread each.",
        f"Proxy: Fashion-MNIST, 28 px, {args.limit_train} training / 2,000 validation images (held out of "
        f"the training set), {args.epochs} epochs, batch 64, no augmentation, seed 0. Base: {BASE}.",
        "Seconds per network were measured while other work shared the machine: compare accuracies.",
        "",
        "| variant | networks | learn (>= 0.80) | mean val_acc | min | s per network |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for v in variants:
        acc = [float(r["val_acc"]) for r in rows if r["variant"] == v]
        sec = [float(r["seconds"]) for r in rows if r["variant"] == v]
        if acc:
            learn = sum(a >= LEARNS for a in acc)
            lines.append(
                f"| {v} | {len(acc)} | {learn}/{len(acc)} | {statistics.mean(acc):.3f} | {min(acc):.3f} "
                f"| {statistics.mean(sec):.1f} |"
            )
    text = "\n".join(lines) + "\n"
    path.with_suffix(".md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
