"""Real servers for the suite: the Temporal dev server (with time skipping) and SeaweedFS S3,
started once per session on free ports; SQLite per test and PostgreSQL at 127.0.0.1:5432."""

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import sqlalchemy as sa
from temporalio.client import Client
from temporalio.testing import TimeSkipper

from api.main import build_state, create_app
from sellerflow.cli.devstack import Process, free_port, seed_dev_users, start_s3, start_temporal
from sellerflow.config import Settings
from sellerflow.db import fresh_schema, make_engine, upgrade_schema
from sellerflow.policy.model import Policy, load_policy
from sellerflow.registries.fake import FakeRegisters
from sellerflow.temporal import connect
from tests.mailbox import Mailbox, smtp_server
from worker import build_worker

ARTIFACTS = Path(__file__).parent / "artifacts"
POSTGRES_URL = os.environ.get(
    "SELLERFLOW_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def temporal_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = (tmp_path_factory.mktemp("logs") / "temporal.log").open("w")
    server: Process = start_temporal(port=port, time_skipping=True, log=log)
    yield f"127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The default policy (frozen, so one for the session)."""
    return load_policy("default")


@pytest.fixture
def fake_registers() -> Iterator[FakeRegisters]:
    """The dev fake of the company register and the VAT registry, on a free port, answering
    from `sellerflow/registries/data/registers.json`; `.down = True` is an outage."""
    registers = FakeRegisters.from_file().start()
    yield registers
    registers.stop()


@pytest_asyncio.fixture
async def temporal_client(temporal_address: str) -> Client:
    """A client of the session's Temporal server (time skipping)."""
    return await connect(Settings(temporal_address=temporal_address))


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    data = tmp_path_factory.mktemp("s3")
    log = (data / "weed.log").open("w")
    server = start_s3(
        data_dir=data, port=port, settings=Settings(s3_endpoint_url=endpoint), log=log
    )
    yield endpoint
    server.kill()  # SeaweedFS ignores SIGINT and SIGTERM for longer than a test run cares to wait


def make_settings(
    tmp_path: Path, temporal_address: str, s3_endpoint: str, **overrides: object
) -> Settings:
    values: dict[str, object] = {
        "database_url": f"sqlite:///{tmp_path / 'sellerflow.db'}",
        "temporal_address": temporal_address,
        "temporal_task_queue": f"test-{uuid.uuid4()}",
        "s3_endpoint_url": s3_endpoint,
        "sellerflow_policy": "default",
        # The suite's applications share one client address and mostly one e-mail address;
        # tests/attacks/test_application_flood.py sets the limits it tests.
        "applications_per_address_per_hour": 0,
        "applications_per_email_per_day": 0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the `test` database, dropped afterwards."""
    with fresh_schema(POSTGRES_URL, "sf") as url:
        yield url


@dataclass
class Stack:
    http: httpx.AsyncClient
    temporal: Client
    settings: Settings
    engine: sa.Engine
    policy: Policy
    skipper: TimeSkipper
    mailbox: Mailbox


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on a free port; what it receives stays readable."""
    with smtp_server() as box:
        yield box


@contextlib.asynccontextmanager
async def running_stack(settings: Settings, mailbox: Mailbox) -> AsyncIterator[Stack]:
    """Database, worker and API on `settings`: the `stack` fixture, for tests with servers of their
    own (an S3 or a database proxy they stop and start)."""
    upgrade_schema(settings.database_url)
    seed_dev_users(settings)
    policy = load_policy(settings.sellerflow_policy)
    client = await connect(settings)
    engine = make_engine(settings.database_url)
    app = create_app(settings, temporal=client)
    app.state.sellerflow = build_state(settings, client)
    try:
        with ThreadPoolExecutor(max_workers=8) as executor:
            async with build_worker(client, engine, settings, policy, executor):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
                    yield Stack(
                        http, client, settings, engine, policy, TimeSkipper(client), mailbox
                    )
    finally:
        await app.state.sellerflow.close()
        engine.dispose()


@pytest_asyncio.fixture
async def stack(
    tmp_path: Path, temporal_address: str, s3_endpoint: str, mailbox: Mailbox
) -> AsyncIterator[Stack]:
    """Database, worker, API and SMTP server on the session's Temporal and S3 servers."""
    settings = make_settings(tmp_path, temporal_address, s3_endpoint, smtp_url=mailbox.url)
    async with running_stack(settings, mailbox) as running:
        yield running
