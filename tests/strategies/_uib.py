"""MobileNetV4's universal inverted bottleneck in all four forms (IB, ConvNeXt-like, ExtraDW, FFN)."""

from __future__ import annotations

from hypothesis import strategies as st

from nas.blocks import UIB
from tests.strategies._case import BlockCase
from tests.strategies._core import HIDDEN_ACTS, channels, sizes, strides

DW_KERNELS = st.sampled_from([0, 0, 1, 3, 5, 7])  # 0: no such depthwise conv


def _expansion(draw: st.DrawFn) -> dict[str, object]:
    # Ratios below 1 too: the expansion conv is always built, so it may narrow the block.
    if draw(st.booleans()):
        return {"mid": draw(st.integers(1, 96))}
    return {
        "expand": draw(st.sampled_from([0.5, 1.0, 2.0, 2.3, 3.0, 4.0, 6.0])),
        "divisor": draw(st.sampled_from([1, 8])),
    }


@st.composite
def uib(draw: st.DrawFn) -> BlockCase:
    start, middle = draw(DW_KERNELS), draw(DW_KERNELS)
    block = UIB(
        start_dw_kernel=start,
        mid_dw_kernel=middle,
        act=draw(HIDDEN_ACTS),
        skip=draw(st.booleans()),
        **_expansion(draw),
    )
    # An FFN (no depthwise conv) cannot stride; every other form takes either stride.
    stride = draw(strides) if start or middle else 1
    return BlockCase(block, draw(channels), draw(channels), stride, draw(sizes))


STRATEGIES = {"uib": uib()}
