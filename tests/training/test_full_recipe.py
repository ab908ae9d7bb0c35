"""The full training recipe: RMSpropTF, the batch augmentations (seeded, training batches only), mixed
targets, drop-path from the recipe, and the weights' EMA as what is validated and checkpointed."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from nas import SpecError, count_cost, load_spec
from nas.training import BatchAugment, ImageClassifier, RecipeSettings, RMSpropTF, recipe_spec
from tests.training.test_module import TINY, loader, trainer

# The augmentations of conf/recipe/full.yaml.
FULL = {
    "name": "full",
    "augment": "randaugment",
    "erasing": 0.2,
    "mixup": 0.2,
    "cutmix": 1.0,
    "drop_path": 0.2,
}


def images(n: int = 8, channels: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, channels, 16, 16, generator=g), torch.randint(0, 4, (n,), generator=g)


def augment(recipe: dict[str, object], channels: int = 3, classes: int = 4) -> BatchAugment:
    settings = RecipeSettings.from_data(recipe, "recipe")
    return BatchAugment(settings, classes, [0.5] * channels, [0.25] * channels)


def test_rmsprop_tf_keeps_epsilon_inside_the_root_and_the_lr_in_the_momentum() -> None:
    p = torch.nn.Parameter(torch.tensor([1.0]))
    optimizer = RMSpropTF([p], lr=0.01, alpha=0.9, eps=1e-3, momentum=0.9, weight_decay=0.5)
    v, buf, value = 1.0, 0.0, 1.0  # timm's RMSpropTF by hand: the mean square starts at 1
    for _ in range(3):
        optimizer.zero_grad()
        (0.1 * p).sum().backward()
        optimizer.step()
        g = 0.1 + 0.5 * value  # L2 decay joins the gradient
        v = v + 0.1 * (g * g - v)
        buf = 0.9 * buf + 0.01 * g / math.sqrt(v + 1e-3)
        value -= buf
        assert p.item() == pytest.approx(value, rel=1e-6)
    torch_p = torch.nn.Parameter(torch.tensor([1.0]))
    torch_opt = torch.optim.RMSprop([torch_p], lr=0.01, alpha=0.9, eps=1e-3, momentum=0.9, weight_decay=0.5)
    for _ in range(3):
        torch_opt.zero_grad()
        (0.1 * torch_p).sum().backward()
        torch_opt.step()
    assert abs(torch_p.item() - p.item()) > 0.01  # PyTorch's RMSprop is another optimizer


def test_the_module_builds_rmsprop_tf_when_named() -> None:
    module = ImageClassifier(TINY, 4, {"name": "rmsprop_tf", "lr": 0.004})
    t = trainer(max_steps=2)
    t.fit(module, loader())
    assert isinstance(t.optimizers[0], RMSpropTF)


@pytest.mark.parametrize("channels", [3, 1])
def test_the_same_seed_epoch_and_batch_give_the_same_augmentation(channels: int) -> None:
    x, y = images(channels=channels)
    full = augment({**FULL, "seed": 1}, channels)
    state = torch.get_rng_state()
    first, again, later = full(x, y, 0, 3), full(x, y, 0, 3), full(x, y, 0, 4)
    other_seed = augment({**FULL, "seed": 2}, channels)(x, y, 0, 3)
    assert torch.equal(torch.get_rng_state(), state)  # the global generator is untouched
    assert first[0].shape == x.shape
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert not torch.equal(first[0], later[0])
    assert not torch.equal(first[0], other_seed[0])


@pytest.mark.parametrize("mixer", [{"mixup": 0.5}, {"cutmix": 1.0}, {"mixup": 0.5, "cutmix": 1.0}])
def test_mixed_targets_weigh_each_label_by_its_share_of_the_pixels(mixer: dict[str, float]) -> None:
    # Image i is the constant i and has label i: a mixed image's mean is the targets' expected label.
    n = 8
    x = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 3, 16, 16).contiguous()
    mix = augment({"name": "mix", **mixer}, classes=n)
    mixed = 0
    for batch in range(16):  # with both on, each is drawn at even odds
        out, targets = mix(x, torch.arange(n), 0, batch)
        assert targets.shape == (n, n) and torch.allclose(targets.sum(1), torch.ones(n))
        torch.testing.assert_close(out.mean((1, 2, 3)), targets @ torch.arange(n, dtype=torch.float32))
        mixed += int((targets.max(1).values < 1).sum())
    assert mixed > 0


def test_mix_prob_zero_and_no_augmentation_leave_the_batch_as_it_is() -> None:
    x, y = images()
    out, targets = augment({"mixup": 0.2, "mix_prob": 0.0})(x, y, 0, 0)
    assert torch.equal(out, x) and torch.equal(targets, y)
    assert not RecipeSettings().augments and not RecipeSettings(mixup=0.2, mix_prob=0.0).augments
    assert ImageClassifier(TINY, 4, {}).augment is None


def test_augmentations_change_training_batches_only() -> None:
    module = ImageClassifier(TINY, 4, {"ema_decay": 0.9}, recipe=FULL)
    assert module.ema is not None
    seen: dict[str, list[torch.Tensor]] = {"train": [], "val": []}
    module.model.register_forward_pre_hook(lambda m, args: seen["train"].append(args[0].clone()))
    module.ema.module.register_forward_pre_hook(lambda m, args: seen["val"].append(args[0].clone()))
    train, val = loader(16), loader(16, scale=0.5)
    trainer(max_epochs=1, num_sanity_val_steps=0).fit(module, train, val)
    assert len(seen["train"]) == len(seen["val"]) == 2
    for given, batch in zip(seen["val"], val, strict=True):
        assert torch.equal(given, batch[0])  # validation: exactly the loader's images
    for given, batch in zip(seen["train"], train, strict=True):
        assert not torch.equal(given, batch[0])


def test_ema_weights_differ_from_the_weights_and_are_validated_and_checkpointed(tmp_path) -> None:
    module = ImageClassifier(TINY, 4, {"ema_decay": 0.9, "lr": 0.2}, recipe=FULL)
    t = trainer(max_epochs=2, default_root_dir=tmp_path)
    val = loader(16)
    t.fit(module, loader(32), val)
    assert module.ema is not None and module.evaluated_network is module.ema.module
    ema, raw = module.ema.module.state_dict(), module.model.state_dict()
    assert any(not torch.equal(ema[k], raw[k]) for k in raw if raw[k].is_floating_point())
    module.eval()
    x, y = next(iter(DataLoader(val.dataset, batch_size=16)))
    with torch.no_grad():
        ema_loss = F.cross_entropy(module.ema.module(x), y).item()
        raw_loss = F.cross_entropy(module.model(x), y).item()
    assert ema_loss != pytest.approx(raw_loss)
    assert float(t.callback_metrics["val_loss"]) == pytest.approx(ema_loss, rel=1e-5)
    t.save_checkpoint(tmp_path / "last.ckpt")
    restored = ImageClassifier.load_from_checkpoint(tmp_path / "last.ckpt")
    torch.testing.assert_close(restored.evaluated_network.state_dict(), ema)
    assert restored.recipe == module.recipe and restored.augment is not None


def test_the_recipe_sets_the_spec_drop_path_without_changing_its_cost() -> None:
    spec = load_spec(TINY)
    full = recipe_spec(spec, RecipeSettings(drop_path=0.2))
    assert (spec.drop_path, full.drop_path) == (0.0, 0.2)
    assert recipe_spec(full, RecipeSettings()).drop_path == 0.2  # None: the spec's own
    assert count_cost(full, num_classes=4) == count_cost(spec, num_classes=4)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("mixup", 1.5, r"^recipe.mixup: expected a value >= 0.0 and <= 1.0; got 1.5"),
        ("augment", "auto", r"^recipe.augment: expected one of 'none', 'randaugment', 'trivialaugment'"),
        ("magnitude", 30, r"^recipe.magnitude: expected a value >= 1 and <= 29; got 30"),
        ("drop_path", 1.0, r"^recipe.drop_path: expected a value >= 0.0 and < 1.0; got 1.0"),
    ],
)
def test_bad_recipe_values_name_their_field(field: str, value: object, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        RecipeSettings.from_data({field: value}, "recipe")


def test_a_grey_batch_keeps_one_channel_and_tensor_dataset_batches_work() -> None:
    x, y = images(channels=1)
    out, _ = augment({"augment": "trivialaugment"}, channels=1)(x, y, 2, 0)
    assert out.shape == x.shape
    data = DataLoader(TensorDataset(x.expand(-1, 3, -1, -1).contiguous(), y), batch_size=4)
    trainer(max_steps=1).fit(ImageClassifier(TINY, 4, {}, recipe=FULL), data)


def test_the_data_module_tells_the_normalization_the_policy_undoes() -> None:
    from nas.data import DigitsDataModule

    data = DigitsDataModule(16, augment=False, batch_size=256)
    mean, std = data.normalization
    x, _ = next(iter(data.val_dataloader()))
    pixels = x * torch.tensor(std).view(1, -1, 1, 1) + torch.tensor(mean).view(1, -1, 1, 1)
    assert pixels.min() >= -1e-5 and 0.9 < pixels.max() <= 1 + 1e-5  # back in [0, 1], as kornia wants
