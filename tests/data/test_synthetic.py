"""Synthetic data: shapes, determinism, and labels a model could learn."""

from __future__ import annotations

import pytest
import torch

from nas.data import SyntheticDataModule
from nas.errors import UsageError


def test_shapes_counts_and_balanced_labels() -> None:
    dm = SyntheticDataModule(16, train_samples=40, val_samples=20, num_classes=4, in_channels=1, batch_size=8)
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (8, 1, 16, 16) and images.dtype == torch.float32 and labels.dtype == torch.int64
    assert torch.bincount(dm.train_set.labels).tolist() == [10, 10, 10, 10]
    info = dm.describe()
    assert (info["train_samples"], info["val_samples"], info["augmentation"]) == (40, 20, "none")


def test_images_follow_the_seed() -> None:
    a, b, c = (SyntheticDataModule(8, seed=s) for s in (0, 0, 1))
    for dm in (a, b, c):
        dm.setup()
    assert torch.equal(a.val_set[3][0], b.val_set[3][0])
    assert not torch.equal(a.val_set[3][0], c.val_set[3][0])
    assert not torch.equal(a.train_set[3][0], a.val_set[3][0])


def test_classes_differ_in_mean_image() -> None:
    dm = SyntheticDataModule(8, train_samples=400, num_classes=2, batch_size=400)
    images, labels = next(iter(dm.train_dataloader()))
    means = torch.stack([images[labels == c].mean(0) for c in (0, 1)])
    assert (means[0] - means[1]).abs().mean() > 0.3  # the class patterns stand out of the noise
    assert abs(images.mean()) < 0.2 and 0.7 < images.std() < 1.2


def test_bad_sizes_are_usage_errors() -> None:
    with pytest.raises(UsageError, match=r"^data.num_classes: expected a positive integer; got 0$"):
        SyntheticDataModule(num_classes=0).setup()
