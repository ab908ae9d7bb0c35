"""CIFAR-10 and CIFAR-100 from the python-pickle batches of Alex Krizhevsky's CIFAR page.

Nothing is downloaded: the extracted folder must be on disk. The batches are pickles (the only format
the python version comes in), so only load files from that page or of your own making.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from nas.data._base import ImageDataModule, Split, TensorSource, channel_stats
from nas.data._transforms import HorizontalFlip, RandomPadCrop, Resize, Transform
from nas.errors import UsageError

URL = "https://www.cs.toronto.edu/~kriz/cifar.html"
SIDE = 32


@dataclass(frozen=True)
class Layout:
    """The files of one extracted CIFAR archive."""

    name: str
    title: str
    folder: str
    archive: str
    train: tuple[str, ...]
    test: str
    meta: str
    labels_key: str
    names_key: str

    @property
    def files(self) -> tuple[str, ...]:
        return (*self.train, self.test, self.meta)


LAYOUTS = {
    10: Layout(
        "cifar10", "CIFAR-10", "cifar-10-batches-py", "cifar-10-python.tar.gz",
        tuple(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta", "labels", "label_names",
    ),
    100: Layout(
        "cifar100", "CIFAR-100", "cifar-100-python", "cifar-100-python.tar.gz",
        ("train",), "test", "meta", "fine_labels", "fine_label_names",
    ),
}  # fmt: skip


def find_folder(root: Path, layout: Layout) -> Path:
    """The extracted folder, given ``root`` = the folder itself or its parent; every file checked."""
    folder = root / layout.folder
    if not folder.is_dir() and (root.name == layout.folder or (root / layout.meta).is_file()):
        folder = root  # the folder itself, possibly renamed
    for name in layout.files:
        if not (folder / name).is_file():
            raise UsageError(
                f'{layout.name}: missing {folder / name}; download the "{layout.title} python '
                f'version" ({layout.archive}) from {URL} and extract it in {folder.parent} (giving '
                f"{folder.parent / layout.folder}/), or set data.root to the folder that holds it"
            )
    return folder


def unpickle(path: Path) -> dict[str, Any]:
    """One batch as a dict with ``str`` keys.

    The files were pickled by Python 2: ``latin1`` is the encoding that restores their numpy arrays, and
    keys that still come back as bytes (a file re-pickled elsewhere) are decoded.
    """
    try:
        with path.open("rb") as f:
            data = pickle.load(f, encoding="latin1")
    except Exception as err:  # a damaged pickle can raise almost anything
        raise UsageError(f"{path}: not a CIFAR python batch ({type(err).__name__}: {err})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: not a CIFAR python batch (a {type(data).__name__}, not a dict)")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in data.items()}


def read_batch(path: Path, labels_key: str, classes: int) -> tuple[Tensor, Tensor]:
    """``(uint8 [N, 3, 32, 32], int64 [N])``: ``data`` rows are 1024 red, 1024 green, 1024 blue bytes."""
    batch = unpickle(path)
    if "data" not in batch or labels_key not in batch:
        raise UsageError(f"{path}: not a CIFAR-{classes} batch (no 'data' or '{labels_key}')")
    data = np.asarray(batch["data"])
    labels = torch.as_tensor(np.asarray(batch[labels_key]), dtype=torch.int64)
    if data.ndim != 2 or data.shape[1] != 3 * SIDE * SIDE or len(data) != len(labels):
        raise UsageError(f"{path}: expected 'data' of N x 3072 bytes and N labels; got {data.shape}")
    if len(labels) and not (int(labels.min()) >= 0 and int(labels.max()) < classes):
        raise UsageError(f"{path}: labels outside 0..{classes - 1}")
    images = torch.from_numpy(np.ascontiguousarray(data, dtype=np.uint8)).reshape(-1, 3, SIDE, SIDE)
    return images, labels


def to_gray(images: Tensor) -> Tensor:
    """ITU-R 601-2 luma in PIL's fixed-point arithmetic: what ``Image.convert("L")`` gives."""
    r, g, b = images.int().unbind(1)
    return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).to(torch.uint8)[:, None]


class CifarDataModule(ImageDataModule):
    """CIFAR-10 (``classes: 10``) or CIFAR-100 (``classes: 100``, the fine labels) from ``root``.

    ``root`` is the extracted folder (``cifar-10-batches-py``, ``cifar-100-python``) or the folder that
    holds it. Validation is the test batch. Augmentation: random crop with 4-pixel padding and horizontal
    flip at 32x32, then a bilinear resize when ``resolution`` is not 32.
    """

    def __init__(
        self, resolution: int = 32, *, classes: int = 10, root: str | Path = "data/cifar10", **common: Any
    ) -> None:
        super().__init__(resolution, **common)
        self.classes = classes
        self.root = root
        self.num_classes = classes
        self.name = f"cifar{classes}"
        self.class_names: list[str] = []

    def check_args(self) -> None:
        super().check_args()
        if self.classes not in LAYOUTS:
            raise UsageError(f"data.classes: expected 10 or 100; got {self.classes!r}")
        if not self.root:
            raise UsageError("data.root: give the folder of the extracted CIFAR python version")

    def load(self) -> Split:
        layout = LAYOUTS[self.classes]
        folder = find_folder(Path(self.root).expanduser(), layout)
        parts = [read_batch(folder / name, layout.labels_key, self.classes) for name in layout.train]
        train_images, train_labels = torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
        val_images, val_labels = read_batch(folder / layout.test, layout.labels_key, self.classes)
        self.class_names = [str(n) for n in unpickle(folder / layout.meta).get(layout.names_key, [])]
        if self.in_channels == 1:
            train_images, val_images = to_gray(train_images), to_gray(val_images)
        # Computed rather than the published figures, so that they also hold for grey images and for
        # files of one's own; on the full CIFAR-10 training set they are the published mean (0.4914,
        # 0.4822, 0.4465) and std (0.2470, 0.2435, 0.2616), on CIFAR-100 (0.5071, 0.4865, 0.4409) and
        # (0.2673, 0.2564, 0.2762).
        mean, std = channel_stats(train_images)
        train = TensorSource(train_images, train_labels, self.in_channels)
        val = TensorSource(val_images, val_labels, self.in_channels)
        resize = f"bilinear resize 32->{self.resolution}, " if self.resolution != SIDE else ""
        return Split(
            train, torch.arange(len(train)), val, torch.arange(len(val)), mean, std,
            info={
                "root": str(folder.resolve()),
                "split": f"train: {', '.join(layout.train)}; validation: {layout.test}",
                "preprocessing": f"{resize}normalize",
            },
        )  # fmt: skip

    def train_transforms(self) -> list[Transform]:
        augment: list[Transform] = [RandomPadCrop(4), HorizontalFlip()] if self.augment else []
        return [*augment, Resize(self.resolution)]

    def val_transforms(self) -> list[Transform]:
        return [Resize(self.resolution)]
