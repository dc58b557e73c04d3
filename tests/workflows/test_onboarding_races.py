"""Applicant and staff input that arrives while the onboarding workflow is busy in an activity,
and decisions answered before the workflow carries them out.

Both races were found by `bench/load.py` at 1,000 concurrent journeys: a submit sent while the
application's first notice was on its way was dropped (the applicant's update never answered),
and a task claimed the moment it reached the inbox was refused as "not open".
"""

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from activities.applications import ApplicationActivities
from activities.notifications import NotificationActivities
from activities.tasks import TaskActivities
from sellerflow.payloads import (
    CloseTaskInput,
    CompleteTaskInput,
    NotifyInput,
    OnboardingInput,
    OnboardingResult,
    OpenTaskInput,
    SetStageInput,
    SubmitInput,
    WithdrawInput,
)
from sellerflow.policy.model import load_policy
from sellerflow.vocabulary import Decision, Stage
from tests.support.fakes import fake_of, fakes_in
from tests.support.moves import MovesOfParts
from tests.support.no_ops import NoOpActivities
from tests.support.waiting import eventually
from tests.support.workers import worker_on_new_queue
from workflows.onboarding import OnboardingWorkflow


@dataclass
class Held:
    """An activity that waits, inside the worker, until the test lets it finish."""

    name: str
    started: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def hold(self, name: str) -> None:
        if name == self.name and not self.release.is_set():
            self.started.set()
            assert self.release.wait(30), f"{name} was never released"


@dataclass
class Onboarding:
    client: Client
    task_queue: str
    stages: list[Stage]

    async def start(self) -> WorkflowHandle[OnboardingWorkflow, OnboardingResult]:
        app_id = str(uuid.uuid4())
        return await self.client.start_workflow(
            OnboardingWorkflow.run,
            OnboardingInput(application_id=app_id, policy=load_policy("default")),
            id=f"onboarding-{app_id}",
            task_queue=self.task_queue,
        )


class Stubs(NoOpActivities, MovesOfParts):
    """The onboarding activities as stubs: the stages recorded, `held`'s activity held."""

    def __init__(self, held: Held, stages: list[Stage]) -> None:
        self.held, self.stages = held, stages

    @fake_of(ApplicationActivities.set_stage)
    def set_stage(self, inp: SetStageInput) -> None:
        self.stages.append(inp.stage)

    @fake_of(NotificationActivities.notify)
    def notify(self, inp: NotifyInput) -> bool:
        self.held.hold(f"notify:{inp.template}")
        return True

    @fake_of(TaskActivities.open_task)
    def open_task(self, inp: OpenTaskInput) -> str:
        self.held.hold(f"open_task:{inp.kind.value}")
        return inp.task_id

    @fake_of(TaskActivities.close_task)
    def close_task(self, inp: CloseTaskInput) -> None:
        self.held.hold("close_task")


@pytest_asyncio.fixture
async def held_worker(temporal_client: Client) -> AsyncIterator[tuple[Onboarding, Held]]:
    held, stages = Held(name=""), []
    async with worker_on_new_queue(
        temporal_client,
        "onboarding",
        workflows=[OnboardingWorkflow],
        activities=fakes_in(Stubs(held, stages)),
    ) as task_queue:
        yield Onboarding(temporal_client, task_queue, stages), held
        held.release.set()


async def entered(onboarding: Onboarding, stage: Stage) -> None:
    """Until set_stage has recorded `stage`."""
    await eventually(
        lambda: stage in onboarding.stages,
        timeout=10,
        interval=0.05,
        why=f"set_stage never recorded {stage}",
    )


async def submitted(onboarding: Onboarding) -> WorkflowHandle[OnboardingWorkflow, OnboardingResult]:
    """A new application, submitted once its draft stage is recorded."""
    handle = await onboarding.start()
    await entered(onboarding, Stage.draft)
    await handle.signal(OnboardingWorkflow.submit_signal, SubmitInput())
    return handle


async def update_accepted(handle: WorkflowHandle[OnboardingWorkflow, OnboardingResult]) -> bool:
    history = await handle.fetch_history()
    accepted = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    return any(event.event_type == accepted for event in history.events)


async def test_a_submit_sent_during_the_first_notice_is_kept(
    held_worker: tuple[Onboarding, Held],
) -> None:
    onboarding, held = held_worker
    held.name = "notify:application_received"
    handle = await onboarding.start()
    await asyncio.to_thread(held.started.wait, 10)

    await handle.signal(OnboardingWorkflow.submit_signal, SubmitInput())
    held.release.set()

    await entered(onboarding, Stage.onboarding_review)
    assert onboarding.stages[:4] == [
        Stage.draft,
        Stage.submitted,
        Stage.verifying,
        Stage.onboarding_review,
    ]


