from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

from tests.postgres import Unavailable, throwaway_server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server on loopback for the whole session; skipped, saying why, where none can
    be started. ``.ci/run`` installs Debian's postgresql package and sets ``NAS_REQUIRE_POSTGRES=1``,
    which turns the skip into a failure: CI runs the real thing or fails."""
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(throwaway_server())
        except Unavailable as err:
            if os.environ.get("NAS_REQUIRE_POSTGRES") == "1":
                pytest.fail(f"NAS_REQUIRE_POSTGRES=1, and no PostgreSQL server: {err}")
            pytest.skip(f"no PostgreSQL server: {err}")
        yield url
