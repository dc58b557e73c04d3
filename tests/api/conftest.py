"""The API in this process on a database of the test's choosing, without a worker."""

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import sqlalchemy as sa
from temporalio.client import Client

from api.main import build_state, create_app
from sellerflow.cli.devstack import seed_dev_users
from sellerflow.config import Settings
from sellerflow.db import upgrade_schema
from sellerflow.temporal import connect
from tests.conftest import make_settings


@dataclass
class Api:
    http: httpx.AsyncClient
    settings: Settings
    engine: sa.Engine
    temporal: Client


@asynccontextmanager
async def api_without_worker(settings: Settings) -> AsyncIterator[Api]:
    """The API on its own database and task queue; the test decides when a worker runs."""
    upgrade_schema(settings.database_url)
    seed_dev_users(settings)
    client = await connect(settings)
    app = create_app(settings, temporal=client)
    app.state.sellerflow = state = build_state(settings, client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        yield Api(http, settings, state.engine, client)
    await state.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sellerflow.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


@pytest_asyncio.fixture
async def api_on_either_database(
    database_url: str, tmp_path: Path, temporal_address: str, s3_endpoint: str
) -> AsyncIterator[Api]:
    settings = make_settings(tmp_path, temporal_address, s3_endpoint, database_url=database_url)
    async with api_without_worker(settings) as api:
        yield api
