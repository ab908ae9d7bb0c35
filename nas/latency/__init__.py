"""Latency: measured on the target device, predicted from per-part lookup tables, and the prediction proven.

- :func:`measure` times a spec or module (warm-up, repeated runs, median and spread) in a
  :class:`Setting`: device, threads, batch size, back-end (a :class:`Backend` of :data:`BACKENDS`:
  eager, TorchScript, ``torch.compile``, or ONNX Runtime).
- A :class:`LatencyTable` holds the measured latency of every distinct part (a layer at its input
  shape, or a head) a search space can produce, keyed by device, threads, batch size, back-end, torch
  version and the back-end's runtime (``python -m nas.latency build space=mnas``); :func:`load_table`
  refuses a table from another machine or a corrupt file.
- :func:`predict` sums a network's parts and adds the table's fitted overhead; parts the table lacks are
  measured and added. ``python -m nas.latency validate space=mnas n=50`` checks predictions against
  measurements and writes ``results/latency_DEVICE.md`` (``latency_DEVICE_BACKEND.md`` for a back-end
  other than eager).
"""

from __future__ import annotations

from nas.latency._backends import BACKENDS, Backend
from nas.latency._build_table import CALIBRATION_SEED, BuildReport, build_table, random_networks
from nas.latency._config import open_table, setting_from_config, table_path
from nas.latency._parts import Part, network_parts
from nas.latency._predict import best_ms, calibrate, measure_network, measure_networks, predict
from nas.latency._table import (
    Calibration,
    Environment,
    LatencyTable,
    TableError,
    default_path,
    device_name,
    load_table,
)
from nas.latency._timing import Measurement, Setting, measure
from nas.latency._validate import Validation, validate, write_results

__all__ = [
    "BACKENDS",
    "CALIBRATION_SEED",
    "Backend",
    "BuildReport",
    "Calibration",
    "Environment",
    "LatencyTable",
    "Measurement",
    "Part",
    "Setting",
    "TableError",
    "Validation",
    "best_ms",
    "build_table",
    "calibrate",
    "default_path",
    "device_name",
    "load_table",
    "measure",
    "measure_network",
    "measure_networks",
    "network_parts",
    "open_table",
    "predict",
    "random_networks",
    "setting_from_config",
    "table_path",
    "validate",
    "write_results",
]
