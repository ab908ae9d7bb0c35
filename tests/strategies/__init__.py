"""Hypothesis strategies that draw valid blocks, for every kind in the block table.

Each family module exposes ``STRATEGIES: dict[kind, SearchStrategy[BlockCase]]``; the shared tests
check that every kind of ``nas.blocks.BLOCKS`` has one.
"""

from __future__ import annotations

from hypothesis import strategies as st

from tests.strategies import _core, _resnet_dense_inception, _shuffle_fire_ghost, _uib, _xception_vovnet
from tests.strategies._arch import arch_specs as _arch_specs
from tests.strategies._case import BlockCase

STRATEGIES: dict[str, st.SearchStrategy[BlockCase]] = {
    **_core.STRATEGIES,
    **_uib.STRATEGIES,
    **_shuffle_fire_ghost.STRATEGIES,
    **_resnet_dense_inception.STRATEGIES,
    **_xception_vovnet.STRATEGIES,
}


def arch_specs() -> st.SearchStrategy:
    """Valid random networks whose stages use every kind of block."""
    return _arch_specs(STRATEGIES)


__all__ = ["STRATEGIES", "BlockCase", "arch_specs"]
