"""Measure the reference implementations that the zoo must equal, into results/reference_costs.yaml.

Run it in a scratch environment that has torchvision and timm (neither is a dependency):

    python3.11 -m venv .ref && .ref/bin/pip install torch==2.14.1 torchvision==0.29.1 timm==1.0.31
    .ref/bin/python scripts/measure_references.py            # every reference
    .ref/bin/python scripts/measure_references.py mixnet_m   # only these; the others stay as they are

scripts/reference_equivalence.py then checks, in the same environment, that each network computes the
same function as its reference (not only the same counts).

Parameters are ``sum(p.numel())``; MACs are ``FlopCounterMode`` FLOPs / 2, batch 1, eval mode, at the
resolution of our spec (the paper's). It imports nothing from this project, so that the figures it
writes are independent of the code they check.
"""

from __future__ import annotations

import sys
from pathlib import Path

import timm
import torch
import torchvision
import yaml
from torch.utils.flop_counter import FlopCounterMode
from torchvision import models as tvm

OUT = Path(__file__).resolve().parent.parent / "results" / "reference_costs.yaml"

# zoo name -> (library, constructor name, keyword arguments, resolution)
REFERENCES: dict[str, tuple[str, str, dict[str, object], int]] = {
    **{
        name: ("torchvision", name, {}, 224)
        for name in [
            "mobilenet_v2",
            "mobilenet_v3_large",
            "mobilenet_v3_small",
            "mnasnet1_0",
            "mnasnet0_5",
            "shufflenet_v2_x0_5",
            "shufflenet_v2_x1_0",
            "shufflenet_v2_x1_5",
            "shufflenet_v2_x2_0",
            "squeezenet1_0",
            "squeezenet1_1",
            "resnet18",
            "resnet50",
            "resnext50_32x4d",
            "densenet121",
            "vgg16",
            "alexnet",
        ]
    },
    **{
        f"efficientnet_b{i}": ("torchvision", f"efficientnet_b{i}", {}, r)
        for i, r in enumerate((224, 240, 260, 300, 380, 456, 528, 600))
    },
    "googlenet": ("torchvision", "googlenet", {"aux_logits": False, "init_weights": False}, 224),
    "mobilenet_v1": ("timm", "mobilenetv1_100", {}, 224),
    "mnasnet_a1": ("timm", "semnasnet_100", {}, 224),
    "ghostnet": ("timm", "ghostnet_100", {}, 224),
    "xception": ("timm", "legacy_xception", {}, 299),
    "vovnet19_dw": ("timm", "ese_vovnet19b_dw", {}, 224),
    "mixnet_m": ("timm", "mixnet_m", {}, 224),
    # Each at timm's own input size (its pretrained config), the resolution its paper evaluates at.
    **{
        name: ("timm", name, {}, resolution)
        for name, resolution in [
            ("mixnet_s", 224),
            ("mobilenetv3_large_100", 224),
            ("mobilenetv4_conv_small", 224),
            ("mobilenetv4_conv_medium", 256),
            ("tf_efficientnet_lite0", 224),
            ("tf_efficientnet_lite1", 240),
            ("regnetx_002", 224),
            ("regnety_008", 224),
            ("lcnet_075", 224),
            ("lcnet_100", 224),
            ("tinynet_a", 192),
            ("tinynet_c", 184),
            ("tf_efficientnetv2_b0", 192),
            # Variants the zoo derives from a base by nas.scaling alone (a scaled: file).
            ("mixnet_l", 224),
            ("mobilenetv3_large_075", 224),
            ("tf_efficientnet_lite2", 260),
            ("tf_efficientnet_lite4", 380),
            ("lcnet_050", 224),
            ("lcnet_150", 224),
            ("tinynet_b", 188),
            ("tinynet_d", 152),
            ("tinynet_e", 106),
        ]
    },
}


def measure(model: torch.nn.Module, resolution: int) -> tuple[int, int]:
    model.eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(torch.zeros(1, 3, resolution, resolution))
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops() // 2


def main(names: list[str]) -> None:
    """Measure ``names`` (all of REFERENCES when none are given) into the file, keeping the other entries
    and the header as they are when only some are measured."""
    unknown = sorted(set(names) - set(REFERENCES))
    if unknown:
        sys.exit(f"unknown reference {unknown[0]}; expected one of {', '.join(REFERENCES)}")
    versions = {"torchvision": torchvision.__version__, "timm": timm.__version__}
    header = f"# Written by scripts/measure_references.py (torch {torch.__version__}); do not edit.\n"
    results = {}
    if names and OUT.exists():
        text = OUT.read_text()
        header, results = text[: text.index("\n") + 1], yaml.safe_load(text)
    for name in names or REFERENCES:
        library, ctor, kwargs, resolution = REFERENCES[name]
        if library == "torchvision":
            model = getattr(tvm, ctor)(weights=None, **kwargs)
        else:
            model = timm.create_model(ctor, pretrained=False, **kwargs)
        params, macs = measure(model, resolution)
        call = f"{ctor}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
        results[name] = {
            "reference": f"{library} {versions[library]} {call}",
            "resolution": resolution,
            "params": params,
            "macs": macs,
        }
        print(f"{name:<22} {params:>12,} {macs:>16,}", file=sys.stderr)
    OUT.write_text(header + yaml.safe_dump(results, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
