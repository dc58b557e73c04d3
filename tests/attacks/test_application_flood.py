"""Application creation is limited per client address and per e-mail address: beyond the
settings' numbers a create is refused (429, Retry-After, {error, detail}) and stores nothing."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest_asyncio
import sqlalchemy as sa
from fastapi import FastAPI
from temporalio.client import Client

from api.main import build_state, create_app
from sellerflow.config import Settings
from sellerflow.db import table_of, upgrade_schema
from sellerflow.models import Application
from tests.journey import APPLICATION

PER_ADDRESS, PER_EMAIL = 4, 2


@pytest_asyncio.fixture
async def api(
    tmp_path: Path, temporal_address: str, temporal_client: Client
) -> AsyncIterator[FastAPI]:
    """The API on a SQLite file and the session's Temporal (no worker: a create only starts)."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'sellerflow.db'}",
        temporal_address=temporal_address,
        applications_per_address_per_hour=PER_ADDRESS,
        applications_per_email_per_day=PER_EMAIL,
    )
    upgrade_schema(settings.database_url)
    app = create_app(settings, temporal=temporal_client)
    app.state.sellerflow = state = build_state(settings, temporal_client)
    yield app
    await state.close()


@asynccontextmanager
async def client_at(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        yield http


async def create(http: httpx.AsyncClient, email: str) -> httpx.Response:
    return await http.post("/v1/applications", json={**APPLICATION, "contact_email": email})


def stored(app: FastAPI) -> int:
    with app.state.sellerflow.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table_of(Application))).one()[0]


def assert_refused(response: httpx.Response, most_seconds: int, names: str) -> None:
    assert response.status_code == 429, response.text
    assert 0 < int(response.headers["retry-after"]) <= most_seconds
    body = response.json()
    assert body["error"] == "TooManyAttempts"
    assert names in body["detail"]


async def test_an_email_address_gets_a_few_applications_a_day(api: FastAPI) -> None:
    async with client_at(api, "10.0.0.1") as first, client_at(api, "10.0.0.2") as second:
        for _ in range(PER_EMAIL):
            assert (await create(first, "ada@refurb.example")).status_code == 201
        # Another address, the same mailbox written differently: still that e-mail's count.
        assert_refused(await create(second, "ADA@Refurb.Example"), 24 * 3600, "e-mail")
        assert (await create(second, "grace@refurb.example")).status_code == 201
    assert stored(api) == PER_EMAIL + 1


async def test_a_client_address_gets_a_few_applications_an_hour(api: FastAPI) -> None:
    async with client_at(api, "10.0.0.1") as flooding, client_at(api, "10.0.0.2") as other:
        for number in range(PER_ADDRESS):
            created = await create(flooding, f"applicant{number}@refurb.example")
            assert created.status_code == 201, created.text
        assert_refused(await create(flooding, "late@refurb.example"), 3600, "address")
        assert (await create(other, "late@refurb.example")).status_code == 201
    assert stored(api) == PER_ADDRESS + 1
