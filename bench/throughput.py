"""Onboarding throughput: full journeys per second, against a minimal reference workflow.

A journey: the onboarding workflow is started as `POST /v1/applications` starts it, for an
application whose documents and signatures are already stored (seeded rows: uploads never
reach the workflow), the applicant submits, the onboarding team approves the review and an
SSM approves the sign-off through the `complete_task` update (the update the API sends), until
the workflow returns `approved` (having started the seller workflow). Each update is sent once
the workflow waits for it: the driver learns from a worker interceptor that the activity before
the wait has finished, then confirms with DescribeWorkflowExecution that no workflow task is
pending (as a person finds the task in the inbox; the task id is read from the `task` table).

The reference is `bench.reference.ReferenceWorkflow` with the plan read off the history of one
real journey: the same number of activities, updates, timers and child workflows, trivial.
The second reference is the real workflow on its plan before one transaction per move
(`bench.step_by_step`: one activity per write, 22 a journey), on the same worker and database.
All three run on the same Temporal dev server in the same run, with the same worker
configuration (in this process, 16 activity threads), the same number of journeys and the same
concurrency; the batches alternate (real, step by step, reference, real, ...) so drift hits
them alike.

    python -m bench.throughput [--journeys 50] [--concurrency 16] [--rounds 2] [--profile]

Prints one JSON line: journeys per second of each, the ratio to the reference (target >= 0.8)
and to the step-by-step plan (target >= 1.4), the journey
latency p50/p99, CPU seconds per journey of this process (worker and driver), of the Temporal
server, of PostgreSQL and of the SMTP sink, and what one journey is made of.
"""

import argparse
import asyncio
import json
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from bench.reference import Decision, ReferenceInput, ReferenceWorkflow
from bench.seeding import seed_applications, start_onboarding
from bench.stack import (
    ActivityWatch,
    BenchStack,
    bench_stack,
    event_type,
    history_counts,
    history_events,
    percentiles_ms,
    real_worker,
    reference_worker,
    run_cancellable,
    stack_cpu_seconds,
    wait_idle,
)
from bench.step_by_step import StepByStepOnboarding
from sellerflow.models import Task
from sellerflow.onboarding_start import onboarding_workflow_id as workflow_id
from sellerflow.payloads import CompleteTaskInput, SubmitInput
from sellerflow.services.tasks import completion_update_id
from sellerflow.vocabulary import Stage, TaskKind, TaskStatus
from worker import ALL_WORKFLOWS
from workflows.onboarding import OnboardingWorkflow

DECIDERS = [(TaskKind.onboarding_review, "onboarding1"), (TaskKind.ssm_signoff, "ssm1")]
COUNTED = {
    "activities": "activity_task_scheduled",
    "updates": "workflow_execution_update_accepted",
    "timers": "timer_started",
    "child_workflows": "start_child_workflow_execution_initiated",
    "events": "events",
}
STEPS = {
    "activity_task_scheduled": "activity",
    "timer_started": "wait",
    "start_child_workflow_execution_initiated": "child",
}
JOURNEY_TIMEOUT = 180.0


@dataclass
class Shape:
    """What one journey is made of, read off the histories of its workflow and child."""

    counts: dict[str, int]
    plan: ReferenceInput
    # The id of the activity that ends just before each wait of the parent workflow.
    ready_after: list[str]


def shape_of(parent: list[HistoryEvent], child: list[HistoryEvent]) -> Shape:
    total = history_counts(parent) + history_counts(child)
    ready_after, last_activity = [], ""
    for event in parent:
        if event.HasField("activity_task_scheduled_event_attributes"):
            last_activity = event.activity_task_scheduled_event_attributes.activity_id
        elif event.HasField("timer_started_event_attributes"):
            ready_after.append(last_activity)

    def steps(events: list[HistoryEvent]) -> list[str]:
        return [STEPS[t] for t in map(event_type, events) if t in STEPS]

    return Shape(
        counts={name: total[event] for name, event in COUNTED.items()},
        plan=ReferenceInput(steps=steps(parent), child_steps=steps(child)),
        ready_after=ready_after,
    )


class Waits:
    """The driver's view of one workflow: it waits until the workflow waits for it."""

    def __init__(self, client: Client, wf_id: str, watch: ActivityWatch, ready_after: list[str]):
        self.client, self.workflow_id = client, wf_id
        self.ready = watch.expect(wf_id, ready_after)

    async def until_waiting(self, step: int) -> None:
        if step < len(self.ready):
            await self.ready[step]
        await wait_idle(self.client, self.workflow_id)


