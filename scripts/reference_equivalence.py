"""Check that every zoo network with a reference computes the same function as that reference: copy the
reference's weights into our module and compare the logits, into results/reference_equivalence.md.

Equal parameter and MAC counts (scripts/measure_references.py) do not show that two networks are the
same: a misplaced activation, another batch-norm eps, symmetric instead of TensorFlow padding or a
different channel split leave the counts as they are and change every output. This script runs in the
scratch environment of measure_references.py, with this project installed there without its
dependencies (it needs only torch and PyYAML):

    .ref/bin/pip install --no-deps -e .
    .ref/bin/python scripts/reference_equivalence.py              # every reference
    .ref/bin/python scripts/reference_equivalence.py mixnet_m     # only these (the file is not written)

The weights are copied by :func:`nas.arch.copy_weights`, which pairs the two networks' layers in the
order the forward pass runs them (its docstring says how); every tensor of both networks must be paired
exactly once, or the network is reported as unmatched.
Before the copy the batch norms get random affine parameters and the statistics of the example batch (a
seeded batch of two images), so that a wrong ``eps`` or a missing norm shows in the logits while every
feature map stays of order one, and the fully connected layers get unit gain, so that the logits are of
order one too: an absolute tolerance then means the same for every network.
"""

from __future__ import annotations

import sys
from pathlib import Path

import timm
import torch
import torchvision
from measure_references import REFERENCES
from torch import nn
from torchvision import models as tvm

from nas import build_model, zoo
from nas.arch import WeightMismatch, copy_weights

OUT = Path(__file__).resolve().parent.parent / "results" / "reference_equivalence.md"
TOLERANCE = 1e-4  # float32, absolute, on the logits


def reference_model(name: str) -> nn.Module:
    library, ctor, kwargs, _ = REFERENCES[name]
    if library == "torchvision":
        return getattr(tvm, ctor)(weights=None, **kwargs)
    return timm.create_model(ctor, pretrained=False, **kwargs)


def randomise(model: nn.Module, x: torch.Tensor, generator: torch.Generator) -> None:
    """Batch norms away from their initial identity, with every feature map of order one: random affine
    parameters, and statistics measured on the example batch (random statistics let the activations of a
    deep network grow by orders of magnitude, where float32 rounding alone exceeds any absolute
    tolerance). Fully connected layers at unit gain, so that the logits are of order one too
    (torchvision initialises its classifiers at a standard deviation of 0.01: every logit nearly 0)."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in model.modules():
        if isinstance(m, nn.Linear):
            m.weight.data.copy_(torch.randn(m.weight.shape, generator=generator) / m.in_features**0.5)
    for m in norms:
        if m.affine:
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=generator) + 0.5)
            m.bias.data.copy_(torch.randn(m.bias.shape, generator=generator) * 0.1)
        m.reset_running_stats()
        m.momentum = None  # a cumulative average: one batch sets the statistics
        m.train()
    model(x)
    model.eval()


def compare(name: str) -> dict[str, object]:
    """Copy the reference's weights into our module; the maximum absolute difference of the logits."""
    torch.manual_seed(0)
    spec = zoo.get(name)
    ref, ours = reference_model(name).eval(), build_model(spec, num_classes=1000).eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        x = torch.randn(2, spec.in_channels, spec.resolution, spec.resolution, generator=generator)
        randomise(ref, x, generator)
        try:
            copied = copy_weights(ref, ours, x)
        except WeightMismatch as err:
            return {"network": name, "matched": False, "why": str(err)}
        expected, got = ref(x), ours(x)
    diff = (expected - got).abs().max().item()
    scale = expected.abs().max().item()
    return {"network": name, "matched": True, "max_abs_diff": diff, "logit_scale": scale, "tensors": copied}


def table(rows: list[dict[str, object]]) -> str:
    same = [r for r in rows if r["matched"] and r["max_abs_diff"] <= TOLERANCE]
    lines = [
        "# The zoo against its references, in function",
        "",
        "Regenerate with `python scripts/reference_equivalence.py` in the scratch environment of",
        "`scripts/measure_references.py`, with this project installed there (`pip install --no-deps -e .`).",
        f"torch {torch.__version__}, torchvision {torchvision.__version__}, timm {timm.__version__};",
        "float32 on an x86_64 CPU.",
        "",
        "Each network gets its reference's weights (batch norms first given random affine parameters and",
        "the statistics of the example batch, fully connected layers unit gain, so that a wrong eps shows",
        "and the logits are of order one); the logits of a seeded batch of two images at the spec's",
        f"resolution are compared. **{len(same)} of {len(rows)}** networks are identical in function within",
        f"{TOLERANCE:g} (maximum absolute difference of the logits).",
        "",
        "| network | reference | modules paired | max abs diff | largest logit | identical |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        library, ctor, _, _ = REFERENCES[str(r["network"])]
        ref = f"{library} `{ctor}`"
        if not r["matched"]:
            lines.append(f"| {r['network']} | {ref} | - | - | - | no: {r['why']} |")
            continue
        ok = "yes" if r["max_abs_diff"] <= TOLERANCE else "no"
        figures = f"{r['tensors']} | {r['max_abs_diff']:.2e} | {r['logit_scale']:.2f}"
        lines.append(f"| {r['network']} | {ref} | {figures} | {ok} |")
    return "\n".join(lines) + "\n"


def main(names: list[str]) -> int:
    unknown = sorted(set(names) - set(REFERENCES))
    if unknown:
        expected = ", ".join(REFERENCES)
        print(f"error: unknown reference {unknown[0]}; expected one of {expected}", file=sys.stderr)
        return 2
    available = set(zoo.names())
    rows = []
    for name in names or [n for n in REFERENCES if n in available]:
        row = compare(name)
        rows.append(row)
        shown = f"{row['max_abs_diff']:.2e}" if row["matched"] else f"unmatched: {row['why']}"
        print(f"{name:<26} {shown}", file=sys.stderr)
    identical = sum(bool(r["matched"]) and r["max_abs_diff"] <= TOLERANCE for r in rows)
    if not names:
        OUT.write_text(table(rows))
        print(f"wrote {OUT.name}: {identical} of {len(rows)} identical", file=sys.stderr)
    return int(identical < len(rows))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
