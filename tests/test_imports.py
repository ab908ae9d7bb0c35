"""The package's layering, read from its source: no import cycle, no reach into another package's private
modules, and the light packages stay light (no Lightning or Hydra behind ``import nas.report``)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from nas.paths import ROOT

PACKAGE = ROOT / "nas"


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    found = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports, anywhere in it (inside functions too: a deferred import is
    still a dependency), with the packages Python initialises on the way: importing ``nas.a._b`` runs
    ``nas/a/__init__.py`` first."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets |= {f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names}
    edges = set()
    for target in targets:
        while target and target not in known:  # ``import nas.x.y`` of a name: the module that has it
            target = target.rpartition(".")[0]
        while target:
            if not (name == target or name.startswith(target + ".")):  # its own packages: already running
                edges.add(target)
            target = target.rpartition(".")[0]
    return {e for e in edges if e in known and e != "nas"}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while (w := stack.pop()) != v:
                component.append(w)
            if component:
                found.append(sorted([v, *component]))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_planted_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_a_deferred_import_and_a_parent_package_count_as_edges(tmp_path: Path) -> None:
    pkg = tmp_path / "nas"
    (pkg / "x").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "x" / "__init__.py").write_text("")
    (pkg / "x" / "_y.py").write_text("")
    (pkg / "z.py").write_text("def f():\n    from nas.x._y import g\n")
    known = modules(pkg)
    assert imported("nas.z", pkg / "z.py", known) == {"nas.x", "nas.x._y"}


def test_no_import_cycle_anywhere_in_the_package() -> None:
    assert cycles(graph()) == []


def packages(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """The module graph seen a package at a time: ``nas.search._outputs -> nas.study._run_dir`` is
    ``nas.search -> nas.study``; a root module (``nas.cost``) stands for itself."""

    def top(name: str) -> str:
        return ".".join(name.split(".")[:2])

    folded: dict[str, set[str]] = {}
    for name, targets in edges.items():
        folded.setdefault(top(name), set()).update(top(t) for t in targets if top(t) != top(name))
    return folded


def test_packages_fold_a_cycle_that_no_two_modules_close() -> None:
    # export._sources -> search, search -> latency, latency._backends -> export: no module cycle, but the
    # packages still depend on each other in a ring (the one this test was written after).
    edges = {
        "nas.export._sources": {"nas.search"},
        "nas.search": {"nas.latency"},
        "nas.latency._backends": {"nas.export"},
        "nas.export": set(),
        "nas.latency": set(),
    }
    assert cycles(edges) == []
    assert cycles(packages(edges)) == [["nas.export", "nas.latency", "nas.search"]]


def test_no_import_cycle_between_subpackages() -> None:
    """Each subpackage stands above or below each other one, never both: a reader of a search's run
    directory (``nas.export``) takes it from ``nas.study``, below the search, not from ``nas.search``."""
    assert cycles(packages(graph())) == []


def test_no_module_imports_another_subpackage_private_module() -> None:
    """``nas.search`` may use ``nas.search._study``; nothing outside ``nas.search`` may. A private module
    of the root itself (``nas._x``) would be for the root's own modules only, not for its packages."""
    offences, known = [], modules()
    for name, edges in graph().items():
        for target in edges:
            parts = target.split(".")
            private = next((i for i, p in enumerate(parts) if p.startswith("_")), None)
            if private is None:
                continue
            owner = ".".join(parts[:private])
            if private == 1:  # a root module's file sits in nas/ itself (a subpackage's __init__ does not)
                inside = known[name].parent == PACKAGE
            else:
                inside = name == owner or name.startswith(owner + ".")
            if not inside:
                offences.append(f"{name} -> {target}")
    assert offences == []


@pytest.mark.parametrize("module", ["nas", "nas.report", "nas.spaces", "nas.study"])
def test_light_packages_load_neither_lightning_nor_hydra(module: str) -> None:
    code = f"import sys, {module}; print(sorted({{'lightning', 'hydra'}} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"import {module} loads {out.stdout.strip()}"


def names_dict_config(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    return any(
        (isinstance(node, ast.Name) and node.id == "DictConfig")
        or (isinstance(node, ast.alias) and node.name == "DictConfig")
        or (isinstance(node, ast.Attribute) and node.attr == "DictConfig")
        for node in ast.walk(tree)
    )


def is_command(path: Path) -> bool:
    """A module that defines a ``@hydra.main`` entry point: where a config becomes typed settings."""
    return "@hydra.main(" in path.read_text()


def test_the_dict_config_checker_sees_an_annotation(tmp_path: Path) -> None:
    library = tmp_path / "lib.py"
    library.write_text("def f(cfg: 'DictConfig') -> None:\n    pass\n")
    assert not names_dict_config(library)  # a string is not a use: only code counts
    library.write_text("from omegaconf import DictConfig\ndef f(cfg: DictConfig) -> None:\n    pass\n")
    assert names_dict_config(library) and not is_command(library)


def test_only_commands_see_a_dict_config() -> None:
    """Configs become typed settings at each command's edge: below it, library code takes records and
    plain data. ``nas.cli`` holds the edge helpers every command shares."""
    offenders = [
        name
        for name, path in modules().items()
        if names_dict_config(path) and not is_command(path) and name != "nas.cli"
    ]
    assert offenders == []
