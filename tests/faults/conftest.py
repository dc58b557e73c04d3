"""Processes a fault test may kill: workers and APIs as children, a Temporal server it restarts;
and the parts it keeps in its own process (database, API over ASGI, worker).

The session's Temporal and S3 servers (tests/conftest.py) are shared with every other test, so
nothing here ever stops them; what a test kills, it started itself.
"""

from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import pytest
import sqlalchemy as sa
from temporalio.client import Client

from api.main import build_state, create_app
from sellerflow.cli.devstack import (
    Process,
    free_port,
    seed_dev_users,
    start_api,
    start_temporal,
    start_worker,
)
from sellerflow.config import Settings
from sellerflow.db import make_engine, upgrade_schema
from sellerflow.policy.model import load_policy
from worker import build_worker


def prepared(settings: Settings) -> sa.Engine:
    """The database at the newest schema with the dev users, and an engine on it."""
    upgrade_schema(settings.database_url)
    seed_dev_users(settings)
    return make_engine(settings.database_url)


@asynccontextmanager
async def asgi_http(settings: Settings, temporal: Client) -> AsyncIterator[httpx.AsyncClient]:
    """The API in this process, for tests whose fault is elsewhere."""
    app = create_app(settings, temporal=temporal)
    app.state.sellerflow = state = build_state(settings, temporal)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            yield http
    finally:
        await state.close()


@asynccontextmanager
async def in_process_worker(
    temporal: Client, engine: sa.Engine, settings: Settings
) -> AsyncIterator[None]:
    policy = load_policy(settings.sellerflow_policy)
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with build_worker(temporal, engine, settings, policy, executor):
            yield


@dataclass
class ChildProcesses:
    """Workers and APIs of one test, each logging to its own file; all stopped at the end."""

    log_dir: Path
    started: list[Process] = field(default_factory=list)
    logs: list[IO[str]] = field(default_factory=list)

    def worker(self, settings: Settings) -> Process:
        """`worker.py` on its own metrics port (two workers never share one)."""
        settings = settings.model_copy(update={"worker_metrics_port": free_port()})
        return self._track(start_worker(settings, log=self._log("worker")))

    def api(self, settings: Settings, *, port: int) -> Process:
        return self._track(start_api(settings, port=port, log=self._log("api")))

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()
        for log in self.logs:
            log.close()

    def _log(self, name: str) -> IO[str]:
        log = (self.log_dir / f"{name}-{len(self.logs) + 1}.log").open("w")
        self.logs.append(log)
        return log

    def _track(self, process: Process) -> Process:
        self.started.append(process)
        return process


@pytest.fixture
def child_processes(tmp_path: Path) -> Iterator[ChildProcesses]:
    children = ChildProcesses(log_dir=tmp_path)
    yield children
    children.stop_all()


@dataclass
class RestartableTemporal:
    """A Temporal dev server of one test, persisted to a file so it survives a restart."""

    port: int
    db_file: Path
    log: IO[str]
    process: Process | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start (again) on the same port with the same database file."""
        assert self.process is None, "the server is already running"
        self.process = start_temporal(port=self.port, db_file=self.db_file, log=self.log)

    def stop(self) -> None:
        """A clean shutdown: SIGINT, what Ctrl-C in `make run` sends."""
        assert self.process is not None, "the server is not running"
        self.process.stop()
        self.process = None

    def kill(self) -> None:
        """A crash: SIGKILL, with no chance to flush or close anything."""
        assert self.process is not None, "the server is not running"
        self.process.kill()
        self.process = None


@pytest.fixture
def restartable_temporal(tmp_path: Path) -> Iterator[RestartableTemporal]:
    """A Temporal dev server (no time skipping) that only this test uses."""
    with (tmp_path / "temporal.log").open("w") as log:
        server = RestartableTemporal(port=free_port(), db_file=tmp_path / "temporal.db", log=log)
        server.start()
        yield server
        if server.process is not None:
            server.stop()
