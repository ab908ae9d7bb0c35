"""The report in a real browser, offline: headless Chromium (the system's, driven by Playwright) opens
``report.html`` with the network off, and the plots must render without a single script error.

``.ci/run`` installs Chromium where it is missing; elsewhere the test skips, saying why.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from nas.report import regenerate
from tests.report._browser import CHROMIUM, NO_CHROMIUM, offline_page
from tests.report._study import make_study

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)


FIGURES = ("pareto", "history", "importances")


def test_the_report_renders_offline_in_headless_chromium(tmp_path: Path) -> None:
    make_study(tmp_path)
    page_path = regenerate(tmp_path)[0]
    with offline_page(page_path) as (page, requests, errors):
        figures = {key: page.locator(f"#{key} svg").bounding_box() for key in FIGURES}
        markers = page.locator("#pareto svg use").count()  # matplotlib draws each point as a <use>
        pareto_png = page.locator("#pareto").screenshot()
        page.screenshot(path=str(tmp_path / "screenshot.png"), full_page=True)
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
