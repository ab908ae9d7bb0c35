"""Neural architecture search over lightweight CNN block spaces.

The public API: a network is an :class:`ArchSpec`; :func:`build_model` makes its module,
:func:`count_cost` its cost without building anything, :func:`profile_model` the cost of any module.
"""

from __future__ import annotations

from nas.arch import (
    ArchSpec,
    ConvHead,
    Dense,
    HeadSpec,
    StageSpec,
    build_model,
    cost_table,
    count_cost,
    dump_spec,
    load_spec,
    measure_cost,
    profile_model,
)
from nas.blocks.costs import Cost, Shape
from nas.errors import SpecError

__version__ = "0.1.0"

__all__ = [
    "ArchSpec",
    "ConvHead",
    "Cost",
    "Dense",
    "HeadSpec",
    "Shape",
    "SpecError",
    "StageSpec",
    "build_model",
    "cost_table",
    "count_cost",
    "dump_spec",
    "load_spec",
    "measure_cost",
    "profile_model",
]
