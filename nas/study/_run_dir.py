"""A search's run directory as every command reads it: the files' names, and the networks it saved.

``nas.search`` writes these files; ``nas.export`` (``arch=RUN_DIR``) and the scripts read them. The names
live here, below both, so that a reader needs neither the search package nor a copy of its strings.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from nas.errors import UsageError

BEST_ARCH = "best_arch.yaml"  # one objective: the best network's spec
PARETO_CSV = "pareto.csv"  # several objectives: the front, one row a network, best first by cost
PARETO_DIR = "pareto"  # and its networks' specs
TRIALS_CSV = "trials.csv"  # every trial, whatever its state
FINALISTS_CSV = "finalists.csv"  # finalists.seeds=K: every retrained network's accuracy per seed
SUMMARY_MD = "summary.md"
SPEC_COLUMN = "spec"  # pareto.csv's column with each network's spec file, relative to the run directory


@dataclass(frozen=True)
class SavedNetworks:
    """The spec files a search left in its run directory: ``best`` (one objective; None when no candidate
    met the budget) or the Pareto front's, in the order of ``pareto.csv`` (several objectives)."""

    run_dir: Path
    best: Path | None
    pareto: tuple[Path, ...]


def read_outputs(run_dir: str | Path) -> SavedNetworks:
    """The networks a search saved in ``run_dir``; a :class:`UsageError` when it is no search's run
    directory or holds no network."""
    run_dir = Path(run_dir)
    best, front = run_dir / BEST_ARCH, run_dir / PARETO_CSV
    if best.is_file():
        return SavedNetworks(run_dir, best, ())
    if front.is_file():
        with front.open(newline="") as f:
            rows = list(csv.DictReader(f))
        if not rows or SPEC_COLUMN not in rows[0]:
            raise UsageError(f"{front}: no network listed (expected a {SPEC_COLUMN!r} column)")
        specs = tuple(run_dir / row[SPEC_COLUMN] for row in rows)
        missing = [p for p in specs if not p.is_file()]
        if missing:
            raise UsageError(f"{front}: lists {missing[0]}, which is missing")
        return SavedNetworks(run_dir, None, specs)
    if (run_dir / TRIALS_CSV).is_file():
        raise UsageError(f"{run_dir}: the search saved no network ({BEST_ARCH}): none met its budget")
    raise UsageError(f"{run_dir}: not a search's run directory (no {BEST_ARCH} or {PARETO_CSV})")
