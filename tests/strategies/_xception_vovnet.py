from __future__ import annotations

from hypothesis import strategies as st

from nas.blocks.vovnet import OSA
from nas.blocks.xception import XceptionBlock
from tests.strategies._case import BlockCase

channels = st.integers(1, 32)
sizes = st.integers(7, 20)
strides = st.sampled_from([1, 2])


@st.composite
def xception(draw: st.DrawFn) -> BlockCase:
    block = XceptionBlock(
        reps=draw(st.integers(1, 3)),
        start_with_relu=draw(st.booleans()),
        grow_first=draw(st.booleans()),
    )
    return BlockCase(block, draw(channels), draw(channels), draw(strides), draw(sizes))


@st.composite
def osa(draw: st.DrawFn) -> BlockCase:
    block = OSA(
        mid=draw(st.integers(1, 16)),
        layers=draw(st.integers(1, 4)),
        depthwise=draw(st.booleans()),
        ese=draw(st.booleans()),
        residual=draw(st.booleans()),
    )
    return BlockCase(block, draw(channels), draw(channels), draw(strides), draw(sizes))


STRATEGIES = {
    "xception": xception(),
    "osa": osa(),
}
