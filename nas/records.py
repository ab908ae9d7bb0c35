"""Typed, frozen, self-validating records, and their strict conversion to and from plain data.

Every spec in the project (an architecture, a stage, a block's options) is a :class:`Record`: a frozen
dataclass whose fields are checked against their type hints on construction, whether it was written in
Python or loaded from YAML. Errors carry the path of the offending field, so that a mistake deep inside a
spec file reads ``stages[3].kernel: expected an odd kernel size >= 1; got 4``.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from nas.errors import SpecError

R = TypeVar("R", bound="Record")


def _show(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def check_one_of(name: str, value: Any, choices: Iterable[Any]) -> None:
    choices = tuple(choices)
    if value not in choices:
        raise SpecError(name, f"expected one of {', '.join(_show(c) for c in choices)}; got {_show(value)}")


def check_range(
    name: str,
    value: float,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Raise unless ``low <(=) value <(=) high``; an open bound excludes the bound itself."""
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "" if low is None else f"{'>' if low_open else '>='} {low}"
        right = "" if high is None else f"{'<' if high_open else '<='} {high}"
        want = " and ".join(s for s in (left, right) if s)
        raise SpecError(name, f"expected a value {want}; got {_show(value)}")


def check_keys(
    path: str, data: Mapping[str, Any], allowed: Sequence[str], required: Iterable[str] = ()
) -> None:
    """Strict keys: the first unknown key (in the data's order), then the first missing required one."""
    unknown = [k for k in data if k not in allowed]
    if unknown:
        raise SpecError(path, f"unknown key {_show(unknown[0])}; expected one of {', '.join(allowed)}")
    missing = [k for k in required if k not in data]
    if missing:
        raise SpecError(path, f"missing required key {_show(missing[0])}")


def check_divisible(name: str, value: int, divisor: int, what: str) -> None:
    if value % divisor:
        raise SpecError(name, f"{value} channels are not divisible by {what} ({divisor})")


class Record:
    """Base of every spec record: a frozen dataclass checked against its type hints on construction.

    Subclasses are decorated with ``@dataclass(frozen=True)`` and override :meth:`validate` for the
    checks that relate fields to each other or to fixed choices.
    """

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            coerced = _coerce(f.name, value, hints[f.name])
            if coerced is not value:
                object.__setattr__(self, f.name, coerced)
        self.validate()

    def validate(self) -> None:
        """Raise :class:`SpecError` naming the field when the record is impossible."""

    @classmethod
    def from_data(cls: type[R], data: Any, path: str = "") -> R:
        """Build from plain data (YAML, JSON, OmegaConf containers converted to dicts): strict on keys."""
        if isinstance(data, cls):
            return data
        if not isinstance(data, Mapping):
            raise SpecError(path, f"expected a mapping; got {_type_name(data)}")
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        required = [
            f.name
            for f in fields
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
        check_keys(path, data, [f.name for f in fields], required)
        try:
            return cls(**data)
        except SpecError as err:
            raise err.within(path) from None

    def to_data(self) -> dict[str, Any]:
        """Plain data holding only the fields that differ from their defaults, in declaration order."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.default is not dataclasses.MISSING and value == f.default:
                continue
            out[f.name] = to_plain(value)
        return out

    def replace(self: R, **changes: Any) -> R:
        """A copy with some fields changed, validated like any new record."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


def to_plain(value: Any) -> Any:
    """Records, enums and tuples as YAML-ready dicts, strings and lists."""
    if isinstance(value, Record):
        return value.to_data()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    # Resolved once per class: the annotations are strings under ``from __future__ import annotations``.
    return typing.get_type_hints(cls)


def _coerce(path: str, value: Any, tp: Any) -> Any:
    """Check ``value`` against type hint ``tp``; convert where the conversion is lossless and unambiguous."""
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        rest = [t for t in options if t is not type(None)]
        if len(rest) == 1:
            return _coerce(path, value, rest[0])
        for t in rest:  # the first class the value already is (a bool is no int here)
            if _is_class(t) and isinstance(value, t) and (t is bool or not isinstance(value, bool)):
                return value
        listed = isinstance(value, tuple | list)
        for t in rest:  # ``int | tuple[int, ...]`` (MixNet's kernels): a list is the tuple, else the scalar
            if not _is_record(t) and (typing.get_origin(t) is tuple) == listed:
                return _coerce(path, value, t)
        raise SpecError(
            path, f"expected one of {', '.join(_hint_name(t) for t in rest)}; got {_type_name(value)}"
        )
    if origin is tuple:
        if not isinstance(value, tuple | list):
            raise SpecError(path, f"expected a list; got {_type_name(value)}")
        (item_tp, _ellipsis) = typing.get_args(tp)
        items = tuple(_coerce(f"{path}[{i}]", v, item_tp) for i, v in enumerate(value))
        unchanged = isinstance(value, tuple) and all(a is b for a, b in zip(items, value, strict=True))
        return value if unchanged else items
    if origin is ClassVar:
        return value
    if isinstance(tp, type):
        return _coerce_plain(path, value, tp)
    return value


def _is_class(tp: Any) -> bool:
    return isinstance(tp, type) and typing.get_origin(tp) is None


def _is_record(tp: Any) -> bool:
    return _is_class(tp) and issubclass(tp, Record)


def _hint_name(tp: Any) -> str:
    return "list" if typing.get_origin(tp) is tuple else tp.__name__


def _coerce_plain(path: str, value: Any, tp: type) -> Any:
    if tp is bool:
        if not isinstance(value, bool):
            raise SpecError(path, f"expected true or false; got {_show(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(path, f"expected an integer; got {_show(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SpecError(path, f"expected a number; got {_show(value)}")
        return float(value) if isinstance(value, int) else value
    if tp is str:
        if not isinstance(value, str):
            raise SpecError(path, f"expected a string; got {_show(value)}")
        return value
    if issubclass(tp, enum.Enum):
        if isinstance(value, tp):
            return value
        try:
            return tp(value)
        except ValueError:
            check_one_of(path, value, [m.value for m in tp])
    if issubclass(tp, Record):
        if isinstance(value, tp):
            return value
        return tp.from_data(value, path)
    if not isinstance(value, tp):
        raise SpecError(path, f"expected {tp.__name__}; got {_type_name(value)}")
    return value


def as_plain(data: Any) -> Any:
    """Mappings and sequences of any kind (OmegaConf's containers too) as dicts and lists."""
    if isinstance(data, Mapping):
        return {k: as_plain(v) for k, v in data.items()}
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        return [as_plain(v) for v in data]
    return data


__all__ = ["Record", "as_plain", "check_divisible", "check_one_of", "check_range", "to_plain"]
