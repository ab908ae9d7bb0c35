"""Where the project's files live.

Read-only data ships with the package: the Hydra configs (``conf/``, the zoo in ``conf/arch/``) and the
search spaces (``search_spaces/``) stay at the top of the repository and are installed as the packages
``nas.conf`` and ``nas.search_spaces`` (``pyproject.toml`` maps them), so they are found through
``importlib.resources`` alike in a checkout, an editable install and an installed wheel.

Files a command writes go under the current directory (``outputs/``, ``results/``), or for the latency
tables measured on this machine, ``latency_tables/`` there unless ``NAS_LATENCY_TABLES`` names another
folder: never into the installed package.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path


def _installed(package: str) -> Path:
    """The folder of a data package: a real directory for every install this project supports (a zip
    import would need ``importlib.resources.as_file``, which Hydra's config path cannot take)."""
    return Path(str(files(package)))


ROOT = Path(__file__).resolve().parent.parent  # the checkout, when there is one: for its git commit only
CONF = _installed("nas.conf")
ARCH = CONF / "arch"
SEARCH_SPACES = _installed("nas.search_spaces")
RESULTS = Path("results")  # relative: the current directory's


def latency_tables() -> Path:
    """Where latency tables are kept when a command names none: ``$NAS_LATENCY_TABLES``, else
    ``latency_tables/`` in the current directory."""
    return Path(os.environ.get("NAS_LATENCY_TABLES") or "latency_tables")
