"""The servers the speed benchmarks run on, started per run, and the workers they drive.

One Temporal dev server (no time skipping, in memory), a fresh PostgreSQL schema with the dev
users, a sink SMTP server (so `deliver_notification` really sends, as in production) and, for
the HTTP benchmarks, uvicorn subprocesses; the production worker and the reference worker; how
the driver learns that a workflow waits for it; and the figures (percentiles, CPU, RSS).
"""

import asyncio
import compileall
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

import sqlalchemy as sa
from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    Worker,
)

import bench.reference as reference_module
import worker as worker_module
from bench.evaluation import POSTGRES_ADMIN_URL
from bench.reference import ReferenceWorkflow, trivial_activity
from sellerflow.cli.devstack import (
    Process,
    free_port,
    seed_dev_users,
    spawn,
    start_temporal,
    wait_for_port,
)
from sellerflow.config import PROJECT_ROOT, Settings
from sellerflow.db import fresh_schema, make_engine, upgrade_schema
from sellerflow.policy.model import Policy, load_policy
from sellerflow.temporal import connect

T = TypeVar("T")

# As worker.py's main(): the activity thread pool, and so the concurrent activity slots.
WORKER_THREADS = worker_module.WORKER_THREADS


@dataclass
class BenchStack:
    settings: Settings
    client: Client
    engine: sa.Engine
    policy: Policy
    logs: Path
    temporal: Process
    smtp: Process | None = None


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh schema in the `test` database, dropped afterwards."""
    with fresh_schema(POSTGRES_ADMIN_URL, "bench") as url:
        yield url


@contextlib.contextmanager
def running(process: Process) -> Iterator[Process]:
    try:
        yield process
    finally:
        process.stop()


def start_smtp_sink(log: Path) -> tuple[Process, str]:
    """aiosmtpd's Sink in its own process: accepts every message, keeps none."""
    port = free_port()
    cmd = [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink"]
    process = spawn("smtp", [*cmd, "-l", f"127.0.0.1:{port}"], log=log.open("w"))
    wait_for_port(port, process.proc, "smtp sink")
    return process, f"smtp://127.0.0.1:{port}"


@contextlib.asynccontextmanager
async def bench_stack(*, smtp: bool = True) -> AsyncIterator[BenchStack]:
    """Temporal, a PostgreSQL schema at the Alembic head with dev users, optionally SMTP."""
    with contextlib.ExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sellerflow-bench-")))
        port = free_port()
        temporal = stack.enter_context(
            running(start_temporal(port=port, log=(logs / "temporal.log").open("w")))
        )
        url = stack.enter_context(postgres_schema())
        sink, smtp_url = None, None
        if smtp:
            sink, smtp_url = start_smtp_sink(logs / "smtp.log")
            stack.enter_context(running(sink))
        settings = Settings(
            database_url=url,
            temporal_address=f"127.0.0.1:{port}",
            temporal_task_queue=f"bench-{uuid.uuid4().hex[:8]}",
            sellerflow_policy="default",
            smtp_url=smtp_url,
            # Every journey comes from one address, most with one e-mail: no creation limits.
            applications_per_address_per_hour=0,
            applications_per_email_per_day=0,
        )
        upgrade_schema(settings.database_url)
        seed_dev_users(settings)
        engine = make_engine(settings.database_url)
        stack.callback(engine.dispose)
        client = await connect(settings)
        policy = load_policy(settings.sellerflow_policy)
        yield BenchStack(settings, client, engine, policy, logs, temporal, sink)


class ActivityWatch(Interceptor):
    """Lets the driver await the end of one activity of one workflow, without polling.

    The benchmarks' stand-in for a person noticing that a task is in the inbox: the driver
    learns that the activity before a wait has finished, then confirms with `wait_idle` that
    the workflow has taken the result in.
    """

    def __init__(self) -> None:
        self.expected: dict[tuple[str, str], asyncio.Future[None]] = {}

    def expect(self, workflow_id: str, activity_ids: list[str]) -> list[asyncio.Future[None]]:
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in activity_ids]
        for activity_id, future in zip(activity_ids, futures, strict=True):
            self.expected[(workflow_id, activity_id)] = future
        return futures

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Watched(next, self)


class _Watched(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, watch: ActivityWatch) -> None:
        super().__init__(next)
        self.watch = watch

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        result = await super().execute_activity(input)
        info = activity.info()
        future = self.watch.expected.pop((info.workflow_id or "", info.activity_id), None)
        if future is not None and not future.done():
            future.set_result(None)
        return result


@contextlib.asynccontextmanager
async def real_worker(
    stack: BenchStack, watch: ActivityWatch | None = None, **options: Any
) -> AsyncIterator[Worker]:
    """The production worker (worker.build_worker), in this process, as worker.py runs it.

    `options` change Worker arguments (e.g. `max_cached_workflows`); `watch` is added to its
    interceptors.
    """
    engine = worker_module.worker_engine(stack.settings)
    with ThreadPoolExecutor(max_workers=WORKER_THREADS) as executor:
        arguments = production_worker_arguments(
            stack.client, engine, stack.settings, stack.policy, executor
        )
        if watch is not None:
            options["interceptors"] = [*arguments["interceptors"], watch]
        async with Worker(**{**arguments, **options}) as worker:
            yield worker
    engine.dispose()


