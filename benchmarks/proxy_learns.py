"""Does every candidate learn under the search's default proxy? The fraction of sampled networks that do.

    python benchmarks/proxy_learns.py [--n 30] [--workers 2] [--spaces mnas mobilenetv3 families]

For each space, ``--n`` networks under 300M MACs (seed 0, spread over their costs as ``python -m
nas.fidelity`` samples them) are trained exactly as ``python -m nas.search`` trains a candidate by default:
its data, optimizer, epochs and proxy settings, composed from ``conf/search.yaml``. A network *learns*
when its validation accuracy reaches 0.80 (the goal: all of them). Rows go to
``results/proxy_learns.csv`` as they finish (a rerun resumes) and the table to ``results/proxy_learns.md``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import hashlib
import json
import logging
import multiprocessing
import platform
import statistics
import sys
import warnings
from pathlib import Path
from typing import Any

import torch
from _rows import append_row, read_rows
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from nas import dump_spec, load_spec
from nas.data import cached_datamodule
from nas.fidelity import sample_networks
from nas.latency import device_name
from nas.paths import CONF
from nas.search import parse_budget
from nas.spaces import load
from nas.training import ProxySettings, proxy_spec, quick_fit

LEARNS = 0.80
FIELDS = ["space", "network", "macs", "val_acc", "seconds", "protocol"]


def search_proxy(overrides: list[str]) -> dict[str, Any]:
    """The search's default proxy task, as ``python -m nas.search`` composes it."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("search", overrides=overrides)
    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    return {
        "data": plain["data"],
        "optim": plain["optim"],
        "epochs": plain["trainer"]["max_epochs"],
        "proxy": plain["proxy"],
        "seed": plain["seed"],
    }


def fingerprint(task: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(task, sort_keys=True, default=str).encode()).hexdigest()[:12]


def train(spec_yaml: str, task: dict[str, Any]) -> tuple[float, float]:
    torch.set_num_threads(1)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    module = cached_datamodule(task["data"])
    proxy = ProxySettings.from_data(task["proxy"], "proxy")
    spec = proxy_spec(load_spec(spec_yaml), proxy, module.resolution).replace(in_channels=module.in_channels)
    m = quick_fit(spec, module, task["optim"], task["epochs"], task["seed"])
    return float(m["val_acc"]), float(m["train_seconds"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--spaces", nargs="*", default=["mnas", "mobilenetv3", "families"])
    parser.add_argument("--out", type=Path, default=Path("results/proxy_learns.csv"))
    parser.add_argument("overrides", nargs="*", help="Hydra overrides of conf/search.yaml")
    args = parser.parse_args()
    task = search_proxy(args.overrides)
    protocol = fingerprint(task)  # a row counts for these settings only: new defaults train again
    existing = read_rows(args.out)
    if existing and list(existing[0]) != FIELDS:  # appending would misalign the columns
        print(
            f"error: {args.out} has the columns {list(existing[0])}, not {FIELDS}; give another --out",
            file=sys.stderr,
        )
        return 2
    rows = [r for r in existing if r["protocol"] == protocol]
    done = {(r["space"], r["network"]) for r in rows}
    jobs = [
        (space, c) for space in args.spaces
        for c in sample_networks(load(space), parse_budget("300MFLOPs"), args.n, seed=0)
        if (space, c.spec.name) not in done
    ]  # fmt: skip
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(args.workers, mp_context=context) as pool:
        futures = {pool.submit(train, dump_spec(c.spec), task): (space, c) for space, c in jobs}
        for i, future in enumerate(cf.as_completed(futures), 1):
            space, c = futures[future]
            acc, seconds = future.result()
            row = [space, c.spec.name, c.macs, round(acc, 4), round(seconds, 1), protocol]
            append_row(args.out, FIELDS, row)
            rows.append(dict(zip(FIELDS, map(str, row), strict=True)))
            print(
                f"[{i}/{len(jobs)}] {space} {c.spec.name} {c.macs / 1e6:.0f}M "
                f"val_acc {acc:.3f} {seconds:.0f} s",
                flush=True,
            )
    table = report(rows, args.spaces, task, args.overrides)
    args.out.with_suffix(".md").write_text(table)
    print(table)
    return 0


def report(rows: list[dict[str, str]], spaces: list[str], task: dict[str, Any], overrides: list[str]) -> str:
    data = task["data"]
    lines = [
        "# Does every candidate learn under the search's default proxy?",
        "",
        f"Command: `python benchmarks/proxy_learns.py{''.join(' ' + o for o in overrides)}` "
        f"(`python -m nas.search`'s proxy: {data['_target_'].rsplit('.', 1)[-1]}, "
        f"{data.get('limit_train')} training / {data.get('limit_val')} validation images, "
        f"batch {data.get('batch_size')}, {task['epochs']} epoch(s), proxy network {task['proxy']}, "
        f"optim {task['optim']}).",
        f"Machine: {platform.machine()}, {device_name('cpu')}, torch {torch.__version__}, "
        "one thread per training.",
        "",
        f"| space | networks | learn (val_acc >= {LEARNS:.2f}) | min | median | s per training (mean) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for space in spaces:
        acc = [float(r["val_acc"]) for r in rows if r["space"] == space]
        sec = [float(r["seconds"]) for r in rows if r["space"] == space]
        if acc:
            learn = sum(a >= LEARNS for a in acc)
            lines.append(
                f"| {space} | {len(acc)} | {learn}/{len(acc)} ({learn / len(acc):.0%}) | {min(acc):.3f} "
                f"| {statistics.median(acc):.3f} | {statistics.mean(sec):.0f} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
