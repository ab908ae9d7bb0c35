"""measure: the median of real forward passes, with their spread, leaving the thread count and the
global RNG as they were; every back-end runs the network it is given and is timed the same way."""

from __future__ import annotations

import math
import platform
import sys
from collections.abc import Iterator

import onnxruntime
import pytest
import torch
from torch import nn

from nas import ArchSpec, count_cost, load_spec
from nas.export import EXTRA
from nas.latency import BACKENDS, Measurement, Setting, measure
from nas.latency import _timing as _latency
from nas.latency._backends import session_options
from nas.latency._timing import steady_allocator

TINY = load_spec("resolution: 16\nstages:\n- {block: conv, out: 4}\n")
# Thousands of times the multiply-adds of TINY (checked below), so that the comparison is not flaky.
BIG = load_spec("resolution: 64\nstages:\n- {block: conv, out: 64}\n- {block: conv, out: 64}\n")


class Recorder(nn.Module):
    """Stands in for the built network: records how each forward pass was called."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail
        self.calls: list[tuple[bool, bool, int, tuple[int, ...]]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append(
            (self.training, torch.is_inference_mode_enabled(), torch.get_num_threads(), x.shape)
        )
        if self.fail:
            raise RuntimeError("boom")
        return x


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    model = Recorder()
    monkeypatch.setattr(_latency, "build_model", lambda spec, num_classes: model)
    yield model


# Behaviour every back-end shares. torch.compile takes about 25 s per network here, so it is in the one
# test that matters most, that each back-end runs the network it is given, and left out of the timing ones.
TIMED = [name for name in BACKENDS if name != "compile"]


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_every_backend_runs_what_eager_pytorch_computes(backend: str) -> None:
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.Hardswish(), nn.Conv2d(8, 4, 1)
    )
    with torch.no_grad():
        model[1].running_var.uniform_(0.5, 2.0)  # batch norm away from the identity: its mode would show
    model.eval()
    x = torch.randn(1, 3, 16, 16)
    out = BACKENDS[backend].prepare(model, x, threads=1)()
    got = torch.as_tensor(out[0] if isinstance(out, list) else out)  # ONNX Runtime: a list of arrays
    with torch.no_grad():
        torch.testing.assert_close(got, model(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("backend", TIMED)
def test_a_real_measurement_is_positive_and_finite(backend: str) -> None:
    m = measure(TINY, Setting(threads=1, backend=backend), warmup=1, repeats=3, num_classes=10)
    assert isinstance(m.median_ms, float) and m.runs == 3
    assert math.isfinite(m.median_ms) and 0 < m.min_ms <= m.median_ms


@pytest.mark.parametrize("backend", TIMED)
def test_more_multiply_adds_take_longer(backend: str) -> None:
    tiny, big = count_cost(TINY, num_classes=10), count_cost(BIG, num_classes=10)
    assert big.macs >= 1000 * tiny.macs
    setting = Setting(threads=1, backend=backend)
    fast = measure(TINY, setting, warmup=2, repeats=7, num_classes=10).median_ms
    slow = measure(BIG, setting, warmup=2, repeats=7, num_classes=10).median_ms
    assert slow > 2 * fast


@pytest.mark.parametrize("backend", TIMED)
def test_a_minimum_time_adds_runs_in_every_backend(backend: str) -> None:
    m = measure(TINY, Setting(backend=backend), warmup=0, repeats=2, min_time_s=0.05, num_classes=10)
    assert m.runs > 2


@pytest.mark.parametrize("threads", [1, 2])
def test_onnxruntime_runs_with_the_setting_s_threads_and_records_them(threads: int) -> None:
    options = session_options(threads)
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (threads, 1)
    runtime = Setting(threads=threads, backend="onnxruntime").runtime()
    assert runtime.startswith(f"onnxruntime {onnxruntime.__version__} (torch.onnx exporter, opset 17): ")
    assert f"intra_op_num_threads={threads}, inter_op_num_threads=1, execution_mode=ORT_SEQUENTIAL" in runtime
    assert Setting(threads=threads).runtime() == ""  # torch alone: its version is recorded already


def test_onnxruntime_is_refused_off_the_cpu_or_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match=r"backend: onnxruntime times on the CPU .*; got device 'cuda'"):
        BACKENDS["onnxruntime"].check("cuda")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed
    with pytest.raises(ValueError) as info:
        Setting(backend="onnxruntime")
    assert str(info.value) == f"backend: onnxruntime is not installed: {EXTRA}"


def test_the_global_rng_is_untouched_and_the_weights_are_seeded(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(1234)
    before = torch.get_rng_state()
    built: list[nn.Module] = []
    real_build = _latency.build_model

    def build(spec: ArchSpec, num_classes: int) -> nn.Module:
        built.append(real_build(spec, num_classes=num_classes))
        return built[-1]

    monkeypatch.setattr(_latency, "build_model", build)
    measure(TINY, Setting(), warmup=0, repeats=1, num_classes=10)
    measure(TINY, Setting(), warmup=0, repeats=1, num_classes=10)
    assert torch.equal(torch.get_rng_state(), before)
    first, second = (dict(m.state_dict()) for m in built)
    assert all(torch.equal(first[k], second[k]) for k in first)  # same seed, same weights


def test_eval_mode_inference_mode_batch_one_and_call_counts(recorder: Recorder) -> None:
    spec = load_spec("in_channels: 1\nresolution: 12\nstages:\n- {block: conv, out: 4}\n")
    recorder.train()
    measure(spec, Setting(batch_size=3), warmup=2, repeats=5)
    assert len(recorder.calls) == 2 + 5
    assert set(recorder.calls) == {(False, True, 1, (3, 1, 12, 12))}
    assert not torch.is_inference_mode_enabled()


def test_threads_are_set_during_the_measurement_and_restored_after(recorder: Recorder) -> None:
    previous = torch.get_num_threads()
    wanted = 1 if previous != 1 else 2
    try:
        measure(TINY, Setting(threads=wanted), warmup=1, repeats=2)
        assert {threads for _, _, threads, _ in recorder.calls} == {wanted}
        assert torch.get_num_threads() == previous
        recorder.fail = True
        with pytest.raises(RuntimeError, match="boom"):
            measure(TINY, Setting(threads=wanted))
        assert torch.get_num_threads() == previous  # restored on error too
    finally:
        torch.set_num_threads(previous)


def test_a_minimum_time_adds_runs(recorder: Recorder) -> None:
    m = measure(TINY, Setting(), warmup=0, repeats=2, min_time_s=0.05)
    assert m.runs == len(recorder.calls) > 2
    assert m.min_ms <= m.median_ms <= m.mean_ms * 10 and m.std_ms >= 0


def test_a_module_needs_its_input_shape_and_a_traced_backend_runs_it() -> None:
    conv = nn.Conv2d(3, 8, 3)
    with pytest.raises(ValueError, match="input_shape: needed"):
        measure(conv, Setting())
    m = measure(conv, Setting(backend="torchscript"), input_shape=(3, 16, 16), warmup=1, repeats=3)
    assert m.runs == 3 and m.median_ms > 0


def test_the_result_is_the_median_of_the_timed_passes(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fake clock read twice around each timed pass: passes of 5, 1, 4, 2 and 30 ms; median 4 ms.
    durations = [5.0, 1.0, 4.0, 2.0, 30.0]
    stamps = iter([t for i, d in enumerate(durations) for t in (100.0 * i, 100.0 * i + d / 1000)])
    monkeypatch.setattr(_latency, "perf_counter", lambda: next(stamps))
    m = measure(TINY, Setting(), warmup=3, repeats=5)
    assert len(recorder.calls) == 3 + 5
    assert (m.median_ms, m.min_ms, m.runs) == (pytest.approx(4.0), pytest.approx(1.0), 5)
    assert m.mean_ms == pytest.approx(8.4) and m.std_ms == pytest.approx(
        148.3**0.5
    )  # sample standard deviation
    # An even count: the mean of the two middle passes.
    even = iter([0.0, 0.001, 1.0, 1.003])
    monkeypatch.setattr(_latency, "perf_counter", lambda: next(even))
    assert measure(TINY, Setting(), warmup=0, repeats=2).median_ms == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"warmup": -1}, "warmup: expected an integer >= 0; got -1"),
        ({"repeats": 0}, "repeats: expected an integer >= 1; got 0"),
        ({"repeats": 2.5}, "repeats: expected an integer >= 1; got 2.5"),
    ],
)
def test_bad_arguments(recorder: Recorder, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as info:
        measure(TINY, Setting(), **kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message
    assert recorder.calls == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threads": 0}, "threads: expected an integer >= 1; got 0"),
        ({"threads": True}, "threads: expected an integer >= 1; got True"),
        ({"batch_size": 0}, "batch_size: expected an integer >= 1; got 0"),
        ({"backend": "tvm"}, "backend: expected one of eager, torchscript, compile, onnxruntime; got 'tvm'"),
        ({"device": "tpu"}, "device: expected cpu, cuda or cuda:N; got 'tpu'"),
    ],
)
def test_bad_settings(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as info:
        Setting(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_without_a_gpu_is_refused() -> None:
    with pytest.raises(ValueError, match="device: 'cuda' asked for, but this torch sees no CUDA device"):
        Setting(device="cuda")


def test_the_allocator_is_made_steady_where_it_can_be() -> None:
    expected = "glibc: no trim, no mmap" if platform.libc_ver()[0] == "glibc" else "default"
    assert steady_allocator() == expected


def test_one_run_has_no_spread() -> None:
    assert Measurement.of([2.0]) == Measurement(2.0, 2.0, 0.0, 2.0, 1)
