"""The Lightning module and its settings, on tiny networks and in-memory data."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from nas import SpecError, load_spec
from nas.training import Diverged, ImageClassifier, OptimSettings, ProxySettings, proxy_spec, warmup_cosine
from nas.training._module import _weight_decay_groups

TINY = """
resolution: 16
stem:
- {block: conv, out: 8, stride: 2}
stages:
- {block: mbconv, out: 8, expand: 2.0, se: {ratio: 0.25}}
head: {conv: {out: 16}, dropout: 0.1}
"""


def loader(n: int = 32, scale: float = 1.0) -> DataLoader:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, 16, 16, generator=g) * scale
    y = torch.randint(0, 4, (n,), generator=g)
    return DataLoader(TensorDataset(x, y), batch_size=8)


def trainer(**kwargs: object) -> L.Trainer:
    options = {"max_epochs": 1, "logger": False, "enable_checkpointing": False}
    options |= {"enable_progress_bar": False, "enable_model_summary": False}
    return L.Trainer(**(options | kwargs))


def test_weight_decay_skips_biases_and_norm_parameters() -> None:
    model = ImageClassifier(TINY, 4, {}).model
    decay, no_decay = _weight_decay_groups(model)
    assert all(p.dim() == 4 or p.dim() == 2 for p in decay)
    assert all(p.dim() == 1 for p in no_decay)
    assert len(decay) + len(no_decay) == len(list(model.parameters()))
    bn = next(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert any(p is bn.weight for p in no_decay)


def test_warmup_then_cosine() -> None:
    f = warmup_cosine(total_steps=100, warmup_steps=10, floor=0.1)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(10) == pytest.approx(1.0)
    assert f(55) == pytest.approx(0.1 + 0.9 * 0.5)
    assert f(100) == pytest.approx(0.1)
    assert all(f(s) >= f(s + 1) for s in range(10, 100))


def test_training_logs_top1_and_top5() -> None:
    module = ImageClassifier(TINY, 4, {"lr": 0.05, "warmup_epochs": 0.0})
    t = trainer(max_epochs=3)
    t.fit(module, loader(), loader())
    assert {"val_acc", "val_acc5", "val_loss", "train_loss"} <= set(t.callback_metrics)
    assert float(t.callback_metrics["val_acc5"]) == 1.0  # 4 classes: the top 5 always hold the label


def test_a_nan_loss_fails_the_run_with_a_clear_message() -> None:
    module = ImageClassifier(TINY, 4, {})
    with pytest.raises(Diverged, match=r"the training loss is nan at epoch 0, step 0"):
        trainer().fit(module, loader(scale=float("nan")))


def test_rmsprop_and_bad_settings_name_the_field() -> None:
    module = ImageClassifier(TINY, 4, {"name": "rmsprop", "lr": 0.01})
    trainer(max_steps=2).fit(module, loader())
    with pytest.raises(SpecError, match=r"^optim.lr: expected a value > 0.0; got -1"):
        ImageClassifier(TINY, 4, {"lr": -1})
    with pytest.raises(SpecError, match=r"^optim: unknown key 'learning_rate'"):
        ImageClassifier(TINY, 4, {"learning_rate": 0.1})


def test_the_checkpoint_carries_its_spec(tmp_path) -> None:
    module = ImageClassifier(TINY, 4, {})
    t = trainer(max_steps=1, default_root_dir=tmp_path)
    t.fit(module, loader())
    t.save_checkpoint(tmp_path / "last.ckpt")
    restored = ImageClassifier.load_from_checkpoint(tmp_path / "last.ckpt")
    assert restored.spec == load_spec(TINY)
    torch.testing.assert_close(restored.model.state_dict(), module.model.state_dict())


def test_proxy_spec_scales_width_and_overrides_the_stem_stride() -> None:
    spec = load_spec(TINY)
    proxy = proxy_spec(spec, ProxySettings(width=2.0, stem_stride=1), resolution=32)
    assert (proxy.resolution, proxy.stem[0].stride, proxy.stem[0].out) == (32, 1, 16)
    assert spec.stem[0].stride == 2  # the original is untouched
    with pytest.raises(SpecError, match=r"^stem_stride: expected one of 1, 2; got 3"):
        ProxySettings(stem_stride=3)


def test_optim_defaults_are_valid() -> None:
    assert OptimSettings().nesterov


def test_the_last_checkpoint_is_written_after_every_epoch_not_only_at_the_end(tmp_path) -> None:
    from nas.training import run_callbacks_and_loggers

    seen: list[int] = []

    class Spy(L.Callback):
        def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
            last = tmp_path / "checkpoints" / "last.ckpt"
            if trainer.current_epoch > 0:  # a run stopped now resumes from the epoch just finished
                seen.append(torch.load(last, map_location="cpu", weights_only=False)["epoch"])

    callbacks, loggers = run_callbacks_and_loggers(tmp_path)
    run = trainer(max_epochs=3, callbacks=[*callbacks, Spy()], logger=loggers, enable_checkpointing=True)
    run.fit(ImageClassifier(TINY, 4, {}), loader(), loader())
    assert seen == [0, 1]
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["last.ckpt"]
