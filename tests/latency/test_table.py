"""Tables: saved whole and read back equal; a table from elsewhere or a damaged file is refused with a
message that says why, never used."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from nas.latency import (
    Calibration,
    Environment,
    LatencyTable,
    Measurement,
    Setting,
    TableError,
    default_path,
    load_table,
)


def filled(table: LatencyTable) -> LatencyTable:
    table.add("conv a", Measurement(1.5, 1.6, 0.1, 1.4, 20))
    table.add("head b", Measurement(0.25, 0.26, 0.01, 0.24, 90))
    table.calibration = Calibration(overhead_ms=0.75, networks=20, mape=0.03)
    table.spaces = ("tiny",)
    table.build_seconds = 12.5
    return table


def test_save_and_load_round_trip(tmp_path: Path, table: LatencyTable) -> None:
    path = tmp_path / "sub" / "t.json"
    filled(table).save(path)
    loaded = load_table(path, Setting())
    assert loaded == table
    assert not list(path.parent.glob("*.tmp"))  # written through a temporary file, then renamed


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("torch", "1.13.1"),
        ("device_name", "Some Other CPU, 64 cores"),
        ("threads", 4),
        ("backend", "torchscript"),
        ("batch_size", 8),
        ("allocator", "jemalloc"),
        ("runtime", "onnxruntime 1.0.0 (torch.onnx exporter, opset 17): intra_op_num_threads=1"),
    ],
)
def test_a_table_from_elsewhere_is_refused(
    tmp_path: Path, table: LatencyTable, field: str, value: object
) -> None:
    path = tmp_path / "t.json"
    foreign = dataclasses.replace(table.environment, **{field: value})
    filled(LatencyTable(foreign)).save(path)
    with pytest.raises(TableError) as info:
        load_table(path, Setting())
    message = str(info.value)
    assert f"{field}: table {value!r}, here {getattr(table.environment, field)!r}" in message
    assert "measured elsewhere" in message and "\n" not in message
    assert load_table(path).environment == foreign  # readable when no setting is asked for


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"format": "lightweight-nas latency table", "version": 1, "envir', "corrupt (not JSON"),
        ("[1, 2, 3]", "is not a latency table"),
        ('{"format": "something else"}', "is not a latency table"),
        ('{"format": "lightweight-nas latency table", "version": 99}', "has version 99; this code reads 1"),
    ],
)
def test_a_damaged_file_is_refused(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / "t.json"
    path.write_text(text)
    with pytest.raises(TableError, match=re.escape(why)):
        load_table(path, Setting())


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d["environment"].pop("torch"),
        lambda d: d["entries"].update({"conv a": [1.0, 2.0]}),
        lambda d: d["entries"].update({"conv a": [-1.0, 1.0, 0.0, 1.0, 3]}),
        lambda d: d.update({"calibration": {"overhead_ms": 1.0}}),
        lambda d: d.pop("entries"),
        lambda d: d.update({"build_seconds": "soon"}),
    ],
)
def test_a_table_with_damaged_fields_is_refused(tmp_path: Path, table: LatencyTable, damage) -> None:
    path = tmp_path / "t.json"
    data = filled(table).to_data()
    damage(data)
    path.write_text(json.dumps(data))
    with pytest.raises(TableError, match="is corrupt"):
        load_table(path, Setting())


def test_a_missing_file_is_a_table_error(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="cannot read latency table"):
        load_table(tmp_path / "nope.json")


def test_the_default_path_names_space_device_threads_batch_and_backend(tmp_path: Path) -> None:
    path = default_path(tmp_path, "mnas", Setting(threads=2, batch_size=4, backend="torchscript"))
    assert path == tmp_path / "mnas-cpu-t2-b4-torchscript.json"


def test_a_table_written_before_the_runtime_was_recorded_still_loads(
    tmp_path: Path, table: LatencyTable
) -> None:
    path = tmp_path / "t.json"
    data = filled(table).to_data()
    del data["environment"]["runtime"]  # an eager table of the first format: torch was its only runtime
    path.write_text(json.dumps(data))
    assert load_table(path, Setting()) == table


def test_an_onnxruntime_table_records_the_runtime_and_is_its_own(tmp_path: Path) -> None:
    setting = Setting(backend="onnxruntime")
    env = Environment.here(setting)
    assert env.backend == "onnxruntime" and env.runtime == setting.runtime() != ""
    path = tmp_path / "t.json"
    LatencyTable(env).save(path)
    assert load_table(path, setting).environment == env
    with pytest.raises(TableError, match="backend: table 'onnxruntime', here 'eager'"):
        load_table(path, Setting())
    assert default_path(tmp_path, "mnas", setting).name == "mnas-cpu-t1-b1-onnxruntime.json"


def test_the_environment_names_this_machine() -> None:
    env = Environment.here(Setting())
    assert env.device == "cpu" and env.threads == 1 and "cores" in env.device_name
    assert env.setting() == Setting()