def open_task_id(stack: BenchStack, app_id: uuid.UUID, kind: TaskKind) -> uuid.UUID:
    """The inbox read: the open task of this kind for the application."""
    with stack.engine.connect() as conn:
        query = sa.select(col(Task.id)).where(
            col(Task.application_id) == app_id,
            col(Task.kind) == kind.value,
            col(Task.status) == TaskStatus.open.value,
        )
        return uuid.UUID(str(conn.execute(query).scalar_one()))


async def real_journey(
    stack: BenchStack,
    watch: ActivityWatch,
    ready_after: list[str],
    app_id: uuid.UUID,
    workflow: type[OnboardingWorkflow] = OnboardingWorkflow,
) -> str:
    """One application from start to approval; returns the onboarding workflow id."""
    waits = Waits(stack.client, workflow_id(app_id), watch, ready_after)
    handle = await start_onboarding(stack, app_id, workflow)
    await waits.until_waiting(0)
    await handle.execute_update(OnboardingWorkflow.submit, SubmitInput())
    for step, (kind, actor) in enumerate(DECIDERS, start=1):
        await waits.until_waiting(step)
        task_id = await asyncio.to_thread(open_task_id, stack, app_id, kind)
        decision = CompleteTaskInput(task_id=str(task_id), actor=actor, decision="approve")
        await handle.execute_update(
            OnboardingWorkflow.complete_task,
            decision,
            id=completion_update_id(task_id, actor, decision, None),
        )
    result = await handle.result()
    if result.stage != Stage.approved:
        raise RuntimeError(f"journey of {app_id} ended in {result.stage}")
    return handle.id


async def reference_journey(
    client: Client,
    watch: ActivityWatch,
    ready_after: list[str],
    task_queue: str,
    plan: ReferenceInput,
) -> str:
    waits = Waits(client, f"reference-{uuid.uuid4()}", watch, ready_after)
    handle = await client.start_workflow(
        ReferenceWorkflow.run, plan, id=waits.workflow_id, task_queue=task_queue
    )
    for step in range(plan.steps.count("wait")):
        await waits.until_waiting(step)
        await handle.execute_update(ReferenceWorkflow.decide, Decision(task_id=str(step)))
    await handle.result()
    return handle.id


