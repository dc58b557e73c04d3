"""The app served over real HTTP (uvicorn in a thread) with an in-process worker, and a headless
Chromium that browses it; screenshots of every page go to tests/artifacts/screenshots/."""

import asyncio
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest_asyncio
import sqlalchemy as sa
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from api.main import create_app
from sellerflow.config import Settings
from sellerflow.db import make_engine, upgrade_schema
from sellerflow.devstack import free_port, seed_dev_users
from sellerflow.policy.model import Policy, load_policy
from sellerflow.temporal import connect
from tests.conftest import ARTIFACTS, make_settings
from worker import build_worker

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


@dataclass
class Site:
    url: str
    http: httpx.AsyncClient
    settings: Settings
    engine: sa.Engine
    policy: Policy


async def _serve(settings: Settings) -> tuple[uvicorn.Server, threading.Thread, str]:
    port = free_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            return server, thread, f"http://127.0.0.1:{port}"
        await asyncio.sleep(0.05)
    raise RuntimeError("uvicorn did not start within 10 s")


@pytest_asyncio.fixture
async def site(tmp_path: Path, temporal_address: str, s3_endpoint: str) -> AsyncIterator[Site]:
    """Database, worker and the whole app (API and pages) on 127.0.0.1, on the session's servers."""
    settings = make_settings(tmp_path, temporal_address, s3_endpoint)
    upgrade_schema(settings.database_url)
    seed_dev_users(settings)
    policy = load_policy(settings.sellerflow_policy)
    client = await connect(settings)
    engine = make_engine(settings.database_url)
    server, thread, url = await _serve(settings)
    try:
        with ThreadPoolExecutor(max_workers=8) as executor:
            async with (
                build_worker(client, engine, settings, policy, executor),
                httpx.AsyncClient(base_url=url, timeout=30) as http,
            ):
                yield Site(url, http, settings, engine, policy)
    finally:
        server.should_exit = True
        thread.join(10)
        engine.dispose()


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
