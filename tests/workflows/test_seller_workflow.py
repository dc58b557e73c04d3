"""The seller workflow on the real Temporal server with time skipping; activities replaced by
name with recorders, so these tests are about orchestration and timers only."""

from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from sellerflow.payloads import (
    AppealFiledInput,
    AppealWithdrawnInput,
    CompleteTaskInput,
    ManualActionInput,
    PolicyChangedInput,
    RenewalSubmittedInput,
    StandingChangedInput,
)
from sellerflow.policy.model import load_policy
from sellerflow.vocabulary import Decision, SellerActionKind, SellerStatus, Standing, TaskKind
from tests.workflows.conftest import Harness
from workflows.seller import ROUTES, Message, SellerWorkflow


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
    await harness.graduate(handle)

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
    # Reinstated while its last evaluation still says warn: back on the ladder at once.
    assert (
        await harness.decide(handle, appeal.task_id, Decision.reinstate, actor="ssm1") == "warned"
    )
    statuses = harness.rec.statuses
    assert statuses[-5:] == [
        SellerStatus.warned,
        SellerStatus.limited,
        SellerStatus.suspended,
        SellerStatus.active,
        SellerStatus.warned,
    ]
    assert statuses.count(SellerStatus.warned) == 2, "the duplicate signal was applied once"


async def test_a_mystery_order_without_its_checklist_is_refused(harness: Harness) -> None:
    handle = await harness.start()
    await harness.skipper.fast_forward(handle, timedelta(days=75))
    task = harness.opened(TaskKind.mystery_order)[0]
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            SellerWorkflow.complete_task,
            CompleteTaskInput(task_id=task.task_id, actor="lab1", decision=Decision.passed),
        )
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == "InvalidDecision"
    assert "battery_health_percent" in str(refused.value.cause)
    assert await harness.decide(handle, task.task_id, Decision.passed) == "trial"


def test_every_message_kind_has_one_route_and_its_answer_key() -> None:
    assert set(ROUTES) == set(get_args(Message))
    messages: list[tuple[Message, str]] = [
        (CompleteTaskInput(task_id="t1", actor="ssm1", decision=Decision.passed), "t1"),
        (StandingChangedInput(event_id="e1", standing=Standing.good), "e1"),
        (AppealFiledInput(appeal_id="a1"), "a1"),
        (AppealWithdrawnInput(appeal_id="a1"), "withdraw:a1"),
        (
            ManualActionInput(
                request_id="r1", action=SellerActionKind.suspend, actor="ops", reason="x"
            ),
            "r1",
        ),
        (
            RenewalSubmittedInput(
                document_id="d1", kind="legal_representative_id", valid_until=datetime.now(UTC)
            ),
            "renewal:d1",
        ),
        (
            PolicyChangedInput(
                version="v2", policy=load_policy("default"), event_id="policy-rollout-v2"
            ),
            "policy-rollout-v2",
        ),
    ]
    assert {type(message) for message, _ in messages} == set(ROUTES)
    assert [ROUTES[type(message)].key(message) for message, _ in messages] == [
        key for _, key in messages
    ]
