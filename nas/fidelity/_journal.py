"""The study's journal: one CSV row per measured value, appended as each job ends, so a rerun resumes."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from nas.fidelity._jobs import FIELDS

COLUMNS = (*FIELDS, "error")
Key = tuple[str, str, str, int, str]


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: list[dict[str, Any]] = []
        if path.is_file():
            with path.open(newline="") as f:
                self.rows = [_typed(r) for r in csv.DictReader(f)]
        self._by_key = {self.key(r): r for r in self.rows}  # the last row of a key wins

    @staticmethod
    def key(row: dict[str, Any]) -> Key:
        """What a value belongs to: the network (its name and a hash of its spec, so that another sample
        under the same names is never mistaken for it), the evaluator, the seed and the protocol."""
        return (row["network"], row["arch"], row["evaluator"], int(row["seed"]), row["protocol"])

    def has(self, key: Key) -> bool:
        """Whether ``key`` has a value; a failed one does not count, so that a rerun tries it again."""
        row = self._by_key.get(key)
        return row is not None and not row.get("error")

    def append(self, rows: list[dict[str, Any]]) -> None:
        new = not self.path.is_file()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, COLUMNS, extrasaction="ignore")
            if new:
                writer.writeheader()
            for row in rows:
                writer.writerow({"error": "", **row})
                self.rows.append(row)
                self._by_key[self.key(row)] = row

    def value(self, key: Key) -> dict[str, Any] | None:
        """The last row recorded under ``key``."""
        return self._by_key.get(key)


def _typed(row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = dict(row)
    for name in ("seed", "epochs", "macs", "params"):
        out[name] = int(row[name])
    for name in ("value", "seconds", "cpu_seconds"):
        out[name] = float(row[name]) if row[name] not in ("", None) else math.nan
    return out
