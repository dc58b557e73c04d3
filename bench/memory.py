"""Worker memory with many open seller workflows cached, and the size of one onboarding history.

Runs the production worker (worker.build_worker's arguments, `max_cached_workflows` raised to
hold every workflow) in a child process, so its resident memory is the worker's alone, with the
Temporal SDK's Prometheus endpoint as worker.py serves it. Seeds `--workflows` approved sellers
(application and seller rows, as account setup leaves them), starts a `SellerWorkflow` for each
(as the onboarding workflow does at approval), and waits until every one has run its first
activities (trial-started notification) and sits on its timer, in the worker's cache. Then reads
the worker's RSS from /proc: before (worker up and warmed by one journey) and after.

It also takes one application through a full onboarding journey (bench.throughput) and counts
the events of its history and of the seller workflow it starts.

    python -m bench.memory [--workflows 2000] [--max-cached N] [--with-reference]

Prints one JSON line. Mail delivery is not configured here (no SMTP): what is measured is the
workflows held in memory, not mail.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker

from activities.applications import trial_seller_row
from bench.reference import ReferenceInput, ReferenceWorkflow, trivial_activity
from bench.seeding import APPLICATION, seed_applications
from bench.stack import (
    WORKER_THREADS,
    ActivityWatch,
    BenchStack,
    bench_stack,
    history_counts,
    history_events,
    production_worker_arguments,
    real_worker,
    rss_mb,
    run_cancellable,
    running,
    settings_env,
    wait_idle,
)
from bench.throughput import real_journey
from sellerflow.cli.devstack import Process, free_port
from sellerflow.config import PROJECT_ROOT, Settings
from sellerflow.db import make_engine
from sellerflow.models import Seller
from sellerflow.payloads import SellerInput
from sellerflow.policy.model import load_policy
from sellerflow.temporal import connect
from workflows.seller import SellerWorkflow

# Activities each new seller workflow runs before it waits: notify and deliver_notification.
FIRST_ACTIVITIES = 2
STARTS_IN_FLIGHT = 64
# A cached seller workflow may take at most this much more memory than the minimal reference.
TARGET_RATIO = 1.5
# Time allowed to settle: generous, a loaded 2-core machine starts about 10 workflows a second.
SETTLE_SECONDS_PER_WORKFLOW = 0.5


def seed_sellers(stack: BenchStack, count: int) -> list[uuid.UUID]:
    """`count` sellers in trial, each with its application: what account setup leaves."""
    app_ids = seed_applications(stack.engine, stack.policy, count)
    caps = stack.policy.trial.capabilities
    trial_ends_at = datetime.now(UTC) + timedelta(days=90)
    company = SimpleNamespace(
        **{k: APPLICATION[k] for k in ("legal_name", "seller_category", "country")},
        policy_version=stack.policy.version,
    )
    rows = [
        trial_seller_row(uuid.uuid5(app_id, "seller"), app_id, company, "ssm1", trial_ends_at, caps)
        for app_id in app_ids
    ]
    seller_ids = [row["id"] for row in rows]
    table = SQLModel.metadata.tables[str(Seller.__tablename__)]
    with stack.engine.begin() as conn:
        conn.execute(sa.insert(table), rows)
        conn.execute(
            sa.text("UPDATE application SET stage = 'approved', seller_id = :s WHERE id = :a"),
            [{"s": row["id"], "a": row["application_id"]} for row in rows],
        )
    return seller_ids


@contextmanager
def worker_process(stack: BenchStack, max_cached: int, metrics_port: int) -> Iterator[Process]:
    """The production worker in a child process (`--serve-worker`), with a bigger cache."""
    env = {**settings_env(stack.settings), "WORKER_METRICS_PORT": str(metrics_port)}
    command = [sys.executable, "-m", "bench.memory", "--serve-worker", "--max-cached"]
    with (stack.logs / "worker.log").open("w") as log:
        proc = subprocess.Popen(
            [*command, str(max_cached)],
            cwd=PROJECT_ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with running(Process("worker", proc)) as process:
            yield process


def metrics(port: int) -> dict[str, float]:
    """The worker's Prometheus samples, summed by name (labels dropped)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.split("{", 1)[0].split(" ", 1)[0], line.rsplit(" ", 1)[1]
            values[name] = values.get(name, 0.0) + float(value)
    return values


async def settled(port: int, activities: int, process: Process) -> dict[str, float]:
    """Wait until the worker ran `activities` and its workflow tasks stopped for 2 seconds."""
    deadline = time.monotonic() + 60 + SETTLE_SECONDS_PER_WORKFLOW * activities
    last_tasks, still_since = -1.0, time.monotonic()
    while time.monotonic() < deadline:
        if process.proc.poll() is not None:
            raise RuntimeError(f"the worker exited with {process.proc.returncode}")
        try:
            sample = await asyncio.to_thread(metrics, port)
        except OSError:
            sample = {}
        tasks = sample.get("temporal_workflow_task_execution_latency_count", 0.0)
        done = sample.get("temporal_activity_execution_latency_count", 0.0)
        if tasks != last_tasks:
            last_tasks, still_since = tasks, time.monotonic()
        elif done >= activities and time.monotonic() - still_since >= 2:
            return sample
        await asyncio.sleep(0.5)
    raise TimeoutError("the worker did not settle")


