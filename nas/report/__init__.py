"""``python -m nas.report RUN_DIR``: a search's report, ``report.html`` and ``report.png``, in its run
directory.

The page is self-contained (inline SVG and CSS, no script, no network): accuracy against MACs with the
Pareto front and every baseline by name, accuracy against latency where it was measured or predicted,
the optimization history, hyper-parameter importances, the best networks block by block, every trial,
and the exact evaluation settings. Everything is read from the study's storage, so the command also
shows a study that is still running. Every search writes its report when it ends.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nas.cli import exits_on_usage_error
from nas.errors import UsageError
from nas.report._content import Report
from nas.report._report import FIGURE, REPORT, gather, write, write_report
from nas.report._source import Source, locate, open_storage, resolve_target, study_names
from nas.report._structure import StageRow, structure
from nas.report._sweep import SWEEP_FIGURE, SWEEP_REPORT, write_sweep_report
from nas.study import Status, TrialRecord, status_of, trial_records
from nas.sweep import is_sweep

# The names of earlier releases: a report's row is the study's trial record.
Row = TrialRecord
rows = trial_records
STATUSES = tuple(Status)


@exits_on_usage_error
def regenerate(run_dir: str | Path, study_name: str | None = None) -> list[Path]:
    """Write the report of the study in ``run_dir`` (its ``study.db`` or its config's storage), or of
    every study of the sweep in ``run_dir`` (``sweep.html``)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():  # locate also takes URLs and files; a report needs a folder to go in
        raise UsageError(f"{run_dir}: no such directory")
    if is_sweep(run_dir):  # a sweep (-m): its page, over every job's study
        return write_sweep_report(run_dir)
    source = locate(run_dir, study_name)
    return write(source.load(), source)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m nas.report", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "run_dir", help="a search's run directory (hydra.run.dir) or a sweep's (hydra.sweep.dir)"
    )
    parser.add_argument("--study", help="the study's name, when the storage holds several")
    args = parser.parse_args(argv)
    for path in regenerate(args.run_dir, args.study):
        print(path, file=sys.stdout)


__all__ = [
    "FIGURE",
    "REPORT",
    "STATUSES",
    "SWEEP_FIGURE",
    "SWEEP_REPORT",
    "Report",
    "Row",
    "Source",
    "StageRow",
    "gather",
    "locate",
    "main",
    "open_storage",
    "regenerate",
    "resolve_target",
    "rows",
    "status_of",
    "structure",
    "study_names",
    "write",
    "write_report",
    "write_sweep_report",
]
