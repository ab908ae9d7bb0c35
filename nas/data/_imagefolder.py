"""A directory of class sub-folders of images, read with PIL."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from nas.data._base import ImageDataModule, Split, check_fraction, generator, moments, stratified_split
from nas.data._transforms import HorizontalFlip, RandomResizedCrop, ResizeCenterCrop, Transform
from nas.errors import UsageError

# Normalization statistics come from this many training images (a seeded sample): per-channel means and
# spreads of photographs settle within about a percent after a few hundred, and each one is decoded.
STATS_IMAGES = 256


class SkippedFileWarning(UserWarning):
    """An image file that PIL cannot open was left out (one warning per file)."""


def image_extensions() -> frozenset[str]:
    """The suffixes of every format this PIL can read (``.pdf`` and other write-only formats excluded)."""
    return frozenset(ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN)


def unreadable(path: Path) -> str | None:
    """Why PIL cannot open ``path``, or ``None``. ``verify()`` reads the whole file without decoding it:
    a PNG's checksums are checked, a JPEG's header only."""
    try:
        with Image.open(path) as image:
            image.verify()
    except Exception as err:  # PIL raises OSError, SyntaxError, ValueError... for damaged files
        return f"{type(err).__name__}: {err}"
    return None


@dataclass
class Folder:
    """The images found under one folder of class sub-folders."""

    classes: list[str]
    files: list[list[Path]]  # per class, sorted
    skipped: int  # image files that PIL cannot open
    other: int  # files that are not images by their suffix, left out silently


def class_dirs(folder: Path, key: str) -> list[Path]:
    if not folder.is_dir():
        raise UsageError(f"data.{key}: no folder at {folder}")
    dirs = sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not dirs:
        raise UsageError(f"data.{key}: {folder} holds no class sub-folders (expected {folder}/CLASS/IMAGE)")
    return dirs


def scan(folder: Path, key: str) -> Folder:
    """Every readable image of every class sub-folder (recursively); one warning per unreadable one."""
    extensions = image_extensions()
    classes, files, skipped, other = [], [], 0, 0
    for d in class_dirs(folder, key):
        found = []
        for path in sorted(p for p in d.rglob("*") if p.is_file()):
            if any(part.startswith(".") for part in path.relative_to(d).parts):
                continue  # .DS_Store, editor and sync files
            if path.suffix.lower() not in extensions:
                other += 1
            elif (why := unreadable(path)) is not None:
                warnings.warn(
                    f"{path}: skipped, PIL cannot open it ({why})", SkippedFileWarning, stacklevel=2
                )
                skipped += 1
            else:
                found.append(path)
        classes.append(d.name)
        files.append(found)
    return Folder(classes, files, skipped, other)


class FileSource:
    """Images decoded on access: ``mode`` ``"RGB"`` or ``"L"``, at least ``draft`` pixels a side."""

    def __init__(self, paths: list[Path], labels: Tensor, mode: str, draft: int) -> None:
        self.paths = paths
        self.labels = labels
        self.mode = mode
        self.draft = draft

    def __len__(self) -> int:
        return len(self.paths)

    def image(self, index: int) -> Tensor:
        path = self.paths[index]
        try:
            with Image.open(path) as image:
                # A JPEG decodes at a fraction of its size (still at least ``draft`` a side): much faster.
                image.draft(self.mode, (self.draft, self.draft))
                array = np.array(image.convert(self.mode))
        except Exception as err:
            err.add_note(f"while reading {path}")
            raise
        pixels = torch.from_numpy(array)
        pixels = pixels[None] if pixels.ndim == 2 else pixels.permute(2, 0, 1)
        return pixels.float() / 255


def sample_stats(
    source: FileSource, indices: Tensor, transform: Transform, seed: int
) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of up to :data:`STATS_IMAGES` of ``indices``, as ``transform`` shows them."""
    pick = indices[torch.randperm(len(indices), generator=generator(seed, "stats"))[:STATS_IMAGES]]
    return moments(transform(source.image(i)) for i in pick.tolist())


