"""Does a compound-scaling conclusion survive a rerun with other seeds?

Each argument is a pair ``FIRST:AGAIN`` of ``python -m nas.scale`` run directories: the same study run
twice with different ``seed=`` (other training seeds and another validation split). At each φ the
decision of each run is recomputed from its ``family.csv`` with the rule its README states
(``nas.scale.decide``: the kind of the best mean wins only when every paired 95% interval against it
excludes 0). The conclusion holds at that φ when both runs name the same winner, or both call it a tie.

    python scripts/scaling_repeat.py \\
        results/compound_scaling_efficientnet_b0:results/compound_scaling_efficientnet_b0_seed1 \\
        results/compound_scaling:results/compound_scaling_seed1 --out results/compound_scaling_repeat.md
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

import yaml

from nas.errors import UsageError
from nas.scale import SINGLE, PhiDecision, decide, load_base, paired

Accuracy = dict[int, dict[str, dict[int, float]]]  # phi -> kind -> seed index -> val_acc


def family_accuracy(run_dir: Path) -> Accuracy:
    """Every finished training of the family, from the run directory's ``family.csv``."""
    accuracy: Accuracy = defaultdict(lambda: defaultdict(dict))
    with (run_dir / "family.csv").open() as f:
        for row in csv.DictReader(f):
            if row["state"] == "complete" and row["val_acc"]:
                accuracy[int(row["phi"])][row["kind"]][int(row["seed_index"])] = float(row["val_acc"])
    return accuracy


def run_facts(run_dir: Path) -> tuple[str, str, int]:
    """The base's name, the chosen α/β/γ and the run's seed."""
    coefficients = yaml.safe_load((run_dir / "coefficients.yaml").read_text())
    config = yaml.safe_load((run_dir / ".hydra" / "config.yaml").read_text())
    chosen = "/".join(f"{coefficients[k]:g}" for k in ("alpha", "beta", "gamma"))
    base = str(config["base"])
    try:  # a spec file's own name (a search's best_arch.yaml), beside its path
        name = load_base(base).name
    except UsageError:  # moved or deleted since: the path alone still names it
        name = base
    return (name if name == base else f"{name} ({base})"), chosen, int(config["seed"])


def words(d: PhiDecision) -> str:
    if not d.conclusive:  # as the run's README says: no decision
        return "no decision"
    if d.winner is not None:
        return f"**{d.winner}** wins"
    return f"tie (best mean: {d.best})"


def margin(d: PhiDecision) -> str:
    """The best kind against its closest rival: the interval the decision turned on."""
    if not d.versus:
        return ""
    # the least convincing comparison: the tied one for a tie, the narrowest win for a winner
    rival, c = min(d.versus.items(), key=lambda kv: kv[1].mean if kv[1].low is None else kv[1].low)
    return f"{d.best} - {rival} = {c.text()}"


def plot(pairs: list[tuple[Path, Path]], png: Path) -> Path:
    """One panel per study: compound minus each single dimension at each φ, with its 95% interval, for
    both runs side by side. A bar that crosses 0 is a tie; both runs' bars on one side agree."""
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    from matplotlib import pyplot as plt

    fig, axes = plt.subplots(1, len(pairs), figsize=(5.5 * len(pairs), 4), dpi=120, squeeze=False)
    for ax, (first, again) in zip(axes[0], pairs, strict=True):
        labels: list[str] = []
        for shift, (run_dir, colour) in enumerate(((first, "tab:blue"), (again, "tab:orange"))):
            seed = run_facts(run_dir)[2]
            ys, lows, highs, labels = [], [], [], []
            for phi, by_kind in sorted(family_accuracy(run_dir).items()):
                for kind in SINGLE:
                    c = paired(by_kind.get("compound", {}), by_kind.get(kind, {})) if phi else None
                    if c is None or c.low is None or c.high is None:
                        continue
                    labels.append(f"φ={phi} vs {kind}")
                    ys.append(c.mean)
                    lows.append(c.mean - c.low)
                    highs.append(c.high - c.mean)
            x = [i + 0.15 * (2 * shift - 1) for i in range(len(ys))]
            label = f"{('first', 'second')[shift]} run, seed={seed}"
            ax.errorbar(x, ys, yerr=[lows, highs], fmt="o", color=colour, capsize=3, label=label)
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
        ax.set_ylabel("compound - single dimension (val_acc)")
        ax.set_title(run_facts(first)[0], fontsize=9)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)
    return png


def compare(first: Path, again: Path) -> tuple[list[str], int, int]:
    """A section for one pair, and how many φ agree out of how many."""
    a, b = family_accuracy(first), family_accuracy(again)
    (base, chosen_a, seed_a), (_, chosen_b, seed_b) = run_facts(first), run_facts(again)
    lines = [
        f"## `{base}`: `{first}` (seed={seed_a}) against `{again}` (seed={seed_b})",
        "",
        f"Grid choice α/β/γ: {chosen_a} in the first run, {chosen_b} in the second.",
        "",
        "| φ | first run | its deciding interval | second run | its deciding interval | same conclusion |",
        "|---:|---|---|---|---|---|",
    ]
    phis = sorted(p for p in set(a) | set(b) if p > 0)
    same = 0
    for phi in phis:
        da, db = decide(a.get(phi, {})), decide(b.get(phi, {}))
        agree = da.conclusive and db.conclusive and da.winner == db.winner
        same += agree
        verdict = "yes" if agree else "no"
        lines.append(f"| {phi} | {words(da)} | {margin(da)} | {words(db)} | {margin(db)} | {verdict} |")
    return [*lines, ""], same, len(phis)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="+", help="FIRST:AGAIN, two run directories of python -m nas.scale")
    parser.add_argument("--out", type=Path, help="write the markdown here (default: standard output)")
    args = parser.parse_args(argv)
    pairs = [tuple(Path(p) for p in pair.split(":", 1)) for pair in args.pairs]
    for pair in pairs:
        missing = [str(d / "family.csv") for d in pair if not (d / "family.csv").is_file()]
        if len(pair) != 2 or missing:
            print(f"scaling_repeat: not a pair of finished runs: {':'.join(map(str, pair))} "
                  f"({', '.join(missing) or 'give FIRST:AGAIN'})", file=sys.stderr)  # fmt: skip
            return 2
    sections, agreed, total = [], 0, 0
    for first, again in pairs:
        lines, same, n = compare(first, again)
        sections += lines
        agreed, total = agreed + same, total + n
    command = "python scripts/scaling_repeat.py " + " ".join(args.pairs)
    out = [
        "# Compound scaling run twice: does the conclusion survive other seeds?",
        "",
        f"Regenerate: `{command}{f' --out {args.out}' if args.out else ''}`.",
        "",
        "Each study was run twice with the same command but `seed=` (the seeds of every training and the "
        "validation split). At each φ, each run's decision is recomputed from its `family.csv` with the "
        "rule its README states: the way of scaling with the best mean wins only when its paired 95% "
        "interval against every other excludes 0; otherwise it is a tie. The conclusion holds at a φ "
        "when both runs name the same winner or both call it a tie.",
        "",
        f"**The conclusion held at {agreed} of {total} φ.**",
        "",
        *sections,
    ]
    if args.out:
        png = plot(pairs, args.out.with_suffix(".png"))  # type: ignore[arg-type]
        out += [f"![compound minus each single dimension, 95% intervals, both runs]({png.name})", ""]
    text = "\n".join(out)
    if args.out:
        args.out.write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
