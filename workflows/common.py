"""The workflow kit: activity options, patches and the helpers the workflows share."""

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, overload

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.types import MethodAsyncSingleParam, MethodSyncSingleParam

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from activities.tasks import TaskActivities
    from sellerflow.payloads import DeliverNotificationInput, EscalateTaskInput, notification_id
    from sellerflow.policy import Refused

T = TypeVar("T")
ActivityClass = TypeVar("ActivityClass")
Arg = TypeVar("Arg")
Result = TypeVar("Result")


@dataclass(frozen=True)
class ActivityOptions:
    """How an activity is scheduled: what its ScheduleActivityTask command carries.

    A field changed here changes the commands of every workflow that uses these options (not a
    replay failure, but new runs and retries behave differently)."""

    start_to_close_timeout: timedelta
    retry_policy: RetryPolicy
    heartbeat_timeout: timedelta | None = None

    @overload
    async def execute(
        self, activity: MethodAsyncSingleParam[ActivityClass, Arg, Result], arg: Arg
    ) -> Result: ...

    @overload
    async def execute(
        self, activity: MethodSyncSingleParam[ActivityClass, Arg, Result], arg: Arg
    ) -> Result: ...

    async def execute(self, activity: Callable[[ActivityClass, Arg], object], arg: Arg) -> object:
        """Run an activity method (of the activity classes in `activities/`) with these options."""
        return await workflow.execute_activity_method(
            activity,
            arg,
            start_to_close_timeout=self.start_to_close_timeout,
            heartbeat_timeout=self.heartbeat_timeout,
            retry_policy=self.retry_policy,
        )


# Business activities retry for a long time: a database or S3 outage must delay, never fail,
# an application.
ACTIVITY_OPTIONS = ActivityOptions(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=1),
        non_retryable_error_types=["InvalidInput"],
    ),
)

# Mail delivery retries with backoff for about a quarter of an hour (an SMTP outage), then
# gives up without failing the workflow: the message stays in the outbox, unsent and visible.
DELIVERY_OPTIONS = ActivityOptions(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=2),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=5),
        maximum_attempts=10,
        non_retryable_error_types=["MailRefused"],
    ),
)
DELIVERY_PATCH = "deliver-notifications"
# Applicants are told when their application reaches the onboarding team (added in flight).
IN_REVIEW_PATCH = "in-review-notice"
# A submit that arrives while a stage's notice is sent is kept, not dropped (found under load).
# A decision's update answers as soon as it is accepted, with the stage it leads to; before,
# it waited until the task was closed, the verdicts recorded and the next stage entered.
ANSWER_AT_ONCE_PATCH = "answer-decision-at-once"
SUBMIT_KEPT_PATCH = "submit-kept"
# A manual action whose request id was seen before is answered, not applied again.
REPEAT_ACTION_PATCH = "manual-action-once"
# A task decision arriving by signal while the same task is being decided is refused.
DECIDE_ONCE_PATCH = "decide-task-once"
# The stage is written to the search attribute only when it changes (a new application starts
# in `draft` with it already set).
STAGE_CHANGES_PATCH = "stage-attribute-on-change"

# The seller lifecycle rules of version 2 (`sellerflow.policy.seller_state.CURRENT_RULES`):
# messages checked again when applied, refusals recorded, tasks closed at the offboarding, the
# standing recorded for the evaluation, escalations mailed to the role that must act.
LIFECYCLE_PATCH = "lifecycle-rules-2"
# An evaluation claims the one running slot first; it is skipped while another one runs.
EVALUATION_ONCE_PATCH = "one-evaluation-at-a-time"
# An onboarding task past its SLA is mailed to the members of its role, not to one mailbox.
ESCALATE_TO_ROLE_PATCH = "escalate-to-role"
# A withdrawal is checked against the stage a pending decision leads to, a decision is refused
# while a withdrawal is pending, and a withdrawal that loses the race answers (with an error)
# when the application ends in another stage.
WITHDRAW_RACE_PATCH = "withdraw-against-pending-decision"
# Each move of an application (a decision closing its task, the verdicts, the next stage and
# task, the notice) is written by one `transition` activity in one database transaction,
# instead of one activity per write: 22 activities a journey became 10.
ONE_TRANSACTION_PATCH = "one-transaction-per-move"
# The applicant's rejected and changes-requested notices give the public text of the reviewer's
# reasons (policy.disclosure: no internal codes, the comment only when it asks for changes);
# the stage change keeps the full text for staff. Runs from before told the full text.
PUBLIC_REASONS_PATCH = "public-reasons-in-notices"
# A seller run that must continue as new while messages keep coming answers its updates, then
# carries the messages that came by signal to the next run (before, it handled them first, and
# under a stream that never stopped it never continued as new).
CARRY_MESSAGES_PATCH = "carry-messages-over"
# The seller lifecycle rules of version 3: a limit and an offboarding notice may be appealed
# too, once each within the appeal window; an appeal names the restriction it is against.
APPEAL_ANY_PATCH = "lifecycle-rules-3-appeals"
# The seller lifecycle rules of version 4: a limit or an offboarding notice under appeal waits
# for the review (its end is not a timer while the appeal is open).
APPEAL_HOLDS_PATCH = "lifecycle-rules-4-appeal-holds"
# The seller lifecycle rules of version 5: documents on file are renewed before they stop
# being valid, or the seller is limited until they are (`sellerflow.policy.renewals`).
RENEWALS_PATCH = "lifecycle-rules-5-renewals"
# A seller workflow takes a rollout's `policy_changed` signal: it records the switch (the
# seller's `policy_version`, an audit entry) and runs under the new rules from then on.
POLICY_ROLLOUT_PATCH = "policy-rollout-switch"
# The sweeper asks the registers again for the checks they left unavailable (issue 21).
RECHECK_PATCH = "recheck-unavailable-checks"