def production_worker_arguments(
    client: Client,
    engine: sa.Engine,
    settings: Settings,
    policy: Policy,
    executor: ThreadPoolExecutor,
) -> dict[str, Any]:
    """The arguments worker.build_worker gives Worker (a Worker registers itself when built, so
    one cannot be built twice on a task queue to change an option)."""
    captured: dict[str, Any] = {}

    def capture(client: Client, **arguments: Any) -> None:
        captured.update(arguments, client=client)

    with mock.patch.object(worker_module, "Worker", capture):
        worker_module.build_worker(client, engine, settings, policy, executor)
    return captured


@contextlib.asynccontextmanager
async def reference_worker(
    stack: BenchStack, task_queue: str, watch: ActivityWatch | None = None
) -> AsyncIterator[Worker]:
    """A worker for the reference workflow, in the default sandbox, which imports its module
    again for every run (so its bytecode is written first)."""
    compileall.compile_file(reference_module.__file__, quiet=2)
    with ThreadPoolExecutor(max_workers=WORKER_THREADS) as executor:
        async with Worker(
            stack.client,
            task_queue=task_queue,
            workflows=[ReferenceWorkflow],
            activities=[trivial_activity],
            activity_executor=executor,
            max_concurrent_activities=WORKER_THREADS,
            interceptors=[watch] if watch else [],
        ) as worker:
            yield worker


@contextlib.asynccontextmanager
async def worker_process(
    stack: BenchStack, name: str, args: Sequence[str], log: Path
) -> AsyncIterator[None]:
    """A worker in a process of its own, as production runs worker.py; ready once its metrics
    port answers."""
    metrics_port = free_port()
    env = {**settings_env(stack.settings), "WORKER_METRICS_PORT": str(metrics_port)}
    with running(spawn(name, [sys.executable, *args], env=env, log=log.open("w"))) as process:
        await asyncio.to_thread(wait_for_port, metrics_port, process.proc, name)
        yield


async def wait_idle(client: Client, workflow_id: str) -> None:
    """Until the workflow waits for someone: no workflow task and no activity pending.

    An update that arrives earlier can reach the workflow before it is ready for it.
    """
    request = DescribeWorkflowExecutionRequest(
        namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id)
    )
    pause = 0.005
    while True:
        described = await client.workflow_service.describe_workflow_execution(request)
        if not described.pending_activities and not described.HasField("pending_workflow_task"):
            return
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, 0.1)


async def history_events(client: Client, workflow_id: str) -> list[HistoryEvent]:
    return list((await client.get_workflow_handle(workflow_id).fetch_history()).events)


def history_counts(events: list[HistoryEvent]) -> Counter[str]:
    """Events by type (e.g. `activity_task_scheduled`), and `events`: their number."""
    counts = Counter(event_type(event) for event in events)
    counts["events"] = len(events)
    return counts


def event_type(event: HistoryEvent) -> str:
    return str(event.WhichOneof("attributes")).removesuffix("_event_attributes")


@contextlib.asynccontextmanager
async def uvicorn_app(app: str, env: dict[str, str], log: Path) -> AsyncIterator[str]:
    """`app` served by uvicorn (one process, no access log) on a free port; yields its URL.

    Its output goes straight to `log`, so this process spends nothing on it.
    """
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*cmd, "--no-access-log"],
            cwd=PROJECT_ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with running(Process(app, proc)):
            await asyncio.to_thread(wait_for_port, port, proc, app)
            yield f"http://127.0.0.1:{port}"


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as the environment variables that reproduce them in a subprocess."""
    values = settings.model_dump()
    env = {name.upper(): str(value) for name, value in values.items() if value is not None}
    return {**env, "PYTHONPATH": str(PROJECT_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def run_cancellable(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, where SIGTERM cancels `main` so every server it started is stopped."""

    async def guarded() -> T:
        task = asyncio.ensure_future(main)
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await task

    return asyncio.run(guarded())


# --- figures -----------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL process on this machine so far, ended backends included
    (their time is added to the postmaster's children's time)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            name, fields = stat.read_text().rsplit(")", 1)
            if name.endswith("(postgres"):
                values = fields.split()
                total += sum(int(v) for v in values[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def stack_cpu_seconds(stack: BenchStack) -> dict[str, float]:
    """CPU time so far of this process (worker and driver), Temporal, PostgreSQL and SMTP."""
    return {
        "worker": time.process_time(),
        "temporal": cpu_seconds(stack.temporal.proc.pid),
        "postgres": postgres_cpu_seconds(),
        "smtp": cpu_seconds(stack.smtp.proc.pid) if stack.smtp else 0.0,
    }


def rss_mb(pid: int) -> float:
    """Resident set size of a process now (from /proc), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for process {pid}")


def percentiles_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50 and p99 (nearest rank) in milliseconds."""
    ordered = sorted(seconds)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))] * 1000

    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(rank(0.99), 2),
    }
