"""Image folders: both layouts, unreadable files skipped with a warning and counted, bad folders."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from nas.data import ImageFolderDataModule, SkippedFileWarning
from nas.errors import UsageError
from tests.data._files import write_image_folder, write_png


def folder_with_a_corrupt_file(root: Path) -> Path:
    write_image_folder(root, {"cat": 3, "dog": 3, "emu": 2})
    (root / "dog" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (root / "dog" / "notes.txt").write_text("not an image, left out silently")
    (root / "emu" / ".DS_Store").write_bytes(b"\0")
    return root


def test_root_layout_skips_warns_and_counts(tmp_path: Path) -> None:
    root = folder_with_a_corrupt_file(tmp_path / "images")
    dm = ImageFolderDataModule(16, root=str(root), batch_size=4)
    assert dm.num_classes == 3 and dm.class_names == ["cat", "dog", "emu"]  # before setup
    with pytest.warns(SkippedFileWarning) as caught:
        info = dm.describe()
    assert len(caught) == 1 and "broken.png: skipped, PIL cannot open it" in str(caught[0].message)
    assert info["skipped_files"] == 1 and info["other_files"] == 1
    assert info["train_samples"] + info["val_samples"] == 8
    assert torch.bincount(dm.val_set.labels).tolist() == [1, 1, 1]  # at least one per class
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (4, 3, 16, 16) and images.dtype == torch.float32 and labels.dtype == torch.int64
    images, _ = next(iter(dm.val_dataloader()))
    assert images.shape == (3, 3, 16, 16)


def test_separate_train_and_validation_folders(tmp_path: Path) -> None:
    write_image_folder(tmp_path / "train", {"a": 2, "b": 2, "c": 2})
    write_image_folder(tmp_path / "val", {"a": 1, "c": 2})  # a validation folder may lack a class
    write_png(tmp_path / "val" / "c" / "wide.png", (40, 10), (0, 0, 0))
    dm = ImageFolderDataModule(
        8, train_dir=str(tmp_path / "train"), val_dir=str(tmp_path / "val"), in_channels=1
    )
    info = dm.describe()
    assert (info["train_samples"], info["val_samples"], info["skipped_files"]) == (6, 4, 0)
    assert info["split"] == "train_dir, val_dir" and info["preprocessing"].startswith("L,")
    images, labels = next(iter(dm.val_dataloader()))
    assert images.shape == (4, 1, 8, 8)
    assert labels.tolist() == [0, 2, 2, 2]  # labelled by the training classes


def test_validation_class_unknown_to_training_is_an_error(tmp_path: Path) -> None:
    write_image_folder(tmp_path / "train", {"a": 2})
    write_image_folder(tmp_path / "val", {"z": 1})
    dm = ImageFolderDataModule(8, train_dir=str(tmp_path / "train"), val_dir=str(tmp_path / "val"))
    with pytest.raises(
        UsageError, match=r"^data.val_dir: class folder .*z is not among the training classes$"
    ):
        dm.setup()


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("missing", r"^data.root: no folder at .*missing$"),
        ("empty", r"^data.root: .*empty holds no class sub-folders"),
        ("empty_class", r"^data.root: class folder .*b holds no readable images$"),
    ],
)
def test_empty_or_missing_folders_are_usage_errors(tmp_path: Path, layout: str, message: str) -> None:
    (tmp_path / "empty").mkdir()
    write_image_folder(tmp_path / "empty_class", {"a": 2})
    (tmp_path / "empty_class" / "b").mkdir()
    with pytest.raises(UsageError, match=message):
        ImageFolderDataModule(8, root=str(tmp_path / layout)).setup()


def test_no_folder_given_or_both_layouts_given(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"^data.root: give an image folder"):
        ImageFolderDataModule(8).num_classes  # noqa: B018
    with pytest.raises(UsageError, match=r"^data.root: give either root"):
        ImageFolderDataModule(8, root=str(tmp_path), train_dir=str(tmp_path)).setup()


def test_same_seed_same_batches(tmp_path: Path) -> None:
    write_image_folder(tmp_path, {"a": 4, "b": 4}, size=(24, 18))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to skip here: no warning either
        runs = [ImageFolderDataModule(12, root=str(tmp_path), seed=s, batch_size=3) for s in (5, 5, 6)]
        batches = [next(iter(dm.train_dataloader())) for dm in runs]
    assert torch.equal(batches[0][0], batches[1][0]) and torch.equal(batches[0][1], batches[1][1])
    assert not torch.equal(batches[0][0], batches[2][0])
    assert runs[0].describe()["augmentation"] == "random resized crop (area 0.25-1) + horizontal flip"


def test_too_few_images_to_split(tmp_path: Path) -> None:
    write_image_folder(tmp_path, {"a": 1, "b": 1})
    with pytest.raises(UsageError, match=r"^data.root: too few images in .* to split \(a class needs two\)$"):
        ImageFolderDataModule(8, root=str(tmp_path)).setup()


def test_formats_and_modes(tmp_path: Path) -> None:
    """A large JPEG (decoded at reduced size), a grey PNG read as RGB, an RGBA PNG, a truncated PNG."""
    write_png(tmp_path / "a" / "big.jpg", (400, 300), (200, 30, 30))
    write_png(tmp_path / "a" / "grey.png", (12, 12), (90, 90, 90), mode="L")
    write_png(tmp_path / "b" / "alpha.png", (12, 12), (0, 0, 250), mode="RGBA")
    write_png(tmp_path / "b" / "cut.png", (64, 64), (1, 2, 3))
    cut = tmp_path / "b" / "cut.png"
    cut.write_bytes(cut.read_bytes()[:60])
    dm = ImageFolderDataModule(10, root=str(tmp_path), augment=False, batch_size=8)
    with pytest.warns(SkippedFileWarning, match=r"cut.png: skipped"):
        dm.setup()
    assert dm.describe()["skipped_files"] == 1
    big, grey, alpha = (dm.train_set.source.image(i) for i in range(3))  # sorted: a/big, a/grey, b/alpha
    assert big.shape == (3, 38, 50)  # the JPEG decoded at 1/8 of its size, still 2 x 10 pixels a side
    assert torch.allclose(big.mean((1, 2)), torch.tensor([200, 30, 30]) / 255, atol=0.02)
    assert torch.equal(grey[0], grey[2]) and torch.allclose(alpha[:, 0, 0], torch.tensor([0, 0, 250]) / 255)
    assert next(iter(dm.train_dataloader()))[0].shape == (2, 3, 10, 10)
