"""What a table is keyed by: a layer in canonical form at its input shape, or a head; and the parts a
space can produce, enumerated without missing any that a sampled network contains."""

from __future__ import annotations

import random

import pytest

from nas import count_cost, load_spec, spaces
from nas.latency import network_parts
from nas.latency._parts import space_parts

MBV3_LAYER = (
    "in_channels: 80\nresolution: 56\nstages:\n- {block: mbconv, out: 80, %s, kernel: 3, act: hswish}\n"
)


def test_a_network_is_its_layers_and_its_head() -> None:
    spec = load_spec(
        "resolution: 32\nstem: [{block: conv, out: 8, stride: 2}]\n"
        "stages:\n- {block: mbconv, out: 16, repeats: 2, stride: 2}\nhead: {conv: {out: 64}}\n"
    )
    parts = network_parts(spec, num_classes=10)
    assert [p.key.split()[0] for p in parts] == ["conv", "mbconv", "mbconv", "head"]
    assert [tuple(p.x) for p in parts] == [(3, 32, 32), (8, 16, 16), (16, 8, 8), (16, 8, 8)]
    assert parts[1].key != parts[2].key  # same block, other input and stride
    assert "classes=10" in parts[-1].key
    params = sum(sum(q.numel() for q in p.module().parameters()) for p in parts)
    assert params == count_cost(spec, num_classes=10).params  # the parts are the whole network


def test_equal_modules_share_a_key_and_training_settings_are_ignored() -> None:
    # MobileNetV3's 184 channels are 80 x 2.3 after rounding: one module, two ways to write it.
    by_mid = network_parts(load_spec(MBV3_LAYER % "mid: 184"))
    by_ratio = network_parts(load_spec(MBV3_LAYER % "expand: 2.3"))
    assert by_mid[0].key == by_ratio[0].key
    wider = network_parts(load_spec(MBV3_LAYER % "mid: 192"))
    assert wider[0].key != by_mid[0].key
    dropped = load_spec((MBV3_LAYER % "mid: 184") + "drop_path: 0.2\nhead: {dropout: 0.5}\n")
    assert [p.key for p in network_parts(dropped)] == [p.key for p in by_mid]


@pytest.mark.parametrize("name", ["mnas", "mobilenetv3", "families"])
def test_the_space_enumeration_covers_every_sampled_network(name: str) -> None:
    space = spaces.load(name)
    layers, heads = space.layer_inputs()
    keys = {p.key for p in space_parts(layers, heads, 1000)}
    rng = random.Random(7)
    for _ in range(60):
        spec = space.draw(rng)
        missing = [p.key for p in network_parts(spec) if p.key not in keys]
        assert not missing, f"{spec.name}: {missing[:2]}"


def test_the_enumeration_is_exact_on_a_small_space(tiny_space) -> None:
    """Every choice of the tiny space drawn many times reaches exactly the enumerated parts."""
    layers, heads = tiny_space.layer_inputs()
    enumerated = {p.key for p in space_parts(layers, heads, 1000)}
    rng = random.Random(0)
    seen = {p.key for _ in range(600) for p in network_parts(tiny_space.draw(rng))}
    assert seen == enumerated
