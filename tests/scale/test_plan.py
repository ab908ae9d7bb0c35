"""Reading a run's config: target= or phi=, the grid, the budget and the base, each checked at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from nas.errors import UsageError
from nas.scale import Plan, load_base, plan_from_config
from tests.scale.conftest import config


def plan(*overrides: str) -> Plan:
    """The plan of ``python -m nas.scale OVERRIDES``, from the config as plain data, as the command has it."""
    return plan_from_config(OmegaConf.to_container(config(*overrides), resolve=True))


def test_target_2x_and_phi_1_are_the_papers_step() -> None:
    by_target = plan("target=2x")
    by_phi = plan("phi=1")
    assert (by_target.constant, by_target.grid_phi) == (by_phi.constant, by_phi.grid_phi) == (2.0, 1.0)
    grid = ("grid.alpha=[2.0]", "grid.beta=[1.0]", "grid.gamma=[1.0,1.4]")
    four = plan("target=4x", *grid)
    assert (four.constant, four.grid_phi) == (4.0, 1.0)  # α·β²·γ² ≈ 4: 2 x 1.4^2 = 3.92
    assert plan("phi=2").grid_phi == 2.0  # still α·β²·γ² ≈ 2, trained at φ = 2


def test_the_default_grid_and_base() -> None:
    default = plan("target=2x")
    assert default.base.name == "efficientnet_b0" and default.grid_size == 27 and default.n_phi >= 1
    assert default.tolerance > 0 and default.budgets == ()
    assert default.seeds == 3  # every network trained three times: a paired interval needs more than one


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ((), "give target=2x"),
        (("target=2x", "phi=1"), "not both"),
        (("target=0.5x",), "target: expected a FLOP multiple above 1"),
        (("target=twice",), "target: expected a FLOP multiple above 1"),
        (("phi=0",), "phi: expected a number > 0"),
        (("target=2x", "grid.alpha=[0.9,1.2]"), "grid.alpha: expected a list of distinct numbers >= 1"),
        (("target=2x", "grid.beta=[]"), "grid.beta: expected a list"),
        (("target=2x", "grid.gamma=1.1"), "grid.gamma: expected a list"),
        (("target=2x", "grid.alpha=[1.2,1.2]"), "distinct"),
        (("target=2x", "tolerance=-1"), "tolerance: expected a number >= 0"),
        (("target=2x", "tolerance=0.01", "grid.alpha=[1.0]", "grid.beta=[1.0]"), "grid: no point has"),
        (("target=2x", "n_phi=0"), "n_phi: expected an integer >= 1"),
        (("target=2x", "seeds=0"), "seeds: expected an integer >= 1; got 0"),
        (("target=2x", "seeds=-2"), "seeds: expected an integer >= 1; got -2"),
        (("target=2x", "seeds=1.5"), "seeds: expected an integer >= 1; got 1.5"),
        (("target=2x", "seeds=three"), "seeds: expected an integer >= 1; got 'three'"),
        (("target=2x", "budget=300MFLOPs"), "budget: no φ >= 0 meets 300MFLOPs: the base efficientnet_b0"),
        (("target=2x", "budget=25ms"), "budget: nas.scale takes MAC and parameter budgets"),
        (("target=2x", "budget=lots"), "budget: cannot read"),
        (("target=2x", "base=efficientnet_b9"), "base: unknown network 'efficientnet_b9'"),
    ],
)
def test_bad_input_is_a_usage_error_naming_the_setting(overrides: tuple[str, ...], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace(".", r"\.")):
        plan(*overrides)


def test_a_base_file_is_read_and_a_bad_one_named(tmp_path: Path, tiny: Path) -> None:
    assert load_base(str(tiny)).name == "tiny"
    broken = tmp_path / "broken.yaml"
    broken.write_text("stages: [oops\n")
    with pytest.raises(UsageError, match=r"base: .*broken\.yaml: not valid YAML"):
        load_base(str(broken))
    with pytest.raises(UsageError, match=r"base: .*missing\.yaml"):
        load_base(str(tmp_path / "missing.yaml"))
