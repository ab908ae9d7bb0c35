"""The errors a user can fix, in a leaf module that imports nothing of the project: every command catches
them (``nas.cli.exits_on_usage_error``) and prints one line, exit status 2, no traceback."""

from __future__ import annotations

USAGE_ERROR = 2  # the exit status of a usage error, as argparse uses


class SpecError(ValueError):
    """An invalid spec. ``path`` names the field (``stages[3].kernel``), ``message`` says what is wrong."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(path, message)
        self.path = path
        self.message = message

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def within(self, prefix: str) -> SpecError:
        """The same error seen from an enclosing record: ``kernel`` inside ``stages[3]``."""
        if not prefix:
            return self
        if not self.path:
            return SpecError(prefix, self.message)
        sep = "" if self.path.startswith("[") else "."
        return SpecError(f"{prefix}{sep}{self.path}", self.message)


class UsageError(ValueError):
    """A bad command-line value that is not part of a spec (an unknown name, a missing file)."""


def check_count(name: str, value: object, minimum: int) -> int:
    """``value`` if it is an integer >= ``minimum`` (a bool is not), else a :class:`UsageError` naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UsageError(f"{name}: expected an integer >= {minimum}; got {value!r}")
    return value


__all__ = ["USAGE_ERROR", "SpecError", "UsageError", "check_count"]
