"""Benchmark of a worker outage: how long a backlog of onboarding workflows takes to drain, and
when schedule-to-start latency is back under 1 s.

Starts its own Temporal dev server (no time skipping, persisted to a temporary file) and a fresh
database (SQLite file or PostgreSQL database). With no worker polling, N applications are
created through the API (each starts an onboarding workflow: its first workflow task waits in
the task queue). Then the worker process (`worker.py`, as deployed) starts, while new
applications keep arriving at --rate per second until the backlog has drained and --tail
seconds more. With --kill-at F the worker is SIGKILLed once a fraction F of the backlog has been
taken up, and a fresh worker starts at once (a crash in the middle of the drain).

Latency comes from the histories afterwards: WorkflowTaskScheduled -> WorkflowTaskStarted and
ActivityTaskScheduled -> ActivityTaskStarted event times, on the server's clock. Prints one JSON
line.

    python -m bench.backlog [--workflows 500] [--db sqlite|postgres] [--workers 1] [--rate 1]
        [--tail 30] [--kill-at 0.3]
"""

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import Session, col, func, select
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from api.main import build_state, create_app
from bench.stack import postgres_schema
from sellerflow.cli.devstack import Process, free_port, spawn, start_temporal
from sellerflow.config import Settings
from sellerflow.db import make_engine, upgrade_schema
from sellerflow.models import Notification
from sellerflow.temporal import connect

TASK_QUEUE = "sellerflow-backlog"
LATE_SECONDS = 1.0
# What the first workflow task of every onboarding run leads to: this notice in the outbox.
FIRST_NOTICE = "application_received"
APPLICATION = {
    "legal_name": "Backlog Refurb GmbH",
    "seller_category": "repair_workshop",
    "country": "DE",
    "registration_number": "HRB 424242",
    "vat_number": "DE136695976",
    "contact_name": "Ada Example",
    "contact_email": "ada@backlog.example",
    "product_categories": ["smartphones"],
}


@dataclass(frozen=True)
class Sample:
    """One task: when it was scheduled and when a worker started it (epoch seconds)."""

    kind: str
    scheduled: float
    started: float
    first: bool = False  # the workflow's first workflow task

    @property
    def latency(self) -> float:
        return self.started - self.scheduled


@contextmanager
def database(db: str, workdir: Path) -> Iterator[str]:
    if db == "sqlite":
        yield f"sqlite:///{workdir / 'sellerflow.db'}"
        return
    with postgres_schema() as url:
        yield url


class WorkerProcess:
    """`worker.py` as deployed: its own process, settings from the environment."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self.log = log
        env = {
            "DATABASE_URL": settings.database_url,
            "TEMPORAL_ADDRESS": settings.temporal_address,
            "TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
            "SELLERFLOW_POLICY": settings.sellerflow_policy,
            "WORKER_METRICS_PORT": str(free_port()),
        }
        self.spawned_at = time.time()
        self.process: Process = spawn(
            "worker", [sys.executable, "worker.py"], env=env, log=log.open("a")
        )

    async def polling_since(self, timeout: float = 60) -> float:
        """When the worker logged that it polls its task queue (epoch seconds)."""
        async with asyncio.timeout(timeout):
            while True:
                for line in self.log.read_text().splitlines():
                    entry = _json_line(line)
                    if str(entry.get("msg", "")).startswith("worker polling task queue"):
                        return _epoch(str(entry["ts"]))
                if self.process.proc.poll() is not None:
                    raise RuntimeError(f"the worker exited; see {self.log}")
                await asyncio.sleep(0.05)

    def peak_rss_mb(self) -> float:
        """VmHWM: the process's peak resident set so far."""
        for line in Path(f"/proc/{self.process.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
        raise RuntimeError("no VmHWM in /proc status")


def _json_line(line: str) -> dict[str, Any]:
    text = line.split("| ", 1)[-1]
    try:
        entry = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return entry if isinstance(entry, dict) else {}


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


class Applications:
    """Creates applications through the API, in process, as applicants would."""

    def __init__(self, settings: Settings, client: Client) -> None:
        app = create_app(settings, temporal=client)
        app.state.sellerflow = self.state = build_state(settings, client)
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a")
        self.ids: list[str] = []

    async def create(self) -> None:
        response = await self.http.post("/v1/applications", json=APPLICATION)
        response.raise_for_status()
        self.ids.append(response.json()["id"])

    async def arrive(self, rate: float, stop: asyncio.Event) -> None:
        """New applications at `rate` per second until `stop` is set."""
        started, arrived = time.monotonic(), 0
        while not stop.is_set():
            await self.create()
            arrived += 1
            due = started + arrived / rate
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, due - time.monotonic()))


