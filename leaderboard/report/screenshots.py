"""Screenshots of a built report in headless Chromium (for docs): the ranking and the gallery.

    python -m leaderboard.report.screenshots SITE/index.html docs/img

Needs Python ``playwright`` and a system Chromium (Debian: ``apt-get install -y chromium``);
``playwright install`` is never needed.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip


def chromium_path() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return found or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


def take_screenshots(
    index: Path, out_dir: Path, *, browser: Any = None, width: int = 1280, height: int = 900
) -> list[Path]:
    """Write ``report-ranking.png`` (top of the page) and ``report-gallery.png`` (the gallery).

    ``browser`` is an open Playwright browser to reuse; without one, system Chromium is launched.
    """
    if browser is None:
        from playwright.sync_api import sync_playwright

        executable = chromium_path()
        if executable is None:
            raise RuntimeError("chromium is not installed (Debian: apt-get install -y chromium)")
        with sync_playwright() as p:
            launched = p.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
            try:
                return take_screenshots(index, out_dir, browser=launched, width=width, height=height)
            finally:
                launched.close()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "report-ranking.png", out_dir / "report-gallery.png"]
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.goto(index.resolve().as_uri())
        page.wait_for_load_state("networkidle", timeout=120_000)
        page.screenshot(path=str(written[0]))
        page.evaluate("document.getElementById('gallery').scrollIntoView()")
        page.wait_for_function(  # card images; trace images load lazily when a trace is opened
            "Array.from(document.querySelectorAll('#gallery-grid .images img')).every(i => i.complete)",
            timeout=120_000,
        )
        page.screenshot(path=str(written[1]))
    finally:
        page.close()
    return written


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m leaderboard.report.screenshots SITE/index.html OUT_DIR")
    for path in take_screenshots(Path(sys.argv[1]), Path(sys.argv[2])):
        print(f"wrote {path}")
