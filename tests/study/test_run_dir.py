"""Reading a search's run directory (nas.study.read_outputs) from directories laid out by hand: the names
it looks for are the ones nas.search writes (tests/export/test_command.py reads a real search's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nas.errors import UsageError
from nas.study import BEST_ARCH, PARETO_CSV, PARETO_DIR, SPEC_COLUMN, TRIALS_CSV, read_outputs


def front(run_dir: Path, names: list[str], write: list[str] | None = None) -> None:
    (run_dir / PARETO_DIR).mkdir(parents=True)
    for name in names if write is None else write:
        (run_dir / PARETO_DIR / name).write_text("name: x\n")
    rows = "".join(f"{i},{PARETO_DIR}/{n}\n" for i, n in enumerate(names))
    (run_dir / PARETO_CSV).write_text(f"number,{SPEC_COLUMN}\n{rows}")


def test_one_objective_gives_the_best_network(tmp_path: Path) -> None:
    (tmp_path / BEST_ARCH).write_text("name: x\n")
    saved = read_outputs(str(tmp_path))
    assert (saved.run_dir, saved.best, saved.pareto) == (tmp_path, tmp_path / BEST_ARCH, ())


def test_a_pareto_front_keeps_the_order_of_its_csv(tmp_path: Path) -> None:
    front(tmp_path, ["b.yaml", "a.yaml", "c.yaml"])
    saved = read_outputs(tmp_path)
    assert saved.best is None
    assert [p.name for p in saved.pareto] == ["b.yaml", "a.yaml", "c.yaml"]


@pytest.mark.parametrize(
    ("lay_out", "says"),
    [
        (lambda d: front(d, ["a.yaml", "b.yaml"], write=["a.yaml"]), "b.yaml, which is missing"),
        (lambda d: (d / PARETO_CSV).write_text("number,file\n0,a.yaml\n"), f"expected a {SPEC_COLUMN!r}"),
        (lambda d: (d / PARETO_CSV).write_text(""), "no network listed"),
        (lambda d: (d / TRIALS_CSV).write_text("number\n"), "none met its budget"),
        (lambda d: None, "not a search's run directory"),
    ],
    ids=["missing-spec", "no-spec-column", "empty-front", "nothing-saved", "not-a-run"],
)
def test_a_directory_without_its_networks_is_one_usage_error(tmp_path: Path, lay_out, says: str) -> None:
    lay_out(tmp_path)
    with pytest.raises(UsageError, match=says):
        read_outputs(tmp_path)
