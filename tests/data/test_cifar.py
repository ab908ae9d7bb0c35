"""CIFAR-10 and CIFAR-100 from miniature batches in the exact python-pickle format, and the message for a
missing file."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from nas.data import CifarDataModule
from nas.data._cifar import read_batch
from nas.errors import UsageError
from tests.data._files import cifar_batch, write_cifar


@pytest.mark.parametrize("classes", [10, 100])
@pytest.mark.parametrize("at_folder", [False, True])
def test_loads_from_the_folder_or_its_parent(tmp_path: Path, classes: int, at_folder: bool) -> None:
    folder = write_cifar(tmp_path, classes, per_batch=12, test=10)
    dm = CifarDataModule(classes=classes, root=str(folder if at_folder else tmp_path), batch_size=8)
    info = dm.describe()
    assert (info["dataset"], info["train_samples"], info["val_samples"]) == (f"cifar{classes}", 60, 10)
    assert info["root"] == str(folder.resolve()) and dm.num_classes == classes
    assert dm.class_names[0] == ("class0" if classes == 10 else "fine0")
    images, labels = next(iter(dm.val_dataloader()))
    assert images.shape == (8, 3, 32, 32) and images.dtype == torch.float32 and labels.dtype == torch.int64


def test_pixels_are_read_in_chw_order(tmp_path: Path) -> None:
    folder = write_cifar(tmp_path, 10)
    images, labels = read_batch(folder / "test_batch", "labels", 10)
    assert images.shape == (10, 3, 32, 32) and images.dtype == torch.uint8
    # The test files hold the label in the whole red plane, i.e. the first 1024 bytes of each row.
    assert torch.equal(images[:, 0], labels[:, None, None].to(torch.uint8).expand(-1, 32, 32))


def test_batches_with_python3_keys_load_too(tmp_path: Path) -> None:
    path = tmp_path / "batch"
    batch = cifar_batch(4, 10, "labels", 0)
    path.write_bytes(pickle.dumps({k.encode(): v for k, v in batch.items()}))  # bytes keys
    assert read_batch(path, "labels", 10)[1].tolist() == batch["labels"]


def test_missing_folder_says_what_and_where_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        CifarDataModule(root=str(tmp_path / "data")).setup("fit")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(
        f"cifar10: missing {tmp_path / 'data' / 'cifar-10-batches-py' / 'data_batch_1'};"
    )
    assert '"CIFAR-10 python version"' in message and "https://www.cs.toronto.edu/~kriz/cifar.html" in message
    assert f"extract it in {tmp_path / 'data'}" in message


def test_missing_single_file_is_named(tmp_path: Path) -> None:
    folder = write_cifar(tmp_path, 100)
    (folder / "test").unlink()
    with pytest.raises(UsageError, match=r"^cifar100: missing .*cifar-100-python/test; download the "):
        CifarDataModule(classes=100, root=str(folder)).setup()


def test_damaged_batch_and_bad_classes_are_usage_errors(tmp_path: Path) -> None:
    folder = write_cifar(tmp_path, 10)
    (folder / "data_batch_3").write_bytes(b"\x80\x02garbage")
    with pytest.raises(UsageError, match=r"data_batch_3: not a CIFAR python batch"):
        CifarDataModule(root=str(tmp_path)).setup()
    with pytest.raises(UsageError, match=r"^data.classes: expected 10 or 100; got 20$"):
        CifarDataModule(classes=20, root=str(tmp_path)).setup()


def test_grey_and_resized(tmp_path: Path) -> None:
    write_cifar(tmp_path, 10)
    dm = CifarDataModule(48, root=str(tmp_path), in_channels=1, batch_size=4)
    images, _ = next(iter(dm.train_dataloader()))
    assert images.shape == (4, 1, 48, 48)
    info = dm.describe()
    assert info["preprocessing"] == "bilinear resize 32->48, normalize" and len(info["mean"]) == 1
    assert info["augmentation"] == "random crop (pad 4) + horizontal flip"


def test_statistics_come_from_the_training_batches(tmp_path: Path) -> None:
    write_cifar(tmp_path, 10)
    dm = CifarDataModule(root=str(tmp_path), augment=False, batch_size=100)
    images = next(iter(dm.train_dataloader()))[0]
    assert images.mean((0, 2, 3)).abs().max() < 1e-4
    assert (images.std((0, 2, 3), correction=0) - 1).abs().max() < 1e-3


def test_limits_and_determinism(tmp_path: Path) -> None:
    write_cifar(tmp_path, 10, per_batch=20)
    runs = [
        CifarDataModule(root=str(tmp_path), seed=s, limit_train=50, limit_val=5, batch_size=10)
        for s in (1, 1, 2)
    ]
    batches = [next(iter(dm.train_dataloader())) for dm in runs]
    assert torch.equal(batches[0][0], batches[1][0]) and torch.equal(batches[0][1], batches[1][1])
    assert not torch.equal(batches[0][0], batches[2][0])
    assert (runs[0].describe()["train_samples"], runs[0].describe()["val_samples"]) == (50, 5)
