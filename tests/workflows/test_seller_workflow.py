"""The seller workflow on the real Temporal server with time skipping; activities replaced by
name with recorders, so these tests are about orchestration and timers only."""

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import pytest_asyncio
from temporalio import activity
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing._timeskipping import TimeSkipper
from temporalio.worker import Worker

from sellerflow.config import Settings
from sellerflow.payloads import (
    AppealFiledInput,
    ApplySellerStatusInput,
    CloseTaskInput,
    CompleteTaskInput,
    EscalateTaskInput,
    NotifyInput,
    OpenTaskInput,
    SellerInput,
    StandingChangedInput,
    TrialSnapshot,
    TrialSnapshotInput,
)
from sellerflow.policy.kpis import scorecard
from sellerflow.policy.model import Policy, load_policy
from sellerflow.temporal import connect
from sellerflow.vocabulary import Decision, SellerStatus, Standing, TaskKind
from workflows.seller import SellerWorkflow


@dataclass
class Recorded:
    opened: list[OpenTaskInput] = field(default_factory=list)
    statuses: list[SellerStatus] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    snapshot_eventually_due: bool = True


def recording_activities(rec: Recorded, policy: Policy) -> list[object]:
    @activity.defn(name="open_task")
    def open_task(inp: OpenTaskInput) -> str:
        rec.opened.append(inp)
        return inp.task_id

    @activity.defn(name="close_task")
    def close_task(inp: CloseTaskInput) -> None:
        return None

    @activity.defn(name="escalate_task")
    def escalate_task(inp: EscalateTaskInput) -> None:
        rec.escalated.append(inp.task_id)

    @activity.defn(name="apply_status")
    def apply_status(inp: ApplySellerStatusInput) -> None:
        rec.statuses.append(inp.effect.status)

    @activity.defn(name="notify")
    def notify(inp: NotifyInput) -> bool:
        rec.notices.append(inp.template)
        return True

    @activity.defn(name="trial_snapshot")
    def trial_snapshot(inp: TrialSnapshotInput) -> TrialSnapshot:
        return TrialSnapshot(
            entries=scorecard(policy, {}, in_trial=True),
            eventually_due_satisfied=rec.snapshot_eventually_due,
        )

    return [open_task, close_task, escalate_task, apply_status, notify, trial_snapshot]


@dataclass
class Harness:
    client: Client
    skipper: TimeSkipper
    rec: Recorded
    policy: Policy
    task_queue: str

    async def start(self) -> WorkflowHandle[SellerWorkflow, str]:
        seller_id = str(uuid.uuid4())
        return await self.client.start_workflow(
            SellerWorkflow.run,
            SellerInput(seller_id=seller_id, application_id=str(uuid.uuid4()), policy=self.policy),
            id=f"seller-{seller_id}",
            task_queue=self.task_queue,
        )

    async def decide(
        self,
        handle: WorkflowHandle[SellerWorkflow, str],
        task_id: str,
        decision: Decision,
        actor: str = "lab1",
    ) -> str:
        outcome = await handle.execute_update(
            SellerWorkflow.complete_task,
            CompleteTaskInput(
                task_id=task_id,
                actor=actor,
                decision=decision,
                reason_codes=["quality_concerns"] if decision == Decision.blocker else [],
            ),
        )
        return outcome.state

    def opened(self, kind: TaskKind) -> list[OpenTaskInput]:
        return [t for t in self.rec.opened if t.kind == kind]


@pytest_asyncio.fixture
async def harness(temporal_address: str) -> AsyncIterator[Harness]:
    client = await connect(Settings(temporal_address=temporal_address))
    policy = load_policy("default")
    rec = Recorded()
    task_queue = f"seller-{uuid.uuid4()}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[SellerWorkflow],
        activities=recording_activities(rec, policy),  # type: ignore[arg-type]
        activity_executor=ThreadPoolExecutor(4),
    ):
        yield Harness(client, TimeSkipper(client), rec, policy, task_queue)