# A run records one marker for all the changes of a baseline, where it first asks for one of
# them: each marker costs an event and a search-attribute write (TemporalChangeVersion). Runs
# started before a baseline carry the markers they recorded (an older baseline's, or one per
# change) and replay so. A change made after the newest baseline gets a patch of its own until
# the next baseline folds it in.
BASELINE_PATCH = "baseline-2026-11"
_IN_BASELINE = frozenset(
    {
        DELIVERY_PATCH,
        IN_REVIEW_PATCH,
        ANSWER_AT_ONCE_PATCH,
        SUBMIT_KEPT_PATCH,
        REPEAT_ACTION_PATCH,
        DECIDE_ONCE_PATCH,
        STAGE_CHANGES_PATCH,
    }
)
BASELINE_2_PATCH = "baseline-2026-12"
_IN_BASELINE_2 = _IN_BASELINE | {
    LIFECYCLE_PATCH,
    EVALUATION_ONCE_PATCH,
    ESCALATE_TO_ROLE_PATCH,
    WITHDRAW_RACE_PATCH,
    ONE_TRANSACTION_PATCH,
}
# Newest first: a run takes the newest baseline it has (or, new, records it).
BASELINES = ((BASELINE_2_PATCH, _IN_BASELINE_2), (BASELINE_PATCH, _IN_BASELINE))


def patched(patch_id: str) -> bool:
    """`workflow.patched`, with the changes in a baseline taken under its one marker.

    The first call in a run must come before its first await (every workflow asks at its
    start): then a run in flight asks for the newer baselines while replaying, is told no, and
    never records their marker halfway."""
    for baseline, changes in BASELINES:
        if patch_id in changes and workflow.patched(baseline):
            return True
    return workflow.patched(patch_id)


def accepts(validator: Callable[[T], None], inp: T) -> bool:
    """Run an update validator for a signal; a refused signal is logged and dropped."""
    try:
        validator(inp)
    except ApplicationError as err:
        workflow.logger.warning("signal refused: %s", err)
        return False
    return True


def refusing(check: Callable[[], None]) -> None:
    """Turn a policy refusal into the error that rejects an update (its type reaches the API)."""
    try:
        check()
    except Refused as err:
        raise ApplicationError(err.detail, type=err.code, non_retryable=True) from None


async def wait_until(condition: Callable[[], bool], wake_at: datetime | None) -> bool:
    """Wait for a condition or a durable timer at `wake_at`; True if the condition holds."""
    if wake_at is None:
        await workflow.wait_condition(condition)
        return True
    try:
        await workflow.wait_condition(
            condition, timeout=max(timedelta(0), wake_at - workflow.now())
        )
    except TimeoutError:
        return condition()
    return True


async def deliver(key: str) -> None:
    """Send the outbox message stored under `key` (by `notify` or another activity)."""
    # Histories recorded before delivery existed replay without this activity.
    if not patched(DELIVERY_PATCH):
        return
    await _deliver(notification_id(key))


async def _deliver(stored_id: str) -> None:
    """One delivery attempt with retries; what stays unsent is the outbox sweeper's."""
    try:
        await DELIVERY_OPTIONS.execute(
            NotificationActivities.deliver_notification,
            DeliverNotificationInput(notification_id=stored_id),
        )
    except ActivityError as err:
        workflow.logger.warning("notification %s not delivered: %s", stored_id, err.cause)


async def escalate(task_id: str, *, to_role: bool) -> None:
    """Mark a task past its SLA and mail the people who must act on it.

    `to_role` False: the history was written when one mailbox got the escalation."""
    stored = await ACTIVITY_OPTIONS.execute(
        TaskActivities.escalate_task,
        EscalateTaskInput(task_id=task_id, at=workflow.now()),
    )
    if not to_role:
        await deliver(f"task-escalated:{task_id}")
        return
    for stored_id in stored or []:
        await _deliver(stored_id)


async def signal_sellers(signal: Any, messages: Sequence[tuple[str, object]], unsent: str) -> None:
    """One signal per seller workflow (`seller-{id}`, its argument), all sent together in one
    workflow task. A seller whose workflow is closed (offboarded) has nothing to react to: it is
    logged (`seller <id> <unsent>: <why>`), not an error."""
    sends = [
        workflow.get_external_workflow_handle(f"seller-{seller_id}").signal(signal, arg)
        for seller_id, arg in messages
    ]
    results = await asyncio.gather(*sends, return_exceptions=True)
    for (seller_id, _), result in zip(messages, results, strict=True):
        if isinstance(result, Exception):
            workflow.logger.info("seller %s %s: %s", seller_id, unsent, result)
