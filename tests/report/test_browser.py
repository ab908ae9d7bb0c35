"""The report in a real browser, offline: headless Chromium (the system's, driven by Playwright) opens
``report.html`` with the network off, and the plots must render without a single script error.

``.ci/run`` installs Chromium where it is missing; elsewhere the test skips, saying why.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from PIL import Image

from nas.report import regenerate
from tests.report._study import make_study

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium binary on PATH (.ci/run installs Debian's chromium package)"
)


FIGURES = ("pareto", "history", "importances")


def _local_files_only(route) -> None:  # route: a playwright Route
    if route.request.url.startswith("file://"):
        route.continue_()
    else:
        route.abort()


def test_the_report_renders_offline_in_headless_chromium(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")
    make_study(tmp_path)
    page_path = regenerate(tmp_path)[0]
    requests: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
            # Offline, and any request but for a local file aborted: the page must need nothing else.
            context.route("**/*", _local_files_only)
            page = context.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(page_path.as_uri(), wait_until="load")
            figures = {key: page.locator(f"#{key} svg").bounding_box() for key in FIGURES}
            markers = page.locator("#pareto svg use").count()  # matplotlib draws each point as a <use>
            pareto_png = page.locator("#pareto").screenshot()
            page.screenshot(path=str(tmp_path / "screenshot.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert requests == [page_path.as_uri()]
    for key, box in figures.items():
        assert box is not None and box["width"] > 400 and box["height"] > 100, (key, box)
    # 6 searched networks and a baseline above; over budget, pruned and failed trials in the strip.
    assert markers >= 12
    image = Image.open(io.BytesIO(pareto_png)).convert("L")
    drawn = sum(image.histogram()[:200])  # dark pixels: points, lines, text
    assert drawn > 0.01 * image.width * image.height
    assert (tmp_path / "screenshot.png").stat().st_size > 10_000
