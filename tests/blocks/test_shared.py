"""Behaviour every block kind must share: its analytic cost equals what the built module does."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nas import Shape, measure_cost
from nas.blocks import BLOCKS
from tests.strategies import STRATEGIES, BlockCase

KINDS = sorted(BLOCKS)


def test_every_kind_has_a_strategy() -> None:
    assert sorted(STRATEGIES) == KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_cost_equals_measured_module(kind: str) -> None:
    @settings(max_examples=25, deadline=None)
    @given(STRATEGIES[kind])
    def check(case: BlockCase) -> None:
        block, cin, out, stride, size = case
        assert block.kind == kind
        cout = block.out_channels(cin, out)
        block.check(cin, cout, stride)
        module = block.build(cin, cout, stride)
        predicted, shape = block.cost(Shape(cin, size, size), cout, stride)
        assert measure_cost(module, (1, cin, size, size)) == predicted
        y = module.eval()(torch.randn(2, cin, size, size))
        assert tuple(y.shape) == (2, *shape)
        assert shape.c == cout

    check()


@pytest.mark.parametrize("kind", KINDS)
def test_yaml_data_round_trips(kind: str) -> None:
    @settings(max_examples=25, deadline=None)
    @given(STRATEGIES[kind])
    def check(case: BlockCase) -> None:
        block = case.block
        assert type(block).from_data(block.to_data()) == block

    check()


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_option_is_named(kind: str) -> None:
    with pytest.raises(ValueError, match="unknown key 'no_such_option'"):
        BLOCKS[kind].from_data({"no_such_option": 1})


@settings(deadline=None)
@given(st.data())
def test_drop_path_only_changes_training(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(KINDS))
    block, cin, out, stride, size = data.draw(STRATEGIES[kind])
    cout = block.out_channels(cin, out)
    module = block.build(cin, cout, stride, drop_path=0.5).eval()
    reference = block.build(cin, cout, stride, drop_path=0.0).eval()
    reference.load_state_dict(module.state_dict())
    x = torch.randn(1, cin, size, size)
    torch.testing.assert_close(module(x), reference(x))