def notices(engine: sa.Engine) -> int:
    with Session(engine) as session:
        query = select(func.count()).where(col(Notification.template) == FIRST_NOTICE)
        return session.exec(query).one()


async def wait_for_notices(engine: sa.Engine, count: int, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while notices(engine) < count:
            await asyncio.sleep(0.1)


async def settled_history(client: Client, workflow_id: str) -> list[HistoryEvent]:
    """The history once the workflow waits for its applicant (its first steps done)."""
    while True:
        events = list((await client.get_workflow_handle(workflow_id).fetch_history()).events)
        if any(e.event_type == EventType.EVENT_TYPE_TIMER_STARTED for e in events):
            return events
        await asyncio.sleep(0.2)


def samples(events: list[HistoryEvent]) -> list[Sample]:
    scheduled: dict[int, float] = {}
    found: list[Sample] = []
    for event in events:
        at = event.event_time.ToMicroseconds() / 1e6
        if event.event_type in (
            EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
            EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        ):
            scheduled[event.event_id] = at
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            source = event.workflow_task_started_event_attributes.scheduled_event_id
            first = not any(s.kind == "workflow" for s in found)
            found.append(Sample("workflow", scheduled[source], at, first))
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            source = event.activity_task_started_event_attributes.scheduled_event_id
            found.append(Sample("activity", scheduled[source], at))
    return found


def summary(latencies: list[float]) -> dict[str, float | int]:
    if not latencies:
        return {"count": 0}
    ordered = sorted(latencies)
    return {
        "count": len(ordered),
        "p50": round(statistics.median(ordered), 3),
        "p99": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 3),
        "max": round(ordered[-1], 3),
    }


def analyse(all_samples: list[Sample], polling: float) -> dict[str, Any]:
    """Drain time and latency figures, relative to when the first worker began polling."""
    backlog = [s for s in all_samples if s.scheduled < polling]
    fresh = [s for s in all_samples if s.scheduled >= polling]
    drained = max(s.started for s in backlog)
    late = [s for s in fresh if s.latency >= LATE_SECONDS]
    # The moment after which every task scheduled started within LATE_SECONDS.
    below_1s = max((s.scheduled for s in late), default=polling)
    worst_by_second: dict[int, float] = {}
    for s in fresh:
        second = int(s.scheduled - polling)
        worst_by_second[second] = max(worst_by_second.get(second, 0.0), s.latency)
    return {
        "backlog_tasks": len(backlog),
        "drain_seconds": round(drained - polling, 2),
        "seconds_until_schedule_to_start_below_1s": round(below_1s - polling, 2),
        "last_late_start_seconds": round(
            max((s.started for s in all_samples if s.latency >= LATE_SECONDS), default=polling)
            - polling,
            2,
        ),
        "schedule_to_start_seconds": {
            "backlog": summary([s.latency for s in backlog]),
            "during_drain": {
                kind: summary(
                    [s.latency for s in fresh if s.scheduled <= drained and kind in ("all", s.kind)]
                )
                for kind in ("all", "workflow", "activity")
            },
            "after_drain": {
                kind: summary(
                    [s.latency for s in fresh if s.scheduled > drained and kind in ("all", s.kind)]
                )
                for kind in ("all", "workflow", "activity")
            },
        },
        # How long a workflow started after the worker came back waited for its first task.
        "first_task_of_new_workflows": {
            "during_drain": summary(
                [s.latency for s in fresh if s.first and s.scheduled <= drained]
            ),
            "after_drain": summary([s.latency for s in fresh if s.first and s.scheduled > drained]),
        },
        "worst_schedule_to_start_by_second": [
            round(worst_by_second.get(i, 0.0), 2) for i in range(max(worst_by_second) + 1)
        ],
    }