async def run_batch(
    journeys: list[Callable[[], Awaitable[str]]], concurrency: int
) -> tuple[float, list[float], list[str]]:
    """Run the journeys, `concurrency` at a time: wall time, latencies, workflow ids."""
    pending = iter(journeys)
    latencies: list[float] = []
    ids: list[str] = []

    async def runner() -> None:
        for journey in pending:
            started = time.perf_counter()
            ids.append(await asyncio.wait_for(journey(), JOURNEY_TIMEOUT))
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(runner() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, ids


async def activity_profile(client: Client, workflow_ids: list[str]) -> dict[str, dict[str, float]]:
    """Per activity type: mean wait in the task queue and mean execution, in ms."""
    queued: dict[str, list[float]] = defaultdict(list)
    ran: dict[str, list[float]] = defaultdict(list)
    for wf_id in workflow_ids:
        scheduled: dict[int, tuple[str, float]] = {}
        started: dict[int, float] = {}
        for event in await history_events(client, wf_id):
            at = event.event_time.ToNanoseconds() / 1e6
            if event.HasField("activity_task_scheduled_event_attributes"):
                name = event.activity_task_scheduled_event_attributes.activity_type.name
                scheduled[event.event_id] = (name, at)
            elif event.HasField("activity_task_started_event_attributes"):
                scheduled_id = event.activity_task_started_event_attributes.scheduled_event_id
                queued[scheduled[scheduled_id][0]].append(at - scheduled[scheduled_id][1])
                started[scheduled_id] = at
            elif event.HasField("activity_task_completed_event_attributes"):
                scheduled_id = event.activity_task_completed_event_attributes.scheduled_event_id
                ran[scheduled[scheduled_id][0]].append(at - started[scheduled_id])
    return {
        name: {
            "count": len(ran[name]),
            "queue_ms": round(statistics.mean(queued[name]), 1),
            "run_ms": round(statistics.mean(ran[name]), 1),
        }
        for name in sorted(ran, key=lambda n: -statistics.mean(ran[n]))
    }


async def real_shape(
    stack: BenchStack,
    watch: ActivityWatch,
    app_id: uuid.UUID,
    workflow: type[OnboardingWorkflow] = OnboardingWorkflow,
) -> Shape:
    """One journey (also the warm-up), and what it is made of."""
    first = await real_journey(stack, watch, [], app_id, workflow)
    seller = (await stack.client.get_workflow_handle_for(workflow.run, first).result()).seller_id
    await wait_idle(stack.client, f"seller-{seller}")
    return shape_of(
        await history_events(stack.client, first),
        await history_events(stack.client, f"seller-{seller}"),
    )


async def calibrate(
    stack: BenchStack, watch: ActivityWatch, reference_queue: str, app_ids: list[uuid.UUID]
) -> dict[str, Shape]:
    """The shape of a real journey, of one on the step-by-step plan, then of the reference
    (which follows the real one's plan)."""
    real = await real_shape(stack, watch, app_ids.pop())
    steps = await real_shape(stack, watch, app_ids.pop(), StepByStepOnboarding)
    reference_id = await reference_journey(stack.client, watch, [], reference_queue, real.plan)
    await wait_idle(stack.client, f"{reference_id}-child")
    reference = shape_of(
        await history_events(stack.client, reference_id),
        await history_events(stack.client, f"{reference_id}-child"),
    )
    for name in ("activities", "updates", "timers", "child_workflows"):
        if real.counts[name] != reference.counts[name]:
            raise RuntimeError(f"reference {reference.counts} differs from {real.counts}")
    return {"real": real, "step_by_step": steps, "reference": reference}


SIDES = ("real", "step_by_step", "reference")


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    watch = ActivityWatch()
    walls: dict[str, float] = defaultdict(float)
    cpu: dict[str, float] = defaultdict(float)
    latencies: dict[str, list[float]] = defaultdict(list)
    ids: dict[str, list[str]] = defaultdict(list)
    async with bench_stack() as stack:
        queue = f"{stack.settings.temporal_task_queue}-reference"
        app_ids = seed_applications(stack.engine, stack.policy, 2 * args.journeys * args.rounds + 2)
        workflows = [*ALL_WORKFLOWS, StepByStepOnboarding]
        async with (
            real_worker(stack, watch, workflows=workflows),
            reference_worker(stack, queue, watch),
        ):
            shapes = await calibrate(stack, watch, queue, app_ids)
            real = shapes["real"]
            for round_no in range(args.rounds):
                batch = app_ids[round_no * args.journeys : (round_no + 1) * args.journeys]
                step_batch = app_ids[
                    (args.rounds + round_no) * args.journeys : (args.rounds + round_no + 1)
                    * args.journeys
                ]
                sides: dict[str, list[Callable[[], Awaitable[str]]]] = {
                    "real": [
                        partial(real_journey, stack, watch, real.ready_after, app_id)
                        for app_id in batch
                    ],
                    "step_by_step": [
                        partial(
                            real_journey,
                            stack,
                            watch,
                            shapes["step_by_step"].ready_after,
                            app_id,
                            StepByStepOnboarding,
                        )
                        for app_id in step_batch
                    ],
                    "reference": [
                        partial(
                            reference_journey,
                            stack.client,
                            watch,
                            shapes["reference"].ready_after,
                            queue,
                            real.plan,
                        )
                        for _ in batch
                    ],
                }
                for side, journeys in sides.items():
                    before = stack_cpu_seconds(stack)
                    wall, lat, done = await run_batch(journeys, args.concurrency)
                    for name, seconds in stack_cpu_seconds(stack).items():
                        cpu[f"{side}_{name}"] += seconds - before[name]
                    walls[side] += wall
                    latencies[side] += lat
                    ids[side] += done
            profile = {
                side: await activity_profile(stack.client, ids[side][-20:])
                for side in (SIDES if args.profile else ())
            }

    count = args.journeys * args.rounds
    rate = {side: count / walls[side] for side in SIDES}
    return {
        "bench": "onboarding_throughput",
        "journeys": count,
        "concurrency": args.concurrency,
        "real_journeys_per_s": round(rate["real"], 2),
        "step_by_step_journeys_per_s": round(rate["step_by_step"], 2),
        "reference_journeys_per_s": round(rate["reference"], 2),
        "ratio": round(rate["real"] / rate["reference"], 3),
        "target_ratio": 0.8,
        "ratio_to_step_by_step": round(rate["real"] / rate["step_by_step"], 3),
        "target_ratio_to_step_by_step": 1.4,
        "real_latency": percentiles_ms(latencies["real"]),
        "step_by_step_latency": percentiles_ms(latencies["step_by_step"]),
        "reference_latency": percentiles_ms(latencies["reference"]),
        "cpu_s_per_journey": {k: round(v / count, 4) for k, v in sorted(cpu.items())},
        "journey": real.counts,
        "step_by_step_journey": shapes["step_by_step"].counts,
        "reference_journey": shapes["reference"].counts,
        **({"activity_profile": profile} if profile else {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=50, help="per side and round")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", action="store_true", help="add per-activity timings")
    args = parser.parse_args()
    print(json.dumps(run_cancellable(measure(args))), flush=True)


if __name__ == "__main__":
    main()
