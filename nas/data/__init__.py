"""Lightning data modules for image classification: digits (built in), Fashion-MNIST, CIFAR-10/100, image
folders, synthetic.

Every module takes ``resolution``, ``batch_size``, ``num_workers``, ``seed``, ``in_channels`` (1 or 3),
``limit_train``, ``limit_val``, ``augment`` and ``split_seed``; gives batches of ``(float32 [N, C, H, W]
normalized, int64 [N])``; and tells what it loaded with ``describe()``. The Hydra configs are in
``conf/data/``.
"""

from __future__ import annotations

from nas.data._base import ImageDataModule, derive_seed
from nas.data._cache import cached_datamodule, first_batch
from nas.data._cifar import CifarDataModule
from nas.data._digits import DigitsDataModule
from nas.data._fashion_mnist import FashionMnistDataModule
from nas.data._imagefolder import ImageFolderDataModule, SkippedFileWarning
from nas.data._synthetic import SyntheticDataModule

__all__ = [
    "CifarDataModule",
    "DigitsDataModule",
    "FashionMnistDataModule",
    "ImageDataModule",
    "ImageFolderDataModule",
    "SkippedFileWarning",
    "SyntheticDataModule",
    "cached_datamodule",
    "derive_seed",
    "first_batch",
]
