from __future__ import annotations

from hypothesis import strategies as st

from nas.blocks import Activation
from nas.blocks.fire import Fire
from nas.blocks.ghost import Ghost, GhostBottleneck
from nas.blocks.shufflenet import ShuffleV1, ShuffleV2
from tests.strategies._case import BlockCase
from tests.strategies._core import HIDDEN_ACTS, channels, sizes, squeeze_excite, strides


@st.composite
def shufflenet_v1(draw: st.DrawFn) -> BlockCase:
    groups = draw(st.sampled_from([1, 2, 3, 4, 8]))
    block = ShuffleV1(groups=groups, group_first=draw(st.booleans()))
    stride = draw(strides)
    mid = groups * draw(st.integers(1, max(1, 12 // groups)))
    # out // 4 is the bottleneck; the remainder must keep the input divisible by groups where it is grouped
    spare = range(4) if stride == 2 and not block.group_first else range(0, 4, groups)
    cout = 4 * mid + draw(st.sampled_from(spare))
    cin = cout if stride == 1 else cout - groups * draw(st.integers(1, (cout - 1) // groups))
    return BlockCase(block, cin, cout, stride, draw(sizes))


@st.composite
def shufflenet_v2(draw: st.DrawFn) -> BlockCase:
    block = ShuffleV2(kernel=draw(st.sampled_from([3, 5, 7, 9])), act=draw(HIDDEN_ACTS))
    stride = draw(strides)
    cout = 2 * draw(st.integers(1, 24))
    cin = cout if stride == 1 else draw(channels)
    return BlockCase(block, cin, cout, stride, draw(sizes))


@st.composite
def fire(draw: st.DrawFn) -> BlockCase:
    block = Fire(
        squeeze_ratio=draw(st.sampled_from([0.1, 0.125, 0.25, 0.5, 0.75, 1.0])),
        pct3x3=draw(st.sampled_from([0.1, 0.25, 0.5, 0.75, 0.9])),
        norm=draw(st.booleans()),
    )
    # 10 channels or more leave at least one of each kind whatever the ratios above
    return BlockCase(block, draw(channels), draw(st.integers(10, 48)), 1, draw(sizes))


@st.composite
def ghost(draw: st.DrawFn) -> BlockCase:
    block = Ghost(
        kernel=draw(st.sampled_from([1, 3, 5])),
        dw_kernel=draw(st.sampled_from([1, 3, 5])),
        ratio=draw(st.sampled_from([2, 2, 3, 4])),
        act=draw(HIDDEN_ACTS),
    )
    return BlockCase(block, draw(channels), draw(channels), draw(strides), draw(sizes))


@st.composite
def ghost_bottleneck(draw: st.DrawFn) -> BlockCase:
    if draw(st.booleans()):
        expansion: dict[str, object] = {"mid": draw(st.integers(1, 96))}
    else:
        expansion = {
            "expand": draw(st.sampled_from([1.0, 2.3, 3.0, 6.0])),
            "divisor": draw(st.sampled_from([1, 4, 8])),
        }
    block = GhostBottleneck(
        kernel=draw(st.sampled_from([3, 5, 7, 9])),
        act=draw(st.sampled_from([Activation.RELU, Activation.HSWISH])),
        se=draw(squeeze_excite()),
        ratio=draw(st.sampled_from([2, 2, 3])),
        dw_kernel=draw(st.sampled_from([1, 3, 5])),
        **expansion,
    )
    cin = draw(channels)
    cout = draw(st.one_of(st.just(cin), channels))  # the identity shortcut often enough
    return BlockCase(block, cin, cout, draw(strides), draw(sizes))


STRATEGIES = {
    "shufflenet_v1": shufflenet_v1(),
    "shufflenet_v2": shufflenet_v2(),
    "fire": fire(),
    "ghost": ghost(),
    "ghost_bottleneck": ghost_bottleneck(),
}
