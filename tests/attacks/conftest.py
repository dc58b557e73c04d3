"""The whole app served over real HTTP (uvicorn in a thread) with an in-process worker, for the
attacks that need a live server: schemathesis reads `/openapi.json` from it and calls it from a
thread of its own, while the worker keeps running on the test's event loop."""

import asyncio
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
import sqlalchemy as sa
import uvicorn

from api.main import create_app
from sellerflow.config import Settings
from sellerflow.db import make_engine, upgrade_schema
from sellerflow.devstack import free_port, seed_dev_users
from sellerflow.policy.model import Policy, load_policy
from sellerflow.temporal import connect
from tests.conftest import make_settings
from worker import build_worker


@dataclass
class LiveApi:
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
    thread = threading.Thread(target=server.run, name="uvicorn-attacks", daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            return server, thread, f"http://127.0.0.1:{port}"
        if not thread.is_alive():
            break
        await asyncio.sleep(0.05)
    server.should_exit = True
    raise RuntimeError("uvicorn did not start within 10 s")


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def live(
    tmp_path_factory: pytest.TempPathFactory, temporal_address: str, s3_endpoint: str
) -> AsyncIterator[LiveApi]:
    """Database, worker and the whole app on 127.0.0.1, on the session's Temporal and S3; shared
    by this folder's tests, each of which makes applications of its own."""
    settings = make_settings(tmp_path_factory.mktemp("live"), temporal_address, s3_endpoint)
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
                yield LiveApi(url, http, settings, engine, policy)
    finally:
        server.should_exit = True
        thread.join(10)
        engine.dispose()
