"""What a report says about a study: the records of its trials and what they were evaluated for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nas.study import Budget, Finalist, Status, TrialRecord, pareto_front

BEST = 5  # networks shown block by block, besides the baselines


@dataclass
class Report:
    study_name: str
    storage: str
    directions: list[str]
    rows: list[TrialRecord]
    config: dict[str, Any] | None
    evaluation: dict[str, Any] | None
    budgets: tuple[Budget, ...]
    quality: str  # the quality's axis label
    objective: str  # the first objective's axis label
    importances: dict[str, float] | str  # or why there are none
    figures: dict[str, str] = field(default_factory=dict)  # element id -> inline SVG
    notes: dict[str, str] = field(default_factory=dict)  # element id -> why that figure is missing
    generated: str = ""
    space: str = ""  # the space searched: name, fingerprint and the command line's space.* overrides
    preset: dict[str, Any] | None = None  # the paper's search the run reproduces (+preset=NAME)
    finalists: list[Finalist] = field(default_factory=list)  # retrained with repeated seeds

    @property
    def running(self) -> int:
        return sum(r.status is Status.RUNNING for r in self.rows)

    def best(self) -> list[TrialRecord]:
        """The best networks within budget by the objective (the front's most accurate, for several
        objectives), then every baseline whatever became of it."""
        done = [r for r in self.rows if r.status is Status.COMPLETE and r.objective and not r.over_budget]
        if len(self.directions) == 1:
            ranked = sorted(done, key=lambda r: r.objective[0], reverse=True)
        else:
            front = pareto_front(done)  # an evaluated record's values are its objective
            ranked = sorted(front, key=lambda r: r.objective[0], reverse=True)
        top = ranked[:BEST]
        return top + [r for r in self.rows if r.baseline and r not in top]
