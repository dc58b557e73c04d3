"""The whole app (API and pages) over real HTTP: uvicorn in a thread on a free port of
127.0.0.1, with an in-process worker, on the session's Temporal and S3 servers."""

import contextlib
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import sqlalchemy as sa
import uvicorn

from api.main import create_app
from sellerflow.cli.devstack import free_port, seed_dev_users
from sellerflow.config import Settings
from sellerflow.db import make_engine, upgrade_schema
from sellerflow.policy.model import Policy, load_policy
from sellerflow.temporal import connect
from tests.support.waiting import eventually
from worker import build_worker


@dataclass
class Site:
    url: str
    http: httpx.AsyncClient
    settings: Settings
    engine: sa.Engine
    policy: Policy


async def serve(settings: Settings) -> tuple[uvicorn.Server, threading.Thread, str]:
    """Start the app; returns the server (set `should_exit` to stop it), its thread and URL."""
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
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()

    def started() -> bool:
        if not server.started and not thread.is_alive():
            raise RuntimeError("uvicorn stopped before it started")
        return server.started

    try:
        await eventually(started, timeout=10, interval=0.05, why="uvicorn did not start")
    except BaseException:
        server.should_exit = True
        raise
    return server, thread, f"http://127.0.0.1:{port}"


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Site]:
    """Database, worker and the app on `settings`; everything stopped on the way out."""
    upgrade_schema(settings.database_url)
    seed_dev_users(settings)
    policy = load_policy(settings.sellerflow_policy)
    client = await connect(settings)
    engine = make_engine(settings.database_url)
    server, thread, url = await serve(settings)
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
