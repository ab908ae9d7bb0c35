"""The spec language: strict loading, exact round trips, and errors that name the field."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from nas import ArchSpec, SpecError, StageSpec, build_model, dump_spec, load_spec
from nas.blocks import MBConv, SqueezeExcite
from tests.strategies import arch_specs

BASE = """
resolution: 64
stem:
- {block: conv, out: 16, stride: 2}
stages:
- {block: mbconv, out: 24, stride: 2, kernel: 3}
- {block: mbconv, out: 24, repeats: 2, kernel: 5, se: {ratio: 0.25}}
"""


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arch_specs())
def test_dump_then_load_gives_an_identical_spec(spec: ArchSpec) -> None:
    text = dump_spec(spec)
    assert load_spec(text) == spec
    assert dump_spec(load_spec(text)) == text


def test_loads_a_file_and_a_mapping(tmp_path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(BASE)
    spec = load_spec(path)
    assert spec == load_spec(BASE) == load_spec(spec.to_data())
    assert spec.stages[1].block == MBConv(kernel=5, se=SqueezeExcite(ratio=0.25))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("kernel: 5", "kernel: 4"), "stages[1].kernel: expected an odd kernel size >= 1; got 4"),
        (("stride: 2, kernel: 3", "stride: 3, kernel: 3"), "stages[0].stride: expected one of 1, 2; got 3"),
        (("repeats: 2", "repeats: 0"), "stages[1].repeats: expected a value >= 1; got 0"),
        (("ratio: 0.25", "ratio: 1.5"), "stages[1].se.ratio: expected a value > 0.0 and <= 1.0; got 1.5"),
        (("kernel: 5", "kernel: 5, act: mish"), "stages[1].act: expected one of 'none', 'relu', 'relu6'"),
        (("kernel: 5", "kernal: 5"), "stages[1]: unknown key 'kernal' for block 'mbconv'"),
        (
            ("block: mbconv, out: 24, stride", "block: mbconv2, out: 24, stride"),
            "stages[0].block: unknown block",
        ),
        (
            ("{block: conv, out: 16, stride: 2}", "{block: conv, out: 16, stride: 2, kernel: 2}"),
            "stem[0].kernel: expected an odd kernel size >= 1; got 2",
        ),
        (
            ("{block: conv, out: 16, stride: 2}", "{block: conv, out: 16, stride: 2, groups: 2}"),
            "stem[0].groups: 3 channels are not divisible by groups (2)",
        ),
        (("out: 24, stride: 2", "out: 24.5, stride: 2"), "stages[0].out: expected an integer; got 24.5"),
        (
            ("resolution: 64", "resolution: 64\ncolour: red"),
            "unknown key 'colour'; expected one of stages, stem, head",
        ),
        (
            (
                "resolution: 64\nstem:\n- {block: conv, out: 16, stride: 2}",
                "resolution: 2\nstem:\n- {block: conv, out: 16, stride: 2, padding: 0}",
            ),
            "stem[0].stride: the feature map shrinks from 2x2 to 0x0 pixels at resolution 2",
        ),
    ],
)
def test_invalid_specs_name_the_field(edit: tuple[str, str], message: str) -> None:
    old, new = edit
    assert old in BASE
    with pytest.raises(SpecError) as err:
        load_spec(BASE.replace(old, new, 1))
    assert message in str(err.value)


def test_records_written_in_python_are_checked_the_same_way() -> None:
    with pytest.raises(SpecError, match=r"^kernel: expected an odd kernel size >= 1; got 4$"):
        MBConv(kernel=4)
    with pytest.raises(SpecError, match=r"^expand: expected a number; got '6'$"):
        MBConv(expand="6")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match=r"^out: block 'mbconv' needs its output channels$"):
        StageSpec(MBConv())
    assert MBConv(act="silu") == MBConv(act="swish")  # type: ignore[arg-type]


def test_yaml_errors_are_one_line() -> None:
    with pytest.raises(SpecError, match=r"^not valid YAML: "):
        load_spec("stages: [")
    with pytest.raises(SpecError, match=r"^expected a mapping; got list$"):
        load_spec("- 1\n- 2\n")
    with pytest.raises(SpecError, match="no spec file at"):
        load_spec("no/such/file.yaml")


def test_build_model_never_mutates_its_input() -> None:
    spec = load_spec(BASE)
    before = dump_spec(spec)
    build_model(spec, num_classes=7)
    assert dump_spec(spec) == before
    with pytest.raises(AttributeError):
        spec.resolution = 32  # type: ignore[misc]
