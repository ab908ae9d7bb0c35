"""The space language on small spaces, where every configuration can be enumerated."""

from __future__ import annotations

import optuna
import pytest
import yaml

from nas import SpecError, count_cost, spaces
from nas.errors import UsageError
from nas.spaces import SearchSpace
from nas.spaces._space import _replays

TINY = """
name: tiny
resolution: 32
shared: {act: [relu, hswish]}
scale: {width: [0.5, 1.0], depth: [1.0, 1.5], resolution: [1.0]}
stem: [{block: conv, out: 8, stride: 2, act: $act}]
stages:
  - {block: mbconv, out: [8], repeats: [0, 1], expand: [1, 3], se: [null, {ratio: 0.25, act: $act}],
     act: $act}
  - {block: mbconv, out: [16], repeats: [1, 2], stride: 2, per_layer: [expand], expand: [3, 6], act: $act}
  - block: [ghost_bottleneck, fire, separable]
    out: [24]
    ghost_bottleneck: {expand: [2, 3]}
    fire: {squeeze_ratio: [0.25], norm: true}
    separable: {kernel: [3], skip: true}
head: {conv: {out: 32, act: $act}}
"""


def tiny(**changes: object) -> SearchSpace:
    data = yaml.safe_load(TINY)
    data.update(changes)
    return SearchSpace.from_data(data)


def everything(space: SearchSpace) -> list[tuple[dict, object]]:
    """Every parameter assignment of the space and its network, by exhaustive replay of the decoder."""
    return list(_replays(lambda chooser: space._decode(chooser, "x")))


def test_size_counts_every_assignment() -> None:
    space = tiny()
    assert space.size() == len(everything(space))


def test_min_cost_is_the_exhaustive_minimum() -> None:
    space = tiny()
    specs = [spec for _, spec in everything(space)]
    for metric in ("macs", "params"):
        assert space.min_cost(metric, num_classes=10) == min(
            getattr(count_cost(s, num_classes=10), metric) for s in specs
        )


def test_every_assignment_encodes_to_the_same_network() -> None:
    space = tiny()
    for _, spec in everything(space)[::7]:
        again = space.decode(space.encode(spec), spec.name)
        assert count_cost(again) == count_cost(spec)
        assert again.to_yaml() == spec.to_yaml()


def test_decode_replays_sample() -> None:
    space = tiny()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        trial = study.ask()
        spec = space.sample(trial)
        study.tell(trial, 0.0)
        assert space.decode(trial.params, spec.name) == spec


def test_parameters_are_named_by_stage_layer_and_kind() -> None:
    names = set()
    for params, _ in everything(tiny()):
        names |= set(params)
    assert {
        "act",
        "width",
        "depth",
        "s0.repeats",
        "s0.se",
        "s1.l0.expand",
        "s1.l2.expand",
        "s2.block",
        "s2.ghost_bottleneck.expand",
    } <= names
    # A single option is fixed, not a parameter.
    assert not names & {"resolution", "s1.out", "s2.fire.squeeze_ratio", "s2.separable.kernel"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": 1}, "unknown key 'colour'"),
        ({"stages": []}, "stages: expected a list of at least one stage"),
        ({"stages": [{"block": "mbconv", "out": [], "stride": 1}]}, r"stages\[0\].out: empty choice list"),
        (
            {"stages": [{"block": "mbconv", "out": 8, "kernel": [3, 4]}]},
            r"stages\[0\].kernel: expected an odd kernel size >= 1; got 4",
        ),
        (
            {"stages": [{"block": "mbconv", "out": 8, "colour": [1]}]},
            r"stages\[0\]: unknown key 'colour' for block 'mbconv'",
        ),
        ({"stages": [{"block": "nope", "out": 8}]}, r"stages\[0\].block: unknown block kind 'nope'"),
        (
            {"stages": [{"block": "fire", "out": 8, "stride": 2}]},
            r"stages\[0\].stride: block 'fire' takes stride",
        ),
        (
            {"stages": [{"block": ["mbconv", "fire"], "out": 8, "kernel": [3]}]},
            "give options under each kind's name",
        ),
        ({"stages": [{"block": "mbconv", "out": 8, "act": "$colour"}]}, r"\$colour is used but not declared"),
        ({"stages": [{"block": "mbconv", "out": 8, "repeats": [-1, 1]}]}, r"repeats: expected integers >= 0"),
        ({"scale": {"width": [0.0]}}, r"scale.width: expected multipliers > 0"),
        ({"shared": {"act": [relu := "relu", relu]}}, r"shared.act: repeated option"),
        ({"shared": {"act": ["relu"], "unused": [1, 2]}}, r"shared.unused: declared but never used"),
        ({"stem": [{"block": "conv", "out": [8, 16]}]}, r"stem\[0\].out: expected an integer; got \[8, 16\]"),
    ],
)
def test_bad_spaces_name_the_path(change: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        tiny(**change)


def test_unknown_space_lists_the_spaces() -> None:
    with pytest.raises(
        UsageError, match="unknown space 'nope'; expected one of: families, mnas, mobilenetv3"
    ):
        spaces.load("nope")


def test_a_space_file_by_path(tmp_path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(TINY)
    assert spaces.load(str(path)).name == "tiny"
    path.write_text(TINY.replace("expand: [1, 3],", "expand: [1, 3], kernel: [3, 4],"))
    with pytest.raises(SpecError, match=r"mine.yaml stages\[0\].kernel"):
        spaces.load(str(path))
