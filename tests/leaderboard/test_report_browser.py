"""The report in a real headless browser (Debian's Chromium driven by Playwright).

Install once: ``apt-get install -y chromium`` and ``pip install playwright`` (never
``playwright install``: the system Chromium is used). Skips with that reason when either is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from leaderboard.report import write_report
from leaderboard.report.screenshots import CHROMIUM_ARGS, chromium_path, take_screenshots
from tests.leaderboard.test_report import HOSTILE_EDITOR, hostile_run
from tests.leaderboard.toy import ToyEditor, fails_every, identity, noisy, oracle, write_run

CHROMIUM = chromium_path() or "/usr/bin/chromium"
ARGS = list(CHROMIUM_ARGS)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "leaderboard"

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="Python playwright is not installed (pip install playwright)"
)
if not Path(CHROMIUM).exists():
    pytest.skip("chromium is not installed (apt-get install -y chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


def open_page(browser, index: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(120_000)  # CI machines can be slow; a hang still fails
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(index.as_uri())
    page.wait_for_load_state("networkidle")
    return page, problems


def gallery_count(page) -> tuple[int, int]:
    shown, _, total, _ = page.inner_text("#gallery-count").split()
    return int(shown), int(total)


def wait_for_images(page) -> list[dict]:
    page.wait_for_function(
        "Array.from(document.querySelectorAll('#gallery-grid .images img')).every(i => i.complete)"
    )
    return page.eval_on_selector_all(
        "#gallery-grid .images img", "els => els.map(i => ({src: i.getAttribute('src'), w: i.naturalWidth}))"
    )


def test_report_loads_ranks_shows_images_and_filters(browser, tmp_path):
    editors = [
        ToyEditor("oracle", oracle, reference=True),
        ToyEditor("good", noisy(3), cost_usd=0.01, trace=True),
        ToyEditor("identity", identity),
        ToyEditor("flaky", fails_every(3, "error", noisy(3))),
    ]
    run = write_run(tmp_path / "run", editors, count=12)
    page, problems = open_page(browser, write_report(run, tmp_path / "site"))
    first_table = page.locator("table.ranking").first
    editors_in_order = first_table.locator("tr.rank-row td:nth-child(2)").all_inner_texts()
    assert editors_in_order == ["good", "identity", "flaky", "oracle"]
    assert first_table.locator("tr.rank-row td:nth-child(1)").all_inner_texts() == ["1", "2", "3", "ref"]

    assert gallery_count(page) == (48, 48)
    assert page.locator("#gallery-grid article").count() == 24  # first page only
    images = wait_for_images(page)
    assert len(images) == 24 * 3 - 4  # the 4 failed edits (sorted first) have no edited image
    assert all(img["w"] > 0 for img in images), [i for i in images if i["w"] == 0]

    page.select_option("#filter-editor", "identity")
    assert gallery_count(page) == (12, 48)
    assert set(page.locator("#gallery-grid .editor").all_inner_texts()) == {"identity"}
    page.select_option("#filter-editor", "")
    page.select_option("#filter-status", "__failures__")
    assert gallery_count(page) == (4, 48)
    assert page.locator("#gallery-grid article.failed").count() == 4
    page.select_option("#filter-status", "")
    page.click('#failures button[data-editor="flaky"]')  # the failures table jumps to them
    assert gallery_count(page) == (4, 48)
    assert page.input_value("#filter-editor") == "flaky"
    page.select_option("#filter-editor", "")
    page.select_option("#filter-status", "")
    page.click("#gallery-next")
    assert page.inner_text("#gallery-page") == "page 2 of 2"

    page.select_option("#filter-editor", "good")
    page.locator("#gallery-grid details.trace").first.evaluate("d => d.open = true")
    page.wait_for_function(
        "Array.from(document.querySelectorAll('details.trace[open] img')).every(i => i.complete && i.naturalWidth > 0)"
    )
    assert problems == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000
    shots = take_screenshots(
        tmp_path / "site" / "index.html", ARTIFACTS, browser=browser
    )  # the docs/img tool
    assert [p.name for p in shots] == ["report-ranking.png", "report-gallery.png"]
    assert all(p.stat().st_size > 10_000 for p in shots)


def test_hostile_text_is_shown_as_text_in_the_browser(browser, tmp_path):
    page, problems = open_page(browser, write_report(hostile_run(tmp_path / "run"), tmp_path / "site"))
    assert page.evaluate("window.__pwned") is None
    assert HOSTILE_EDITOR in page.locator("table.ranking").first.inner_text()
    page.select_option("#filter-editor", HOSTILE_EDITOR)
    cards = page.locator("#gallery-grid article")
    assert cards.count() == 8
    assert (
        cards.first.locator(".instruction").inner_text().startswith('<img src=x onerror="window.__pwned=1">')
    )
    assert page.evaluate("window.__pwned") is None
    assert problems == []
