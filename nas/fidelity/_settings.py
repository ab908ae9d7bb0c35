"""The typed settings of a fidelity study, read once from the command's config (``conf/fidelity.yaml``)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nas.errors import SpecError, UsageError
from nas.records import Record, check_range
from nas.search import ZERO_COST
from nas.training import OptimSettings, ProxySettings

MIN_NETWORKS = 4  # below this no rank correlation, let alone an interval, means anything
TRAIN_PREFIX = "train_"


class Kind(enum.Enum):
    """How an evaluator scores a network."""

    COST = "cost"  # params, macs: counted from the spec
    ZERO_COST = "zero_cost"  # one batch at initialisation
    TRAIN = "train"  # the proxy training for some epochs
    COMBINED = "combined"  # the search's screen-then-train evaluator
    SUPERNET = "supernet"  # the accuracy with a trained supernet's weights (nas.supernet)


COSTS = ("params", "macs")
SUPERNET = "supernet"  # the evaluator's name, in the study only with a checkpoint (``supernet.ckpt``)


@dataclass(frozen=True)
class Training(Record):
    """One training protocol: the data subset, epochs, optimizer and the proxy network's changes."""

    epochs: int = 3
    limit_train: int | None = 6000
    limit_val: int | None = 2000
    batch_size: int = 64
    augment: bool = False
    resolution: int | None = None  # None: the data set's own
    proxy: ProxySettings = field(default_factory=ProxySettings)
    optim: OptimSettings = field(default_factory=OptimSettings)

    def validate(self) -> None:
        check_range("epochs", self.epochs, 1)
        check_range("batch_size", self.batch_size, 1)
        for name in ("limit_train", "limit_val", "resolution"):
            value = getattr(self, name)
            if value is not None:
                check_range(name, value, 1)

    def data_overrides(self) -> dict[str, Any]:
        """What this protocol changes in the data module's arguments."""
        out: dict[str, Any] = {
            "limit_train": self.limit_train,
            "limit_val": self.limit_val,
            "batch_size": self.batch_size,
            "augment": self.augment,
        }
        if self.resolution is not None:
            out["resolution"] = self.resolution
        return out


@dataclass(frozen=True)
class Reference(Record):
    """The protocol every evaluator is ranked against: longer than any proxy, ``seeds`` trainings each."""

    seeds: int = 2
    training: Training = field(default_factory=lambda: Training(epochs=3, limit_train=12000, limit_val=5000))

    def validate(self) -> None:
        check_range("seeds", self.seeds, 2)  # one seed has no noise ceiling


@dataclass(frozen=True)
class Combined(Record):
    """The search's ``combined`` evaluator as a ranking: the top ``keep`` of the sample by ``score`` is
    trained (``train_<epochs>ep``) and ranked above the rest, which keep their score's order."""

    score: str = "synflow"
    keep: float = 0.25
    epochs: int = 3

    def validate(self) -> None:
        if self.score not in ZERO_COST:
            raise SpecError("score", f"expected one of {', '.join(ZERO_COST)}; got {self.score!r}")
        check_range("keep", self.keep, 0.0, 1.0, low_open=True)
        check_range("epochs", self.epochs, 1)


@dataclass(frozen=True)
class SupernetSettings(Record):
    """The ``supernet`` evaluator: each network's accuracy with the weights it inherits from the supernet
    of ``ckpt`` (``python -m nas.supernet train``), its batch norm recalibrated on ``calibration_batches``
    batches of the proxy's training images, on the proxy's validation hold-out."""

    ckpt: str | None = None  # None: no such evaluator in the study
    calibration_batches: int = 8

    def validate(self) -> None:
        check_range("calibration_batches", self.calibration_batches, 1)


@dataclass(frozen=True)
class FidelitySettings(Record):
    """Everything a study needs besides the data module's own config."""

    space: str | dict = "mnas"  # the composed space (space=NAME, edited by space.* overrides), or a name
    budget: str | None = "300MFLOPs"
    n: int = 24
    seed: int = 0
    evaluators: tuple[str, ...] = ()  # () : every evaluator below
    proxy_epochs: tuple[int, ...] = (1, 2, 3)
    proxy: Training = field(default_factory=Training)
    zero_cost_batch: int = 64
    combined: Combined = field(default_factory=Combined)
    supernet: SupernetSettings = field(default_factory=SupernetSettings)
    reference: Reference = field(default_factory=Reference)
    default: str = "train_1ep"  # the search's default evaluator, marked in the outputs
    workers: int = 1  # trainings run side by side, one thread each
    bootstrap: int = 2000
    out: str = "results"

    def validate(self) -> None:
        if self.n < MIN_NETWORKS:
            raise SpecError("n", f"expected at least {MIN_NETWORKS} networks to rank; got {self.n}")
        for e in self.proxy_epochs:
            check_range("proxy_epochs", e, 1)
        check_range("zero_cost_batch", self.zero_cost_batch, 2)
        check_range("workers", self.workers, 1)
        check_range("bootstrap", self.bootstrap, 100)
        known = self.known_evaluators()
        for name in self.evaluators:
            if name not in known:
                raise SpecError(
                    "evaluators", f"unknown evaluator {name!r}; expected one of {', '.join(known)}"
                )
        if SUPERNET in self.evaluators and not self.supernet.ckpt:
            raise UsageError(
                "supernet.ckpt: evaluator supernet needs a checkpoint of python -m nas.supernet train "
                "(supernet.ckpt=RUN_DIR/checkpoints/last.ckpt)"
            )
        if self.default not in known:
            raise SpecError("default", f"{self.default!r} is none of the evaluators {', '.join(known)}")

    def space_name(self) -> str:
        """The space's name in file names: the composed space's name, or a space file's stem."""
        if isinstance(self.space, Mapping):
            return str(self.space.get("name", "space"))
        return str(self.space).rsplit("/", 1)[-1].removesuffix(".yaml").removesuffix(".yml")

    def known_evaluators(self) -> tuple[str, ...]:
        trains = tuple(f"{TRAIN_PREFIX}{e}ep" for e in sorted(set(self.proxy_epochs)))
        return (*COSTS, *ZERO_COST, SUPERNET, *trains, "combined")

    def chosen(self) -> tuple[str, ...]:
        """The evaluators to rank, in the outputs' order; ``supernet`` only with a checkpoint."""
        if self.evaluators:
            return tuple(e for e in self.known_evaluators() if e in self.evaluators)
        return tuple(e for e in self.known_evaluators() if e != SUPERNET or self.supernet.ckpt)

    def train_epochs(self) -> tuple[int, ...]:
        """The proxy trainings the chosen evaluators need (combined needs its own epoch count)."""
        chosen = self.chosen()
        needed = {int(e[len(TRAIN_PREFIX) : -2]) for e in chosen if e.startswith(TRAIN_PREFIX)}
        if "combined" in chosen:
            needed.add(self.combined.epochs)
        return tuple(sorted(needed))

    def zero_cost_scores(self) -> tuple[str, ...]:
        chosen = self.chosen()
        scores = [s for s in ZERO_COST if s in chosen]
        if "combined" in chosen and self.combined.score not in scores:
            scores.append(self.combined.score)
        return tuple(scores)


def kind_of(name: str) -> Kind:
    if name in COSTS:
        return Kind.COST
    if name in ZERO_COST:
        return Kind.ZERO_COST
    if name == "combined":
        return Kind.COMBINED
    if name == SUPERNET:
        return Kind.SUPERNET
    return Kind.TRAIN
