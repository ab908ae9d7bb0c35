"""The zoo: every network equals its reference implementation to the parameter and the multiply-add."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from nas import build_model, count_cost, dump_spec, load_spec, measure_cost, zoo
from nas.blocks import Padding

ROOT = Path(__file__).resolve().parent.parent
# Measured from torchvision 0.29.1 and timm 1.0.31 by scripts/measure_references.py.
REFERENCES = yaml.safe_load((ROOT / "results" / "reference_costs.yaml").read_text())

NAMES = (
    "mobilenet_v1 mobilenet_v2 mobilenet_v3_large mobilenet_v3_small mnasnet_a1 mnasnet1_0 mnasnet0_5 "
    + " ".join(f"efficientnet_b{i}" for i in range(8))
    + " shufflenet_v1 shufflenet_v2_x0_5 shufflenet_v2_x1_0 shufflenet_v2_x1_5 shufflenet_v2_x2_0"
    " squeezenet1_0 squeezenet1_1 ghostnet xception resnet18 resnet50 resnext50_32x4d densenet121"
    " vovnet19_dw vgg16 alexnet googlenet mixnet_m mixnet_s mobilenetv3_large_100 mobilenetv4_conv_small"
    " mobilenetv4_conv_medium tf_efficientnet_lite0 tf_efficientnet_lite1 regnetx_002 regnety_008"
    " lcnet_075 lcnet_100 tinynet_a tinynet_c tf_efficientnetv2_b0"
    # derived from a base by scaling alone
    " mixnet_l mobilenetv3_large_075 tf_efficientnet_lite2 tf_efficientnet_lite4 lcnet_050 lcnet_150"
    " tinynet_b tinynet_d tinynet_e"
).split()


def test_the_zoo_has_every_network_of_the_literature() -> None:
    assert sorted(NAMES) == zoo.names()


def test_every_network_but_shufflenet_v1_has_a_reference() -> None:
    assert sorted(REFERENCES) == sorted(set(NAMES) - {"shufflenet_v1"})


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_equals_its_reference_exactly(name: str) -> None:
    spec, ref = zoo.get(name), REFERENCES[name]
    assert spec.resolution == ref["resolution"]
    cost = count_cost(spec)
    assert (cost.params, cost.macs) == (ref["params"], ref["macs"])
    with torch.device("meta"):  # shapes only: FlopCounterMode counts without computing anything
        model = build_model(spec)
    measured = measure_cost(model, (1, 3, spec.resolution, spec.resolution))
    assert (measured.params, measured.macs) == (ref["params"], ref["macs"])
    if spec.padding is Padding.TF_SAME:  # measured bytes also see PyTorch's padded copy of strided maps
        assert measured.activation_bytes > cost.activation_bytes
        measured = measured._replace(activation_bytes=cost.activation_bytes)
    assert measured == cost


@pytest.mark.parametrize("name", NAMES)
def test_yaml_round_trip(name: str) -> None:
    spec = zoo.get(name)
    assert spec.name == name
    assert load_spec(dump_spec(spec)) == spec


def test_shufflenet_v1_is_within_3_percent_of_the_paper() -> None:
    # Zhang et al. (2018), Table 2: ShuffleNet 1x (g = 3) has 140 MFLOPs (multiply-adds).
    assert count_cost(zoo.get("shufflenet_v1")).macs == pytest.approx(140e6, rel=0.03)


def test_unknown_names_list_the_zoo() -> None:
    with pytest.raises(ValueError, match="unknown network 'mobilenet_v9'; the zoo has: alexnet, densenet121"):
        zoo.get("mobilenet_v9")


def test_resolves_names_and_paths(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(dump_spec(zoo.get("mobilenet_v2")))
    assert zoo.resolve(str(path)) == zoo.resolve("mobilenet_v2")
    with pytest.raises(ValueError, match=r"mine2.yaml: no spec file at"):
        zoo.resolve(str(tmp_path / "mine2.yaml"))


def test_a_forward_pass_gives_logits() -> None:
    model = build_model(zoo.get("mobilenet_v3_small"), num_classes=10).eval()
    assert model(torch.randn(2, 3, 96, 96)).shape == (2, 10)
