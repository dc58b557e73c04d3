"""The whole app served over real HTTP (uvicorn in a thread) with an in-process worker, for the
attacks that need a live server: schemathesis reads `/openapi.json` from it and calls it from a
thread of its own, while the worker keeps running on the test's event loop."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import sqlalchemy as sa
from fastapi import FastAPI

from api.main import build_state, create_app
from sellerflow.cli.devstack import seed_dev_users
from sellerflow.config import Settings
from sellerflow.db import upgrade_schema
from tests.conftest import make_settings
from tests.serve import Site, serving


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def live(
    tmp_path_factory: pytest.TempPathFactory, temporal_address: str, s3_endpoint: str
) -> AsyncIterator[Site]:
    """Database, worker and the whole app on 127.0.0.1, on the session's Temporal and S3; shared
    by this folder's tests, each of which makes applications of its own."""
    settings = make_settings(tmp_path_factory.mktemp("live"), temporal_address, s3_endpoint)
    async with serving(settings) as site:
        yield site


@dataclass
class SignInApp:
    """The API and pages on a SQLite file with the dev users, without Temporal or a worker:
    enough for sign-in, which needs neither."""

    http: httpx.AsyncClient
    settings: Settings
    engine: sa.Engine
    app: FastAPI

    def client_at(self, address: str) -> httpx.AsyncClient:
        """A client whose requests come from `address`."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 50000))
        return httpx.AsyncClient(transport=transport, base_url="http://api")


@pytest_asyncio.fixture
async def sign_in_app(tmp_path: Path) -> AsyncIterator[SignInApp]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'sellerflow.db'}")
    upgrade_schema(settings.database_url)
    seed_dev_users(settings)
    app = create_app(settings)
    app.state.sellerflow = state = build_state(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        yield SignInApp(http, settings, state.engine, app)
    await state.close()
