"""Weight sharing for MBConv search spaces (Once-for-All, Cai et al. 2020; BigNAS, Yu et al. 2020).

``python -m nas.supernet train space=mnas data=fashion_mnist`` trains one :class:`Supernet` holding every
network of the space; :func:`load` reads its checkpoint and :func:`extract` gives any network of the
space as a standalone module with the inherited weights. A search evaluates candidates with them
(``evaluator=supernet supernet.ckpt=PATH``), in seconds each instead of a training each.
"""

from __future__ import annotations

from nas.supernet._checkpoint import check_fits, extract, load, load_module
from nas.supernet._evaluate import VAL_BATCH, inherited_accuracy, validation_set
from nas.supernet._module import Phase, Recipe, SupernetModule, sandwich, sandwich_losses
from nas.supernet._net import Extreme, Setting, Slot, Subnet, Supernet, check_space, crop
from nas.supernet._sort import sort_channels
from nas.supernet._train import main, run

__all__ = [
    "VAL_BATCH",
    "Extreme",
    "Phase",
    "Recipe",
    "Setting",
    "Slot",
    "Subnet",
    "Supernet",
    "SupernetModule",
    "check_fits",
    "check_space",
    "crop",
    "extract",
    "inherited_accuracy",
    "load",
    "load_module",
    "main",
    "run",
    "sandwich",
    "sandwich_losses",
    "sort_channels",
    "validation_set",
]
