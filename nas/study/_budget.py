"""Budgets: the cost limits a search must respect, as users write them on the command line.

A budget is one Hydra override: ``budget=300MFLOPs``, ``budget=0.3GFLOPs``, ``budget=5Mparams``,
``budget=25ms``, a list ``budget=[300MFLOPs,5Mparams]``, or ``budget=null`` for none. ``latency:NAME``
is the latency of the zoo network NAME on the machine at hand, as the search's lookup table predicts it
(the papers' targets: MnasNet-A1's or MobileNetV3's own latency on the target device); a search
resolves it through ``latency_of``.

"FLOPs" here means multiply-adds, as in the MobileNet, MnasNet and EfficientNet papers: exactly
``count_cost(spec).macs``. ``MACs`` and ``MAdds`` are synonyms. Counts take an SI prefix (K, M, G, or
none); latency is milliseconds per forward pass, predicted from a lookup table (see :mod:`nas.latency`
and :mod:`nas.search._latency`).
Unit words and prefixes are case-insensitive, and a space may separate the number from its unit.

Each budget becomes one Optuna constraint (:meth:`Budget.violation`): a value <= 0 is feasible.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from nas.errors import SpecError, UsageError
from nas.records import Record

FORMS = (
    "expected forms like 300MFLOPs, 0.3GFLOPs, 5Mparams, 25ms, latency:mnasnet_a1, or a list "
    "[300MFLOPs,5Mparams]"
)


class BudgetError(UsageError):
    """A ``budget=`` value that cannot be read: one line quoting it and showing the accepted forms."""


class Metric(enum.Enum):
    MACS = "macs"
    PARAMS = "params"
    LATENCY = "latency_ms"


# The unit word each metric is written with; MACs and MAdds are read as FLOPs too.
_UNIT = {Metric.MACS: "FLOPs", Metric.PARAMS: "params", Metric.LATENCY: "ms"}
_COUNT_WORDS = {
    **dict.fromkeys(("flop", "flops", "mac", "macs", "madd", "madds"), Metric.MACS),
    **dict.fromkeys(("param", "params"), Metric.PARAMS),
}
_PREFIX_EXPONENT = {"": 0, "k": 3, "m": 6, "g": 9}
_CANONICAL_PREFIX = ((9, "G"), (6, "M"), (3, "K"))  # the largest that keeps the number >= 1

# A signed decimal number, then an optional space, then letters; the sign only so that ``-5ms`` is
# reported as a non-positive limit rather than as unreadable.
_ITEM = re.compile(r"(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(?P<unit>[A-Za-z]+)")
_LATENCY_OF = re.compile(r"latency:(?P<name>[A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Budget(Record):
    """An upper limit on one metric: multiply-adds, parameters or milliseconds per image."""

    metric: Metric
    limit: float
    of: str | None = None  # latency:NAME: the zoo network whose latency this limit is

    def validate(self) -> None:
        if not (math.isfinite(self.limit) and self.limit > 0):
            raise SpecError("limit", f"expected a finite value > 0; got {self.limit}")

    def __str__(self) -> str:
        """The canonical text, which :func:`parse_budget` reads back as an equal budget."""
        number = Decimal(repr(self.limit))  # the shortest digits that round-trip this float
        if self.metric is Metric.LATENCY:
            return f"{_plain_digits(number)}ms"
        exponent, prefix = next(((e, p) for e, p in _CANONICAL_PREFIX if self.limit >= 10**e), (0, ""))
        return f"{_plain_digits(number.scaleb(-exponent))}{prefix}{_UNIT[self.metric]}"

    def value(self, macs: int, params: int, latency_ms: float | None = None) -> float:
        """The measured quantity this budget limits."""
        if self.metric is Metric.MACS:
            return float(macs)
        if self.metric is Metric.PARAMS:
            return float(params)
        if latency_ms is None:
            raise ValueError(f"budget {self}: needs a latency measurement; got none")
        return float(latency_ms)

    def violation(self, macs: int, params: int, latency_ms: float | None = None) -> float:
        """Optuna's constraint value, <= 0 when feasible: the overshoot relative to the limit.

        Relative, ``(value - limit) / limit``, so that constraints in different units are comparable:
        10% over a FLOPs budget and 10% over a latency budget both read 0.1.
        """
        return (self.value(macs, params, latency_ms) - self.limit) / self.limit

    @property
    def text(self) -> str:
        """For a person to read: :meth:`__str__`, but a latency to four significant digits, since a
        ``latency:NAME`` target is a timing (``24.25ms``, not ``24.245770000000004ms``)."""
        return f"{self.limit:.4g}ms" if self.metric is Metric.LATENCY else str(self)

    @property
    def label(self) -> str:
        """How the user wrote it, machine-independent: ``300MFLOPs`` or ``latency:mnasnet_a1``."""
        return str(self) if self.of is None else f"latency:{self.of}"


def _plain_digits(number: Decimal) -> str:
    """``300``, ``1.5``, ``0.25``: no exponent and no trailing zeros (``Decimal('3E+2')`` is 300)."""
    return format(number.normalize(), "f")


def parse_budget(
    value: str | Sequence[str] | None, latency_of: Callable[[str], float] | None = None
) -> tuple[Budget, ...]:
    """The budgets of a ``budget=`` override, in the order given; ``None`` or ``[]`` is no budget.

    Takes what Hydra gives: a string, a list of strings (a ``ListConfig`` too), or ``None``. A string
    in list form, ``"[300MFLOPs, 5Mparams]"``, is read as the list. ``latency_of(NAME)``: the
    milliseconds of ``latency:NAME`` (without it such an item is refused). Raises :class:`BudgetError`.
    """
    if value is None:
        return ()
    items = _split(value) if isinstance(value, str) else value
    if not isinstance(items, Sequence):
        raise BudgetError(f"budget: cannot read {value!r}; {FORMS}")
    budgets = tuple(_parse_item(item, latency_of) for item in items)
    _check_one_per_metric(budgets, items)
    return budgets


def _split(text: str) -> list[str]:
    """``"300MFLOPs"`` is one item; ``"[300MFLOPs, 5Mparams]"`` or ``"300MFLOPs,5Mparams"`` several."""
    inner = text.strip()
    if not (inner.startswith("[") and inner.endswith("]")):
        return text.split(",")
    inner = inner[1:-1]
    return inner.split(",") if inner.strip() else []


def _parse_item(item: Any, latency_of: Callable[[str], float] | None) -> Budget:
    named = _LATENCY_OF.fullmatch(item.strip()) if isinstance(item, str) else None
    if named:
        if latency_of is None:
            raise BudgetError(
                f"budget: {item!r} is a search's target (a zoo network's latency on this machine)"
            )
        return Budget(Metric.LATENCY, float(latency_of(named["name"])), of=named["name"])
    match = _ITEM.fullmatch(item.strip()) if isinstance(item, str) else None
    metric, exponent = _read_unit(match["unit"]) if match else (None, 0)
    if match is None or metric is None:
        raise BudgetError(f"budget: cannot read {item!r}; {FORMS}")
    limit = float(f"{match['number']}e{exponent}")  # one correctly rounded conversion: 0.3G is 3e8
    if not (math.isfinite(limit) and limit > 0):
        raise BudgetError(f"budget: {item!r} is not a positive, finite limit; {FORMS}")
    return Budget(metric, limit)


def _read_unit(unit: str) -> tuple[Metric | None, int]:
    """The metric and the power of ten of a unit such as ``MFLOPs``, ``kparams`` or ``ms``."""
    word = unit.lower()
    if word == "ms":
        return Metric.LATENCY, 0
    if word in _COUNT_WORDS:  # tried first: "macs" and "madds" are words, not the prefix M
        return _COUNT_WORDS[word], 0
    prefix, rest = word[:1], word[1:]
    if prefix in _PREFIX_EXPONENT and rest in _COUNT_WORDS:
        return _COUNT_WORDS[rest], _PREFIX_EXPONENT[prefix]
    return None, 0


def _check_one_per_metric(budgets: tuple[Budget, ...], items: Sequence[Any]) -> None:
    seen: dict[Metric, Any] = {}
    for budget, item in zip(budgets, items, strict=True):
        if budget.metric in seen:
            first = seen[budget.metric]
            raise BudgetError(
                f"budget: two limits on {_UNIT[budget.metric]}, {first!r} and {item!r}; "
                "give at most one per metric, as in [300MFLOPs,5Mparams]"
            )
        seen[budget.metric] = item


def describe(budgets: Iterable[Budget]) -> str:
    """``"300MFLOPs and 5Mparams"``, ``"300MFLOPs, 5Mparams and 25ms"``, or ``"no budget"``."""
    texts = [b.text for b in budgets]
    if not texts:
        return "no budget"
    if len(texts) == 1:
        return texts[0]
    return f"{', '.join(texts[:-1])} and {texts[-1]}"


def needs_latency(budgets: Iterable[Budget]) -> bool:
    """Whether some budget limits latency, so that every candidate must be timed."""
    return any(b.metric is Metric.LATENCY for b in budgets)
