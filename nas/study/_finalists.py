"""Finalists: networks retrained with repeated seeds at the end of a search, and whether the searched ones
dominate each baseline with the seeds' support (``finalists.seeds``; read by the summary and the report).

Repetition ``k`` trains every network with the same seed, so their accuracies pair by ``k``; a difference
is supported when the paired t interval excludes 0 (:func:`nas.stats.paired`), and a tie otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nas.stats import Paired, Spread, Verdict, paired, spread
from nas.study._trial import FINALISTS, TrialRecord


@dataclass(frozen=True)
class Finalist:
    """One retrained network: its trial, and its accuracies by seed index."""

    record: TrialRecord
    accuracies: tuple[float, ...]

    @property
    def summary(self) -> Spread:
        return spread(self.accuracies)


@dataclass(frozen=True)
class Dominance:
    """A baseline against the searched finalists: ``dominated_by`` the cheapest finalist that costs no more
    (MACs, and measured latency when both have one) and is more accurate with the seeds' support."""

    baseline: Finalist
    dominated_by: Finalist | None
    # finalist trial -> (finalist - baseline), for the finalists that cost no more than the baseline
    comparisons: dict[int, Paired] = field(default_factory=dict)

    def __str__(self) -> str:
        b = self.baseline.record
        if self.dominated_by is not None:
            f = self.dominated_by.record
            return (
                f"{b.baseline}: dominated by trial {f.number} ({(f.macs or 0) / 1e6:.1f}M against "
                f"{(b.macs or 0) / 1e6:.1f}M MACs; accuracy {self.comparisons[f.number].text()})"
            )
        if not self.comparisons:
            return f"{b.baseline}: not dominated: every searched finalist costs more"
        number, best = max(self.comparisons.items(), key=lambda item: item[1].mean)
        closest = f"trial {number} comes closest ({versus(best)})"
        return f"{b.baseline}: not dominated: of the finalists that cost no more, {closest}"


def pair(a: tuple[float, ...], b: tuple[float, ...]) -> Paired:
    """``a - b`` for two finalists, their accuracies paired by seed index."""
    result = paired(dict(enumerate(a)), dict(enumerate(b)))
    assert result is not None  # every finalist has at least one training
    return result


def versus(c: Paired) -> str:
    """``better: +0.0120 [95% CI +0.0040, +0.0200; n=3]``: the verdict of ``a - b`` and its interval."""
    word = {Verdict.WIN: "better", Verdict.LOSS: "worse", Verdict.TIE: "tie", Verdict.ONE_SEED: "one seed"}
    return f"{word[c.verdict]}: {c.text()}"


def verdicts(finalists: list[Finalist]) -> list[Dominance]:
    """For every baseline, whether a searched finalist dominates it on the proxy."""
    searched = [f for f in finalists if not f.record.baseline]
    out = []
    for b in (f for f in finalists if f.record.baseline):
        cheaper = [f for f in searched if _no_costlier(f.record, b.record)]
        comparisons = {f.record.number: pair(f.accuracies, b.accuracies) for f in cheaper}
        winners = [f for f in cheaper if comparisons[f.record.number].verdict is Verdict.WIN]
        cheapest = min(winners, key=lambda f: f.record.macs or 0, default=None)
        out.append(Dominance(b, cheapest, comparisons))
    return out


def _no_costlier(f: TrialRecord, b: TrialRecord) -> bool:
    if (f.macs or 0) > (b.macs or 0):
        return False
    fl, bl = f.latency_measured_ms, b.latency_measured_ms
    return fl is None or bl is None or fl <= bl


def finalists_of(attrs: Mapping[str, Any], records: list[TrialRecord]) -> list[Finalist]:
    """The retrained networks a study's attributes hold, with their trials, in the order retrained; only
    the seeds every one of them finished (a run stopped midway is shown at the depth all reached)."""
    saved: Mapping[str, list[float]] = attrs.get(FINALISTS, {})
    by_number = {r.number: r for r in records}
    runs = {int(n): v for n, v in saved.items() if int(n) in by_number and v}
    if not runs:
        return []
    depth = min(len(v) for v in runs.values())
    return [Finalist(by_number[n], tuple(v[:depth])) for n, v in runs.items()]


__all__ = ["Dominance", "Finalist", "finalists_of", "pair", "verdicts", "versus"]
