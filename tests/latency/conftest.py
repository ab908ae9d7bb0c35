from __future__ import annotations

from pathlib import Path

import pytest

from nas import spaces
from nas.latency import Environment, LatencyTable, Setting, _predict

TINY_SPACE = """\
name: tiny
resolution: 32
shared: {act: [relu, swish]}
stem: [{block: conv, out: 8, stride: 2, act: $act}]
stages:
  - {block: mbconv, out: [8, 16], repeats: [1, 2], stride: 2, expand: [1, 3], kernel: [3, 5], act: $act}
head: {conv: {out: 32, act: $act}}
"""


@pytest.fixture
def tiny_space_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_SPACE)
    return path


@pytest.fixture
def tiny_space(tiny_space_file: Path) -> spaces.SearchSpace:
    return spaces.load(str(tiny_space_file))


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Time parts and networks for a few runs only: these tests check bookkeeping, not precision."""
    monkeypatch.setattr(_predict, "PART_TIME_S", 0.0)
    monkeypatch.setattr(_predict, "NETWORK_TIME_S", 0.0)


@pytest.fixture
def table() -> LatencyTable:
    return LatencyTable(Environment.here(Setting()))
