"""Where the project's data lives: the Hydra configs and the zoo sit beside the package (editable install)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "conf"
ARCH = CONF / "arch"
SEARCH_SPACES = ROOT / "search_spaces"
LATENCY_TABLES = ROOT / "latency_tables"  # measured per machine: ignored by git
RESULTS = ROOT / "results"
