"""Dependencies a test can take away and bring back: its own SeaweedFS, a TCP proxy in front of
PostgreSQL, and the stack (database, worker, API) wired to them."""

import asyncio
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any, Self

import httpx
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.client import Client

from sellerflow.cli.devstack import Process, free_port, start_s3
from sellerflow.config import Settings
from tests.support.waiting import eventually


class S3Server:
    """A SeaweedFS that can be stopped and started again on the same port and data directory,
    so what was stored before the outage is there after it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir, self.port = data_dir, free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.settings = Settings(s3_endpoint_url=self.endpoint)
        self.process: Process | None = None
        self.log: IO[str] = (data_dir.parent / "weed.log").open("a")

    def start(self) -> None:
        # start_s3 removes SeaweedFS's stale sockets for the ports it uses before it starts.
        self.process = start_s3(
            data_dir=self.data_dir, port=self.port, settings=self.settings, log=self.log
        )

    def stop(self) -> None:
        if self.process is not None:
            # `weed server` takes more than 15 s to act on SIGINT: the outage needs it gone, so
            # it is killed after a second (what it had stored is on disk by then).
            self.process.stop(timeout=1)
            self.process = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
        self.log.close()


@dataclass
class TcpProxy:
    """Forwards 127.0.0.1:`port` to the target. `down()` drops every connection and closes each
    new one at once (the peer sees the server hang up) until `up()`."""

    target_host: str
    target_port: int
    port: int = 0
    is_down: bool = False
    dropped: int = 0  # connections closed because the proxy was down
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    streams: set[asyncio.StreamWriter] = field(default_factory=set)

    def __enter__(self) -> Self:
        # Its own thread: the API runs blocking database calls on the test's event loop.
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.server = self._call(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *_: object) -> None:
        self._call(self._close())
        self.loop.call_soon_threadsafe(self.loop.stop)

    def down(self) -> None:
        self._call(self._down())

    def up(self) -> None:
        self._call(self._up())

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    async def _down(self) -> None:
        self.is_down = True
        for writer in list(self.streams):
            writer.transport.abort()

    async def _up(self) -> None:
        self.is_down = False

    async def _close(self) -> None:
        await self._down()
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.is_down:
            self.dropped += 1
            writer.transport.abort()
            return
        try:
            target_reader, target_writer = await asyncio.open_connection(
                self.target_host, self.target_port
            )
        except OSError:
            writer.transport.abort()
            return
        pair = {writer, target_writer}
        self.streams |= pair
        try:
            await asyncio.gather(
                self._pipe(reader, target_writer), self._pipe(target_reader, writer)
            )
        finally:
            self.streams -= pair

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(1 << 16):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()


def record_statuses(http: httpx.AsyncClient) -> list[tuple[str, int]]:
    """Every answer the API gives from now on, as (method and path, status)."""
    seen: list[tuple[str, int]] = []

    async def record(response: httpx.Response) -> None:
        seen.append(
            (f"{response.request.method} {response.request.url.path}", response.status_code)
        )

    http.event_hooks["response"].append(record)
    return seen


async def retrying_activity(
    temporal: Client,
    workflow_id: str,
    failure: Callable[[str], bool] = lambda _: True,
    timeout: timedelta = timedelta(seconds=20),
) -> PendingActivityInfo:
    """The workflow's pending activity once it has failed at least once (with `failure`)."""
    handle = temporal.get_workflow_handle(workflow_id)
    seen = ""

    async def retried() -> PendingActivityInfo | None:
        nonlocal seen
        described = await handle.describe()
        for pending in described.raw_description.pending_activities:
            seen = (
                f"{pending.activity_type.name} #{pending.attempt}: {pending.last_failure.message}"
            )
            if pending.attempt > 1 and failure(pending.last_failure.message):
                return pending
        return None

    return await eventually(
        retried,
        timeout=timeout.total_seconds(),
        interval=0.2,
        why=lambda: f"no activity of {workflow_id} retried as expected; last seen {seen}",
    )
