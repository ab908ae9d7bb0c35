"""The resumable CSV of the long benchmarks: rows appended as each measurement ends, read back on a rerun."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path


def read_rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open() as f:
        return list(csv.DictReader(f))


def append_row(path: Path, fields: Sequence[str], row: Sequence[object]) -> None:
    """One row, after the header when the file is new; flushed at once, so a killed run loses nothing."""
    new = not path.is_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", newline="") as f:
        writer = csv.writer(f)
        if new:
            writer.writerow(fields)
        writer.writerow(row)
