"""The arithmetic a block's ``cost`` method is written with: the public toolkit for a new block kind.

A block returns its :class:`Cost` and output :class:`Shape` from these pure functions of integers (a
convolution's multiply-adds, parameters and feature-map traffic; a linear layer; a norm; a pooling's
output shape; squeeze-and-excitation), so that its cost is exact without building it. The conventions
(what ``macs``, ``params`` and ``activation_bytes`` count) are those of ``nas._cost``'s docstring and
the README's *Costs*.
"""

from __future__ import annotations

from nas._cost import (
    BYTES_PER_ELEMENT,
    ZERO,
    Cost,
    Shape,
    conv,
    conv_out,
    linear,
    norm,
    pool,
    pool_out,
    squeeze_excite,
)

__all__ = [
    "BYTES_PER_ELEMENT",
    "ZERO",
    "Cost",
    "Shape",
    "conv",
    "conv_out",
    "linear",
    "norm",
    "pool",
    "pool_out",
    "squeeze_excite",
]
