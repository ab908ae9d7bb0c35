"""Whole random networks made of random blocks of every kind."""

from __future__ import annotations

from hypothesis import assume
from hypothesis import strategies as st

from nas import ArchSpec, ConvHead, Dense, HeadSpec, SpecError, StageSpec
from nas.arch import Classifier
from nas.blocks import Activation, BatchNorm, Conv, PoolMode
from tests.strategies._case import BlockCase

ACTS = st.sampled_from([Activation.RELU, Activation.HSWISH, Activation.SWISH, Activation.NONE])
BATCH_NORMS = st.sampled_from(
    [BatchNorm(), BatchNorm(), BatchNorm(eps=1e-3, momentum=0.01), BatchNorm(momentum=0.0003)]
)


@st.composite
def heads(draw: st.DrawFn) -> HeadSpec:
    conv = draw(st.none() | st.builds(ConvHead, out=st.integers(4, 64), act=ACTS))
    if draw(st.integers(0, 4)) == 0:
        return HeadSpec(conv=conv, classifier=Classifier.CONV, classifier_act=draw(ACTS), dropout=0.1)
    dense = st.builds(
        Dense,
        out=st.integers(4, 32),
        act=ACTS,
        dropout=st.just(0.1),
        bias=st.booleans(),
        norm=st.booleans(),  # MobileNetV4's head: no bias, batch norm
    )
    hidden = draw(st.lists(dense, max_size=2))
    return HeadSpec(
        conv=conv,
        pool=draw(st.sampled_from(list(PoolMode))),
        pool_size=draw(st.sampled_from([1, 1, 2, 3])),
        hidden=tuple(hidden),
        dropout=draw(st.sampled_from([0.0, 0.2])),
    )


def _stages_for(case: BlockCase, cin: int, repeats: int, bn: BatchNorm) -> list[StageSpec]:
    """The drawn block, behind a 1x1 conv adapter when the previous width differs from the block's input."""
    stages = [] if cin == case.cin else [StageSpec(Conv(kernel=1), out=case.cin)]
    try:
        return [*stages, StageSpec(case.block, out=case.out, repeats=repeats, stride=case.stride, bn=bn)]
    except SpecError:
        return [*stages, StageSpec(case.block, out=case.out, stride=case.stride, bn=bn)]


@st.composite
def arch_specs(draw: st.DrawFn, block_cases: dict[str, st.SearchStrategy[BlockCase]]) -> ArchSpec:
    """A valid spec of 1-4 random stages, each of a random kind, on a random stem and head."""
    width = draw(st.integers(4, 24))
    stem = (StageSpec(Conv(kernel=3, act=draw(ACTS)), out=width, stride=draw(st.sampled_from([1, 2]))),)
    stages: list[StageSpec] = []
    for _ in range(draw(st.integers(1, 4))):
        case = draw(st.sampled_from(sorted(block_cases)).flatmap(lambda k: block_cases[k]))
        stages += _stages_for(case, width, draw(st.integers(1, 3)), draw(BATCH_NORMS))
        width = stages[-1].block.out_channels(case.cin, case.out)
        if stages[-1].repeats > 1 and not stages[-1].block.sets_channels:
            width = _final_width(stages[-1], case.cin)
    try:
        return ArchSpec(
            name="random",
            in_channels=draw(st.sampled_from([1, 3])),
            resolution=draw(st.sampled_from([32, 40, 48, 64])),
            stem=stem,
            stages=tuple(stages),
            head=draw(heads()),
            drop_path=draw(st.sampled_from([0.0, 0.2])),
            bn=draw(BATCH_NORMS),
        )
    except SpecError:
        assume(False)
        raise


def _final_width(stage: StageSpec, cin: int) -> int:
    for _ in range(stage.repeats):
        cin = stage.block.out_channels(cin, stage.out)
    return cin
