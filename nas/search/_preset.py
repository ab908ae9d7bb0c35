"""The papers' own searches as presets (``+preset=NAME``, ``conf/preset/NAME.yaml``), and the targets
they name: a budget ``latency:NAME`` is the latency of the zoo network NAME on this machine.

A preset fixes what makes it that paper's search: the space and the objective. An override that changes
either is refused with one line (the run would no longer be the paper's search, yet carry its name).
Every other override (budget, n_trials, seed, data, the reward's weights) is allowed and recorded with
the run's config, so that a variant of a paper's search is still traceable to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from nas import zoo
from nas.errors import UsageError
from nas.latency import predict
from nas.records import Record
from nas.search._latency import Latency
from nas.spaces import SearchSpace
from nas.study import Budget, BudgetError, needs_latency, parse_budget


@dataclass(frozen=True)
class Preset(Record):
    """What a preset means: its name, the paper section it follows, the space and objective it needs, and
    the network the paper published."""

    name: str
    paper: str
    space: str
    objective: str  # the objective's _target_
    published: str  # the zoo network the paper's search found (a baseline of the space)

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> Preset | None:
        """The preset a run's resolved config carries, if any."""
        data = config.get("preset")
        return None if data is None else cls.from_data(data, "preset")

    def check(self, space: SearchSpace, config: Mapping[str, Any]) -> None:
        """Refuse an override that changes what the preset means."""
        objective = str((config.get("objective") or {}).get("_target_"))
        if space.name != self.space:
            raise UsageError(
                f"preset {self.name}: searches space {self.space!r} ({self.paper}); got space "
                f"{space.name!r}: drop +preset={self.name} to search another space"
            )
        if objective != self.objective:
            raise UsageError(
                f"preset {self.name}: uses the objective {self.objective} ({self.paper}); got {objective}: "
                f"drop +preset={self.name} to search with another objective"
            )


def needs_table(value: Any) -> bool:
    """Whether the ``budget=`` setting limits latency (``25ms`` or ``latency:NAME``), every name checked
    before any table is opened."""
    return needs_latency(parse_budget(value, lambda name: _known(name) and 1.0))


def _known(name: str) -> bool:
    if name not in zoo.names():
        raise BudgetError(f"budget: latency:{name}: no zoo network {name!r}; expected one of the zoo's names")
    return True


def latency_resolver(latency: Latency | None, space: SearchSpace) -> Callable[[str], float] | None:
    """``latency:NAME`` in milliseconds: the zoo network NAME at the space's resolution, predicted by the
    search's own table (so that the network itself, a baseline of the search, sits exactly on target)."""
    if latency is None:
        return None

    def latency_of(name: str) -> float:
        _known(name)
        spec = zoo.get(name).replace(resolution=space.resolution)
        return predict(spec, latency.table, latency.num_classes)

    return latency_of


def resolve_budgets(value: Any, latency: Latency | None, space: SearchSpace) -> tuple[Budget, ...]:
    """The ``budget=`` setting with every ``latency:NAME`` measured on this machine."""
    return parse_budget(value, latency_resolver(latency, space))


__all__ = ["Preset", "latency_resolver", "needs_table", "resolve_budgets"]
