"""python -m nas.latency build|validate: tables built, resumed and proven, on a tiny space; bad input is
one line and exit status 2."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nas.cli import compose
from nas.latency import Setting, _build_table, _cli, load_table
from nas.latency._cli import run
from nas.latency._parts import space_parts
from nas.paths import ROOT


def config(*overrides: str):
    return compose("latency", overrides=list(overrides))


def build(space: Path, table: Path, *more: str) -> str:
    return run(config("command=build", f"space={space}", f"table={table}", "calibration=3", *more))


def test_build_times_every_part_of_the_space_and_fits_the_overhead(
    tmp_path, tiny_space_file, tiny_space, quick
):
    line = build(tiny_space_file, tmp_path / "t.json")
    layers, heads = tiny_space.layer_inputs()
    expected = {p.key for p in space_parts(layers, heads, 1000)}
    table = load_table(tmp_path / "t.json")
    assert set(table.entries) == expected
    assert table.calibration is not None and table.calibration.networks == 3
    assert table.spaces == ("tiny",) and table.build_seconds > 0
    assert re.search(rf"{len(expected)} parts of tiny \({len(expected)} timed now, \d+ s\); overhead", line)


def test_an_interrupted_build_resumes_where_it_stopped(tmp_path, tiny_space_file, quick, monkeypatch, capsys):
    real, calls = _build_table.measure_part, []

    def interrupted(*args, **kwargs):
        if len(calls) == 5:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(_build_table, "measure_part", interrupted)
    with pytest.raises(SystemExit) as info:  # Ctrl-C
        build(tiny_space_file, tmp_path / "t.json", "passes=1")
    assert info.value.code == 130
    assert "keeps 5 parts; the same command resumes" in capsys.readouterr().err
    assert len(load_table(tmp_path / "t.json").entries) == 5  # saved on the way out
    monkeypatch.setattr(_build_table, "measure_part", lambda *a, **k: calls.append(2) or real(*a, **k))
    line = build(tiny_space_file, tmp_path / "t.json", "passes=2")
    total = len(load_table(tmp_path / "t.json").entries)
    assert calls.count(2) == 2 * (total - 5)  # two passes over the parts still missing, no others
    assert f"({total - 5} timed now" in line


def test_validate_predicts_measures_and_writes_the_results(tmp_path, tiny_space_file, quick, capsys):
    build(tiny_space_file, tmp_path / "t.json")
    md = tmp_path / "results" / "latency_cpu.md"
    cfg = config(
        "command=validate", f"space={tiny_space_file}", f"table={tmp_path / 't.json'}", "n=4", f"results={md}"
    )
    line = run(cfg)
    assert re.fullmatch(r"spearman=-?\d\.\d\d mape=\d+\.\d% within10=\d+%", line)
    assert capsys.readouterr().out.rstrip().splitlines()[-1] == line
    text = md.read_text()
    assert "python -m nas.latency validate space=" in text and text.count("| tiny_1_") == 4
    assert md.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    within = re.search(r"(\d) of 4 networks \((\d+)%\) within ±10%", text)
    errors = [float(e) for e in re.findall(r"\| ([+-]\d+\.\d)% \|", text)]
    assert within and int(within.group(1)) == sum(abs(e) <= 10 for e in errors)  # rounded: none near 10
    assert f"within10={within.group(2)}%" in line


def test_onnxruntime_builds_and_validates_a_table_of_its_own(tmp_path, tiny_space_file, quick, monkeypatch):
    monkeypatch.setattr(_cli, "RESULTS", tmp_path / "results")  # where results/ would be
    build(tiny_space_file, tmp_path / "t.json", "backend=onnxruntime", "passes=1")
    table = load_table(tmp_path / "t.json", Setting(backend="onnxruntime"))
    assert table.environment.runtime.startswith("onnxruntime ") and len(table) > 0
    cfg = config(
        "command=validate",
        f"space={tiny_space_file}",
        f"table={tmp_path / 't.json'}",
        "n=3",
        "backend=onnxruntime",
    )
    assert "within10=" in run(cfg)
    text = (tmp_path / "results" / "latency_cpu_onnxruntime.md").read_text()
    assert text.startswith("# Latency predictor on cpu, onnxruntime: space `tiny`")
    assert "threads=1 backend=onnxruntime n=3" in text and "back-end onnxruntime (onnxruntime " in text
    with pytest.raises(SystemExit):  # the table is the back-end's own: eager refuses it
        run(config("command=validate", f"space={tiny_space_file}", f"table={tmp_path / 't.json'}", "n=3"))


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nas.latency", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def foreign_table(path: Path) -> Path:
    data = {
        "format": "lightweight-nas latency table",
        "version": 1,
        "environment": {
            "device": "cpu",
            "device_name": "A Phone CPU, 8 cores",
            "threads": 1,
            "batch_size": 1,
            "backend": "eager",
            "torch": "2.13.0+cpu",
            "allocator": "glibc: no trim, no mmap",
        },
        "spaces": [],
        "build_seconds": 0.0,
        "calibration": None,
        "entries": {},
    }
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "usage: python -m nas.latency build|validate"),
        (["measure"], "usage: python -m nas.latency build|validate"),
        (["build", "space=nope"], "space: unknown space 'nope'"),
        (["build", "threads=0"], "threads: expected an integer >= 1; got 0"),
        (
            ["build", "backend=tvm"],
            "backend: expected one of eager, torchscript, compile, onnxruntime; got 'tvm'",
        ),
        (["validate", "table=/nonexistent/t.json"], "table: no latency table at /nonexistent/t.json"),
        (["validate", "n=1", "table=/nonexistent/t.json"], "n: expected an integer >= 2; got 1"),
        (
            ["validate", "table=FOREIGN"],
            "measured elsewhere (device_name: table 'A Phone CPU, 8 cores', here",
        ),
        (["build", "table=CORRUPT"], "is corrupt (not JSON"),
    ],
)
def test_bad_input_is_one_line_and_status_2(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "corrupt.json").write_text("{not json")
    paths = {"FOREIGN": str(foreign_table(tmp_path / "f.json")), "CORRUPT": str(tmp_path / "corrupt.json")}
    args = [re.sub("FOREIGN|CORRUPT", lambda m: paths[m.group(0)], a) for a in args]
    result = cli(*args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert (tmp_path / "corrupt.json").read_text() == "{not json"  # never overwritten
