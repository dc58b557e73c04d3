"""The app served over real HTTP (uvicorn in a thread) with an in-process worker, and a headless
Chromium that browses it; screenshots of every page go to tests/artifacts/screenshots/."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.conftest import ARTIFACTS, make_settings
from tests.serve import Site, serving

SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PHONE = {"width": 412, "height": 915}
DESKTOP = {"width": 1280, "height": 900}


@pytest_asyncio.fixture
async def site(tmp_path: Path, temporal_address: str, s3_endpoint: str) -> AsyncIterator[Site]:
    """Database, worker and the whole app (API and pages) on 127.0.0.1, on the session's servers."""
    settings = make_settings(tmp_path, temporal_address, s3_endpoint)
    async with serving(settings) as site:
        yield site


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        await chromium.close()


class Screenshots:
    """Numbered full-page PNGs, so the files sort in the order the pages were visited."""

    def __init__(self, journey: str) -> None:
        self.journey = journey
        self.taken: list[Path] = []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    async def take(self, page: Page, name: str) -> None:
        path = SCREENSHOTS / f"{self.journey}-{len(self.taken) + 1:02d}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)


async def new_page(
    browser: Browser, site: Site, viewport: dict[str, int]
) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(base_url=site.url, viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    return context, await context.new_page()