async def test_a_decision_made_as_the_task_is_being_opened_is_accepted(
    held_worker: tuple[Onboarding, Held],
) -> None:
    onboarding, held = held_worker
    held.name = "open_task:onboarding_review"
    handle = await submitted(onboarding)
    await asyncio.to_thread(held.started.wait, 10)
    task_id = (await handle.query(OnboardingWorkflow.state)).open_task_id
    assert task_id is not None

    decision = asyncio.create_task(
        handle.execute_update(
            OnboardingWorkflow.complete_task,
            CompleteTaskInput(task_id=task_id, actor="onboarding1", decision=Decision.approve),
        )
    )
    await eventually(  # the workflow accepted it while awaiting open_task
        lambda: update_accepted(handle),
        timeout=10,
        interval=0.05,
        why="the workflow never accepted the decision",
    )
    held.release.set()

    outcome = await asyncio.wait_for(decision, 10)
    assert outcome.state == Stage.ssm_signoff.value


@pytest.mark.parametrize(
    ("decision", "reasons", "stage"),
    [
        (Decision.approve, [], Stage.ssm_signoff),
        (Decision.reject, ["name_mismatch"], Stage.rejected),
        (Decision.request_changes, ["document_unreadable"], Stage.changes_requested),
    ],
)
async def test_a_decision_is_answered_before_the_workflow_carries_it_out(
    held_worker: tuple[Onboarding, Held], decision: Decision, reasons: list[str], stage: Stage
) -> None:
    onboarding, held = held_worker
    held.name = "close_task"
    handle = await submitted(onboarding)
    await entered(onboarding, Stage.onboarding_review)
    task_id = await open_task_id(handle)

    answer = handle.execute_update(
        OnboardingWorkflow.complete_task,
        CompleteTaskInput(
            task_id=task_id,
            actor="onboarding1",
            decision=decision,
            reason_codes=reasons,
            comment="see the reasons",
        ),
    )
    outcome = await asyncio.wait_for(answer, 10)
    # Answered before the stage is entered: close_task, which comes first, is held.
    assert outcome.state == stage.value
    assert await asyncio.to_thread(held.started.wait, 10)
    assert stage not in onboarding.stages
    held.release.set()
    await entered(onboarding, stage)


async def open_task_id(handle: WorkflowHandle[OnboardingWorkflow, OnboardingResult]) -> str:
    async def task_id() -> str | None:
        return (await handle.query(OnboardingWorkflow.state)).open_task_id

    return await eventually(task_id, timeout=10, interval=0.05, why="no task open")


async def in_signoff(
    onboarding: Onboarding, held: Held, hold: str = ""
) -> tuple[WorkflowHandle[OnboardingWorkflow, OnboardingResult], str]:
    """An application approved by its reviewer, its sign-off task open; `hold` is held from the
    moment the review's approval is sent (the move it makes opens the sign-off task at once)."""
    handle = await submitted(onboarding)
    review = await open_task_id(handle)
    approve = CompleteTaskInput(task_id=review, actor="onboarding1", decision=Decision.approve)
    held.name = hold
    await handle.execute_update(OnboardingWorkflow.complete_task, approve)

    async def signoff_task_id() -> str | None:
        task_id = await open_task_id(handle)
        return task_id if task_id != review else None

    signoff = await eventually(
        signoff_task_id, timeout=10, interval=0.05, why="the sign-off task was never opened"
    )
    return handle, signoff


async def test_a_withdrawal_after_the_sign_off_was_accepted_is_refused(
    held_worker: tuple[Onboarding, Held],
) -> None:
    """The approval is being recorded (close_task held): the application is on its way to
    account setup, so the withdrawal is refused at once instead of being accepted and ignored
    (its update never answered)."""
    onboarding, held = held_worker
    handle, signoff = await in_signoff(onboarding, held)
    await entered(onboarding, Stage.ssm_signoff)
    held.name = "close_task"
    approve = CompleteTaskInput(task_id=signoff, actor="ssm1", decision=Decision.approve)
    outcome = await handle.execute_update(OnboardingWorkflow.complete_task, approve)
    assert outcome.state == Stage.account_setup.value
    assert await asyncio.to_thread(held.started.wait, 10)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await asyncio.wait_for(
            handle.execute_update(OnboardingWorkflow.withdraw, WithdrawInput(reason="changed")),
            10,
        )
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == "StageConflict"
    held.release.set()


async def test_a_decision_after_an_accepted_withdrawal_is_refused(
    held_worker: tuple[Onboarding, Held],
) -> None:
    """The withdrawal came first, while the sign-off task was being opened: the sign-off cannot
    approve the application under it (the approval won and the withdrawal never answered)."""
    onboarding, held = held_worker
    handle, signoff = await in_signoff(onboarding, held, hold="open_task:ssm_signoff")
    assert await asyncio.to_thread(held.started.wait, 10)
    await handle.signal(OnboardingWorkflow.withdraw_signal, WithdrawInput(reason="changed"))
    approve = CompleteTaskInput(task_id=signoff, actor="ssm1", decision=Decision.approve)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(OnboardingWorkflow.complete_task, approve)
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == "StageConflict"
    held.release.set()
    assert (await asyncio.wait_for(handle.result(), 10)).stage == Stage.withdrawn
    assert Stage.account_setup not in onboarding.stages
