"""Fashion-MNIST from miniature IDX files in the exact published format, the strict reader's one-line
errors, the validation hold-out and the test split, and (where installed) the real files."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from nas.data import FashionMnistDataModule
from nas.data._fashion_mnist import DEFAULT_ROOT, read_idx
from nas.errors import UsageError

REAL = Path(DEFAULT_ROOT)


def idx(array: np.ndarray, magic: int) -> bytes:
    """An IDX file: the magic number, each dimension as a big-endian 32-bit integer, then the bytes."""
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_fashion(root: Path, train: int = 60, test: int = 20, gz: bool = True) -> Path:
    """Images whose every pixel is 10 x label, and labels cycling over the ten classes."""
    root.mkdir(parents=True, exist_ok=True)
    for part, n in (("train", train), ("t10k", test)):
        labels = np.arange(n) % 10
        images = np.broadcast_to(labels[:, None, None] * 10, (n, 28, 28))
        for kind, data in (("images-idx3", idx(images, 0x803)), ("labels-idx1", idx(labels, 0x801))):
            name = f"{part}-{kind}-ubyte"
            if gz:
                (root / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (root / name).write_bytes(data)
    return root


def module(root: Path, **kwargs: object) -> FashionMnistDataModule:
    dm = FashionMnistDataModule(root=str(root), batch_size=4, **kwargs)  # type: ignore[arg-type]
    dm.setup("fit")
    return dm


@pytest.mark.parametrize("gz", [True, False])
def test_reads_the_idx_files_gzipped_or_not(tmp_path: Path, gz: bool) -> None:
    dm = module(write_fashion(tmp_path, train=100, gz=gz), val_fraction=0.2)
    info = dm.describe()
    assert (info["train_samples"], info["val_samples"], info["evaluated_on"]) == (80, 20, "val")
    images, labels = next(iter(dm.val_dataloader()))
    assert images.shape == (4, 3, 28, 28) and labels.dtype == torch.int64
    # Pixel value 10 x label survives the reading, up to the normalisation.
    raw = dm.val_set.source.images[dm.val_set.indices]
    assert torch.equal(raw[:, 0, 0, 0].long(), dm.val_set.labels * 10)


def test_the_hold_out_is_stratified_and_seeded(tmp_path: Path) -> None:
    root = write_fashion(tmp_path, train=100)
    a, b, c = (module(root, val_fraction=0.2, split_seed=s) for s in (0, 0, 1))
    assert torch.bincount(a.val_set.labels).tolist() == [2] * 10
    assert torch.equal(a.val_set.indices, b.val_set.indices)
    assert not torch.equal(a.val_set.indices, c.val_set.indices)
    assert not set(a.val_set.indices.tolist()) & set(a.train_set.indices.tolist())


def test_limits_are_exact_stratified_subsets(tmp_path: Path) -> None:
    dm = module(write_fashion(tmp_path, train=200), val_fraction=0.25, limit_train=47, limit_val=20)
    train_counts = torch.bincount(dm.train_set.labels, minlength=10)
    assert int(train_counts.sum()) == 47 and int(train_counts.max() - train_counts.min()) <= 1
    assert torch.bincount(dm.val_set.labels).tolist() == [2] * 10


def test_split_test_validates_on_the_test_files(tmp_path: Path) -> None:
    dm = module(write_fashion(tmp_path, train=60, test=20), split="test")
    info = dm.describe()
    assert (info["train_samples"], info["val_samples"], info["evaluated_on"]) == (60, 20, "test")
    assert "official 10,000 test images" in info["split"]


def test_resolution_resizes_and_is_recorded(tmp_path: Path) -> None:
    dm = module(write_fashion(tmp_path), resolution=16)
    images, _ = next(iter(dm.train_dataloader()))
    assert images.shape[-2:] == (16, 16)
    assert dm.describe()["preprocessing"] == "bilinear resize 28->16, normalize"


def _message(root: Path, **kwargs: object) -> str:
    with pytest.raises(UsageError) as err:
        module(root, **kwargs)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_missing_files_name_the_folder_and_how_to_get_them(tmp_path: Path) -> None:
    message = _message(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in message
    assert "apt-get install dataset-fashion-mnist" in message and "data.root=" in message
    root = write_fashion(tmp_path / "some")
    (root / "t10k-labels-idx1-ubyte.gz").unlink()
    message = _message(root, split="test")
    assert "t10k-labels-idx1-ubyte" in message and "apt-get install dataset-fashion-mnist" in message


def test_truncated_and_foreign_files_are_named(tmp_path: Path) -> None:
    root = write_fashion(tmp_path)
    images = root / "train-images-idx3-ubyte.gz"
    whole = gzip.decompress(images.read_bytes())
    images.write_bytes(gzip.compress(whole[:-100]))  # a valid gzip of a short file
    assert _message(root).startswith(f"{images}: truncated")
    images.write_bytes(images.read_bytes()[:50])  # a cut gzip stream
    assert _message(root).startswith(f"{images}: unreadable or truncated gzip")
    images.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + whole[4:]))  # a labels file's magic
    assert _message(root).startswith(f"{images}: not an IDX file")
    images.write_bytes(gzip.compress(idx(np.zeros((60, 32, 32)), 0x803)))  # CIFAR-sized images
    assert _message(root).startswith(f"{images}: expected items of 28x28")


def test_images_and_labels_must_agree_in_number(tmp_path: Path) -> None:
    root = write_fashion(tmp_path)
    labels = root / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(idx(np.arange(59) % 10, 0x801)))
    message = _message(root)
    assert message.startswith(f"{labels}: 59 labels for the 60 images")


def test_bad_split_value_is_a_usage_error(tmp_path: Path) -> None:
    assert _message(write_fashion(tmp_path), split="train").startswith("data.split: expected val or test")


def test_read_idx_checks_the_magic_number(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(idx(np.zeros((3,)), 0x801))
    assert read_idx(path, 0x801, ()).shape == (3,)
    with pytest.raises(UsageError, match="magic 0x00000801, expected 0x00000803"):
        read_idx(path, 0x803, (28, 28))


@pytest.mark.skipif(
    not REAL.is_dir() and os.environ.get("NAS_REQUIRE_FASHION_MNIST") != "1",
    reason=f"no {REAL}: apt-get install dataset-fashion-mnist (.ci/run does, and requires it)",
)
def test_the_real_files() -> None:
    dm = FashionMnistDataModule(batch_size=8)
    dm.setup("fit")
    info = dm.describe()
    assert (info["train_samples"], info["val_samples"]) == (50_000, 10_000)
    assert torch.bincount(dm.val_set.labels).tolist() == [1000] * 10
    assert info["mean"][0] == pytest.approx(0.2860, abs=1e-3)  # the published mean of the pixels
    test = FashionMnistDataModule(split="test")
    test.setup("fit")
    assert (len(test.train_set), len(test.val_set)) == (60_000, 10_000)
    assert torch.bincount(test.val_set.labels).tolist() == [1000] * 10