async def start_sellers(stack: BenchStack, seller_ids: list[uuid.UUID]) -> None:
    gate = asyncio.Semaphore(STARTS_IN_FLIGHT)
    with stack.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, application_id FROM seller")).all()
    app_of = {row[0]: row[1] for row in rows}

    async def start(seller_id: uuid.UUID) -> None:
        async with gate:
            await stack.client.start_workflow(
                SellerWorkflow.run,
                SellerInput(
                    seller_id=str(seller_id),
                    application_id=str(app_of[seller_id]),
                    policy=stack.policy,
                ),
                id=f"seller-{seller_id}",
                task_queue=stack.settings.temporal_task_queue,
            )

    await asyncio.gather(*(start(s) for s in seller_ids))


async def start_references(stack: BenchStack, count: int) -> None:
    """Reference workflows shaped like a new seller workflow: two activities, then a timer."""
    gate = asyncio.Semaphore(STARTS_IN_FLIGHT)
    plan = ReferenceInput(steps=["activity", "activity", "wait"])

    async def start(number: int) -> None:
        async with gate:
            await stack.client.start_workflow(
                ReferenceWorkflow.run,
                plan,
                id=f"reference-{number}",
                task_queue=stack.settings.temporal_task_queue,
            )

    await asyncio.gather(*(start(n) for n in range(count)))


async def onboarding_history(stack: BenchStack) -> dict[str, int]:
    """Events in the history of one full onboarding journey and of the seller workflow."""
    [app_id] = seed_applications(stack.engine, stack.policy, 1)
    async with real_worker(stack):
        onboarding = await real_journey(stack, ActivityWatch(), [], app_id)
        with stack.engine.connect() as conn:
            seller = conn.execute(
                sa.text("SELECT seller_id FROM application WHERE id = :a"), {"a": app_id}
            ).scalar_one()
        await wait_idle(stack.client, f"seller-{seller}")
        parent = history_counts(await history_events(stack.client, onboarding))
        child = history_counts(await history_events(stack.client, f"seller-{seller}"))
    return {
        "onboarding_events": parent["events"],
        "seller_workflow_first_run_events": child["events"],
    }


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    async with bench_stack(smtp=False) as stack:
        history = await onboarding_history(stack)
        seller_ids = seed_sellers(stack, args.workflows + 1)
        port = free_port()
        with worker_process(stack, args.max_cached, port) as worker:
            # Warm-up: one seller workflow, so imports and the sandbox are paid before "before".
            await start_sellers(stack, seller_ids[:1])
            await settled(port, FIRST_ACTIVITIES, worker)
            before = rss_mb(worker.proc.pid)
            started = time.perf_counter()
            await start_sellers(stack, seller_ids[1:])
            sample = await settled(port, FIRST_ACTIVITIES * len(seller_ids), worker)
            seconds = time.perf_counter() - started
            after = rss_mb(worker.proc.pid)
            print(f"{args.workflows} seller workflows: {before} -> {after} MB", file=sys.stderr)
            reference: dict[str, Any] = {}
            if args.with_reference:
                await start_references(stack, args.workflows)
                await settled(port, FIRST_ACTIVITIES * (len(seller_ids) + args.workflows), worker)
                kb = (rss_mb(worker.proc.pid) - after) * 1024 / args.workflows
                ratio = (after - before) * 1024 / args.workflows / kb
                reference = {
                    "reference_kb_per_workflow": round(kb, 1),
                    "ratio_to_reference": round(ratio, 2),
                    "target_ratio": TARGET_RATIO,
                    "met": ratio <= TARGET_RATIO,
                }
    cached = int(sample.get("temporal_sticky_cache_size", 0))
    return {
        "bench": "worker_memory",
        "seller_workflows": args.workflows,
        "max_cached_workflows": args.max_cached,
        "cached_workflows": cached,
        "worker_rss_mb_before": before,
        "worker_rss_mb_after": after,
        "kb_per_workflow": round((after - before) * 1024 / args.workflows, 1),
        "start_and_settle_seconds": round(seconds, 1),
        **reference,
        **history,
    }


async def serve_worker(max_cached: int) -> None:
    """The child's side: the production worker, cache raised, until SIGTERM or SIGINT."""
    settings = Settings()
    policy = load_policy(settings.sellerflow_policy)
    runtime = Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=f"127.0.0.1:{settings.worker_metrics_port}")
        )
    )
    client = await connect(settings, runtime=runtime)
    engine = make_engine(settings.database_url)
    with ThreadPoolExecutor(max_workers=WORKER_THREADS) as executor:
        arguments = production_worker_arguments(client, engine, settings, policy, executor)
        arguments["workflows"] = [*arguments["workflows"], ReferenceWorkflow]
        arguments["activities"] = [*arguments["activities"], trivial_activity]
        async with Worker(**{**arguments, "max_cached_workflows": max_cached}):
            await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=2_000)
    parser.add_argument(
        "--max-cached",
        type=int,
        help="the worker's max_cached_workflows; default: room for every workflow started",
    )
    parser.add_argument(
        "--with-reference",
        action="store_true",
        help="then as many minimal workflows of the same shape, for comparison",
    )
    parser.add_argument("--serve-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.max_cached is None:
        args.max_cached = args.workflows * (2 if args.with_reference else 1) + 100
    if args.serve_worker:
        run_cancellable(serve_worker(args.max_cached))
        return
    print(json.dumps(run_cancellable(measure(args))), flush=True)


if __name__ == "__main__":
    main()
