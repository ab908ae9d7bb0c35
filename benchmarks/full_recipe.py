"""Does the full training recipe pay? A zoo network and the search's best, each trained with ``recipe=proxy``
and ``recipe=full`` at equal epochs on Fashion-MNIST, scored on its official test set.

    python benchmarks/full_recipe.py [--epochs 4] [--workers 2] [--quick]

Each training is one ``python -m nas.train`` command (listed in the report), on one thread, ``--workers``
side by side: all 60,000 training images (``data.split=test``), the data module's own augmentation (a
shift of up to 2 px and a horizontal flip), batch 64, at the search's proxy settings (width 0.25, stem
stride 1, 28 px), validated once, after the last epoch, on the 10,000 test images. ``proxy`` is the
command's default training (SGD, no batch augmentation); ``full`` is ``conf/recipe/full.yaml``. Rows go
to ``results/full_recipe.csv`` as they finish (a rerun resumes) and the table to ``results/full_recipe.md``.
The default, 4 epochs, takes 35-50 minutes on 2 cores (proxy about 200-250 and full about 160-200
training images/s per thread here, the searched network the slower). ``--quick`` checks the script in
about two minutes: 1 epoch of 640 images, 320 test images, written to
``outputs/full_recipe_quick.*``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from _rows import append_row, read_rows

from nas.latency import device_name

ZOO = "mobilenet_v2"
SEARCHED = Path("results/search_mnas_300M_fashion_mnist/best_arch.yaml")  # python -m nas.search's output
RECIPES = ("proxy", "full")
PROXY = ["proxy.width=0.25", "proxy.stem_stride=1"]  # conf/search.yaml's proxy network
FIELDS = [
    "network", "recipe", "epochs", "train_images", "test_images", "test_acc", "test_loss",
    "train_seconds", "wall_seconds", "images_per_second", "command", "record",
]  # fmt: skip
EPOCHS = 4  # both trainings of a worker within an hour on 2 cores
ANCHOR = "published small CNNs reach about 93-95% on Fashion-MNIST's test set"


def command(arch: str, recipe: str, args: argparse.Namespace) -> list[str]:
    """The ``nas.train`` arguments of one training (its run directory apart)."""
    data = ["data=fashion_mnist", "data.split=test"]
    if args.limit_train:
        data.append(f"data.limit_train={args.limit_train}")
    if args.limit_test:
        data.append(f"data.limit_val={args.limit_test}")
    trainer = [
        f"trainer.max_epochs={args.epochs}",
        f"+trainer.check_val_every_n_epoch={args.epochs}",  # the test set once, at the end
        "+trainer.num_sanity_val_steps=0",
        "trainer.accelerator=cpu",
        "trainer.devices=1",
        "trainer.enable_progress_bar=false",
    ]
    return [f"arch={arch}", f"recipe={recipe}", *data, *PROXY, *trainer]


def jobs(args: argparse.Namespace) -> list[tuple[str, str]]:
    """``(arch, recipe)`` of every training: the full recipe's first, the longer ones, so that two workers
    finish together."""
    return [(a, r) for r in reversed(RECIPES) for a in (ZOO, str(args.searched))]


def shown(overrides: list[str]) -> str:
    return "python -m nas.train " + " ".join(overrides)


def train(arch: str, recipe: str, args: argparse.Namespace) -> dict[str, object]:
    """One ``nas.train`` run on one thread, in a run directory of its own; its metrics and wall time."""
    overrides = command(arch, recipe, args)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "nas.train", *overrides, f"hydra.run.dir={tmp}"],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
        wall = time.perf_counter() - start
        if done.returncode:
            lines = done.stderr.strip().splitlines() or ["(no output)"]
            raise SystemExit(f"nas.train {' '.join(overrides)} failed: {lines[-1]}")
        metrics = json.loads((Path(tmp) / "metrics.json").read_text())
    evaluation = metrics["evaluation"]
    return {
        "network": f"{metrics['arch']} ({'zoo' if arch == ZOO else 'searched'})",
        "recipe": recipe,
        "epochs": metrics["epochs"],
        "train_images": evaluation["train_samples"],
        "test_images": evaluation["val_samples"],
        "test_acc": round(metrics["val_acc"], 4),
        "test_loss": round(metrics["val_loss"], 4),
        "train_seconds": round(metrics["train_seconds"], 1),
        "wall_seconds": round(wall, 1),
        "images_per_second": metrics["images_per_second"],
        "command": shown(overrides),
        "record": json.dumps(evaluation["recipe"]),  # the recipe as the run recorded it
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--limit-train", type=int, default=None, help="a stratified training subset")
    parser.add_argument("--limit-test", type=int, default=None, help="a stratified test subset")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--searched", type=Path, default=SEARCHED, help="the search's best_arch.yaml")
    parser.add_argument("--out", type=Path, default=Path("results/full_recipe.csv"))
    parser.add_argument("--quick", action="store_true", help="1 epoch of 640 images: checks the script")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.limit_train, args.limit_test = 1, 640, 320
        args.out = Path("outputs/full_recipe_quick.csv")
    if not args.searched.is_file():
        raise SystemExit(f"error: no {args.searched}: run python -m nas.search first, or give --searched")
    done = {r["command"] for r in read_rows(args.out)}
    todo = [(a, r) for a, r in jobs(args) if shown(command(a, r, args)) not in done]
    start = time.perf_counter()
    with cf.ThreadPoolExecutor(args.workers) as pool:  # each thread waits on its own nas.train process
        for row in pool.map(lambda job: train(*job, args), todo):
            append_row(args.out, FIELDS, [row[f] for f in FIELDS])
            print(row["network"], row["recipe"], row["test_acc"], f"{row['wall_seconds']} s", flush=True)
    report(args, time.perf_counter() - start)


def recipes(rows: list[dict[str, str]]) -> list[str]:
    """Each recipe as its runs recorded it (``metrics.json``'s ``evaluation.recipe``)."""
    records = {r["recipe"]: json.loads(r["record"]) for r in rows}
    return [
        f"- `{name}`: " + ", ".join(f"{k} {v}" for k, v in record.items() if k != "name")
        for name, record in records.items()
    ]


def report(args: argparse.Namespace, seconds: float) -> None:
    commands = {shown(command(a, r, args)) for a, r in jobs(args)}
    rows = [r for r in read_rows(args.out) if r["command"] in commands]
    flags = "" if args.epochs == EPOCHS else f" --epochs {args.epochs}"
    flags = " --quick" if args.quick else flags
    lines = [
        "# Does the full training recipe pay? Proxy and full recipes at equal epochs",
        "",
        f"Command: `python benchmarks/full_recipe.py{flags}` (rows in `{args.out.name}`; this run: "
        f"{seconds / 60:.0f} min wall for what it trained).",
        f"Machine: {platform.machine()}, {device_name('cpu')}, torch "
        f"{torch.__version__}; {args.workers} trainings side by side, one thread each (wall times depend "
        "on what else ran on the machine).",
        f"Data: Fashion-MNIST, {rows[0]['train_images'] if rows else '?'} training images, scored on "
        f"{rows[0]['test_images'] if rows else '?'} of the official test images; 28 px, batch 64, the data "
        "module's shift and flip; width 0.25, stem stride 1 (the search's proxy network); seed 0. "
        f"Anchor: {ANCHOR}.",
        "",
        *recipes(rows),
        "",
        "| network | recipe | epochs | test acc | test loss | wall s | train images/s |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['network']} | {r['recipe']} | {r['epochs']} | {float(r['test_acc']):.4f} "
            f"| {float(r['test_loss']):.4f} | {float(r['wall_seconds']):.0f} | {r['images_per_second']} |"
        )
    lines += ["", "Commands (each also given `hydra.run.dir=`):", ""]
    lines += [f"- `{r['command']}`" for r in rows]
    text = "\n".join(lines) + "\n"
    args.out.with_suffix(".md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
