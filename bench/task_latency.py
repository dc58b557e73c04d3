"""Task completion latency: `POST /v1/tasks/{id}/complete` against a bare update round trip.

Real: `--tasks` applications are taken to their onboarding review (seeded rows, workflow
started as the API starts it, submitted) and every review task is claimed over HTTP (not
timed). Then each `POST /v1/tasks/{id}/complete {"decision": "approve"}` is timed from a
blocking httpx client in this process (as in bench.read_latency) against the API under uvicorn
in a subprocess, with worker.py in a subprocess (as production runs them). Reference: as many
`ReferenceWorkflow`s waiting for one update whose handler returns at once; each
`execute_update` round trip is timed from a Temporal client in this process, against a worker
configured like the production one, also in a subprocess (`bench.reference_worker`), on the
same Temporal server. Neither worker shares this process (and its interpreter lock) with the
client that times them. The two alternate request by request, and after each request the
driver waits (untimed) until the workflow is idle again, so no request overlaps the work of
the one before.

    python -m bench.task_latency [--tasks 200]

Prints one JSON line: p50/p99 of each side, the p99 ratio (target <= 1.5), and the part of a
real completion spent inside the workflow (from the update's acceptance to its completion in
the history; the workflow answers a decision on acceptance, so it is well under a millisecond).
"""

import argparse
import asyncio
import json
import sys
import time
import uuid
from functools import partial
from typing import Any

import httpx
from temporalio.api.history.v1 import HistoryEvent

from bench.reference import Decision, ReferenceInput, ReferenceWorkflow
from bench.seeding import seed_applications, start_onboarding
from bench.stack import (
    BenchStack,
    bench_stack,
    history_events,
    percentiles_ms,
    run_cancellable,
    settings_env,
    uvicorn_app,
    wait_idle,
    worker_process,
)
from bench.throughput import open_task_id, run_batch
from sellerflow.payloads import SubmitInput
from sellerflow.vocabulary import TaskKind
from workflows.onboarding import OnboardingWorkflow

WARM_UP = 10
SETUP_CONCURRENCY = 32


async def to_review(stack: BenchStack, app_id: uuid.UUID) -> str:
    """Start and submit an application; the id of its open onboarding review task."""
    handle = await start_onboarding(stack, app_id)
    await wait_idle(stack.client, handle.id)
    await handle.execute_update(OnboardingWorkflow.submit, SubmitInput())
    await wait_idle(stack.client, handle.id)
    task_id = await asyncio.to_thread(open_task_id, stack, app_id, TaskKind.onboarding_review)
    return str(task_id)


async def waiting_reference(stack: BenchStack, task_queue: str) -> str:
    handle = await stack.client.start_workflow(
        ReferenceWorkflow.run,
        ReferenceInput(steps=["wait"]),
        id=f"reference-{uuid.uuid4()}",
        task_queue=task_queue,
    )
    await wait_idle(stack.client, handle.id)
    return handle.id


def update_seconds(events: list[HistoryEvent]) -> float:
    """From the update's acceptance to its completion, in the workflow's history."""
    accepted = completed = None
    for event in events:
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            accepted = event.event_time.ToNanoseconds()
        elif event.HasField("workflow_execution_update_completed_event_attributes"):
            completed = event.event_time.ToNanoseconds()
    if accepted is None or completed is None:
        raise RuntimeError("no completed update in the history")
    return (completed - accepted) / 1e9


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    count = args.tasks + WARM_UP
    real: list[float] = []
    reference: list[float] = []
    inside: list[float] = []
    # The same blocking client as bench.read_latency: the event loop has nothing else to do
    # during a timed request, and httpx's async client adds about a millisecond of its own.
    with httpx.Client(timeout=30) as http:
        async with bench_stack() as stack:
            queue = f"{stack.settings.temporal_task_queue}-reference"
            app_ids = seed_applications(stack.engine, stack.policy, count)
            api_log = stack.logs / "api.log"
            async with (
                worker_process(stack, "worker", ["worker.py"], stack.logs / "worker.log"),
                worker_process(
                    stack,
                    "reference-worker",
                    ["-m", "bench.reference_worker", queue],
                    stack.logs / "reference-worker.log",
                ),
                uvicorn_app("api.main:app", settings_env(stack.settings), api_log) as url,
            ):
                http.base_url = httpx.URL(url)
                setup = time.perf_counter()
                await run_batch(
                    [partial(to_review, stack, app_id) for app_id in app_ids], SETUP_CONCURRENCY
                )
                print(
                    f"{count} reviews open in {time.perf_counter() - setup:.1f} s", file=sys.stderr
                )
                task_workflow = {
                    str(
                        open_task_id(stack, app_id, TaskKind.onboarding_review)
                    ): f"onboarding-{app_id}"
                    for app_id in app_ids
                }
                _, _, references = await run_batch(
                    [partial(waiting_reference, stack, queue) for _ in range(count)],
                    SETUP_CONCURRENCY,
                )
                token = http.post(
                    "/v1/auth/token", data={"username": "onboarding1", "password": "dev-password"}
                )
                auth = {
                    "Authorization": f"Bearer {token.raise_for_status().json()['access_token']}"
                }
                for task_id in task_workflow:
                    http.post(f"/v1/tasks/{task_id}/claim", headers=auth).raise_for_status()
                print(f"set up in {time.perf_counter() - setup:.1f} s", file=sys.stderr)

                for number, (task_id, workflow_id) in enumerate(task_workflow.items()):
                    started = time.perf_counter()
                    response = http.post(
                        f"/v1/tasks/{task_id}/complete", headers=auth, json={"decision": "approve"}
                    )
                    elapsed = time.perf_counter() - started
                    if response.status_code != 200:
                        raise RuntimeError(
                            f"complete answered {response.status_code}: {response.text}"
                        )
                    await wait_idle(stack.client, workflow_id)
                    handle = stack.client.get_workflow_handle(references[number])
                    started = time.perf_counter()
                    await handle.execute_update(ReferenceWorkflow.decide, Decision(task_id=task_id))
                    elapsed_reference = time.perf_counter() - started
                    await wait_idle(stack.client, handle.id)
                    if number >= WARM_UP:
                        real.append(elapsed)
                        reference.append(elapsed_reference)
                for workflow_id in list(task_workflow.values())[WARM_UP:]:
                    events = await history_events(stack.client, workflow_id)
                    inside.append(update_seconds(_from_second_update(events)))
    real_p, reference_p = percentiles_ms(real), percentiles_ms(reference)
    return {
        "bench": "task_completion_latency",
        "tasks": args.tasks,
        "real": real_p,
        "reference": reference_p,
        "p99_ratio": round(real_p["p99_ms"] / reference_p["p99_ms"], 2),
        "p50_ratio": round(real_p["p50_ms"] / reference_p["p50_ms"], 2),
        "target_p99_ratio": 1.5,
        "real_inside_workflow": percentiles_ms(inside),
    }


def _from_second_update(events: list[HistoryEvent]) -> list[HistoryEvent]:
    """The events from the second accepted update on (the first is the applicant's submit)."""
    accepted = [
        i
        for i, e in enumerate(events)
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    return events[accepted[1] :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(run_cancellable(measure(args))), flush=True)


if __name__ == "__main__":
    main()
