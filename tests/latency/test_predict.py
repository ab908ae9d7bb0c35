"""predict: the sum of a network's table entries plus the fitted overhead; missing parts are timed once
and kept; the overhead is the median of (measured - sum) over the calibration networks. Every figure is
a best time (the fastest run)."""

from __future__ import annotations

import pytest

from nas import load_spec
from nas.latency import LatencyTable, Measurement, _predict, calibrate, network_parts, predict

SPEC = load_spec(
    "resolution: 32\nstem: [{block: conv, out: 8, stride: 2}]\n"
    "stages:\n- {block: mbconv, out: 16, repeats: 2, stride: 2}\n"
)


def entry(ms: float) -> Measurement:
    """A measurement whose best run took ``ms`` (its median is slower: the best is what counts)."""
    return Measurement(ms + 1.0, ms + 1.0, 0.5, ms, 10)


def test_the_prediction_is_the_sum_of_the_entries_plus_the_overhead(table: LatencyTable, monkeypatch) -> None:
    parts = network_parts(SPEC)
    for i, part in enumerate(parts):
        table.add(part.key, entry(float(i + 1)))  # 1 + 2 + 3 + 4 ms
    monkeypatch.setattr(_predict, "measure_part", lambda *a, **k: pytest.fail("nothing is missing"))
    assert predict(SPEC, table) == pytest.approx(10.0)
    table.calibration = _predict.Calibration(overhead_ms=1.5, networks=3, mape=0.0)
    assert predict(SPEC, table) == pytest.approx(11.5)


def test_missing_parts_are_measured_once_and_kept(table: LatencyTable, quick) -> None:
    first = predict(SPEC, table, num_classes=10)
    assert len(table) == len(network_parts(SPEC, 10)) == 4
    assert first == pytest.approx(sum(m.min_ms for m in table.entries.values()))
    assert predict(SPEC, table, num_classes=10) == first  # from the table now, nothing timed again
    assert len(table) == 4
    predict(SPEC, table, num_classes=100)  # another classifier: one more part, the head
    assert len(table) == 5


def test_calibration_takes_the_median_difference(table: LatencyTable, monkeypatch) -> None:
    specs = [SPEC.replace(name=f"n{i}") for i in range(3)]
    for part in network_parts(SPEC):
        table.add(part.key, entry(2.5))  # 4 parts: every network sums to 10 ms
    # Each pass over the three networks is slower than their best (11.0, 12.5 and 10.0 ms) but in one
    # pass, a different one for each network: the best of all passes is kept.
    passes, best = _predict.NETWORK_PASSES, [11.0, 12.5, 10.0]
    times = [b + 0.5 * ((p + n) % passes) for p in range(passes) for n, b in enumerate(best)]
    whole = iter(Measurement(ms + 1.0, ms + 1.0, 0.5, ms, 10) for ms in times)
    monkeypatch.setattr(_predict, "measure_network", lambda *a, **k: next(whole))
    cal = calibrate(table, specs)
    # Differences from the 10 ms sums: 1.0, 2.5, 0.0; their median is the overhead.
    assert cal.overhead_ms == pytest.approx(1.0)
    assert cal.networks == 3
    assert cal.mape == pytest.approx((0.0 + 1.5 / 12.5 + 1.0 / 10.0) / 3)
    assert table.calibration == cal
    assert predict(SPEC, table) == pytest.approx(11.0)
    with pytest.raises(ValueError, match="no networks"):
        calibrate(table, [])
