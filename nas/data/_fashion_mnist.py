"""Fashion-MNIST from its four IDX files (gzip or not), as Debian's ``dataset-fashion-mnist`` installs them.

Nothing is downloaded. The reader is strict: magic numbers, dimensions and counts are checked, and a
file that is truncated, of another kind, or disagrees with its partner is a usage error naming it.
"""

from __future__ import annotations

import enum
import gzip
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from nas.data._base import (
    ImageDataModule,
    Split,
    TensorSource,
    channel_stats,
    check_fraction,
    stratified_split,
)
from nas.data._transforms import HorizontalFlip, RandomPadCrop, Resize, Transform
from nas.errors import UsageError

DEFAULT_ROOT = "/usr/share/datasets/fashion-mnist"
SIDE = 28
CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
# Any number of images is read (a copy of one's own may hold fewer); the published files hold 60,000
# and 10,000.
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# IDX magic numbers: two zero bytes, the element type (0x08: unsigned byte), the number of dimensions.
IMAGES_MAGIC, LABELS_MAGIC = 0x00000803, 0x00000801
HOW_TO_GET = (
    "install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or set data.root="
)


class Evaluate(enum.Enum):
    """What the validation loader holds: a held-out part of the training images, or the official test set."""

    VAL = "val"
    TEST = "test"


def find_file(root: Path, stem: str) -> Path:
    """``root/stem.gz`` or ``root/stem`` (an unpacked copy)."""
    for name in (f"{stem}.gz", stem):
        if (root / name).is_file():
            return root / name
    raise UsageError(f"fashion_mnist: missing {root / stem}.gz in {root}; {HOW_TO_GET}")


def read_bytes(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            head = f.read(2)
        if head == b"\x1f\x8b":  # gzip's magic
            return gzip.decompress(path.read_bytes())
        return path.read_bytes()
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise UsageError(f"{path}: unreadable or truncated gzip file ({type(err).__name__}: {err})") from None


def read_idx(path: Path, magic: int, shape: tuple[int, ...]) -> np.ndarray:
    """The unsigned-byte array of an IDX file whose magic and trailing dimensions are the expected ones."""
    data = read_bytes(path)
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    found = int.from_bytes(data[:4], "big")
    if len(data) < 4 or found != magic:
        raise UsageError(
            f"{path}: not an IDX file of {ndim}-d unsigned bytes "
            f"(magic {found:#010x}, expected {magic:#010x})"
        )
    if len(data) < header:
        raise UsageError(f"{path}: truncated: {len(data)} bytes, shorter than its {header}-byte header")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if dims[1:] != shape:
        raise UsageError(
            f"{path}: expected items of {'x'.join(map(str, shape)) or 'one byte'}; got {dims[1:]}"
        )
    size = int(np.prod(dims))
    if len(data) != header + size:
        raise UsageError(
            f"{path}: truncated or padded: {len(data) - header} bytes of data for {dims}, expected {size}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def read_part(root: Path, part: str) -> tuple[Tensor, Tensor]:
    """``(uint8 [N, 1, 28, 28], int64 [N])`` of ``train`` or ``test``, every count and label checked."""
    images_stem, labels_stem = FILES[part]
    images_path, labels_path = find_file(root, images_stem), find_file(root, labels_stem)
    images = read_idx(images_path, IMAGES_MAGIC, (SIDE, SIDE))
    labels = read_idx(labels_path, LABELS_MAGIC, ())
    if len(images) != len(labels):
        raise UsageError(f"{labels_path}: {len(labels)} labels for the {len(images)} images of {images_path}")
    if labels.max(initial=0) >= len(CLASSES):
        raise UsageError(f"{labels_path}: labels outside 0..{len(CLASSES) - 1}")
    return torch.from_numpy(images.copy())[:, None], torch.from_numpy(labels.astype(np.int64))


class FashionMnistDataModule(ImageDataModule):
    """Fashion-MNIST (Xiao et al., 2017): 60,000 training and 10,000 test images of 28x28 grey clothes.

    ``split: val`` (what a search must use) trains on the training images less a seeded, stratified
    ``val_fraction`` held out for validation; ``split: test`` trains on all 60,000 and validates on the
    official test set, for final reporting only. ``resolution`` other than 28 resizes bilinearly
    (antialiased when shrinking). Augmentation: a random shift of up to 2 pixels and a horizontal flip
    (the clothes are left-right symmetric, unlike digits).
    """

    name = "fashion_mnist"
    stratified_limits = True

    def __init__(
        self,
        resolution: int = SIDE,
        *,
        root: str | Path = DEFAULT_ROOT,
        split: str = "val",
        val_fraction: float = 1 / 6,
        **common: Any,
    ) -> None:
        super().__init__(resolution, **common)
        self.root = root
        self.split = split
        self.val_fraction = val_fraction
        self.num_classes = len(CLASSES)
        self.class_names = list(CLASSES)

    @property
    def evaluate(self) -> Evaluate:
        return Evaluate(self.split)

    @property
    def validates_on_test(self) -> bool:
        return self.evaluate is Evaluate.TEST

    def check_args(self) -> None:
        super().check_args()
        check_fraction(self.val_fraction)
        if self.split not in {e.value for e in Evaluate}:
            raise UsageError(f"data.split: expected val or test; got {self.split!r}")
        if not self.root:
            raise UsageError(f"data.root: give the folder of the Fashion-MNIST IDX files; {HOW_TO_GET}")
        root = Path(self.root).expanduser()
        if not root.is_dir():
            raise UsageError(f"fashion_mnist: no folder {root}; {HOW_TO_GET}")

    def load(self) -> Split:
        root = Path(self.root).expanduser()
        images, labels = read_part(root, "train")
        if self.evaluate is Evaluate.TEST:
            val_images, val_labels = read_part(root, "test")
            train_idx, val_idx = torch.arange(len(labels)), torch.arange(len(val_labels))
            split = "train: the 60,000 training images; validation: the official 10,000 test images"
        else:
            val_images, val_labels = images, labels
            train_idx, val_idx = stratified_split(labels, self.val_fraction, self.split_seed)
            split = f"stratified hold-out of the training images, val_fraction {self.val_fraction:g}"
        mean, std = channel_stats(images[train_idx])
        resize = f"bilinear resize 28->{self.resolution}, " if self.resolution != SIDE else ""
        return Split(
            TensorSource(images, labels, self.in_channels), train_idx,
            TensorSource(val_images, val_labels, self.in_channels), val_idx,
            mean * self.in_channels, std * self.in_channels,
            info={
                "root": str(root.resolve()),
                "split": split,
                "evaluated_on": self.evaluate.value,
                "preprocessing": f"{resize}normalize",
            },
        )  # fmt: skip

    def train_transforms(self) -> list[Transform]:
        augment: list[Transform] = [RandomPadCrop(2), HorizontalFlip()] if self.augment else []
        return [*augment, Resize(self.resolution)]

    def val_transforms(self) -> list[Transform]:
        return [Resize(self.resolution)]
