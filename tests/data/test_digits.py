"""The built-in digits: split, shapes, limits, determinism, describe(), argument checks."""

from __future__ import annotations

import json

import pytest
import torch

from nas.data import DigitsDataModule
from nas.errors import UsageError


def first_batches(dm: DigitsDataModule, count: int = 2) -> list[tuple[torch.Tensor, torch.Tensor]]:
    batches = []
    for batch in dm.train_dataloader():
        batches.append(batch)
        if len(batches) == count:
            break
    return batches


def test_split_is_stratified_and_follows_the_seed() -> None:
    a, b, c = DigitsDataModule(seed=0), DigitsDataModule(seed=0), DigitsDataModule(seed=1)
    for dm in (a, b, c):
        dm.setup("fit")
    assert torch.equal(a.val_set.indices, b.val_set.indices)
    assert not torch.equal(a.val_set.indices, c.val_set.indices)
    assert len(a.train_set) + len(a.val_set) == 1797
    assert not set(a.train_set.indices.tolist()) & set(a.val_set.indices.tolist())
    counts = torch.bincount(a.val_set.labels, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37  # 20% of about 180 per class
    fixed = DigitsDataModule(seed=1, split_seed=0)
    fixed.setup()
    assert torch.equal(fixed.val_set.indices, a.val_set.indices)


@pytest.mark.parametrize(("resolution", "channels"), [(32, 3), (20, 1)])
def test_batches_have_the_promised_shape_and_types(resolution: int, channels: int) -> None:
    dm = DigitsDataModule(resolution, batch_size=16, in_channels=channels)
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (16, channels, resolution, resolution)
    assert images.dtype == torch.float32 and labels.dtype == torch.int64
    images, labels = next(iter(dm.val_dataloader()))
    assert images.shape == (16, channels, resolution, resolution)
    if channels == 3:  # grey replicated
        assert torch.equal(images[:, 0], images[:, 2])
    val = torch.cat([b[0] for b in dm.val_dataloader()])
    assert abs(val.mean()) < 0.05 and abs(val.std() - 1) < 0.05  # normalized with the training statistics


def test_limits_take_seeded_subsets() -> None:
    dm = DigitsDataModule(limit_train=100, limit_val=30, seed=3)
    assert (dm.describe()["train_samples"], dm.describe()["val_samples"]) == (100, 30)
    again = DigitsDataModule(limit_train=100, limit_val=30, seed=3)
    again.setup()
    assert torch.equal(dm.train_set.indices, again.train_set.indices)
    full = DigitsDataModule(seed=3)
    full.setup()
    assert set(dm.train_set.indices.tolist()) <= set(full.train_set.indices.tolist())
    assert not torch.equal(dm.train_set.indices, full.train_set.indices[:100])  # random, not the first
    # The subset is part of the data (split_seed); seed alone changes only the order and augmentation.
    same_data = DigitsDataModule(limit_train=100, seed=4, split_seed=3)
    same_data.setup()
    assert torch.equal(dm.train_set.indices, same_data.train_set.indices)
    other = DigitsDataModule(limit_train=100, seed=4)
    other.setup()
    assert not torch.equal(dm.train_set.indices, other.train_set.indices)
    assert DigitsDataModule(limit_train=10**6).describe()["train_samples"] == 1438


def test_same_seed_same_batches_other_seed_other_batches() -> None:
    a, b, c = (first_batches(DigitsDataModule(batch_size=32, seed=s)) for s in (7, 7, 8))
    for (xa, ya), (xb, yb) in zip(a, b, strict=True):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    assert not torch.equal(a[0][0], c[0][0])
    # A second loader from the same module replays the run; the next epoch of a loader differs.
    dm = DigitsDataModule(batch_size=32, seed=7)
    assert torch.equal(first_batches(dm)[0][0], first_batches(dm)[0][0])
    loader = dm.train_dataloader()
    epochs = [next(iter(loader))[1] for _ in range(2)]
    assert not torch.equal(epochs[0], epochs[1])


def test_augmentation_changes_training_images_only() -> None:
    plain = DigitsDataModule(batch_size=8, augment=False, seed=2)
    augmented = DigitsDataModule(batch_size=8, seed=2)
    assert not torch.equal(
        next(iter(plain.train_dataloader()))[0], next(iter(augmented.train_dataloader()))[0]
    )
    assert torch.equal(next(iter(plain.val_dataloader()))[0], next(iter(augmented.val_dataloader()))[0])
    assert plain.describe()["augmentation"] == "none"
    assert augmented.describe()["augmentation"] == "random crop (pad 2), scale 0.95-1.05"


def test_describe_is_json_and_complete() -> None:
    info = DigitsDataModule(24).describe()
    assert json.loads(json.dumps(info)) == info
    assert {
        k: info[k] for k in ("dataset", "resolution", "train_samples", "val_samples", "skipped_files")
    } == {
        "dataset": "digits",
        "resolution": 24,
        "train_samples": 1438,
        "val_samples": 359,
        "skipped_files": 0,
    }
    assert info["num_classes"] == 10 and len(info["mean"]) == 3


def test_last_batch_of_one_image_is_dropped() -> None:
    dm = DigitsDataModule(batch_size=33, limit_train=100)  # 3 x 33 + 1
    sizes = [len(y) for _, y in dm.train_dataloader()]
    assert sizes == [33, 33, 33]
    assert [len(y) for _, y in DigitsDataModule(batch_size=30, limit_train=100).train_dataloader()][-1] == 10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resolution": 0}, "data.resolution: expected a positive integer; got 0"),
        ({"in_channels": 2}, "data.in_channels: expected 1 or 3; got 2"),
        ({"limit_train": 0}, "data.limit_train: expected a positive integer or null; got 0"),
        ({"val_fraction": 1.0}, "data.val_fraction: expected a number between 0 and 1 (exclusive); got 1.0"),
        ({"batch_size": "8"}, "data.batch_size: expected a positive integer; got '8'"),
    ],
)
def test_bad_arguments_are_usage_errors_at_setup(kwargs: dict[str, object], message: str) -> None:
    dm = DigitsDataModule(**kwargs)  # constructing never raises: hydra.utils.instantiate would wrap it
    with pytest.raises(UsageError) as err:
        dm.setup("fit")
    assert str(err.value) == message
