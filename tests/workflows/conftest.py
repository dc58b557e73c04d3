"""The seller workflow harness: a Worker on a uuid task queue of the session's Temporal server
(time skipping), its activities recorders registered under the real activities' names."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest_asyncio
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import TimeSkipper

from activities.notifications import NotificationActivities
from activities.renewals import RenewalActivities
from activities.sellers import SellerActivities
from activities.tasks import TaskActivities
from sellerflow.payloads import (
    ApplySellerStatusInput,
    CancelTasksInput,
    CloseTaskInput,
    CompleteTaskInput,
    DocumentOnFile,
    DocumentsOnFile,
    DocumentsOnFileInput,
    EscalateTaskInput,
    NotifyInput,
    OpenTaskInput,
    RecordRefusalInput,
    RecordRenewalInput,
    SellerInput,
    TrialSnapshot,
    TrialSnapshotInput,
)
from sellerflow.policy.kpis import scorecard
from sellerflow.policy.model import Policy, load_policy
from sellerflow.policy.onboarding import NEEDS_REASON_CODES
from sellerflow.policy.seller_state import RenewalEffect
from sellerflow.vocabulary import TASK_DECISIONS, Decision, SellerStatus, TaskKind
from tests.idle import wait_for_idle
from tests.policy.sellers import PASSING_CHECKLIST
from tests.support.fakes import fake_of, fakes_in
from tests.support.no_ops import NoOpActivities
from tests.support.workers import worker_on_new_queue
from workflows.seller import SellerWorkflow

MYSTERY_DECISIONS = TASK_DECISIONS[TaskKind.mystery_order]


@dataclass
class Recorded:
    opened: list[OpenTaskInput] = field(default_factory=list)
    statuses: list[SellerStatus] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    cancelled_all: bool = False
    refusals: list[RecordRefusalInput] = field(default_factory=list)
    snapshot_eventually_due: bool = True
    # The documents on file the workflow reads at its start, and the renewals it records.
    on_file: list[DocumentOnFile] = field(default_factory=list)
    renewals: list[RenewalEffect] = field(default_factory=list)


class RecordingActivities(NoOpActivities):
    """The seller workflow's activities as recorders (`rec`) of what they would write."""

    def __init__(self, rec: Recorded, policy: Policy) -> None:
        self.rec, self.policy = rec, policy

    @fake_of(TaskActivities.open_task)
    def open_task(self, inp: OpenTaskInput) -> str:
        self.rec.opened.append(inp)
        return inp.task_id

    @fake_of(TaskActivities.close_task)
    def close_task(self, inp: CloseTaskInput) -> None:
        self.rec.closed.append(inp.decision.task_id)

    @fake_of(TaskActivities.escalate_task)
    def escalate_task(self, inp: EscalateTaskInput) -> list[str]:
        self.rec.escalated.append(inp.task_id)
        return []

    @fake_of(TaskActivities.cancel_tasks)
    def cancel_tasks(self, inp: CancelTasksInput) -> int:
        if inp.task_ids is None:
            self.rec.cancelled_all = True
        self.rec.cancelled.extend(inp.task_ids or [])
        return len(inp.task_ids or [])

    @fake_of(SellerActivities.record_refusal)
    def record_refusal(self, inp: RecordRefusalInput) -> None:
        self.rec.refusals.append(inp)

    @fake_of(SellerActivities.apply_status)
    def apply_status(self, inp: ApplySellerStatusInput) -> None:
        self.rec.statuses.append(inp.effect.status)

    @fake_of(NotificationActivities.notify)
    def notify(self, inp: NotifyInput) -> bool:
        self.rec.notices.append(inp.template)
        return True

    @fake_of(RenewalActivities.documents_on_file)
    def documents_on_file(self, inp: DocumentsOnFileInput) -> DocumentsOnFile:
        return DocumentsOnFile(documents=self.rec.on_file)

    @fake_of(RenewalActivities.record_renewal)
    def record_renewal(self, inp: RecordRenewalInput) -> None:
        self.rec.renewals.append(inp.effect)

    @fake_of(SellerActivities.trial_snapshot)
    def trial_snapshot(self, inp: TrialSnapshotInput) -> TrialSnapshot:
        return TrialSnapshot(
            entries=scorecard(self.policy, {}, in_trial=True),
            eventually_due_satisfied=self.rec.snapshot_eventually_due,
        )


@dataclass
class Harness:
    client: Client
    skipper: TimeSkipper
    rec: Recorded
    policy: Policy
    task_queue: str
    decided: set[str] = field(default_factory=set)

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
                reason_codes=["quality_concerns"] if decision in NEEDS_REASON_CODES else [],
                checklist=PASSING_CHECKLIST if decision in MYSTERY_DECISIONS else {},
            ),
        )
        self.decided.add(task_id)
        return outcome.state

    def opened(self, kind: TaskKind) -> list[OpenTaskInput]:
        return [t for t in self.rec.opened if t.kind == kind]

    async def decide_open_mystery_orders(self, handle: WorkflowHandle[SellerWorkflow, str]) -> int:
        """Pass every mystery order opened and not decided yet; returns how many.

        Read once the workflow waits: an order it is still opening would otherwise be passed a
        batch late (a long-run CI failure, 43 == 44 orders)."""
        await wait_for_idle(handle)
        due = [
            t.task_id for t in self.opened(TaskKind.mystery_order) if t.task_id not in self.decided
        ]
        for task_id in due:
            await self.decide(handle, task_id, Decision.passed)
        return len(due)

    async def graduate(self, handle: WorkflowHandle[SellerWorkflow, str]) -> None:
        """Through the trial to `active`: mystery orders passed, the SSM asked if borderline."""
        await self.skipper.fast_forward(handle, timedelta(days=95))
        await self.decide_open_mystery_orders(handle)
        await self.skipper.fast_forward(handle, timedelta(days=1))
        view = await handle.query(SellerWorkflow.view)
        if view.status == SellerStatus.trial:
            review = self.opened(TaskKind.trial_review)[-1]
            await self.decide(handle, review.task_id, Decision.graduate, actor="ssm1")
        assert (await handle.query(SellerWorkflow.view)).status == SellerStatus.active


@pytest_asyncio.fixture
async def harness(temporal_client: Client) -> AsyncIterator[Harness]:
    policy = load_policy("default")
    rec = Recorded()
    async with worker_on_new_queue(
        temporal_client,
        "seller",
        workflows=[SellerWorkflow],
        activities=fakes_in(RecordingActivities(rec, policy)),
    ) as task_queue:
        yield Harness(temporal_client, TimeSkipper(temporal_client), rec, policy, task_queue)
