"""A page opened in headless Chromium (the system's, driven by Playwright), offline: any request but for
a local file is aborted, and the requests made and the script errors met are recorded. The reports must
need nothing else. ``.ci/run`` installs Chromium where it is missing; elsewhere the tests skip."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
NO_CHROMIUM = "no Chromium binary on PATH (.ci/run installs Debian's chromium package)"


def _local_files_only(route: Any) -> None:  # route: a playwright Route
    if route.request.url.startswith("file://"):
        route.continue_()
    else:
        route.abort()


@contextlib.contextmanager
def offline_page(path: Path) -> Iterator[tuple[Any, list[str], list[str]]]:
    """The loaded page of ``path``, the URLs it requested and its errors (console and uncaught)."""
    if CHROMIUM is None:
        pytest.skip(NO_CHROMIUM)
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")
    requests: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
            context.route("**/*", _local_files_only)
            page = context.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(path.as_uri(), wait_until="load")
            yield page, requests, errors
        finally:
            browser.close()
