"""What every data module shares: argument checks, seeded splits and subsets, loaders, ``describe()``.

Determinism rests on three seeded streams, each derived from the module's seeds by name
(:func:`derive_seed`), so that using one never shifts another:

- ``split_seed`` (default: ``seed``) picks the train/validation split and the ``limit_*`` subsets: the
  data a run sees;
- ``seed`` drives the :class:`SeededSampler` of the training loader, which draws each epoch's order and one
  augmentation seed per sample from ``(seed, epoch)``; the data set seeds a fresh ``torch.Generator`` with
  it for that sample's transforms, so the augmentation of a sample does not depend on the worker that
  loads it, on the number of workers, or on what else used the global generator;
- the DataLoader's own generator (worker base seeds) is seeded too, for code that does use the global
  generator inside workers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler

from nas.data._transforms import Compose, Normalize, Transform
from nas.errors import UsageError

# ---------------------------------------------------------------------------------------------------------
# seeds, splits, subsets


def derive_seed(seed: int, purpose: str) -> int:
    """A seed for one purpose (``"split"``, ``"order"``...): stable across processes and Python versions,
    unlike ``hash()``, and unrelated between purposes, unlike ``seed + 1``."""
    digest = hashlib.sha256(f"{seed}:{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def generator(seed: int, purpose: str) -> torch.Generator:
    return torch.Generator().manual_seed(derive_seed(seed, purpose))


def stratified_split(labels: Tensor, fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    """Seeded ``(train, validation)`` indices holding ``fraction`` of every class for validation.

    Every class with two or more samples gets at least one validation sample and keeps at least one for
    training, so that tiny folders still validate every class.
    """
    gen = generator(seed, "split")
    train, val = [], []
    for c in torch.unique(labels).tolist():
        members = torch.nonzero(labels == c).flatten()
        members = members[torch.randperm(len(members), generator=gen)]
        n = len(members)
        n_val = 0 if n < 2 else min(n - 1, max(1, round(n * fraction)))
        val.append(members[:n_val])
        train.append(members[n_val:])
    return torch.cat(train).sort().values, torch.cat(val).sort().values


def random_subset(indices: Tensor, limit: int | None, seed: int, purpose: str) -> Tensor:
    """At most ``limit`` of ``indices``, chosen at random (seeded), in their original order."""
    if limit is None or limit >= len(indices):
        return indices
    keep = torch.randperm(len(indices), generator=generator(seed, purpose))[:limit]
    return indices[keep.sort().values]


def moments(images: Iterable[Tensor]) -> tuple[list[float], list[float]]:
    """Per-channel mean and (population) standard deviation over images ``[C, H, W]`` or batches of them,
    accumulated in float64."""
    total = sq = torch.zeros((), dtype=torch.float64)
    count = 0
    for x in images:
        x = x.double().transpose(0, 1) if x.ndim == 4 else x.double()
        x = x.flatten(1)
        total, sq, count = total + x.sum(1), sq + (x**2).sum(1), count + x.shape[1]
    mean = total / count
    return mean.tolist(), (sq / count - mean**2).clamp(min=0).sqrt().tolist()


def channel_stats(images: Tensor) -> tuple[list[float], list[float]]:
    """Exact per-channel mean and standard deviation of ``uint8 [N, C, H, W]`` images, in ``[0, 1]`` units."""
    # One histogram per channel: exact, and fast over CIFAR's 150 million bytes.
    values = torch.arange(256, dtype=torch.float64) / 255
    hist = torch.stack(
        [torch.bincount(images[:, c].reshape(-1), minlength=256) for c in range(images.shape[1])]
    )
    hist = hist.double()
    count = hist.sum(1)
    mean = hist @ values / count
    var = hist @ values**2 / count - mean**2
    return mean.tolist(), var.clamp(min=0).sqrt().tolist()


def stratified_subset(indices: Tensor, labels: Tensor, limit: int | None, seed: int, purpose: str) -> Tensor:
    """Exactly ``limit`` of ``indices`` (labels ``labels[indices]``), every class in proportion (largest
    remainders get the rounding), chosen at random (seeded), in their original order."""
    if limit is None or limit >= len(indices):
        return indices
    gen = generator(seed, purpose)
    classes, counts = torch.unique(labels[indices], return_counts=True)
    quota = counts.double() * limit / len(indices)
    take = quota.floor().long()
    # The classes with the largest remainders get the images still missing (ties: the earlier class).
    short = limit - int(take.sum())
    take[torch.argsort(quota - take, descending=True, stable=True)[:short]] += 1
    keep = []
    for c, k in zip(classes.tolist(), take.tolist(), strict=True):
        members = indices[labels[indices] == c]
        keep.append(members[torch.randperm(len(members), generator=gen)[:k]])
    return torch.cat(keep).sort().values


# ---------------------------------------------------------------------------------------------------------
# sources and data sets


class Source(Protocol):
    """Where images come from: ``image(i)`` is ``float32 [C, H, W]`` in ``[0, 1]``, ``labels`` int64."""

    labels: Tensor

    def __len__(self) -> int: ...

    def image(self, index: int) -> Tensor: ...


class TensorSource:
    """Images held in memory, ``uint8`` (divided by 255) or float in ``[0, 1]``.

    Single-channel images asked for with 3 channels are expanded on access (a view, no copy).
    """

    def __init__(self, images: Tensor, labels: Tensor, channels: int) -> None:
        self.images = images
        self.labels = labels
        self.channels = channels

    def __len__(self) -> int:
        return len(self.labels)

    def image(self, index: int) -> Tensor:
        image = self.images[index]
        image = image.float() / 255 if image.dtype == torch.uint8 else image.float()
        return image.expand(self.channels, -1, -1) if image.shape[0] != self.channels else image


class ImageDataset(Dataset[tuple[Tensor, int]]):
    """``indices`` of a source through a transform.

    Items are indexed by ``(index, seed)`` (from :class:`SeededSampler`: the transform draws from a
    generator seeded with ``seed``) or by a plain ``index`` (the global generator; what a replaced sampler,
    e.g. Lightning's ``overfit_batches``, gives).
    """

    def __init__(self, source: Source, indices: Tensor, transform: Transform) -> None:
        self.source = source
        self.indices = indices
        self.transform = transform

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, item: int | tuple[int, int]) -> tuple[Tensor, int]:
        index, seed = item if isinstance(item, tuple) else (item, None)
        gen = None if seed is None else torch.Generator().manual_seed(seed)
        i = int(self.indices[index])
        image = self.transform(self.source.image(i), gen).contiguous()
        return image, int(self.source.labels[i])

    @property
    def labels(self) -> Tensor:
        return self.source.labels[self.indices]


class SeededSampler(Sampler[tuple[int, int]]):
    """A random order of ``range(size)`` each epoch, every index paired with its augmentation seed.

    Both are drawn from a generator seeded with ``(seed, epoch)``: epoch ``e`` is the same whether it is
    reached by iterating ``e`` times or by :meth:`set_epoch`, which Lightning calls before each epoch, so
    that a run resumed from a checkpoint sees the epochs the uninterrupted run would have seen. Without
    ``set_epoch`` calls, each iteration moves on to the next epoch.
    """

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return self.size

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[tuple[int, int]]:
        gen = generator(self.seed, f"epoch {self.epoch}")
        self.epoch += 1
        order = torch.randperm(self.size, generator=gen).tolist()
        seeds = torch.randint(0, 2**62, (self.size,), generator=gen).tolist()
        return iter(zip(order, seeds, strict=True))


# ---------------------------------------------------------------------------------------------------------
# the data module


@dataclass
class Split:
    """What a data set provides to :class:`ImageDataModule`: both splits before any ``limit_*``."""

    train: Source
    train_indices: Tensor
    val: Source
    val_indices: Tensor
    mean: list[float]  # of the training split, per channel, in [0, 1] units
    std: list[float]
    info: dict[str, Any] = field(default_factory=dict)  # more for describe(): root, split...
    skipped_files: int = 0


def _check_int(name: str, value: object, low: int | None, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or (low is not None and value < low):
        want = {None: "an integer", 1: "a positive integer"}.get(low, f"an integer >= {low}")
        raise UsageError(f"data.{name}: expected {want}{' or null' if optional else ''}; got {value!r}")


def check_fraction(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise UsageError(f"data.val_fraction: expected a number between 0 and 1 (exclusive); got {value!r}")


class ImageDataModule(L.LightningDataModule):
    """Base of the image data modules: batches of ``(float32 [N, C, H, W] normalized, int64 [N])``.

    Subclasses set ``name`` and ``num_classes`` and implement :meth:`load` and the two transform lists.
    Constructors only store their arguments: bad values raise :class:`~nas.errors.UsageError` from
    :meth:`setup`, outside ``hydra.utils.instantiate`` (which would wrap them in its own exception).
    """

    name = "images"
    num_classes: int
    # limit_* subsets keep the classes' proportions (exactly, not just on average); off for the data
    # sets whose committed results were measured on uniform subsets.
    stratified_limits = False

    def __init__(
        self,
        resolution: int,
        batch_size: int = 64,
        num_workers: int = 0,
        seed: int = 0,
        in_channels: int = 3,
        limit_train: int | None = None,
        limit_val: int | None = None,
        augment: bool = True,
        split_seed: int | None = None,
    ) -> None:
        super().__init__()
        self.resolution = resolution
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed
        self.split_seed = seed if split_seed is None else split_seed
        self.in_channels = in_channels
        self.limit_train = limit_train
        self.limit_val = limit_val
        self.augment = augment
        self.train_set: ImageDataset | None = None
        self.val_set: ImageDataset | None = None
        self._split: Split | None = None

    # -- to implement -------------------------------------------------------------------------------------

    def load(self) -> Split:
        raise NotImplementedError

    def train_transforms(self) -> list[Transform]:
        """The training transforms before normalization (augmentation only when ``self.augment``)."""
        raise NotImplementedError

    def val_transforms(self) -> list[Transform]:
        raise NotImplementedError

    def check_args(self) -> None:
        """Raise :class:`UsageError` for a bad argument; subclasses add their own checks."""
        _check_int("resolution", self.resolution, 1)
        _check_int("batch_size", self.batch_size, 1)
        _check_int("num_workers", self.num_workers, 0)
        _check_int("seed", self.seed, None)
        _check_int("split_seed", self.split_seed, None)
        _check_int("limit_train", self.limit_train, 1, optional=True)
        _check_int("limit_val", self.limit_val, 1, optional=True)
        if self.in_channels not in (1, 3) or isinstance(self.in_channels, bool):
            raise UsageError(f"data.in_channels: expected 1 or 3; got {self.in_channels!r}")
        if not isinstance(self.augment, bool):
            raise UsageError(f"data.augment: expected true or false; got {self.augment!r}")

    # -- Lightning ----------------------------------------------------------------------------------------

    def setup(self, stage: str | None = None) -> None:
        """Load both splits (whatever the stage: validation during fit needs both); once."""
        if self._split is not None:
            return
        self.check_args()
        split = self.load()
        train = self.subset(split.train_indices, split.train.labels, self.limit_train, "limit_train")
        val = self.subset(split.val_indices, split.val.labels, self.limit_val, "limit_val")
        normalize = Normalize(split.mean, split.std)
        self.train_set = ImageDataset(split.train, train, Compose([*self.train_transforms(), normalize]))
        self.val_set = ImageDataset(split.val, val, Compose([*self.val_transforms(), normalize]))
        self._split = split

    def subset(self, indices: Tensor, labels: Tensor, limit: int | None, purpose: str) -> Tensor:
        """The ``limit_*`` subset: uniform at random here; stratified where a subclass says so."""
        if self.stratified_limits:
            return stratified_subset(indices, labels, limit, self.split_seed, purpose)
        return random_subset(indices, limit, self.split_seed, purpose)

    def train_dataloader(self) -> DataLoader[Any]:
        """Shuffled, augmented; a fresh sampler each call, starting again from the first epoch."""
        train_set = self._datasets()[0]
        n = len(train_set)
        return DataLoader(
            train_set,
            batch_size=self.batch_size,
            sampler=SeededSampler(n, self.seed),
            num_workers=self.num_workers,
            generator=generator(self.seed, "workers"),
            persistent_workers=self.num_workers > 0,
            # Batch norm cannot train on a batch of one image: drop a last batch of one (only).
            drop_last=n > 1 and n % self.batch_size == 1,
        )

    def val_dataloader(self) -> DataLoader[Any]:
        return DataLoader(
            self._datasets()[1],
            batch_size=self.batch_size,
            shuffle=False,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def _datasets(self) -> tuple[ImageDataset, ImageDataset]:
        self.setup()
        assert self.train_set is not None and self.val_set is not None
        return self.train_set, self.val_set

    @property
    def normalization(self) -> tuple[list[float], list[float]]:
        """The per-channel mean and standard deviation the batches are normalized with, in ``[0, 1]``
        units, as :class:`Normalize` applies them (loads the data first if needed)."""
        self._datasets()
        assert self._split is not None
        return list(self._split.mean), [s if s > 0 else 1.0 for s in self._split.std]

    @property
    def validates_on_test(self) -> bool:
        """Whether the validation loader holds a test set kept for final reporting, which no search may
        select on (Fashion-MNIST's ``split: test``)."""
        return False

    # -- reporting ----------------------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """What was loaded and how, as JSON-ready data (loads the data first if needed)."""
        train_set, val_set = self._datasets()
        assert self._split is not None
        augmentation = train_set.transform.text if self.augment else "none"
        return {
            "dataset": self.name,
            "resolution": self.resolution,
            "in_channels": self.in_channels,
            "num_classes": self.num_classes,
            "train_samples": len(train_set),
            "val_samples": len(val_set),
            "augmentation": augmentation,
            "skipped_files": self._split.skipped_files,
            "seed": self.seed,
            "split_seed": self.split_seed,
            "limit_train": self.limit_train,
            "limit_val": self.limit_val,
            "mean": [round(m, 6) for m in self._split.mean],
            "std": [round(s, 6) for s in self._split.std],
            **self._split.info,
        }