class ImageFolderDataModule(ImageDataModule):
    """Images in class sub-folders (``root/CLASS/*.png``), converted to RGB or grey (``in_channels``).

    Either ``root`` with a seeded, per-class ``val_fraction`` split, or ``train_dir`` and ``val_dir`` (the
    same class names; a validation folder may lack some). Classes are the sorted sub-folder names. Files
    PIL cannot open are skipped with a :class:`SkippedFileWarning` each and counted; files whose suffix is
    not an image format are left out silently (``describe()["other_files"]``).
    Training: random resized crop and horizontal flip; validation: shorter side to ``resolution``, then
    the central square.
    """

    name = "imagefolder"

    def __init__(
        self,
        resolution: int = 224,
        *,
        root: str | Path | None = None,
        train_dir: str | Path | None = None,
        val_dir: str | Path | None = None,
        val_fraction: float = 0.2,
        **common: Any,
    ) -> None:
        super().__init__(resolution, **common)
        self.root = root
        self.train_dir = train_dir
        self.val_dir = val_dir
        self.val_fraction = val_fraction
        self._class_names: list[str] | None = None

    @property
    def num_classes(self) -> int:  # type: ignore[override]
        """The number of class sub-folders (listed on first use, so that a model can be built first)."""
        return len(self.class_names)

    @property
    def class_names(self) -> list[str]:
        """The sorted names of the class sub-folders of the training folder."""
        if self._class_names is None:
            self._class_names = [d.name for d in class_dirs(*self._train_folder())]
        return list(self._class_names)

    def _train_folder(self) -> tuple[Path, str]:
        """The folder holding the training classes, and its config key; checks the layout arguments."""
        separate = self.train_dir is not None or self.val_dir is not None
        if self.root is not None and separate:
            raise UsageError("data.root: give either root (split by val_fraction) or train_dir and val_dir")
        if self.root is not None:
            return Path(self.root).expanduser(), "root"
        if self.train_dir is None or self.val_dir is None:
            raise UsageError(
                "data.root: give an image folder (data.root=PATH, one sub-folder per class), "
                "or data.train_dir and data.val_dir"
            )
        return Path(self.train_dir).expanduser(), "train_dir"

    def check_args(self) -> None:
        super().check_args()
        self._train_folder()
        if self.root is not None:
            check_fraction(self.val_fraction)

    def load(self) -> Split:
        folder, key = self._train_folder()
        train = scan(folder, key)
        for name, files in zip(train.classes, train.files, strict=True):
            if not files:
                raise UsageError(f"data.{key}: class folder {folder / name} holds no readable images")
        self._class_names = train.classes
        paths, labels = flatten(train, train.classes)
        source = FileSource(paths, labels, self._mode(), draft=2 * self.resolution)
        info: dict[str, Any] = {key: str(folder.resolve())}
        if self.root is not None:
            train_indices, val_indices = stratified_split(labels, self.val_fraction, self.split_seed)
            if not len(val_indices):
                raise UsageError(f"data.root: too few images in {folder} to split (a class needs two)")
            val_source, skipped, other = source, train.skipped, train.other
            info["split"] = f"stratified, val_fraction {self.val_fraction:g}"
        else:
            val_source, val = self._val_folder(train)
            train_indices, val_indices = torch.arange(len(source)), torch.arange(len(val_source))
            skipped, other = train.skipped + val.skipped, train.other + val.other
            info["val_dir"] = str(Path(self.val_dir).expanduser().resolve())  # type: ignore[arg-type]
            info["split"] = "train_dir, val_dir"
        mean, std = sample_stats(source, train_indices, ResizeCenterCrop(self.resolution), self.split_seed)
        info["other_files"] = other
        info["preprocessing"] = f"{self._mode()}, shorter side to {self.resolution}, normalize"
        return Split(source, train_indices, val_source, val_indices, mean, std, info, skipped)

    def _mode(self) -> str:
        return "L" if self.in_channels == 1 else "RGB"

    def _val_folder(self, train: Folder) -> tuple[FileSource, Folder]:
        """The images of ``val_dir``, labelled by the training classes."""
        folder = Path(self.val_dir).expanduser()  # type: ignore[arg-type]
        val = scan(folder, "val_dir")
        unknown = sorted(set(val.classes) - set(train.classes))
        if unknown:
            raise UsageError(
                f"data.val_dir: class folder {folder / unknown[0]} is not among the training classes"
            )
        paths, labels = flatten(val, train.classes)
        if not paths:
            raise UsageError(f"data.val_dir: {folder} holds no readable images")
        return FileSource(paths, labels, self._mode(), draft=2 * self.resolution), val

    def train_transforms(self) -> list[Transform]:
        if not self.augment:
            return [ResizeCenterCrop(self.resolution)]
        return [RandomResizedCrop(self.resolution), HorizontalFlip()]

    def val_transforms(self) -> list[Transform]:
        return [ResizeCenterCrop(self.resolution)]


def flatten(folder: Folder, classes: list[str]) -> tuple[list[Path], Tensor]:
    """All paths of ``folder`` and their labels: indices into ``classes`` (the training classes)."""
    paths, labels = [], []
    for name, files in zip(folder.classes, folder.files, strict=True):
        paths += files
        labels += [classes.index(name)] * len(files)
    return paths, torch.tensor(labels, dtype=torch.int64)
