from __future__ import annotations

from hypothesis import strategies as st

from nas.blocks.densenet import DenseLayer, Transition
from nas.blocks.inception import Inception
from nas.blocks.resnet import BasicBlock, Bottleneck
from tests.strategies._case import BlockCase
from tests.strategies._core import squeeze_excite

channels = st.integers(1, 48)
sizes = st.integers(7, 20)
strides = st.sampled_from([1, 2])
branch_widths = st.integers(1, 16)


@st.composite
def basic(draw: st.DrawFn) -> BlockCase:
    return BlockCase(BasicBlock(), draw(channels), draw(channels), draw(strides), draw(sizes))


@st.composite
def bottleneck(draw: st.DrawFn) -> BlockCase:
    if draw(st.booleans()):
        block, out = draw(_torchvision_bottleneck())
    else:
        block, out = draw(_regnet_bottleneck())
    block = block.replace(se=draw(squeeze_excite()))
    return BlockCase(block, draw(channels), out, draw(strides), draw(sizes))


@st.composite
def _torchvision_bottleneck(draw: st.DrawFn) -> tuple[Bottleneck, int]:
    block = Bottleneck(
        groups=draw(st.sampled_from([1, 1, 2, 4, 32])),
        base_width=draw(st.sampled_from([4, 16, 64, 128])),
        expansion=draw(st.sampled_from([1, 2, 4])),
    )
    # At least one channel per group: planes * base_width >= 64.
    least = -(-64 // block.base_width)
    planes = draw(st.integers(least, least + 8))
    return block, planes * block.expansion


@st.composite
def _regnet_bottleneck(draw: st.DrawFn) -> tuple[Bottleneck, int]:
    """RegNet's parameters, widths as the spec gives them: the group width divides the mid width."""
    ratio = draw(st.sampled_from([0.25, 0.5, 1.0, 2.0]))
    group_width, groups = draw(st.integers(1, 8)), draw(st.integers(1, 4))
    mid = group_width * groups * (2 if ratio == 2.0 else 1)  # out = mid / 2 must be whole
    by_width = draw(st.booleans())  # the groups as RegNet's group width, or as their number
    block = Bottleneck(
        bottleneck_ratio=ratio,
        group_width=group_width if by_width else None,
        groups=1 if by_width else groups,
    )
    return block, int(mid / ratio)


@st.composite
def dense_layer(draw: st.DrawFn) -> BlockCase:
    block = DenseLayer(growth=draw(st.integers(1, 16)), bn_size=draw(st.integers(1, 4)))
    return BlockCase(block, draw(channels), None, 1, draw(sizes))


@st.composite
def transition(draw: st.DrawFn) -> BlockCase:
    return BlockCase(Transition(), draw(channels), draw(channels), draw(strides), draw(sizes))


@st.composite
def inception(draw: st.DrawFn) -> BlockCase:
    names = ("c1", "c3_reduce", "c3", "c5_reduce", "c5", "pool_proj")
    block = Inception(
        **{name: draw(branch_widths) for name in names},
        five_kernel=draw(st.sampled_from([3, 5])),
    )
    return BlockCase(block, draw(channels), None, 1, draw(sizes))


STRATEGIES = {
    "basic": basic(),
    "bottleneck": bottleneck(),
    "dense_layer": dense_layer(),
    "transition": transition(),
    "inception": inception(),
}