async def test_ninety_day_trial_with_mystery_orders_graduates(harness: Harness) -> None:
    handle = await harness.start()
    for _ in range(10):
        await harness.skipper.fast_forward(handle, timedelta(days=10))
        for task in harness.opened(TaskKind.mystery_order):
            view = await handle.query(SellerWorkflow.view)
            if task.task_id in view.open_tasks:
                assert await harness.decide(handle, task.task_id, Decision.passed) == "trial"
        if harness.rec.statuses:
            break
    assert len(harness.opened(TaskKind.mystery_order)) == harness.policy.trial.mystery_orders
    assert harness.rec.statuses == [SellerStatus.active]
    view = await handle.query(SellerWorkflow.view)
    assert view.status == SellerStatus.active


async def test_unfinished_trial_goes_to_the_ssm_and_an_extension(harness: Harness) -> None:
    harness.rec.snapshot_eventually_due = False
    handle = await harness.start()
    await harness.skipper.fast_forward(handle, timedelta(days=91))
    reviews = harness.opened(TaskKind.trial_review)
    assert len(reviews) == 1
    # The mystery orders were never done, so they were escalated past their 14-day SLA.
    assert set(harness.rec.escalated) >= {t.task_id for t in harness.opened(TaskKind.mystery_order)}
    state = await harness.decide(handle, reviews[0].task_id, Decision.extend, actor="ssm1")
    assert state == "trial"
    view = await handle.query(SellerWorkflow.view)
    assert view.trial_ends_at > reviews[0].due_at - timedelta(days=3)


async def test_ladder_up_to_suspension_appeal_and_reinstatement(harness: Harness) -> None:
    handle = await harness.start()
    await harness.skipper.fast_forward(handle, timedelta(days=95))
    for task in harness.opened(TaskKind.mystery_order):
        if task.task_id in (await handle.query(SellerWorkflow.view)).open_tasks:
            await harness.decide(handle, task.task_id, Decision.passed)
    await harness.skipper.fast_forward(handle, timedelta(days=1))
    view = await handle.query(SellerWorkflow.view)
    if view.status == SellerStatus.trial:
        review = harness.opened(TaskKind.trial_review)[-1]
        await harness.decide(handle, review.task_id, Decision.graduate, actor="ssm1")
    assert (await handle.query(SellerWorkflow.view)).status == SellerStatus.active

    await handle.signal(
        SellerWorkflow.standing_changed, StandingChangedInput(event_id="e1", standing=Standing.warn)
    )
    await handle.signal(
        SellerWorkflow.standing_changed, StandingChangedInput(event_id="e1", standing=Standing.warn)
    )
    await harness.skipper.fast_forward(handle, timedelta(hours=1))
    assert (await handle.query(SellerWorkflow.view)).status == SellerStatus.warned
    await harness.skipper.fast_forward(handle, timedelta(days=31))
    assert (await handle.query(SellerWorkflow.view)).status == SellerStatus.limited
    await harness.skipper.fast_forward(handle, timedelta(days=31))
    assert (await handle.query(SellerWorkflow.view)).status == SellerStatus.suspended

    status = await handle.execute_update(
        SellerWorkflow.file_appeal, AppealFiledInput(appeal_id="a1")
    )
    assert status == "suspended"
    appeal = harness.opened(TaskKind.appeal_review)[-1]
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await harness.decide(handle, appeal.task_id, Decision.passed, actor="ssm1")
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == "InvalidDecision"
    assert (
        await harness.decide(handle, appeal.task_id, Decision.reinstate, actor="ssm1") == "active"
    )
    statuses = harness.rec.statuses
    assert statuses[-4:] == [
        SellerStatus.warned,
        SellerStatus.limited,
        SellerStatus.suspended,
        SellerStatus.active,
    ]
    assert statuses.count(SellerStatus.warned) == 1, "the duplicate signal was applied once"
