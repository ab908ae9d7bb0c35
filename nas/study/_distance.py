"""How far a searched network lies from the published ones, in the space's own terms: the number of the
space's choices (its trial parameters) on which two points differ."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nas.study._trial import TrialRecord

_ABSENT = object()  # a choice only one point makes (a layer the other's depth leaves out)


@dataclass(frozen=True)
class Distance:
    """The choices that differ, out of the choices either point makes."""

    differing: int
    compared: int

    def __str__(self) -> str:
        return f"{self.differing}/{self.compared}"


def distance(a: Mapping[str, Any], b: Mapping[str, Any]) -> Distance:
    """The :class:`Distance` between two points given by their parameters (``space.encode`` or a trial's):
    a layer only one of them has counts as differing, as its stage's depth does."""
    keys = set(a) | set(b)
    return Distance(sum(a.get(k, _ABSENT) != b.get(k, _ABSENT) for k in keys), len(keys))


def nearest(
    point: Mapping[str, Any], baselines: Mapping[str, Mapping[str, Any]]
) -> tuple[str, Distance] | None:
    """The baseline closest to ``point`` (fewest differing choices; ties by name) and its distance."""
    if not baselines:
        return None
    name = min(sorted(baselines), key=lambda n: distance(point, baselines[n]).differing)
    return name, distance(point, baselines[name])


def nearest_baselines(records: list[TrialRecord]) -> dict[int, tuple[str, Distance]]:
    """Trial number -> its nearest baseline of the same study, for every searched trial with choices."""
    baselines = {r.baseline: r.choices for r in records if r.baseline and r.choices}
    found = {}
    for r in records:
        near = nearest(r.choices, baselines) if r.choices and not r.baseline else None
        if near is not None:
            found[r.number] = near
    return found


__all__ = ["Distance", "distance", "nearest", "nearest_baselines"]
