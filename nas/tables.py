"""``python -m nas.tables``: regenerate ``results/baselines.md`` and ``results/efficientnet_scaling.md``.

Both tables are computed from the specs by ``count_cost``; the reference figures come from
``results/reference_costs.yaml`` (measured on torchvision/timm by ``scripts/measure_references.py``) and
the papers' figures from ``conf/papers.yaml``.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import yaml

from nas import zoo
from nas.arch import count_cost
from nas.paths import CONF, RESULTS
from nas.scaling import EFFICIENTNET, compound, scale

COMMAND = "python -m nas.tables"


def _millions(value: float, digits: int = 1) -> str:
    return f"{value / 1e6:,.{digits}f}"


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


def baselines_table() -> str:
    references = yaml.safe_load((RESULTS / "reference_costs.yaml").read_text())
    papers = yaml.safe_load((CONF / "papers.yaml").read_text())
    lines = [
        "# Baselines: the zoo against its reference implementations and papers",
        "",
        f"Regenerate with `{COMMAND}`. MACs are multiply-adds of convolutions and fully connected",
        "layers for one image (FlopCounterMode / 2), at the paper's resolution; activation MB are the",
        "float32 feature maps every convolution and fully connected layer reads and writes. *Reference*",
        "is the public implementation the spec must equal exactly (parameters and MACs, measured by",
        "`scripts/measure_references.py`); the paper columns are the figures as printed, in millions.",
        "",
        "| network | resolution | params (M) | MACs (M) | activation MB | paper params (M) | paper MACs (M) "
        "| reference | matches |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for name in zoo.names():
        spec = zoo.get(name)
        cost = count_cost(spec)
        paper = papers.get(name, {})
        ref = references.get(name)
        if ref is None:
            reference, match = "none public", "-"
        else:
            reference = ref["reference"]
            same = (ref["params"], ref["macs"], ref["resolution"]) == (
                cost.params,
                cost.macs,
                spec.resolution,
            )
            match = "exactly" if same else f"**no** ({ref['params']:,} params, {ref['macs']:,} MACs)"
        paper_params, paper_macs = (_or_dash(paper.get(k)) for k in ("params_millions", "macs_millions"))
        lines.append(
            f"| {name} | {spec.resolution} | {_millions(cost.params, 2)} | {_millions(cost.macs)} "
            f"| {cost.activation_bytes / 2**20:,.1f} | {paper_params} | {paper_macs} "
            f"| {reference} | {match} |"
        )
    lines += ["", "Paper sources: " + "; ".join(f"{k}: {v['source']}" for k, v in papers.items()) + "."]
    return "\n".join(lines) + "\n"


def efficientnet_scaling_table() -> str:
    base = zoo.get("efficientnet_b0")
    lines = [
        "# EfficientNet B0-B7: the published coefficients against the compound-scaling formula",
        "",
        f"Regenerate with `{COMMAND}`. *Table* is B0 scaled by the published per-model coefficients",
        "(`nas.scaling.EFFICIENTNET`), which is how the zoo's B1-B7 are made and which reproduces",
        "torchvision's released networks exactly (see `results/baselines.md`). *Formula* solves φ from",
        "the published depth multiplier (depth = 1.2^φ) and applies the paper's compound rule for that",
        "φ: width 1.1^φ, resolution 224·1.15^φ (Tan & Le 2019, section 3.3).",
        "",
        "| model | φ | table: width | depth | resolution | params (M) | MACs (M) "
        "| formula: width | resolution | params (M) | MACs (M) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, coefficients in EFFICIENTNET.items():
        phi = math.log(coefficients.depth) / math.log(1.2)
        table = count_cost(scale(base, coefficients))
        formula_coefficients = compound(phi)
        formula = count_cost(scale(base, formula_coefficients))
        lines.append(
            f"| {key.upper()} | {phi:.2f} | {coefficients.width:.2f} | {coefficients.depth:.2f} "
            f"| {coefficients.resolution} | {_millions(table.params, 2)} | {_millions(table.macs)} "
            f"| {formula_coefficients.width:.2f} | {formula_coefficients.resolution} "
            f"| {_millions(formula.params, 2)} | {_millions(formula.macs)} |"
        )
    lines += [
        "",
        "At φ = 1 (B2) the two coincide. B1 keeps B0's width where the formula would widen it by 5%;",
        "from B4 on, the released networks are wider and take larger images than the formula gives for",
        "their depth (B7: width 2.0 and 600 px against about 1.81 and 533 px) and cost up to 1.6x its",
        "MACs. Only the table reproduces the released networks; the formula is what",
        "`nas.scaling.compound` applies to any other base, a searched one included.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    for name, text in (
        ("baselines.md", baselines_table()),
        ("efficientnet_scaling.md", efficientnet_scaling_table()),
    ):
        (RESULTS / name).write_text(text)
        print(f"wrote {Path('results') / name}", file=sys.stderr)


if __name__ == "__main__":
    main()
