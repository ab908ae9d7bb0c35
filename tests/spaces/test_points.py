"""The published networks that must be points of the shipped spaces: encode, replay through Optuna, and
decode to the reference network."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import torch
import yaml

from nas import build_model, count_cost, measure_cost, spaces, zoo
from nas.spaces import NotInSpace

ROOT = Path(__file__).resolve().parents[2]
REFERENCES = yaml.safe_load((ROOT / "results" / "reference_costs.yaml").read_text())

POINTS = [
    ("mnas", "mnasnet_a1"),
    ("mnas", "efficientnet_b0"),
    ("mobilenetv3", "mobilenet_v3_large"),
    ("mobilenetv3", "mobilenet_v3_small"),
]


def _layers(spec):
    return [
        (layer.block.canonical(layer.cin, layer.cout, layer.stride), layer.cin, layer.cout, layer.stride)
        for layer in spec.layers()
    ]


@pytest.mark.parametrize(("space_name", "arch"), POINTS)
def test_encodes_and_decodes_to_the_reference(space_name: str, arch: str) -> None:
    space, spec = spaces.load(space_name), zoo.get(arch)
    decoded = space.decode(space.encode(spec))
    ref = REFERENCES[arch]
    cost = count_cost(decoded)
    assert (cost.params, cost.macs) == (ref["params"], ref["macs"])
    assert _layers(decoded) == _layers(spec)
    with torch.device("meta"):
        measured = measure_cost(build_model(decoded), (1, 3, 224, 224))
    assert (measured.params, measured.macs) == (ref["params"], ref["macs"])


@pytest.mark.parametrize(("space_name", "arch"), POINTS)
def test_enqueued_parameters_replay_through_optuna(space_name: str, arch: str) -> None:
    space, spec = spaces.load(space_name), zoo.get(arch)
    params = space.encode(spec)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.enqueue_trial(params)
    trial = study.ask()
    sampled = space.sample(trial)
    assert trial.params == params  # names and values exactly as sample suggests them
    assert count_cost(sampled) == count_cost(spec)


def test_a_network_outside_the_space_is_refused_saying_where() -> None:
    with pytest.raises(
        NotInSpace, match=r"mobilenet_v2 is not a point of space 'mnas': .*layer 0 \(conv 3->32"
    ):
        spaces.load("mnas").encode(zoo.get("mobilenet_v2"))
    small = zoo.get("mobilenet_v3_small")
    with pytest.raises(NotInSpace, match="resolution 192"):
        spaces.load("mobilenetv3").encode(small.replace(resolution=192))


def test_mnasnet_a1_and_efficientnet_b0_differ_in_the_choices_the_paper_names() -> None:
    space = spaces.load("mnas")
    a1, b0 = space.encode(zoo.get("mnasnet_a1")), space.encode(zoo.get("efficientnet_b0"))
    differ = {k for k in a1 if a1[k] != b0[k]}
    assert (a1["act"], b0["act"]) == ("relu", "swish")
    assert {"s2.repeats", "s3.repeats", "s5.out", "s2.expand"} <= differ
