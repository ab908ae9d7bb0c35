"""The weight-sharing supernet: subnets extracted exactly, trained with the sandwich rule, resumed,
recalibrated, and refused where they would mean nothing."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from nas import build_model, count_cost, dump_spec, measure_cost, zoo
from nas.cli import compose
from nas.errors import SpecError
from nas.spaces import load as load_space
from nas.supernet import (
    Extreme,
    Phase,
    Recipe,
    Setting,
    Supernet,
    extract,
    inherited_accuracy,
    load,
    run,
    sandwich,
    sort_channels,
)
from nas.training import ProxySettings

RESOLUTION = 32
SPACE = Path(__file__).with_name("tiny.yaml")
# A supernet of a small space on digits at 16 px, at the search's proxy: the trainings take seconds.
TINY = [
    f"space={SPACE}",
    "data=digits",
    "data.resolution=16",
    "data.limit_train=512",
    "data.limit_val=128",
    "data.batch_size=32",
    "data.augment=false",
    "recipe.calibration_batches=2",
]


def exact(space: str) -> Supernet:
    """A supernet of the networks as specified (width 1, the specs' own stem), at 32 px."""
    return Supernet(load_space(space), Setting(ProxySettings(), 3, 10, RESOLUTION))


@pytest.fixture(scope="module")
def mnas() -> Supernet:
    return exact("mnas").eval()


@pytest.fixture(scope="module")
def mobilenetv3() -> Supernet:
    return exact("mobilenetv3").eval()


def check_extraction(supernet: Supernet, spec, params) -> None:
    subnet = supernet.subnet(params, spec)
    model = supernet.extract(subnet).eval()
    x = torch.randn(2, 3, RESOLUTION, RESOLUTION)
    with torch.no_grad():
        assert torch.allclose(model(x), supernet(x, subnet), atol=1e-5)
    expected = count_cost(spec.replace(resolution=RESOLUTION), num_classes=10)
    assert sum(p.numel() for p in model.parameters()) == expected.params
    assert measure_cost(model, (1, 3, RESOLUTION, RESOLUTION)).macs == expected.macs
    fresh = build_model(spec.replace(resolution=RESOLUTION), num_classes=10)
    assert not fresh.load_state_dict(model.state_dict(), strict=True).missing_keys


@pytest.mark.parametrize("name", ["mnasnet_a1", "efficientnet_b0"])
def test_the_papers_networks_are_subnets_of_the_mnas_supernet(mnas: Supernet, name: str) -> None:
    spec = zoo.get(name)
    check_extraction(mnas, spec, mnas.space.encode(spec))


@pytest.mark.parametrize("name", ["mobilenet_v3_large", "mobilenet_v3_small"])
def test_mobilenetv3_networks_are_subnets_of_their_supernet(mobilenetv3: Supernet, name: str) -> None:
    spec = zoo.get(name)
    check_extraction(mobilenetv3, spec, mobilenetv3.space.encode(spec))


@pytest.mark.parametrize("seed", range(4))
def test_any_drawn_network_is_extracted_exactly(mnas: Supernet, seed: int) -> None:
    rng = random.Random(seed)
    params = mnas.space.draw_params(rng if seed < 2 else Extreme(seed == 2, rng))
    check_extraction(mnas, mnas.space.decode(params), params)


def test_a_smaller_layer_is_a_slice_of_the_shared_weights(mnas: Supernet) -> None:
    """Elastic kernel, expansion and width: the 3x3 kernel is the centre of the 5x5 one, and a layer's
    expanded channels are the leading ones of the place's."""
    rng = random.Random(0)
    params = mnas.space.draw_params(rng)
    small = {**params, "s3.kernel": 3, "s3.expand": 3}
    large = {**params, "s3.kernel": 5, "s3.expand": 6}
    first = next(i for i, slot in enumerate(mnas.subnet(small).slots) if slot[:2] == ("stages", 3))
    dw_small = dict(mnas.extract(mnas.subnet(small)).named_parameters())
    dw_large = dict(mnas.extract(mnas.subnet(large)).named_parameters())
    layer = f"stages.{_stage_of(mnas, small, first)}"
    key = next(k for k in dw_small if k.startswith(layer) and k.endswith("1.0.weight"))
    a, b = dw_small[key], dw_large[key]
    assert a.shape[2:] == (3, 3) and b.shape[2:] == (5, 5) and a.shape[0] * 2 == b.shape[0]
    assert torch.equal(a, b[: a.shape[0], :, 1:4, 1:4])


def _stage_of(supernet: Supernet, params, position: int) -> str:
    """The module path (``3.0``) of the layer at ``position`` in the built network."""
    spec = supernet.subnet(params).spec
    layer = spec.layers()[position]
    if layer.group == "stem":
        raise AssertionError("a stem layer")
    return f"{layer.stage}.{layer.repeat}"


def test_sorting_the_expanded_channels_keeps_the_largest_network_and_orders_by_importance() -> None:
    # In training mode: batch statistics, so that the untrained network's signal reaches the output.
    supernet = Supernet(load_space("mnas"), Setting(ProxySettings(0.25, 1), 3, 10, 16)).train()
    torch.manual_seed(0)
    for p in supernet.parameters():  # not at initialisation, where importances tie in distribution
        p.data.add_(torch.randn_like(p) * 0.1)
    rng = random.Random(0)
    largest = without_dropout(supernet.subnet(supernet.space.draw_params(Extreme(True, rng))))
    smaller = without_dropout(supernet.subnet({**largest.params, "s3.expand": 3}))
    x = torch.randn(8, 3, 16, 16)
    with torch.no_grad():
        before, before_small = supernet(x, largest), supernet(x, smaller)
        assert sort_channels(supernet) > 0
        assert torch.allclose(supernet(x, largest), before, rtol=1e-3, atol=1e-3)  # the same, reordered
        assert not torch.allclose(supernet(x, smaller), before_small, rtol=1e-3, atol=1e-3)  # best half kept
    projection = supernet.stages[3][0].paths["expanded"].get("3.0.weight")
    importance = projection.abs().sum(dim=(0, 2, 3))
    assert torch.all(importance[:-1] >= importance[1:])


def without_dropout(subnet):
    return subnet._replace(spec=subnet.spec.replace(head=subnet.spec.head.without_dropout()))


# -- progressive shrinking ------------------------------------------------------------------------------

SHRINKING = Recipe(
    phases=(Phase(1), Phase(1, ("kernel", "repeats")), Phase(2, ("kernel", "repeats", "expand")))
)


def test_a_phase_varies_only_its_options_and_a_fixed_phase_trains_the_largest_alone() -> None:
    space = load_space(str(SPACE))
    assert len(sandwich(space, random.Random(0), 2, frozenset())) == 1
    elastic = frozenset({"kernel", "repeats"})
    for seed in range(20):
        largest, *others = sandwich(space, random.Random(seed), 2, elastic)
        assert len({str(p) for p in [largest, *others]}) == 1 + len(others)  # no subnet twice
        for params in others:
            changed = {k.rsplit(".", 1)[-1] for k in params if params[k] != largest[k]}
            assert changed and changed <= elastic
    everything = sandwich(space, random.Random(1), 2)
    assert {k for k in everything[1] if everything[1][k] != everything[0][k]} >= {"s0.expand", "s0.out"}


def test_phases_follow_the_epochs_and_channels_are_sorted_once_expand_shrinks() -> None:
    assert [SHRINKING.phase(e) for e in (0, 1, 2, 5)] == [
        frozenset(),
        frozenset({"kernel", "repeats"}),
        frozenset({"kernel", "repeats", "expand"}),
        frozenset({"kernel", "repeats", "expand"}),  # the last phase lasts until the end
    ]
    assert [SHRINKING.sorts_at(e) for e in range(5)] == [False, False, True, False, False]
    assert [Recipe().sorts_at(e) for e in range(3)] == [False, True, True]  # no phases: every epoch
    assert Recipe().phase(3) is None
    assert not SHRINKING.replace(sort_channels=False).sorts_at(2)


def test_a_phase_naming_an_option_the_space_lacks_is_refused_with_its_path() -> None:
    recipe = Recipe(phases=(Phase(1, ("kernel",)), Phase(1, ("kernel", "widht"))))
    with pytest.raises(SpecError, match=r"recipe.phases\[1\].elastic: 'tiny_mbconv' has no option 'widht'"):
        recipe.check_options(load_space(str(SPACE)))
    with pytest.raises(SpecError, match="epochs"):
        Recipe.from_data({"phases": [{"epochs": 0}]}, "recipe")


def test_families_is_refused_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nas.supernet", "train", "space=families", f"hydra.run.dir={tmp_path}"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr
    assert "weights are not shared across block families" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_no_command_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nas.supernet"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "error: expected a command, one of: train; got nothing"


# -- training ---------------------------------------------------------------------------------------------


def supernet_config(*overrides: str):
    return compose("supernet", overrides=[*TINY, "trainer.enable_progress_bar=false", *overrides])


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small supernet trained for 6 epochs on digits; its run directory."""
    run_dir = tmp_path_factory.mktemp("supernet")
    run_small(supernet_config("trainer.max_epochs=6", "optim.lr=0.1"), run_dir)
    return run_dir


def run_small(config, run_dir: Path) -> dict:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small convolutions: a second thread costs more than it gains
    try:
        return run(config, run_dir)
    finally:
        torch.set_num_threads(threads)


def test_a_tiny_supernet_learns_and_records_what_it_was_trained_for(trained: Path) -> None:
    metrics = (trained / "metrics.json").read_text()
    assert '"val_acc_largest"' in metrics and '"val_acc_smallest"' in metrics
    module = torch.load(trained / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    record = module["hyper_parameters"]
    assert record["space_name"] == "tiny_mbconv"
    assert record["fingerprint"] == load_space(str(SPACE)).fingerprint()
    assert record["data"]["dataset"] == "digits" and record["setting"]["resolution"] == 16
    assert record["recipe"]["random"] == 2 and record["optim"]["lr"] == 0.1
    lines = (trained / "csv" / "metrics.csv").read_text().splitlines()
    header = lines[0].split(",")
    largest = [
        float(r.split(",")[header.index("val_acc_largest")])
        for r in lines[1:]
        if r.split(",")[header.index("val_acc_largest")]
    ]
    assert largest[-1] > 0.5  # digits: chance is 0.1
    assert (trained / "tensorboard").is_dir()


def test_training_resumes_from_its_checkpoint(trained: Path, tmp_path: Path) -> None:
    last = trained / "checkpoints" / "last.ckpt"
    metrics = run(supernet_config("trainer.max_epochs=7", "optim.lr=0.1", f"ckpt_path={last}"), tmp_path)
    assert metrics["epochs"] == 7
    steps = [int(r.split(",")[1]) for r in (tmp_path / "csv" / "metrics.csv").read_text().splitlines()[1:]]
    assert min(steps) >= 6 * 16  # the resumed run starts after the 6 epochs (16 steps each) already done


def test_a_shrinking_run_trains_the_largest_alone_first_then_more_subnets(tmp_path: Path) -> None:
    phases = "[{epochs:1,elastic:[]},{epochs:1,elastic:[kernel,expand,out]}]"
    config = supernet_config("trainer.max_epochs=2", "trainer.log_every_n_steps=4", f"recipe.phases={phases}")
    run_small(config, tmp_path)
    lines = (tmp_path / "csv" / "metrics.csv").read_text().splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, r.split(","), strict=True)) for r in lines[1:]]
    subnets = {(int(r["epoch"]), float(r["train_subnets"])) for r in rows if r.get("train_subnets")}
    assert {n for e, n in subnets if e == 0} == {1.0}
    assert min(n for e, n in subnets if e == 1) > 1.0


def test_recalibration_repairs_batch_norm_statistics(trained: Path) -> None:
    supernet = load(trained / "checkpoints" / "last.ckpt")
    spec = supernet.space.decode(supernet.space.draw_params(Extreme(True, random.Random(0))))
    model = extract(supernet, spec)
    from nas.data import DigitsDataModule

    data = DigitsDataModule(
        resolution=16, limit_train=512, limit_val=128, batch_size=32, augment=False, seed=0
    )
    data.setup("fit")
    images, labels = zip(*data.val_dataloader(), strict=True)
    calibration = tuple(x for x, _ in data.train_dataloader())[:4]
    labels = torch.cat(labels)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in norms:  # statistics that fit no subnet: what the shared running averages are
        m.running_mean.fill_(3.0)
        m.running_var.fill_(0.01)
    with torch.no_grad():
        model.eval()
        stale = float((torch.cat([model(x).argmax(1) for x in images]) == labels).float().mean())
    accuracy = inherited_accuracy(model, calibration, images, labels)
    assert not torch.all(norms[0].running_mean == 3.0)
    assert accuracy > stale + 0.3, (stale, accuracy)


# -- using a trained supernet -------------------------------------------------------------------------------


def search_config(tmp_path: Path, ckpt: Path | str, *overrides: str):
    return compose(
        "search",
        overrides=[
            *TINY[:-1],
            "budget=null",
            "workers=1",
            "evaluator=supernet",
            f"supernet.ckpt={ckpt}",
            "supernet.calibration_batches=2",
            f"storage=sqlite:///{tmp_path / 'study.db'}",
            *overrides,
        ],
    )


def test_a_search_judges_candidates_by_inherited_weights(trained: Path, tmp_path: Path) -> None:
    from nas.search import run as search

    search(search_config(tmp_path, trained / "checkpoints" / "last.ckpt", "n_trials=6"), tmp_path)
    rows = (tmp_path / "trials.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert len(rows) == 7 and "val_acc" in header
    accuracies = [
        float(r.split(",")[header.index("val_acc")])
        for r in rows[1:]
        if r.split(",")[header.index("val_acc")]
    ]
    assert len(accuracies) >= 4 and all(0.0 <= a <= 1.0 for a in accuracies)
    assert max(accuracies) > 0.3  # inherited weights know the digits: chance is 0.1
    assert '"evaluator": "supernet"' in (tmp_path / "summary.md").read_text()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["space=mnas"], "was trained for space 'tiny_mbconv'"),
        (["data.resolution=24"], "was trained on resolution 16; this search's data has 24"),
        (["proxy.width=0.5"], "was trained for proxy"),
    ],
)
def test_a_supernet_for_another_task_is_refused_before_the_first_trial(
    trained: Path, tmp_path: Path, capsys, overrides: list[str], message: str
) -> None:
    from nas.search import run as search

    with pytest.raises(SystemExit) as info:
        search(search_config(tmp_path, trained / "checkpoints" / "last.ckpt", *overrides), tmp_path)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "study.db").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "evaluator=supernet needs a checkpoint"),
        (b"not a checkpoint", "is not a readable checkpoint"),
    ],
)
def test_a_missing_or_corrupt_checkpoint_is_one_line(tmp_path: Path, capsys, content, message: str) -> None:
    from nas.search import run as search

    ckpt = "null"
    if content is not None:
        (tmp_path / "bad.ckpt").write_bytes(content)
        ckpt = str(tmp_path / "bad.ckpt")
    with pytest.raises(SystemExit) as info:
        search(search_config(tmp_path, ckpt), tmp_path)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_a_subnet_fine_tunes_from_its_inherited_weights(trained: Path, tmp_path: Path) -> None:
    from nas.train import run as train

    ckpt = trained / "checkpoints" / "last.ckpt"
    supernet = load(ckpt)
    spec = supernet.space.decode(supernet.space.draw_params(Extreme(True, random.Random(0))))
    arch = tmp_path / "largest.yaml"
    arch.write_text(dump_spec(spec))
    data = [o for o in TINY if o.startswith("data")]
    cfg = compose(
        "train",
        overrides=[*data, "~arch", f"+arch_file={arch}", f"init={ckpt}", "trainer.max_epochs=1",
                   "optim.lr=1e-9", "optim.warmup_epochs=0", "trainer.enable_progress_bar=false"],
    )  # fmt: skip
    metrics = train(cfg, tmp_path)
    assert metrics["evaluation"]["init"] == str(ckpt) and metrics["evaluation"]["width"] == 0.25
    inherited = extract(supernet, spec).state_dict()
    tuned = torch.load(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    weights = {k.removeprefix("model."): v for k, v in tuned["state_dict"].items() if k.startswith("model.")}
    convs = [k for k, v in inherited.items() if v.dim() == 4]
    assert convs and all(torch.allclose(weights[k], inherited[k], atol=1e-6) for k in convs)
    assert metrics["val_acc"] > 0.3  # it starts where the supernet left it, not from scratch