@dataclass
class Workers:
    """The worker processes of one run, and the peak RSS of those already gone."""

    settings: Settings
    workdir: Path
    running: list[WorkerProcess] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)
    started: int = 0

    async def start(self, count: int) -> float:
        """Start `count` workers; returns when the first of them polled (epoch seconds)."""
        fresh = []
        for _ in range(count):
            self.started += 1
            log = self.workdir / f"worker-{self.started}.log"
            fresh.append(WorkerProcess(self.settings, log))
        self.running += fresh
        return min(await asyncio.gather(*(w.polling_since() for w in fresh)))

    async def crash_one(self) -> None:
        """SIGKILL one worker, then start a replacement."""
        victim = self.running.pop(0)
        self.peaks.append(victim.peak_rss_mb())
        victim.process.kill()
        await self.start(1)

    def stop(self) -> None:
        for worker in self.running:
            if worker.process.proc.poll() is None:
                self.peaks.append(worker.peak_rss_mb())
            worker.process.stop()
        self.running = []


async def drain(args: argparse.Namespace, settings: Settings, workdir: Path) -> dict[str, Any]:
    """The outage, then the workers: returns the figures."""
    engine = make_engine(settings.database_url)
    client = await connect(settings)
    apps = Applications(settings, client)
    outage_started = time.monotonic()
    for _ in range(args.workflows):
        await apps.create()
    outage_seconds = time.monotonic() - outage_started
    backlog = len(apps.ids)
    workers = Workers(settings, workdir)
    try:
        spawned = time.time()
        polling = await workers.start(args.workers)
        stop = asyncio.Event()
        arrivals = asyncio.create_task(apps.arrive(args.rate, stop))
        killed_at = None
        if args.kill_at:
            await wait_for_notices(engine, int(args.kill_at * backlog), args.timeout)
            killed_at = round(time.time() - polling, 2)
            await workers.crash_one()
        await wait_for_notices(engine, backlog, args.timeout)
        await asyncio.sleep(args.tail)  # new applications keep arriving after the drain
        stop.set()
        await arrivals
        await wait_for_notices(engine, len(apps.ids), args.timeout)
        async with asyncio.timeout(args.timeout):
            histories = await asyncio.gather(
                *(settled_history(client, f"onboarding-{a}") for a in apps.ids)
            )
    finally:
        workers.stop()
        await apps.http.aclose()
        await apps.state.close()
        engine.dispose()
    found = [s for events in histories for s in samples(events)]
    return {
        "workflows": backlog,
        "db": args.db,
        "workers": args.workers,
        "arrived_after_outage": len(apps.ids) - backlog,
        "arrival_rate_per_second": args.rate,
        "outage_seconds": round(outage_seconds, 1),
        "worker_startup_seconds": round(polling - spawned, 2),
        "killed_at_seconds": killed_at,
        **analyse(found, polling),
        "tasks": len(found),
        "peak_worker_rss_mb": max(workers.peaks),
    }


async def run(args: argparse.Namespace, workdir: Path, database_url: str) -> dict[str, Any]:
    port = free_port()
    log = (workdir / "temporal.log").open("w")
    temporal = start_temporal(port=port, db_file=workdir / "temporal.db", log=log)
    try:
        upgrade_schema(database_url)
        settings = Settings(
            database_url=database_url,
            temporal_address=f"127.0.0.1:{port}",
            temporal_task_queue=TASK_QUEUE,
            sellerflow_policy="default",
            # Every journey comes from one address, most with one e-mail: no creation limits.
            applications_per_address_per_hour=0,
            applications_per_email_per_day=0,
        )
        return await drain(args, settings, workdir)
    finally:
        temporal.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workflows", type=int, default=500, help="backlog: started with no worker"
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rate", type=float, default=1.0, help="new applications per second")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--tail", type=float, default=30.0, help="seconds of arrivals after")
    parser.add_argument("--kill-at", type=float, default=0.0, help="SIGKILL the worker at F")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sellerflow-backlog-") as folder:
        workdir = Path(folder)
        with database(args.db, workdir) as url:
            result = asyncio.run(run(args, workdir, url))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
