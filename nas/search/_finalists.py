"""The end of a search, repeated: the best candidates and the baselines retrained with K seeds
(``finalists.seeds=K``), so that "the search found a better network than MnasNet-A1" rests on more
than one training each.

Repetition ``k`` trains every network with the same seed (``nas.stats.seed_of(seed, k)``), so that the
networks' accuracies pair by ``k`` (``nas.study.verdicts`` compares them). Each finished training is
kept in the study's ``finalists`` attribute at once: an interrupted run resumes with the trainings still
missing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import optuna

from nas.errors import SpecError
from nas.records import Record
from nas.stats import seed_of
from nas.study import FINALISTS, Finalist, TrialRecord

log = logging.getLogger("nas.search")


@dataclass(frozen=True)
class FinalistSettings(Record):
    """``finalists:`` of the search config: ``seeds`` repetitions (null: none) of the ``count`` best
    candidates and of every evaluated baseline."""

    seeds: int | None = None
    count: int = 3

    def validate(self) -> None:
        if self.seeds is not None and self.seeds < 1:
            raise SpecError("seeds", f"expected an integer >= 1, or null for no retraining; got {self.seeds}")
        if self.count < 0:
            raise SpecError("count", f"expected an integer >= 0; got {self.count}")


Train = Callable[[TrialRecord, int], float]  # (the network's trial, seed) -> the proxy's validation accuracy


def choose(ranked: list[TrialRecord], records: list[TrialRecord], count: int) -> list[TrialRecord]:
    """The ``count`` best searched candidates and every evaluated baseline, in that order."""
    searched = [r for r in ranked if not r.baseline and r.spec is not None][:count]
    baselines = [r for r in records if r.baseline and r.spec is not None and r.quality is not None]
    return searched + baselines


def retrain(
    study: optuna.Study, chosen: list[TrialRecord], settings: FinalistSettings, seed: int, train: Train
) -> list[Finalist]:
    """Train every chosen network ``settings.seeds`` times (only what the study lacks) and return them."""
    assert settings.seeds is not None
    done: dict[str, list[float]] = {k: list(v) for k, v in study.user_attrs.get(FINALISTS, {}).items()}
    for r in chosen:
        runs = done.setdefault(str(r.number), [])
        while len(runs) < settings.seeds:
            k = len(runs)
            runs.append(float(train(r, seed_of(seed, k))))
            study.set_user_attr(FINALISTS, done)  # kept at once: a stopped run resumes from here
            log.info(
                "finalist %s (trial %d), seed %d/%d: val_acc %.4f",
                r.name,
                r.number,
                k + 1,
                settings.seeds,
                runs[-1],
            )
    return [Finalist(r, tuple(done[str(r.number)][: settings.seeds])) for r in chosen]


__all__ = ["FinalistSettings", "Train", "choose", "retrain"]
