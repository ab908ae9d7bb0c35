"""A network: its spec (:class:`ArchSpec`, validated on construction), its exact cost from the spec alone
(:func:`count_cost`, :func:`cost_table`), its PyTorch module (:func:`build_model`), and the cost of a built
module by running it (:func:`measure_cost`) or of any module a user brings (:func:`profile_model`), and
another implementation's weights loaded into it (:func:`copy_weights`).

One walk over a network (:meth:`ArchSpec.walk`, with :func:`step` for one block) serves the cost model,
the validation and the search spaces; the block kinds come from :mod:`nas.blocks`, the arithmetic from
:mod:`nas.blocks.costs`.
"""

from __future__ import annotations

from nas.arch._build import Head, Network, build_model
from nas.arch._count import LayerCost, cost_table, count_cost, head_cost
from nas.arch._measure import measure_cost
from nas.arch._profile import profile_model
from nas.arch._spec import (
    ArchSpec,
    BlockStep,
    Classifier,
    ConvHead,
    Dense,
    HeadSpec,
    Layer,
    StageSpec,
    Step,
    dump_spec,
    load_spec,
    step,
)
from nas.arch._transfer import WeightMismatch, copy_weights

__all__ = [
    "ArchSpec",
    "BlockStep",
    "Classifier",
    "ConvHead",
    "Dense",
    "Head",
    "HeadSpec",
    "Layer",
    "LayerCost",
    "Network",
    "StageSpec",
    "Step",
    "WeightMismatch",
    "build_model",
    "copy_weights",
    "cost_table",
    "count_cost",
    "dump_spec",
    "head_cost",
    "load_spec",
    "measure_cost",
    "profile_model",
    "step",
]
