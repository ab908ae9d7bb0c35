"""The short-run aids of the training recipe: zero-init of residual branches, precise BN, the weights'
EMA, AdamW, and batch-norm momentum, each on tiny networks and in-memory data."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from nas import SpecError, build_model, load_spec, zoo
from nas.training import ImageClassifier, OptimSettings, fold_batch_norm
from nas.training._module import recalibrate_batch_norm, zero_init_residual
from tests.training.test_module import TINY, loader, trainer

RESIDUAL = """
resolution: 16
stem:
- {block: conv, out: 8, stride: 2}
stages:
- {block: mbconv, out: 8, expand: 2.0, repeats: 2}
- {block: mbconv, out: 16, stride: 2}
head: {conv: {out: 16}}
"""


def test_zero_init_makes_every_residual_block_the_identity() -> None:
    model = build_model(load_spec(RESIDUAL), 4).eval()
    assert zero_init_residual(model) == 2  # the two stride-1 blocks of 8 channels; not the strided one
    block = model.stages[0][0]
    x = torch.randn(2, 8, 8, 8)
    assert torch.equal(block(x), x)
    assert zero_init_residual(build_model(zoo.get("resnet18"), 10)) == 8  # ResNet's own residual units


def test_the_module_applies_zero_init_and_bn_momentum_when_asked() -> None:
    plain = ImageClassifier(RESIDUAL, 4, {})
    tuned = ImageClassifier(RESIDUAL, 4, {"zero_init_residual": True, "bn_momentum": 0.3})
    norms = [m for m in tuned.model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert {m.momentum for m in norms} == {0.3}
    assert sum(float(m.weight.abs().sum()) == 0 for m in norms) == 2
    assert all(
        float(m.weight.abs().sum()) > 0 for m in plain.model.modules() if isinstance(m, nn.BatchNorm2d)
    )


def test_recalibration_gives_the_plain_average_of_the_batch_statistics() -> None:
    model = nn.Sequential(nn.BatchNorm2d(3))
    batches = [(torch.randn(4, 3, 2, 2) * (i + 1) + i, torch.zeros(4)) for i in range(3)]
    model[0].running_mean.fill_(100.0)
    recalibrate_batch_norm(model.eval(), batches, batches=2)
    expected = torch.stack([b[0].mean((0, 2, 3)) for b in batches[:2]]).mean(0)
    assert torch.allclose(model[0].running_mean, expected, atol=1e-6)
    assert model[0].momentum == 0.1 and not model.training  # both restored


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "efficientnet_b0", "resnet18"])
def test_folding_batch_norm_keeps_the_outputs_and_leaves_no_norm_after_a_conv(name: str) -> None:
    torch.manual_seed(0)
    model = build_model(zoo.get(name), 10)
    with torch.no_grad():  # statistics and affine parameters far from the identity, as after training
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.normal_(1, 0.3)
                m.bias.normal_(0, 0.3)
    model.eval()
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        before = model(x)
    norms = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    folded = fold_batch_norm(model)
    with torch.no_grad():
        after = model(x)
    assert folded > 0 and sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == norms - folded
    assert torch.allclose(before, after, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="training mode"):
        fold_batch_norm(build_model(zoo.get(name), 10).train())


def test_recalibration_runs_before_each_validation_of_a_fit() -> None:
    module = ImageClassifier(TINY, 4, {"bn_recalibration": 2})
    calls = []
    original = module.on_validation_epoch_start

    def spy() -> None:
        before = module.model.stem[0][1].num_batches_tracked.item()
        original()
        calls.append((before, module.model.stem[0][1].num_batches_tracked.item()))

    module.on_validation_epoch_start = spy  # type: ignore[method-assign]
    data = L.LightningDataModule.from_datasets(loader().dataset, loader().dataset, batch_size=8)
    trainer(max_epochs=2, num_sanity_val_steps=0).fit(module, datamodule=data)
    assert [after for _, after in calls] == [2, 2]  # two batches counted anew, each epoch


def test_ema_weights_are_what_validation_scores() -> None:
    module = ImageClassifier(TINY, 4, {"ema_decay": 0.5, "lr": 0.5})
    trainer(max_epochs=1).fit(module, loader(), loader())
    assert module.ema is not None and int(module.ema.n_averaged) == 4  # one update per step
    x = torch.randn(3, 3, 16, 16)
    module.eval()
    assert torch.allclose(module.evaluated(x), module.ema(x))
    assert not torch.allclose(module.ema(x), module(x))  # the average lags the weights


def test_adamw_is_built_with_its_betas_and_decoupled_decay() -> None:
    module = ImageClassifier(
        TINY, 4, {"name": "adamw", "lr": 1e-3, "betas": [0.8, 0.99], "weight_decay": 0.05}
    )
    module.trainer = trainer()  # type: ignore[assignment]
    data = DataLoader(
        TensorDataset(torch.zeros(8, 3, 16, 16), torch.zeros(8, dtype=torch.long)), batch_size=8
    )
    module.trainer.fit(module, data)
    optimizer = module.trainer.optimizers[0]
    assert isinstance(optimizer, torch.optim.AdamW) and optimizer.defaults["betas"] == (0.8, 0.99)
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.05, 0.0]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ema_decay", 1.0, "ema_decay"),
        ("bn_momentum", 0.0, "bn_momentum"),
        ("bn_recalibration", -1, "bn_recalibration"),
        ("betas", [0.9], "betas"),
    ],
)
def test_bad_recipe_values_name_their_field(field: str, value: object, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        OptimSettings.from_data({field: value}, "optim")
