from __future__ import annotations

from hypothesis import assume
from hypothesis import strategies as st

from nas.blocks import Activation, SEBase, SqueezeExcite
from nas.blocks.conv import Conv, NormAct, Pool, PoolMode
from nas.blocks.mbconv import FusedMBConv, MBConv
from nas.blocks.separable import Separable
from nas.errors import SpecError
from tests.strategies._case import BlockCase

HIDDEN_ACTS = st.sampled_from([a for a in Activation if a not in (Activation.SIGMOID, Activation.HSIGMOID)])
channels = st.integers(1, 48)
sizes = st.integers(7, 20)
strides = st.sampled_from([1, 2])


@st.composite
def squeeze_excite(draw: st.DrawFn) -> SqueezeExcite | None:
    if draw(st.booleans()):
        return None
    return SqueezeExcite(
        ratio=draw(st.sampled_from([0.0625, 0.125, 0.25, 0.5, 1.0])),
        base=draw(st.sampled_from(list(SEBase))),
        act=draw(st.sampled_from([Activation.RELU, Activation.SWISH, Activation.HSWISH])),
        gate=draw(st.sampled_from([Activation.SIGMOID, Activation.HSIGMOID])),
        divisor=draw(st.sampled_from([1, 4, 8])),
    )


@st.composite
def conv(draw: st.DrawFn) -> BlockCase:
    groups = draw(st.sampled_from([1, 1, 2, 4]))
    kernel = draw(st.sampled_from([1, 3, 5, 7, 11]))
    norm = draw(st.booleans())
    block = Conv(
        kernel=kernel,
        act=draw(HIDDEN_ACTS),
        groups=groups,
        norm=norm,
        bias=draw(st.booleans()) if norm else True,
        padding=draw(st.one_of(st.none(), st.integers(0, kernel // 2))),
    )
    cin = groups * draw(st.integers(1, 8))
    cout = groups * draw(st.integers(1, 8))
    return BlockCase(block, cin, cout, draw(st.sampled_from([1, 2, 4])), draw(st.integers(11, 24)))


@st.composite
def pool(draw: st.DrawFn) -> BlockCase:
    kernel = draw(st.integers(1, 4))
    block = Pool(
        mode=draw(st.sampled_from(list(PoolMode))),
        kernel=kernel,
        padding=draw(st.integers(0, kernel // 2)),
        ceil_mode=draw(st.booleans()),
    )
    return BlockCase(block, draw(channels), None, draw(strides), draw(sizes))


@st.composite
def norm_act(draw: st.DrawFn) -> BlockCase:
    return BlockCase(NormAct(act=draw(HIDDEN_ACTS)), draw(channels), None, 1, draw(sizes))


@st.composite
def separable(draw: st.DrawFn) -> BlockCase:
    block = Separable(
        kernel=draw(st.sampled_from([3, 5, 7])),
        act=draw(HIDDEN_ACTS),
        dw_norm=draw(st.booleans()),
        linear=draw(st.booleans()),
        skip=draw(st.booleans()),
        se=draw(squeeze_excite()),
    )
    return BlockCase(block, draw(channels), draw(channels), draw(strides), draw(sizes))


def _expansion(draw: st.DrawFn) -> dict[str, object]:
    if draw(st.booleans()):
        return {"mid": draw(st.integers(1, 96))}
    return {
        "expand": draw(st.sampled_from([1.0, 2.3, 3.0, 4.0, 4.5, 6.0])),
        "divisor": draw(st.sampled_from([1, 8])),
    }


KERNELS = st.sampled_from([1, 3, 5, 7, 9, 11])
GROUPS = st.sampled_from([1, 1, 2, 3, 4])


def _mixnet_options(draw: st.DrawFn, expands: bool) -> dict[str, object]:
    """MixConv kernels (one to four, repeats allowed) and grouped 1x1 convs, or neither."""
    if draw(st.booleans()):
        return {"kernel": draw(KERNELS)}
    return {
        "kernel": tuple(draw(st.lists(KERNELS, min_size=1, max_size=4))),
        "expand_groups": draw(GROUPS) if expands else 1,
        "project_groups": draw(GROUPS),
    }


@st.composite
def mbconv(draw: st.DrawFn) -> BlockCase:
    expansion = _expansion(draw)
    expands = "mid" in expansion or expansion["expand"] != 1.0
    block = MBConv(
        act=draw(HIDDEN_ACTS),
        se=draw(squeeze_excite()),
        skip=draw(st.booleans()),
        **_mixnet_options(draw, expands),
        **expansion,
    )
    case = BlockCase(block, draw(channels), draw(channels), draw(strides), draw(sizes))
    try:  # as many channels as groups; uneven splits (the remainder to the first group) are drawn too
        block.check(case.cin, case.out, case.stride)
    except SpecError:
        assume(False)
    return case


@st.composite
def fused_mbconv(draw: st.DrawFn) -> BlockCase:
    block = FusedMBConv(
        kernel=draw(st.sampled_from([1, 3, 5, 7, 9, 11])),
        act=draw(HIDDEN_ACTS),
        se=draw(squeeze_excite()),
        skip=draw(st.booleans()),
        **_expansion(draw),
    )
    return BlockCase(block, draw(channels), draw(channels), draw(strides), draw(sizes))


STRATEGIES = {
    "conv": conv(),
    "pool": pool(),
    "norm_act": norm_act(),
    "separable": separable(),
    "mbconv": mbconv(),
    "fused_mbconv": fused_mbconv(),
}
