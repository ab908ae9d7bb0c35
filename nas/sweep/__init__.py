"""A sweep as one collection of studies: ``python -m nas.search -m budget=150MFLOPs,300MFLOPs seed=0,1``.

Every job of a Hydra multirun keeps its own run directory and outputs, but its study goes into one
storage, by default ``study.db`` in the sweep directory, under a name made of the job's swept overrides
(``mnas-150MFLOPs-seed0``). ``sweep.yaml`` lists the jobs, their overrides and study names, so that
``python -m nas.dashboard SWEEP_DIR`` and ``python -m nas.report SWEEP_DIR`` find them all. Re-running
the same sweep finds the same directory, storage and names, and resumes every study.
"""

from nas.sweep._record import (
    STUDY_DB,
    SWEEP_FILE,
    JobEntry,
    Sweep,
    SweepJob,
    is_sweep,
    job_of,
    read_sweep,
    study_name,
    swept_keys,
)

__all__ = [
    "STUDY_DB",
    "SWEEP_FILE",
    "JobEntry",
    "Sweep",
    "SweepJob",
    "is_sweep",
    "job_of",
    "read_sweep",
    "study_name",
    "swept_keys",
]
